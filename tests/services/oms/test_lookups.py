"""The screens' look-ups: DBS's master data and DMS's sessions, read by OMS with its own token, so a user
holding only `outpatient` can register and price; and the event feed, open to services only."""

from __future__ import annotations

import httpx

from common.timeutil import hospital_today
from tests.services.oms.conftest import API, Outpatient, error, ok, unique


def test_departments_are_the_active_clinical_ones(op: Outpatient) -> None:
    name = unique("眼科")
    clinic = op.datacenter("departments", code=unique("YK"), name=name, kind="clinical")
    op.datacenter("departments", code=unique("FS"), name=f"{name}影像", kind="medical_technical")
    retired = op.datacenter("departments", code=unique("TK"), name=f"{name}旧", kind="clinical")
    ok(op.admin.post(f"/api/datacenter/departments/{retired['id']}/deactivate"))
    op.replicated()
    found = ok(op.clerk.get(f"{API}/lookups/departments", params={"q": name}))
    assert found == {"items": [{"id": clinic["id"], "code": clinic["code"], "name": name}]}
    error(op.outsider.get(f"{API}/lookups/departments"), 403, "auth.forbidden")


def test_drugs_and_items_for_pricing(op: Outpatient) -> None:
    drug = op.drug("7.50", generic_name="布洛芬")
    retired = op.drug("1.00", name=f"{drug['name']}旧")
    ok(op.admin.post(f"/api/datacenter/drugs/{retired['id']}/deactivate"))
    op.replicated()
    drugs = ok(op.clerk.get(f"{API}/lookups/drugs", params={"q": drug["code"][:-1], "size": 5}))
    assert drugs["page"] == 1 and drugs["size"] == 5
    assert [d["id"] for d in drugs["items"]] == [drug["id"]] and drugs["total"] == 1
    assert drugs["items"][0] == {
        "id": drug["id"], "code": drug["code"], "name": drug["name"], "generic_name": "布洛芬",
        "specification": "0.25g×24粒", "unit_name": "盒", "retail_price": "7.50", "category": "western",
        "prescription_only": True,
    }

    item = op.item("35.00")
    items = ok(op.clerk.get(f"{API}/lookups/medical-items", params={"q": item["code"]}))
    assert items["items"] == [{
        "id": item["id"], "code": item["code"], "name": item["name"], "category_name": "检验", "unit_name": "次",
        "price": "35.00", "department_id": item["department_id"], "department_name": item["department_name"],
        "result_required": True,
    }]
    error(op.clerk.get(f"{API}/lookups/drugs", params={"size": 0}), 422, "validation.failed")
    error(op.clerk.get(f"{API}/lookups/drugs", params={"q": "x" * 65}), 422, "validation.failed")


def test_on_duty_sessions_with_fee_and_remaining(op: Outpatient) -> None:
    department = op.datacenter("departments", code=unique("EK"), name=unique("儿科"), kind="clinical")
    morning = op.schedule(quota=4, department_id=department["id"])
    night = op.schedule(quota=2, department_id=department["id"], session="night")
    op.register(morning)
    today = hospital_today().isoformat()
    listed = ok(op.clerk.get(f"{API}/lookups/on-duty", params={"department_id": department["id"]}))["items"]
    assert [(s["id"], s["session"], s["remaining"], s["fee"]) for s in listed] == [
        (morning["id"], "morning", 3, "30.00"), (night["id"], "night", 2, "30.00")]
    only_night = ok(op.clerk.get(f"{API}/lookups/on-duty", params={"department_id": department["id"], "date": today,
                                                                   "session": "night"}))["items"]
    assert [s["id"] for s in only_night] == [night["id"]]
    error(op.clerk.get(f"{API}/lookups/on-duty"), 422, "validation.failed")
    error(op.clerk.get(f"{API}/lookups/on-duty", params={"department_id": department["id"], "date": "1999-12-31"}),
          422, "validation.failed")


def test_the_event_feed_is_for_services(op: Outpatient) -> None:
    oms = next(p for p in op.platform.services if p.name == "oms" and p.alive())
    user = httpx.get(f"{oms.url}/internal/events", headers={"Authorization": op.clerk.headers["authorization"]})
    error(user, 403, "auth.service_only")
    registration = op.register(paid=True)
    events = op.events(id=registration["id"])
    assert [e["type"] for e in events] == ["registration.created", "registration.paid"]
    assert events[1]["payload"]["status"] == "registered" and events[1]["payload"]["fee"] == "30.00"
    assert events[0]["id"] < events[1]["id"]
