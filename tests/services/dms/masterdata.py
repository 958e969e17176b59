"""Master data for the scheduling tests, created in the real data center through its API (super admin token).

The scheduling service looks doctors and registration types up through the data center's internal routes, which
read the MariaDB replica (and cache what they read). So every change made here waits until the replica shows
it, as a clerk's next screen would a moment later; otherwise a test could ask for a session in the few
milliseconds before the replica has the new doctor and be told, correctly for that instant, that there is none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from common.timeutil import hospital_today
from tests.harness import Platform, mariadb, schema, wait_until

DATACENTER = "/api/datacenter"


@dataclass
class Clinic:
    """A department with a doctor and a registration type of its own, as the data center holds them."""

    department_id: int
    department_name: str
    doctor_id: int
    doctor_name: str
    registration_type_id: int
    registration_type_name: str
    fee: str


def unique_code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def monday_after(weeks: int = 1) -> date:
    """The Monday `weeks` weeks after this week's Monday (hospital time)."""
    today = hospital_today()
    return today - timedelta(days=today.isoweekday() - 1) + timedelta(days=7 * weeks)


class DataCenter:
    """Creates and changes master data through the gateway, each change visible on the replica when it returns."""

    def __init__(self, platform: Platform, token: str):
        self.platform = platform
        self.client = platform.client(token)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DataCenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- replication ---------------------------------------------------------------------------------------------

    def replicated(self, table: str, row_id: int, **expected: Any) -> None:
        """Wait until the replica has the row with the expected column values (no-op without a replica)."""
        env = self.platform.env
        if not env.get("HAP_DB_REPLICA_URL"):
            return
        columns = ", ".join(expected) or "id"

        def seen() -> bool:
            conn = mariadb(env, replica=True, database=schema(env, "dbs"))
            try:
                with conn.cursor() as cur:
                    cur.execute(f"SELECT {columns} FROM `{table}` WHERE id = %s", (row_id,))
                    row = cur.fetchone()
            finally:
                conn.close()
            return row is not None and (not expected or tuple(row) == tuple(expected.values()))

        wait_until(seen, 10.0, 0.02, f"{table} {row_id} on the replica")

    def _created(self, path: str, body: dict[str, Any], table: str) -> dict[str, Any]:
        response = self.client.post(f"{DATACENTER}/{path}", json=body)
        assert response.status_code == 201, response.text
        row = response.json()
        self.replicated(table, row["id"])
        return row

    # -- rows ----------------------------------------------------------------------------------------------------

    def department(self, name: str = "测试科") -> dict[str, Any]:
        return self._created("departments", {"code": unique_code("DP"), "name": name, "kind": "clinical"},
                             "department")

    def registration_type(self, fee: str = "30.00", name: str = "专家号") -> dict[str, Any]:
        return self._created("registration-types", {"code": unique_code("RT"), "name": name, "fee": fee},
                             "registration_type")

    def doctor(self, department_id: int, registration_type_id: int | None, name: str = "测试医生",
               practice: str = "outpatient") -> dict[str, Any]:
        return self._created("doctors", {
            "code": unique_code("DR"), "name": name, "gender": "female", "department_id": department_id,
            "title": "attending", "registration_type_id": registration_type_id, "practice": practice}, "doctor")

    def clinic(self, fee: str = "30.00", doctor_name: str = "测试医生", department_name: str = "测试科") -> Clinic:
        dept = self.department(department_name)
        kind = self.registration_type(fee)
        person = self.doctor(dept["id"], kind["id"], doctor_name)
        return Clinic(dept["id"], dept["name"], person["id"], person["name"], kind["id"], kind["name"], kind["fee"])

    def deactivate(self, path: str, table: str, row_id: int) -> None:
        response = self.client.post(f"{DATACENTER}/{path}/{row_id}/deactivate")
        assert response.status_code == 200, response.text
        self.replicated(table, row_id, active=0)

    def set_fee(self, registration_type_id: int, fee: str) -> None:
        response = self.client.patch(f"{DATACENTER}/registration-types/{registration_type_id}", json={"fee": fee})
        assert response.status_code == 200, response.text
        self.replicated("registration_type", registration_type_id, fee=Decimal(fee))


def schedule_body(clinic: Clinic, day: date, session: str = "morning", quota: int = 10, **extra: Any
                  ) -> dict[str, Any]:
    return {"doctor_id": clinic.doctor_id, "schedule_date": day.isoformat(), "session": session, "quota": quota,
            **extra}
