"""A small hospital made through the public API, for the cross-service tests and the benchmarks.

Master data goes in through the data center, sessions through scheduling and patients through outpatient, each
with a client whose token holds the grant that service needs (the super admin's, usually). Codes carry a
per-run suffix so that several hospitals can live in one platform.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_serial = itertools.count(1)


def id_card(birth: date, serial: int, region: str = "110101") -> str:
    """A valid 18-character resident ID number (GB 11643 check digit) for `birth`."""
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + CHECK_CHARS[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: " \
                                           f"{response.status_code} {response.text}"
    return response.json() if response.content else None


SESSIONS = ("morning", "afternoon", "night")


@dataclass
class Hospital:
    """Ids of one department with a doctor, a registration type, a drug and an exam item."""

    department_id: int
    doctor_id: int
    registration_type_id: int
    fee: str
    drug_id: int
    drug_price: str
    item_id: int
    item_price: str
    slots: Iterator[tuple[date, str]] = field(default_factory=lambda: _free_slots())


def _free_slots() -> Iterator[tuple[date, str]]:
    """The doctor's sessions from tomorrow on, in order: each test gets one nobody else has used."""
    for offset in itertools.count(1):
        for session in SESSIONS:
            yield date.today() + timedelta(days=offset), session


def make_hospital(admin: httpx.Client, fee: str = "30.00", drug_price: str = "12.35",
                  item_price: str = "85.50") -> Hospital:
    """Master data in the data center (the client needs datacenter:write)."""
    tag = secrets.token_hex(3).upper()
    api = "/api/datacenter"
    dept = ok(admin.post(f"{api}/departments", json={"code": f"NK{tag}", "name": f"内科{tag}",
                                                     "kind": "clinical"}), 201)
    exam_dept = ok(admin.post(f"{api}/departments", json={"code": f"FS{tag}", "name": f"放射科{tag}",
                                                          "kind": "medical_technical"}), 201)
    reg_type = ok(admin.post(f"{api}/registration-types", json={"code": f"ZJ{tag}", "name": f"专家号{tag}",
                                                                "fee": fee}), 201)
    doctor = ok(admin.post(f"{api}/doctors", json={
        "code": f"D{tag}", "name": f"张医生{tag}", "gender": "male", "department_id": dept["id"],
        "title": "chief", "registration_type_id": reg_type["id"], "practice": "outpatient"}), 201)
    unit = ok(admin.post(f"{api}/units", json={"code": f"HE{tag}", "name": "盒"}), 201)
    origin = ok(admin.post(f"{api}/drug-origins", json={"code": f"O{tag}", "name": "扬子江药业"}), 201)
    category = ok(admin.post(f"{api}/item-categories", json={"code": f"C{tag}", "name": "影像检查"}), 201)
    drug = ok(admin.post(f"{api}/drugs", json={
        "code": f"DR{tag}", "name": f"阿莫西林胶囊{tag}", "specification": "0.25g×24粒", "dosage_form": "胶囊剂",
        "unit_id": unit["id"], "origin_id": origin["id"], "category": "western", "retail_price": drug_price,
        "low_stock_threshold": 10}), 201)
    item = ok(admin.post(f"{api}/medical-items", json={
        "code": f"CT{tag}", "name": f"胸部CT{tag}", "category_id": category["id"], "unit_id": unit["id"],
        "price": item_price, "department_id": exam_dept["id"], "result_required": True}), 201)
    return Hospital(dept["id"], doctor["id"], reg_type["id"], fee, drug["id"], drug_price, item["id"], item_price)


def make_session(scheduler: httpx.Client, hospital: Hospital, quota: int) -> dict[str, Any]:
    """An open clinic session of the hospital's doctor on a free date and session (the client needs
    scheduling:write)."""
    day, session = next(hospital.slots)
    return ok(scheduler.post("/api/scheduling/schedules", json={
        "doctor_id": hospital.doctor_id, "schedule_date": day.isoformat(), "session": session, "quota": quota}), 201)


def make_patient(clerk: httpx.Client, name: str | None = None) -> dict[str, Any]:
    """A new patient with a valid, unique ID card (the client needs outpatient:write)."""
    serial = next(_serial)
    birth = date(1960, 1, 1) + timedelta(days=secrets.randbelow(20000))
    return ok(clerk.post("/api/outpatient/patients", json={
        "name": name or f"患者{secrets.token_hex(3)}", "gender": "female", "birth_date": birth.isoformat(),
        "id_card": id_card(birth, serial + secrets.randbelow(900)), "phone": f"138{secrets.randbelow(10**8):08d}",
    }), 201)
