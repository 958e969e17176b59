"""The `hap` command: `hap up | hap serve NAME | hap migrate | hap seed --demo`.

Components are named here by import path only, so `common` still imports nothing of the packages it runs.
A new service joins the platform by adding one line to `SERVICES`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    name: str
    package: str  # has `create_app()` in `<package>.app` and, with a database, `Base` in `<package>.models`
    database: str | None  # schema `hap_<database>` / file `data/<database>.db`
    archive: str | None = None


# Each later service joins the platform by being added to this list.
SERVICES: list[Component] = [
    Component("dbs", "services.dbs", "dbs", "datacenter"),
    Component("dms", "services.dms", "dms", "scheduling"),
    Component("oms", "services.oms", "oms", "outpatient"),
]
GATEWAY = Component("gateway", "gateway", "auth", "system")
REGISTRY = Component("registry", "registry", None)
COMPONENTS = {c.name: c for c in [REGISTRY, GATEWAY, *SERVICES]}


def load_app_factory(component: Component):
    return importlib.import_module(f"{component.package}.app").create_app


def migrate(names: list[str] | None = None) -> None:
    from common.migrate import upgrade
    from common.settings import get_settings

    settings = get_settings()
    for component in [GATEWAY, *SERVICES]:
        if names and component.name not in names:
            continue
        models = importlib.import_module(f"{component.package}.models")
        upgrade(settings, component.database, component.package, models.Base.metadata)
        print(f"migrated {component.name} (hap_{component.database})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hap", description="Hospital archive platform")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole platform under one supervisor")
    up.add_argument("--no-seed", action="store_true", help="do not seed the demo hospital on the first start")

    serve = sub.add_parser("serve", help="run one component")
    serve.add_argument("name", choices=sorted(COMPONENTS))
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None, help="0 picks a free port (services default to 0)")

    mig = sub.add_parser("migrate", help="bring every schema up to date")
    mig.add_argument("names", nargs="*", help="only these components")

    rev = sub.add_parser("revision", help="autogenerate a migration for one component (developers)")
    rev.add_argument("name")
    rev.add_argument("-m", "--message", required=True)

    seed = sub.add_parser("seed", help="create the bootstrap super admin, and with --demo a demo hospital")
    seed.add_argument("--demo", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "serve":
        from common.serve import run
        from common.settings import get_settings

        settings = get_settings()
        component = COMPONENTS[args.name]
        default_port = {"registry": 8500, "gateway": settings.port}.get(component.name, 0)
        run(component.name, load_app_factory(component), host=args.host or settings.host,
            port=default_port if args.port is None else args.port, register=component.database is not None
            and component is not GATEWAY)
        return 0
    if args.command == "migrate":
        migrate(args.names)
        return 0
    if args.command == "revision":
        from common.migrate import autogenerate
        from common.settings import get_settings

        component = COMPONENTS[args.name]
        models = importlib.import_module(f"{component.package}.models")
        autogenerate(get_settings(), component.database, component.package, models.Base.metadata, args.message)
        return 0
    if args.command == "seed":
        from common.seed import seed

        print("\n".join(seed(demo=args.demo).lines()))
        return 0
    if args.command == "up":
        from common.supervisor import up

        return up(seed_demo=not args.no_seed)
    return 2


if __name__ == "__main__":
    sys.exit(main())
