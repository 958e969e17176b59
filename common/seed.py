"""`hap seed`: the bootstrap super admin, and with `--demo` the demo hospital (each component seeds its own data).

Seeding is idempotent: a component whose demo data exists is left alone, so a second start reseeds nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from common.db import Database
from common.settings import get_settings


@dataclass
class SeedReport:
    admin_username: str
    generated_password: str | None = None  # only on the run that created the super admin
    demo_logins: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.generated_password:
            out.append(f"Super admin: {self.admin_username} / {self.generated_password}  "
                       "(shown once; change it at first sign-in)")
        else:
            out.append(f"Super admin: {self.admin_username}  (password as printed on the first start, or "
                       "HAP_ADMIN_PASSWORD)")
        out.extend(f"Demo admin:  {line}" for line in self.demo_logins)
        return out


def seed(demo: bool) -> SeedReport:
    from common.cli import GATEWAY, SERVICES

    settings = get_settings()
    report = SeedReport(settings.admin_username)
    gateway_db = Database(GATEWAY.database, settings)
    try:
        gateway_service = importlib.import_module(f"{GATEWAY.package}.service")
        with gateway_db.write() as session:
            report.generated_password = gateway_service.ensure_super_admin(
                session, settings.admin_username, settings.admin_password)
        if demo:
            with gateway_db.write() as session:
                report.demo_logins = importlib.import_module(f"{GATEWAY.package}.seed").seed_demo(session)
    finally:
        gateway_db.dispose()
    if demo:
        # Each component may leave facts for the ones after it (DBS's doctors for DMS's demo schedules), since
        # none may read another's tables: `seed_demo(session, demo)` reads and adds entries of `demo`.
        shared: dict[str, object] = {}
        for component in SERVICES:
            module = importlib.import_module(f"{component.package}.seed")
            db = Database(component.database, settings)
            try:
                with db.write() as session:
                    module.seed_demo(session, shared)
            finally:
                db.dispose()
    return report
