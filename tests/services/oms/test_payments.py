"""缴费: the append-only ledger. The server computes every amount; a target is paid once however many requests
race; a key replays; refunds follow the contract's rules, use the original method and never exceed what was
paid; the billing view, the daily summary and the patient's history agree with the ledger."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import httpx

from common.timeutil import hospital_today
from services.oms import service
from tests.services.oms.conftest import API, Outpatient, error, ok, unique


def _ledger(op: Outpatient, **params: object) -> list[dict]:
    entries, page = [], 1
    while True:
        listed = ok(op.reader.get(f"{API}/payments", params={**params, "size": 100, "page": page}))
        entries.extend(listed["items"])
        if page * 100 >= listed["total"]:
            return entries
        page += 1


def _post(op: Outpatient, path: str, body: dict | None, key: str) -> httpx.Response:
    with op.platform.client(op.clerk_user["access_token"]) as client:
        return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_paying_computes_the_amount_and_marks_the_target_paid(op: Outpatient) -> None:
    drug, other = op.drug("12.50"), op.drug("3.33")
    registration = op.register(paid=True, method="card")
    prescription = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 2},
                                                  {"drug_id": other["id"], "quantity": 3}])
    payment = op.pay("prescription", prescription["id"], "insurance")
    assert payment["payment_no"] == f"SF{hospital_today():%Y%m%d}-{payment['id']:05d}"
    assert payment["kind"] == "payment" and payment["target"] == "prescription"
    assert payment["target_id"] == prescription["id"] and payment["target_no"] == prescription["prescription_no"]
    assert payment["amount"] == "34.99" and payment["method"] == "insurance" and payment["refund_of_id"] is None
    assert payment["registration_id"] == registration["id"]
    assert payment["registration_no"] == registration["registration_no"]
    assert payment["patient_name"] == registration["patient_name"]
    assert payment["cashier_id"] == op.clerk_user["user_id"]
    assert payment["cashier_name"] == op.clerk_user["user"]["username"]
    assert payment["lines"] == [
        {"line_id": prescription["lines"][0]["id"], "name": drug["name"], "amount": "25.00"},
        {"line_id": prescription["lines"][1]["id"], "name": other["name"], "amount": "9.99"},
    ]
    shown = ok(op.clerk.get(f"{API}/prescriptions/{prescription['id']}"))
    assert shown["status"] == "paid" and shown["paid_at"] is not None
    assert ok(op.reader.get(f"{API}/payments/{payment['id']}")) == payment  # the receipt
    error(op.reader.get(f"{API}/payments/2000000000"), 404, "payment.not_found")

    again = error(op.clerk.post(f"{API}/payments", json={"target": "prescription", "target_id": prescription["id"],
                                                         "method": "cash"}), 409, "payment.already_paid")
    assert again["detail"]["status"] == "paid"
    error(op.clerk.post(f"{API}/payments", json={"target": "registration", "target_id": registration["id"],
                                                 "method": "cash"}), 409, "payment.already_paid")
    for target, code in (("registration", "registration.not_found"), ("prescription", "prescription.not_found"),
                         ("item_order", "item_order.not_found")):
        error(op.clerk.post(f"{API}/payments", json={"target": target, "target_id": 2_000_000_000,
                                                     "method": "cash"}), 404, code)
    for bad in ({"target": "prescription", "target_id": prescription["id"], "method": "bitcoin"},
                {"target": "pharmacy", "target_id": prescription["id"], "method": "cash"},
                {"target": "prescription", "target_id": prescription["id"], "method": "cash", "amount": "0.01"}):
        error(op.clerk.post(f"{API}/payments", json=bad), 422, "validation.failed")
    error(op.reader.post(f"{API}/payments", json={"target": "prescription", "target_id": prescription["id"],
                                                  "method": "cash"}), 403, "auth.forbidden")

    paid_events = op.events("prescription.paid", prescription_id=prescription["id"])
    assert len(paid_events) == 1
    assert paid_events[0]["payload"]["lines"][0] | {"drug_id": drug["id"], "quantity": 2} == \
        paid_events[0]["payload"]["lines"][0]
    recorded = op.events("payment.recorded", payment_id=payment["id"])
    assert recorded[0]["payload"]["amount"] == "34.99"
    assert recorded[0]["payload"]["department_id"] == registration["department_id"]
    assert recorded[0]["payload"]["doctor_id"] == registration["doctor_id"]


def test_concurrent_payments_of_one_target_give_one_success(op: Outpatient) -> None:
    registration = op.register()
    url = f"{API}/payments"
    body = {"target": "registration", "target_id": registration["id"], "method": "cash"}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda n: _post(op, url, body, unique(f"k{n}")), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"payment.already_paid"}
    assert [e["amount"] for e in _ledger(op, registration_id=registration["id"])] == ["30.00"]


def test_an_idempotency_key_pays_once_and_replays(op: Outpatient) -> None:
    item = op.item("66.60")
    registration = op.register(paid=True)
    order = op.item_order(registration, [{"medical_item_id": item["id"], "quantity": 1}])
    key = unique("pay-")
    body = {"target": "item_order", "target_id": order["id"], "method": "wechat"}
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: _post(op, f"{API}/payments", body, key), range(10)))
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("idempotent-replayed") == "true") == 9
    assert [e["amount"] for e in _ledger(op, target="item_order", registration_id=registration["id"])] == ["66.60"]
    error(_post(op, f"{API}/payments", {**body, "method": "cash"}, key), 409, "idempotency.key_reused")
    shown = ok(op.clerk.get(f"{API}/item-orders/{order['id']}"))
    assert shown["status"] == "paid" and [line["status"] for line in shown["lines"]] == ["paid"]
    [paid] = op.events("item_order.paid", item_order_id=order["id"])  # one event, however many replays
    assert paid["payload"]["amount"] == "66.60" and paid["payload"]["lines"][0]["medical_item_id"] == item["id"]
    assert len(op.events("payment.recorded", target="item_order", target_id=order["id"])) == 1


def test_prescription_refunds(op: Outpatient) -> None:
    drug = op.drug("20.00")
    registration = op.register(paid=True)
    unpaid = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 1}])
    error(op.clerk.post(f"{API}/prescriptions/{unpaid['id']}/refund", headers={"Idempotency-Key": unique()}),
          409, "prescription.not_paid")

    paid = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 2}])
    payment = op.pay("prescription", paid["id"], "alipay")
    refund = ok(op.clerk.post(f"{API}/prescriptions/{paid['id']}/refund", json={"reason": "过敏"},
                              headers={"Idempotency-Key": unique()}), 201)
    assert refund["amount"] == "-40.00" and refund["kind"] == "refund" and refund["method"] == "alipay"
    assert refund["refund_of_id"] == payment["id"] and refund["reason"] == "过敏"
    assert refund["lines"] == [{"line_id": paid["lines"][0]["id"], "name": drug["name"], "amount": "-40.00"}]
    shown = ok(op.clerk.get(f"{API}/prescriptions/{paid['id']}"))
    assert shown["status"] == "refunded" and shown["refunded_at"] is not None
    error(op.clerk.post(f"{API}/prescriptions/{paid['id']}/refund", headers={"Idempotency-Key": unique()}),
          409, "prescription.not_paid")
    assert op.events("prescription.refunded", prescription_id=paid["id"])

    # Dispensed by the pharmacy (PMS's event, applied by the service's own function): no refund any more.
    dispensed = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 1}])
    op.pay("prescription", dispensed["id"])
    with op.database() as db, db.write() as session:
        service.mark_dispensed(session, dispensed["id"])
    body = error(op.clerk.post(f"{API}/prescriptions/{dispensed['id']}/refund",
                               headers={"Idempotency-Key": unique()}), 409, "prescription.dispensed")
    assert body["detail"] == {"status": "dispensed"}
    error(op.clerk.post(f"{API}/payments", json={"target": "prescription", "target_id": dispensed["id"],
                                                 "method": "cash"}), 409, "payment.already_paid")
    ledger = _ledger(op, target="prescription", registration_id=registration["id"])
    assert sorted(e["amount"] for e in ledger) == ["-40.00", "20.00", "40.00"]


def test_item_order_refunds_line_by_line(op: Outpatient) -> None:
    blood, urine, xray = op.item("20.00"), op.item("15.00"), op.item("100.00", result_required=False)
    registration = op.register(paid=True)
    order = op.item_order(registration, [{"medical_item_id": blood["id"], "quantity": 1},
                                         {"medical_item_id": urine["id"], "quantity": 2},
                                         {"medical_item_id": xray["id"], "quantity": 1}])
    url = f"{API}/item-orders/{order['id']}/refund"
    blood_line, urine_line, xray_line = (line["id"] for line in order["lines"])
    error(op.clerk.post(url, headers={"Idempotency-Key": unique()}), 409, "item_order.not_paid")
    payment = op.pay("item_order", order["id"], "card")
    assert payment["amount"] == "150.00"

    ok(op.clerk.put(f"{API}/exams/{blood_line}", json={"findings": "白细胞 6.5×10^9/L", "conclusion": "正常"}))
    body = error(op.clerk.post(url, json={"line_ids": [urine_line, blood_line]}, headers={"Idempotency-Key": "a"}),
                 409, "item.examined")
    assert body["detail"] == {"line_id": blood_line}
    body = error(op.clerk.post(url, json={"line_ids": [2_000_000_000]}, headers={"Idempotency-Key": unique()}),
                 422, "item_order.line_not_found")
    assert body["detail"]["field"] == "line_ids[0]"

    partial = ok(op.clerk.post(url, json={"line_ids": [urine_line], "reason": "未做"},
                               headers={"Idempotency-Key": unique()}), 201)
    assert partial["amount"] == "-30.00" and partial["method"] == "card" and partial["refund_of_id"] == payment["id"]
    assert partial["lines"] == [{"line_id": urine_line, "name": urine["name"], "amount": "-30.00"}]
    shown = ok(op.clerk.get(f"{API}/item-orders/{order['id']}"))
    assert shown["status"] == "paid" and shown["refunded_amount"] == "30.00"
    assert [line["status"] for line in shown["lines"]] == ["examined", "refunded", "paid"]
    error(op.clerk.post(url, json={"line_ids": [urine_line]}, headers={"Idempotency-Key": unique()}),
          409, "item.not_paid")

    # The default: every paid line without a result; the examined line stays, so the order stays paid.
    rest = ok(op.clerk.post(url, json={}, headers={"Idempotency-Key": unique()}), 201)
    assert rest["amount"] == "-100.00" and [line["line_id"] for line in rest["lines"]] == [xray_line]
    shown = ok(op.clerk.get(f"{API}/item-orders/{order['id']}"))
    assert shown["status"] == "paid" and shown["refunded_amount"] == "130.00"
    error(op.clerk.post(url, headers={"Idempotency-Key": unique()}), 409, "item.examined")

    # Every line refunded: the order is refunded.
    simple = op.item_order(registration, [{"medical_item_id": urine["id"], "quantity": 1}])
    op.pay("item_order", simple["id"])
    ok(op.clerk.post(f"{API}/item-orders/{simple['id']}/refund", headers={"Idempotency-Key": unique()}), 201)
    assert ok(op.clerk.get(f"{API}/item-orders/{simple['id']}"))["status"] == "refunded"
    error(op.clerk.post(f"{API}/item-orders/{simple['id']}/refund", headers={"Idempotency-Key": unique()}),
          409, "item_order.not_paid")
    events = op.events("item_order.refunded", item_order_id=order["id"])
    assert [e["payload"]["amount"] for e in events] == ["30.00", "100.00"]


def test_concurrent_refunds_never_exceed_what_was_paid(op: Outpatient) -> None:
    items = [op.item("10.00", result_required=False) for _ in range(3)]
    registration = op.register(paid=True)
    order = op.item_order(registration, [{"medical_item_id": i["id"], "quantity": 1} for i in items])
    op.pay("item_order", order["id"])
    url = f"{API}/item-orders/{order['id']}/refund"
    line_ids = [line["id"] for line in order["lines"]]
    bodies = [{}, {}, {"line_ids": line_ids[:2]}, {"line_ids": line_ids[1:]}, {"line_ids": [line_ids[0]]}, {}]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda b: _post(op, url, b, unique()), bodies))
    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    refunded = sum(-Decimal(r.json()["amount"]) for r in responses if r.status_code == 201)
    assert refunded == Decimal("30.00")
    ledger = _ledger(op, target="item_order", registration_id=registration["id"])
    assert sum(Decimal(e["amount"]) for e in ledger) == Decimal("0.00")
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"item.not_paid", "item_order.not_paid"}

    # A registration refunded by parallel requests: once.
    paid = op.register(paid=True)
    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _: _post(op, f"{API}/registrations/{paid['id']}/refund", None, unique()),
                                  range(5)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 4, [r.text for r in responses]
    assert sum(Decimal(e["amount"]) for e in _ledger(op, registration_id=paid["id"])) == Decimal("0.00")


def test_billing_view_agrees_with_the_ledger(op: Outpatient) -> None:
    drug, item, exam = op.drug("7.70"), op.item("50.00", result_required=False), op.item("80.00")
    registration = op.register(paid=True)
    paid_rx = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 10}])
    op.pay("prescription", paid_rx["id"])
    unpaid_rx = op.prescription(registration, [{"drug_id": drug["id"], "quantity": 1}])
    order = op.item_order(registration, [{"medical_item_id": item["id"], "quantity": 1},
                                         {"medical_item_id": exam["id"], "quantity": 1}])
    op.pay("item_order", order["id"])
    ok(op.clerk.put(f"{API}/exams/{order['lines'][1]['id']}", json={"findings": "见报告", "conclusion": "未见异常"}))
    unpaid_order = op.item_order(registration, [{"medical_item_id": item["id"], "quantity": 2}])

    billing = ok(op.reader.get(f"{API}/registrations/{registration['id']}/billing"))
    ledger = _ledger(op, registration_id=registration["id"])
    assert billing["registration"]["id"] == registration["id"]
    assert sorted(p["id"] for p in billing["payments"]) == sorted(e["id"] for e in ledger)
    assert Decimal(billing["paid_amount"]) == sum(Decimal(e["amount"]) for e in ledger) == Decimal("237.00")
    assert billing["unpaid_amount"] == "107.70"  # the unpaid prescription and item order
    assert billing["refundable_amount"] == "157.00"  # fee 30 + prescription 77 + the unexamined line 50
    documents = {(d["target"], d["target_id"]): d for d in billing["documents"]}
    assert documents[("registration", registration["id"])] | {"paid_amount": "30.00", "refundable_amount": "30.00",
                                                               "status": "registered"} == \
        documents[("registration", registration["id"])]
    assert documents[("prescription", paid_rx["id"])]["paid_amount"] == "77.00"
    assert documents[("prescription", unpaid_rx["id"])]["paid_amount"] == "0.00"
    assert documents[("item_order", order["id"])]["refundable_amount"] == "50.00"
    assert documents[("item_order", unpaid_order["id"])]["status"] == "unpaid"

    ok(op.clerk.post(f"{API}/prescriptions/{paid_rx['id']}/refund", headers={"Idempotency-Key": unique()}), 201)
    after = ok(op.reader.get(f"{API}/registrations/{registration['id']}/billing"))
    assert after["paid_amount"] == "160.00" and after["refundable_amount"] == "80.00"
    assert Decimal(after["paid_amount"]) == sum(Decimal(p["amount"]) for p in after["payments"])
    error(op.reader.get(f"{API}/registrations/2000000000/billing"), 404, "registration.not_found")

    history = ok(op.reader.get(f"{API}/patients/{registration['patient_id']}/history"))
    assert history["patient"]["id"] == registration["patient_id"] and history["patient"]["id_card"]
    [visit] = history["registrations"]
    assert visit["id"] == registration["id"] and len(visit["payments"]) == len(ledger) + 1
    assert {p["id"] for p in visit["prescriptions"]} == {paid_rx["id"], unpaid_rx["id"]}
    assert visit["item_orders"][0]["lines"][1]["exam"]["conclusion"] == "未见异常"
    assert history["totals"] == {"paid_amount": "237.00", "refunded_amount": "77.00", "net_amount": "160.00"}


def test_daily_summary_per_method_equals_the_ledger(op: Outpatient) -> None:
    # A cashier of its own, so the summary holds exactly this test's entries.
    cashier = op.platform.create_admin(unique("cashier"), {"outpatient": "write"})
    registrations = [op.register() for _ in range(4)]
    with op.platform.client(cashier["access_token"]) as client:
        for registration, method in zip(registrations, ("cash", "cash", "wechat", "insurance"), strict=True):
            ok(client.post(f"{API}/payments", json={"target": "registration", "target_id": registration["id"],
                                                    "method": method}), 201)
        ok(client.post(f"{API}/registrations/{registrations[1]['id']}/refund"), 201)

    today = hospital_today()
    summary = ok(op.reader.get(f"{API}/payments/daily-summary", params={"cashier_id": cashier["user_id"]}))
    assert summary["date"] == today.isoformat() and summary["cashier_id"] == cashier["user_id"]
    assert [m["method"] for m in summary["methods"]] == ["cash", "card", "wechat", "alipay", "insurance"]
    by_method = {m["method"]: m for m in summary["methods"]}
    assert by_method["cash"] == {"method": "cash", "payment_count": 2, "paid_amount": "60.00", "refund_count": 1,
                                 "refunded_amount": "30.00", "net_amount": "30.00"}
    assert by_method["card"] == {"method": "card", "payment_count": 0, "paid_amount": "0.00", "refund_count": 0,
                                 "refunded_amount": "0.00", "net_amount": "0.00"}
    assert summary["totals"] == {"payment_count": 4, "paid_amount": "120.00", "refund_count": 1,
                                 "refunded_amount": "30.00", "net_amount": "90.00"}

    # The summary of everyone's entries agrees with the ledger of the day, method by method.
    everyone = ok(op.reader.get(f"{API}/payments/daily-summary", params={"date": today.isoformat()}))
    ledger = _ledger(op, date=today.isoformat())
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for entry in ledger:
        sums[entry["method"]] += Decimal(entry["amount"])
    for method in everyone["methods"]:
        assert Decimal(method["net_amount"]) == sums[method["method"]], method
    assert everyone["totals"]["payment_count"] + everyone["totals"]["refund_count"] == len(ledger)
    yesterday = ok(op.reader.get(f"{API}/payments/daily-summary", params={
        "date": (today - timedelta(days=1)).isoformat(), "cashier_id": cashier["user_id"]}))
    assert yesterday["totals"]["payment_count"] == 0
    error(op.reader.get(f"{API}/payments/daily-summary", params={"date": "2026-13-01"}), 422, "validation.failed")


def test_payment_list_filters(op: Outpatient) -> None:
    registration = op.register(paid=True, method="alipay")
    [entry] = _ledger(op, registration_id=registration["id"])
    for params in ({"q": entry["payment_no"]}, {"q": entry["payment_no"].lower()},
                   {"q": registration["registration_no"]}, {"q": registration["patient_name"]},
                   {"method": "alipay", "kind": "payment", "target": "registration",
                    "registration_id": registration["id"], "date": hospital_today().isoformat(),
                    "cashier_id": op.clerk_user["user_id"]}):
        found = [e["id"] for e in _ledger(op, **params)]
        assert found == [entry["id"]], params
    assert _ledger(op, registration_id=registration["id"], kind="refund") == []
    assert _ledger(op, registration_id=registration["id"], method="cash") == []
    yesterday = (hospital_today() - timedelta(days=1)).isoformat()
    assert _ledger(op, registration_id=registration["id"], date=yesterday) == []
    for bad in ({"method": "bitcoin"}, {"kind": "gift"}, {"date": "yesterday"}, {"cashier_id": 0}):
        error(op.reader.get(f"{API}/payments", params=bad), 422, "validation.failed")
    error(op.outsider.get(f"{API}/payments"), 403, "auth.forbidden")
