"""处方划价 and 项目划价: documents priced from DBS at that moment and snapshotted on their lines, editable only while
unpaid, with every pricing refusal pointing at its line."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.harness import mariadb, schema, wait_until
from tests.services.oms.conftest import API, Outpatient, error, ok


def test_prescription_is_priced_and_snapshotted_from_dbs(op: Outpatient) -> None:
    amoxicillin = op.drug("12.50")
    syrup = op.drug("0.33", specification="100ml", name=f"止咳糖浆{amoxicillin['code']}")
    registration = op.register(paid=True)
    prescription = op.prescription(registration, [
        {"drug_id": amoxicillin["id"], "quantity": 3, "usage": "口服 一日三次 每次2粒", "days": 7},
        {"drug_id": syrup["id"], "quantity": 3},
    ])
    assert prescription["prescription_no"].startswith("RX") and prescription["prescription_no"].endswith(
        f"-{prescription['id']:05d}")
    assert prescription["status"] == "unpaid" and prescription["registration_no"] == registration["registration_no"]
    assert prescription["patient_id"] == registration["patient_id"]
    assert prescription["patient_name"] == registration["patient_name"]
    first, second = prescription["lines"]
    assert first["drug_code"] == amoxicillin["code"] and first["drug_name"] == amoxicillin["name"]
    assert first["specification"] == "0.25g×24粒" and first["unit_name"] == "盒"
    assert first["unit_price"] == "12.50" and first["amount"] == "37.50"
    assert first["usage"] == "口服 一日三次 每次2粒" and first["days"] == 7
    assert second["amount"] == "0.99" and second["usage"] is None and second["days"] is None
    assert prescription["total_amount"] == "38.49"

    # The data center's price changes afterwards: the written prescription keeps the price it was priced at.
    ok(op.admin.patch(f"/api/datacenter/drugs/{amoxicillin['id']}", json={"retail_price": "99.00",
                                                                         "name": "阿莫西林胶囊(新)"}))
    kept = ok(op.clerk.get(f"{API}/prescriptions/{prescription['id']}"))
    assert kept["lines"][0]["unit_price"] == "12.50" and kept["lines"][0]["drug_name"] == amoxicillin["name"]
    assert kept["total_amount"] == "38.49"

    # Re-pricing (editing the lines) takes the price of that moment.
    def repriced() -> dict | None:
        shown = ok(op.clerk.put(f"{API}/prescriptions/{prescription['id']}/lines",
                                json={"lines": [{"drug_id": amoxicillin["id"], "quantity": 2}]}))
        return shown if shown["lines"][0]["unit_price"] == "99.00" else None

    edited = wait_until(repriced, 15, 0.5, "the new price to reach OMS")
    assert edited["total_amount"] == "198.00" and edited["lines"][0]["drug_name"] == "阿莫西林胶囊(新)"
    assert len(edited["lines"]) == 1


def test_pricing_refusals_name_the_line(op: Outpatient) -> None:
    drug = op.drug("5.00")
    retired = op.drug("6.00")
    ok(op.admin.post(f"/api/datacenter/drugs/{retired['id']}/deactivate"))
    registration = op.register(paid=True)
    url = f"{API}/prescriptions"

    def refused(lines: list[dict], status: int, code: str, field: str | None = None) -> None:
        body = error(op.clerk.post(url, json={"registration_id": registration["id"], "lines": lines}), status, code)
        if field:
            assert body["detail"]["field"] == field, body

    line = {"drug_id": drug["id"], "quantity": 1}
    refused([line, {"drug_id": 2_000_000_000, "quantity": 1}], 422, "pricing.drug_not_found", "lines[1].drug_id")
    wait_until(lambda: op.clerk.post(url, json={"registration_id": registration["id"], "lines": [
        {"drug_id": retired["id"], "quantity": 1}]}).status_code == 422, 15, 0.5, "the deactivation to reach OMS")
    refused([line, line, {"drug_id": retired["id"], "quantity": 1}], 422, "pricing.duplicate_line", "lines[1].drug_id")
    refused([{"drug_id": retired["id"], "quantity": 1}], 422, "pricing.drug_inactive", "lines[0].drug_id")
    for bad in ({"drug_id": drug["id"], "quantity": 0}, {"drug_id": drug["id"], "quantity": 10000},
                {"drug_id": drug["id"], "quantity": 1.5}, {"drug_id": drug["id"], "quantity": 1, "days": 91},
                {"drug_id": drug["id"], "quantity": 1, "usage": "x" * 65},
                {"drug_id": drug["id"], "quantity": 1, "unit_price": "0.01"}):
        refused([bad], 422, "validation.failed")
    refused([], 422, "validation.failed")
    refused([{"drug_id": drug["id"] + n, "quantity": 1} for n in range(51)], 422, "validation.failed")
    error(op.clerk.post(url, json={"registration_id": registration["id"], "lines": [line], "total_amount": "0.01"}),
          422, "validation.failed")

    pending = op.register()
    body = error(op.clerk.post(url, json={"registration_id": pending["id"], "lines": [line]}),
                 409, "registration.not_active")
    assert body["detail"] == {"status": "pending_payment"}
    error(op.clerk.post(url, json={"registration_id": 2_000_000_000, "lines": [line]}), 404,
          "registration.not_found")
    error(op.reader.post(url, json={"registration_id": registration["id"], "lines": [line]}), 403, "auth.forbidden")


def test_prescription_edits_only_while_unpaid(op: Outpatient) -> None:
    drug = op.drug("8.80")
    registration = op.register(paid=True)
    created = ok(op.clerk.post(f"{API}/prescriptions", json={"registration_id": registration["id"], "note": "饭后",
                                                             "lines": [{"drug_id": drug["id"], "quantity": 1}]}), 201)
    url = f"{API}/prescriptions/{created['id']}"
    kept_note = ok(op.clerk.put(f"{url}/lines", json={"lines": [{"drug_id": drug["id"], "quantity": 5}]}))
    assert kept_note["note"] == "饭后" and kept_note["total_amount"] == "44.00"
    assert kept_note["lines"][0]["id"] != created["lines"][0]["id"]
    cleared = ok(op.clerk.put(f"{url}/lines", json={"note": None, "lines": [{"drug_id": drug["id"], "quantity": 2}]}))
    assert cleared["note"] is None and cleared["total_amount"] == "17.60"

    op.pay("prescription", created["id"])
    body = error(op.clerk.put(f"{url}/lines", json={"lines": [{"drug_id": drug["id"], "quantity": 1}]}),
                 409, "prescription.not_editable")
    assert body["detail"] == {"status": "paid"}
    error(op.clerk.post(f"{url}/cancel"), 409, "prescription.not_editable")
    assert ok(op.clerk.get(url))["total_amount"] == "17.60"

    other = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 1}])
    cancelled = ok(op.clerk.post(f"{API}/prescriptions/{other['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    error(op.clerk.post(f"{API}/prescriptions/{other['id']}/cancel"), 409, "prescription.not_editable")
    error(op.clerk.put(f"{API}/prescriptions/{other['id']}/lines",
                       json={"lines": [{"drug_id": drug["id"], "quantity": 1}]}), 409, "prescription.not_editable")
    error(op.clerk.post(f"{API}/payments", json={"target": "prescription", "target_id": other["id"],
                                                 "method": "cash"}), 409, "payment.invalid_state")
    error(op.clerk.get(f"{API}/prescriptions/2000000000"), 404, "prescription.not_found")
    error(op.clerk.put(f"{API}/prescriptions/2000000000/lines",
                       json={"lines": [{"drug_id": drug["id"], "quantity": 1}]}), 404, "prescription.not_found")


def test_item_orders_are_priced_edited_and_cancelled_the_same_way(op: Outpatient) -> None:
    blood = op.item("20.00")
    xray = op.item("120.50", result_required=False, name=f"胸部X光{blood['code']}")
    registration = op.register(paid=True)
    order = op.item_order(registration, [{"medical_item_id": blood["id"], "quantity": 2},
                                         {"medical_item_id": xray["id"], "quantity": 1}])
    assert order["order_no"].startswith("XM") and order["order_no"].endswith(f"-{order['id']:05d}")
    assert order["status"] == "unpaid" and order["total_amount"] == "160.50" and order["refunded_amount"] == "0.00"
    first, second = order["lines"]
    assert first["item_code"] == blood["code"] and first["item_name"] == blood["name"]
    assert first["category_name"] == "检验" and first["unit_name"] == "次"
    assert first["department_id"] == blood["department_id"] and first["department_name"] == blood["department_name"]
    assert first["result_required"] is True and second["result_required"] is False
    assert first["amount"] == "40.00" and first["status"] == "unpaid" and first["exam"] is None

    ok(op.admin.patch(f"/api/datacenter/medical-items/{blood['id']}", json={"price": "25.00"}))
    assert ok(op.clerk.get(f"{API}/item-orders/{order['id']}"))["lines"][0]["unit_price"] == "20.00"

    url = f"{API}/item-orders/{order['id']}"
    error(op.clerk.put(f"{url}/lines", json={"lines": [{"medical_item_id": blood["id"], "quantity": 1},
                                                      {"medical_item_id": blood["id"], "quantity": 2}]}),
          422, "pricing.duplicate_line")
    body = error(op.clerk.put(f"{url}/lines", json={"lines": [{"medical_item_id": 2_000_000_000, "quantity": 1}]}),
                 422, "pricing.item_not_found")
    assert body["detail"] == {"field": "lines[0].medical_item_id"}
    edited = ok(op.clerk.put(f"{url}/lines", json={"note": "空腹", "lines": [{"medical_item_id": xray["id"],
                                                                            "quantity": 1}]}))
    assert [line["item_name"] for line in edited["lines"]] == [xray["name"]] and edited["note"] == "空腹"
    assert edited["total_amount"] == "120.50"

    cancelled = ok(op.clerk.post(f"{url}/cancel"))
    assert cancelled["status"] == "cancelled" and [line["status"] for line in cancelled["lines"]] == ["cancelled"]
    error(op.clerk.post(f"{url}/cancel"), 409, "item_order.not_editable")
    error(op.clerk.get(f"{API}/item-orders/2000000000"), 404, "item_order.not_found")


def test_document_lists(op: Outpatient) -> None:
    drug = op.drug("3.00")
    item = op.item("4.00")
    registration = op.register(paid=True)
    prescription = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 1}])
    order = op.item_order(registration, [{"medical_item_id": item["id"], "quantity": 1}])
    for params in ({"q": prescription["prescription_no"]}, {"q": prescription["prescription_no"].lower()},
                   {"q": registration["registration_no"]}, {"q": registration["patient_name"]},
                   {"registration_id": registration["id"], "status": "unpaid"},
                   {"patient_id": registration["patient_id"]}):
        listed = ok(op.reader.get(f"{API}/prescriptions", params=params))
        assert [p["id"] for p in listed["items"]] == [prescription["id"]], params
    assert ok(op.reader.get(f"{API}/prescriptions", params={"registration_id": registration["id"],
                                                            "status": "paid"}))["total"] == 0
    for params in ({"q": order["order_no"]}, {"q": registration["patient_name"]},
                   {"registration_id": registration["id"]}):
        listed = ok(op.reader.get(f"{API}/item-orders", params=params))
        assert [o["id"] for o in listed["items"]] == [order["id"]], params
    error(op.reader.get(f"{API}/item-orders", params={"status": "examined"}), 422, "validation.failed")
    assert Decimal(listed["items"][0]["total_amount"]) == Decimal("4.00")


@pytest.mark.parametrize("document", ["prescriptions", "item-orders"])
def test_no_document_for_a_registration_refunded_meanwhile(op: Outpatient, document: str) -> None:
    """A registration refunded while a document for it is being priced: the document is refused
    (`registration.not_active`), never saved for a refunded visit. The refund is held uncommitted here until
    the document's request waits on it, as a refund in flight would be."""
    registration = op.register(paid=True)
    line = ({"drug_id": op.drug("5.00")["id"], "quantity": 1} if document == "prescriptions"
            else {"medical_item_id": op.item("5.00")["id"], "quantity": 1})
    conn = mariadb(op.platform.env, database=schema(op.platform.env, "oms"))
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("UPDATE registration SET status = 'refunded', active_key = id WHERE id = %s",
                        (registration["id"],))
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(op.clerk.post, f"{API}/{document}",
                                  json={"registration_id": registration["id"], "lines": [line]}, timeout=60)
            wait_until(lambda: pending.done() or op.lock_waits() > 0, 15,
                       message="the document to wait on the registration")
            with conn.cursor() as cur:
                cur.execute("COMMIT")
            body = error(pending.result(), 409, "registration.not_active")
    finally:
        conn.close()
    assert body["detail"] == {"status": "refunded"}
    assert ok(op.clerk.get(f"{API}/{document}", params={"registration_id": registration["id"]}))["total"] == 0
