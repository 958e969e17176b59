"""What the outpatient tests share: the real platform (DBS, DMS and OMS on MariaDB, Redis and the S3 server),
master data made through the data center's API, clinic sessions made through the scheduling API, and users.

The OMS calls are made by an admin holding only `outpatient:write` (the clerk), which proves OMS needs no other
grant: it reads DBS and books in DMS with its own service token.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from common.db import Database
from common.settings import Settings
from common.timeutil import hospital_today
from services.oms.service import id_card_check_char
from tests.harness import SERVICE_SECRET, Platform, mariadb, schema, wait_until

API = "/api/outpatient"
_sequence = itertools.count(1)


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def valid_id_card(born: date, region: str = "110101", sequence: int | None = None) -> str:
    seq = next(_sequence) if sequence is None else sequence
    first17 = f"{region}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_card_check_char(first17)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: " \
                                           f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: " \
                                           f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"code", "message", "detail"}, body
    assert body["code"] == code, body
    return body


@dataclass
class Outpatient:
    """The platform as the outpatient tests use it."""

    platform: Platform
    admin: httpx.Client  # super admin: master data and schedules
    clerk: httpx.Client  # outpatient:write only
    reader: httpx.Client  # outpatient:read only; each of its requests waits for the replica to catch up
    outsider: httpx.Client  # datacenter:read only, nothing of outpatient
    clerk_user: dict[str, Any]
    catalog: dict[str, Any] = field(default_factory=dict)

    # -- master data and sessions ------------------------------------------------------------------------------

    def service_token(self) -> str:
        return ok(httpx.post(self.platform.gateway.url + "/api/auth/token",
                             json={"client_id": "pms", "client_secret": SERVICE_SECRET}))["access_token"]

    def datacenter(self, entity: str, **body: Any) -> dict[str, Any]:
        row = ok(self.admin.post(f"/api/datacenter/{entity}", json=body), 201)
        self.visible(entity, row["id"])
        return row

    def visible(self, entity: str, row_id: int) -> None:
        """Wait until DBS's look-up (read from the replica) shows a row just written on the primary. The probe
        asks with a page size no service uses, so it never leaves a cached miss where OMS or DMS will look."""
        dbs = next(p for p in self.platform.services if p.name == "dbs" and p.alive())
        headers = {"Authorization": f"Bearer {self.service_token()}"}

        def found() -> bool:
            response = httpx.get(f"{dbs.url}/internal/{entity}", params={"ids": row_id, "size": 1}, headers=headers)
            return any(item["id"] == row_id for item in ok(response)["items"])

        wait_until(found, 15, 0.05, f"{entity} {row_id} on the replica")

    def drug(self, price: str = "12.50", **overrides: Any) -> dict[str, Any]:
        code = unique("D")
        body = dict(code=code, name=f"阿莫西林胶囊{code}", generic_name="阿莫西林", specification="0.25g×24粒",
                    dosage_form="胶囊剂", unit_id=self.catalog["unit_box"], origin_id=self.catalog["origin"],
                    category="western", retail_price=price, low_stock_threshold=10, prescription_only=True)
        return self.datacenter("drugs", **{**body, **overrides})

    def item(self, price: str = "20.00", result_required: bool = True, **overrides: Any) -> dict[str, Any]:
        code = unique("I")
        body = dict(code=code, name=f"血常规{code}", category_id=self.catalog["category"],
                    unit_id=self.catalog["unit_times"], price=price, department_id=self.catalog["lab"],
                    result_required=result_required)
        return self.datacenter("medical-items", **{**body, **overrides})

    def doctor(self, department_id: int | None = None) -> dict[str, Any]:
        code = unique("DR")
        return self.datacenter("doctors", code=code, name=f"医生{code}", gender="female",
                               department_id=department_id or self.catalog["clinic"], title="attending",
                               registration_type_id=self.catalog["specialist"], practice="outpatient")

    def schedule(self, quota: int = 30, day: date | None = None, session: str = "morning",
                 department_id: int | None = None) -> dict[str, Any]:
        """A new open clinic session of a new doctor (so sessions never clash)."""
        doctor = self.doctor(department_id)
        return ok(self.admin.post("/api/scheduling/schedules", json={
            "doctor_id": doctor["id"], "schedule_date": (day or hospital_today()).isoformat(), "session": session,
            "quota": quota}), 201)

    def dms_schedule(self, schedule_id: int) -> dict[str, Any]:
        return ok(self.admin.get(f"/api/scheduling/schedules/{schedule_id}"))

    # -- outpatient documents ----------------------------------------------------------------------------------

    def patient(self, **overrides: Any) -> dict[str, Any]:
        born = overrides.pop("birth_date", None) or date(1960, 1, 1) + timedelta(days=next(_sequence) * 7 % 20000)
        body = {"name": unique("患者"), "gender": "female", "birth_date": born.isoformat(),
                "id_card": valid_id_card(born), "phone": f"139{next(_sequence) % 10**8:08d}",
                "allergies": "青霉素", **overrides}
        return ok(self.clerk.post(f"{API}/patients", json=body), 201)

    def register(self, schedule: dict[str, Any] | None = None, patient: dict[str, Any] | None = None,
                 paid: bool = False, method: str = "cash") -> dict[str, Any]:
        schedule = schedule or self.schedule()
        patient = patient or self.patient()
        registration = ok(self.clerk.post(f"{API}/registrations",
                                          json={"patient_id": patient["id"], "schedule_id": schedule["id"]}), 201)
        if paid:
            self.pay("registration", registration["id"], method)
            registration = ok(self.clerk.get(f"{API}/registrations/{registration['id']}"))
        return registration

    def pay(self, target: str, target_id: int, method: str = "cash", key: str | None = None) -> dict[str, Any]:
        return ok(self.clerk.post(f"{API}/payments", json={"target": target, "target_id": target_id,
                                                           "method": method},
                                  headers={"Idempotency-Key": key or unique()}), 201)

    def prescription(self, registration: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
        return ok(self.clerk.post(f"{API}/prescriptions", json={"registration_id": registration["id"],
                                                                "lines": lines}), 201)

    def item_order(self, registration: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
        return ok(self.clerk.post(f"{API}/item-orders", json={"registration_id": registration["id"],
                                                              "lines": lines}), 201)

    # -- replication ----------------------------------------------------------------------------------------------

    def replicated(self) -> None:
        """Wait until the replica has applied everything the primary has: another user's reads go to the
        replica, and must see what the clerk just wrote."""
        primary = mariadb(self.platform.env)
        try:
            with primary.cursor() as cur:
                cur.execute("SELECT @@gtid_binlog_pos")
                position = cur.fetchone()[0]
        finally:
            primary.close()
        replica = mariadb(self.platform.env, replica=True)
        try:
            with replica.cursor() as cur:
                cur.execute("SELECT MASTER_GTID_WAIT(%s, 10)", (position,))
                assert cur.fetchone()[0] == 0, "the replica did not catch up within 10 s"
        finally:
            replica.close()

    def lock_waits(self, component: str = "oms") -> int:
        """How many transactions of one component's schema wait for a row lock (to hold a race open)."""
        conn = mariadb(self.platform.env)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist "
                            "p ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = %s",
                            (schema(self.platform.env, component),))
                return cur.fetchone()[0]
        finally:
            conn.close()

    # -- the service's own code against the platform's database ------------------------------------------------

    def settings(self) -> Settings:
        """This platform's settings (its schema prefix, gateway, registry), as its OMS process has them."""
        return Settings(**{name[4:].lower(): value for name, value in self.platform.env.items()
                           if name.startswith("HAP_")})

    @contextmanager
    def database(self) -> Iterator[Database]:
        db = Database("oms", self.settings().model_copy(update={"db_replica_url": ""}))
        try:
            yield db
        finally:
            db.dispose()

    # -- the event feed ----------------------------------------------------------------------------------------

    def events(self, type_: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """OMS's outbox events (read with a service token), optionally of one type with matching payload."""
        token = self.service_token()
        oms = next(p for p in self.platform.services if p.name == "oms" and p.alive())
        found, after = [], 0
        while True:
            items = ok(httpx.get(f"{oms.url}/internal/events", params={"after": after, "limit": 1000},
                                 headers={"Authorization": f"Bearer {token}"}))["items"]
            found.extend(items)
            if len(items) < 1000:
                break
            after = items[-1]["id"]
        return [e for e in found if (type_ is None or e["type"] == type_)
                and all(e["payload"].get(k) == v for k, v in match.items())]


@pytest.fixture(scope="module")
def op(platform: Platform, admin_token: str) -> Iterator[Outpatient]:
    tag = unique()
    clerk_user = platform.create_admin(f"clerk{tag}", {"outpatient": "write"})
    reader_user = platform.create_admin(f"reader{tag}", {"outpatient": "read"})
    outsider_user = platform.create_admin(f"outsider{tag}", {"datacenter": "read"})
    admin = platform.client(platform.admin_token())
    clients = [admin, platform.client(clerk_user["access_token"]), platform.client(reader_user["access_token"]),
               platform.client(outsider_user["access_token"])]
    outpatient = Outpatient(platform, *clients, clerk_user=clerk_user)
    # Another user's reads go to the replica: the reader sees what was written before its request (the clerk
    # reads its own writes from the primary anyway).
    outpatient.reader.event_hooks["request"].append(lambda _: outpatient.replicated())
    catalog = outpatient.catalog
    catalog["clinic"] = outpatient.datacenter("departments", code=unique("NK"), name=unique("内科"),
                                              kind="clinical")["id"]
    catalog["lab"] = outpatient.datacenter("departments", code=unique("JY"), name=unique("检验科"),
                                           kind="medical_technical")["id"]
    catalog["specialist"] = outpatient.datacenter("registration-types", code=unique("ZJ"), name="专家号",
                                                  fee="30.00")["id"]
    catalog["unit_box"] = outpatient.datacenter("units", code=unique("HE"), name="盒")["id"]
    catalog["unit_times"] = outpatient.datacenter("units", code=unique("CI"), name="次")["id"]
    catalog["origin"] = outpatient.datacenter("drug-origins", code=unique("YZJ"), name="扬子江药业 江苏泰州")["id"]
    catalog["category"] = outpatient.datacenter("item-categories", code=unique("JY"), name="检验")["id"]
    try:
        yield outpatient
    finally:
        for client in clients:
            client.close()
