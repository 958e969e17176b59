"""Registrations 挂号 through the real DMS: booking, paying, visiting, cancelling and refunding move the slot;
DMS's refusals reach the client; parallel requests never overbook or double-register; a transaction that fails
after booking gives the slot back; DMS down is a fast 503 with nothing kept."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from structlog.testing import capture_logs

from common.auth import Principal, ServiceTokens
from common.client import Peers
from common.db import Database
from common.errors import AppError
from common.timeutil import hospital_today
from services.oms import service
from tests.harness import mariadb, schema, wait_until
from tests.services.oms.conftest import API, Outpatient, error, ok, unique


def test_lifecycle_books_pays_visits_and_snapshots_the_session(op: Outpatient) -> None:
    schedule = op.schedule(quota=5)
    patient = op.patient()
    created = ok(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"],
                                                           "schedule_id": schedule["id"]}), 201)
    assert created["status"] == "pending_payment"
    assert created["registration_no"] == f"R{hospital_today():%Y%m%d}-{created['id']:05d}"
    assert created["fee"] == schedule["fee"] == "30.00"
    for name in ("doctor_id", "doctor_name", "department_id", "department_name", "session",
                 "registration_type_name"):
        assert created[name] == schedule[name], name
    assert created["visit_date"] == schedule["schedule_date"]
    assert created["patient_name"] == patient["name"] and created["patient_no"] == patient["patient_no"]
    assert created["created_by"] == op.clerk_user["user"]["username"]
    assert created["paid_at"] is None and created["visited_at"] is None
    assert op.dms_schedule(schedule["id"])["booked"] == 1

    # One active registration per patient and session.
    again = error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"],
                                                              "schedule_id": schedule["id"]}),
                  409, "registration.duplicate")
    assert again["detail"] == {"registration_id": created["id"]}
    assert op.dms_schedule(schedule["id"])["booked"] == 1

    # Visiting needs a paid registration.
    error(op.clerk.post(f"{API}/registrations/{created['id']}/visit"), 409, "registration.invalid_state")
    payment = op.pay("registration", created["id"], "wechat")
    assert payment["amount"] == "30.00" and payment["kind"] == "payment" and payment["method"] == "wechat"
    assert payment["lines"] == [{"line_id": created["id"], "name": "挂号费（专家号）", "amount": "30.00"}]
    paid = ok(op.clerk.get(f"{API}/registrations/{created['id']}"))
    assert paid["status"] == "registered" and paid["paid_at"] is not None

    visited = ok(op.clerk.post(f"{API}/registrations/{created['id']}/visit"))
    assert visited["status"] == "visited" and visited["visited_at"] is not None
    dms = op.dms_schedule(schedule["id"])
    assert dms["booked"] == 1 and dms["visited"] == 1

    # A visited registration is still active, and can be neither cancelled nor refunded.
    error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"], "schedule_id": schedule["id"]}),
          409, "registration.duplicate")
    error(op.clerk.post(f"{API}/registrations/{created['id']}/cancel"), 409, "registration.invalid_state")
    error(op.clerk.post(f"{API}/registrations/{created['id']}/refund", json={}, headers={"Idempotency-Key": "v1"}),
          409, "registration.visited")
    error(op.clerk.post(f"{API}/registrations/{created['id']}/visit"), 409, "registration.invalid_state")

    events = {e["type"] for e in op.events(id=created["id"])}
    assert {"registration.created", "registration.paid", "registration.visited"} <= events


def test_cancel_frees_the_slot_and_the_patient_may_register_again(op: Outpatient) -> None:
    schedule = op.schedule(quota=2)
    patient = op.patient()
    first = op.register(schedule, patient)
    assert op.dms_schedule(schedule["id"])["booked"] == 1
    cancelled = ok(op.clerk.post(f"{API}/registrations/{first['id']}/cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    assert op.dms_schedule(schedule["id"])["booked"] == 0
    error(op.clerk.post(f"{API}/registrations/{first['id']}/cancel"), 409, "registration.invalid_state")
    error(op.clerk.post(f"{API}/payments", json={"target": "registration", "target_id": first["id"],
                                                 "method": "cash"}), 409, "payment.invalid_state")

    second = op.register(schedule, patient)
    assert second["id"] != first["id"] and op.dms_schedule(schedule["id"])["booked"] == 1
    error(op.clerk.post(f"{API}/registrations/{second['id']}/refund", headers={"Idempotency-Key": "p1"}),
          409, "registration.invalid_state")  # not paid: cancel it instead
    assert op.events("registration.cancelled", id=first["id"])


def test_refund_gives_the_fee_back_and_frees_the_slot(op: Outpatient) -> None:
    schedule = op.schedule(quota=3)
    registration = op.register(schedule, paid=True, method="alipay")
    assert registration["status"] == "registered"
    refund = ok(op.clerk.post(f"{API}/registrations/{registration['id']}/refund", json={"reason": "临时有事"},
                              headers={"Idempotency-Key": "r-" + registration["registration_no"]}), 201)
    assert refund["kind"] == "refund" and refund["amount"] == "-30.00" and refund["method"] == "alipay"
    assert refund["reason"] == "临时有事" and refund["target"] == "registration"
    original = ok(op.clerk.get(f"{API}/payments", params={"registration_id": registration["id"],
                                                          "kind": "payment"}))["items"]
    assert refund["refund_of_id"] == original[0]["id"]
    assert refund["lines"] == [{"line_id": registration["id"], "name": "挂号费（专家号）", "amount": "-30.00"}]
    shown = ok(op.clerk.get(f"{API}/registrations/{registration['id']}"))
    assert shown["status"] == "refunded" and shown["refunded_at"] is not None
    assert op.dms_schedule(schedule["id"])["booked"] == 0
    error(op.clerk.post(f"{API}/registrations/{registration['id']}/refund", headers={"Idempotency-Key": "again"}),
          409, "registration.invalid_state")
    billing = ok(op.clerk.get(f"{API}/registrations/{registration['id']}/billing"))
    assert billing["paid_amount"] == "0.00" and billing["refundable_amount"] == "0.00"
    assert [e["payload"]["amount"] for e in op.events("payment.recorded", registration_id=registration["id"])] == \
        ["30.00", "-30.00"]
    assert op.events("registration.refunded", id=registration["id"])


def test_dms_refusals_pass_through_and_nothing_is_kept(op: Outpatient) -> None:
    full = op.schedule(quota=1)
    op.register(full)
    patient = op.patient()
    body = error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"], "schedule_id": full["id"]}),
                 409, "schedule.full")
    assert body["detail"]["schedule_id"] == full["id"]

    closed = op.schedule()
    ok(op.admin.post(f"/api/scheduling/schedules/{closed['id']}/close"))
    error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"], "schedule_id": closed["id"]}),
          409, "schedule.not_open")
    error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"], "schedule_id": 2_000_000_000}),
          404, "schedule.not_found")
    error(op.clerk.post(f"{API}/registrations", json={"patient_id": 2_000_000_000, "schedule_id": full["id"]}),
          404, "patient.not_found")
    error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"], "schedule_id": 2**31}),
          422, "validation.failed")
    assert ok(op.clerk.get(f"{API}/registrations", params={"patient_id": patient["id"]}))["total"] == 0
    assert op.dms_schedule(full["id"])["booked"] == 1


def test_parallel_registrations_never_overbook(op: Outpatient) -> None:
    schedule = op.schedule(quota=3)
    patients = [op.patient() for _ in range(10)]

    def register(patient: dict) -> httpx.Response:
        with op.platform.client(op.clerk_user["access_token"]) as client:
            return client.post(f"{API}/registrations", json={"patient_id": patient["id"],
                                                            "schedule_id": schedule["id"]})

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(register, patients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 7, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"schedule.full"}
    assert op.dms_schedule(schedule["id"])["booked"] == 3
    listed = ok(op.clerk.get(f"{API}/registrations", params={"department_id": schedule["department_id"],
                                                            "doctor_id": schedule["doctor_id"]}))
    assert listed["total"] == 3


def test_two_instances_never_overbook(op: Outpatient) -> None:
    """Twelve parallel registrations on a quota of five, sent straight to two OMS instances in turn."""
    second = op.platform.start_service("oms")
    try:
        first = next(p for p in op.platform.services if p.name == "oms" and p.alive() and p is not second)
        schedule = op.schedule(quota=5)
        patients = [op.patient() for _ in range(12)]

        def register(n: int) -> httpx.Response:
            base = (first, second)[n % 2].url
            with op.platform.client(op.clerk_user["access_token"], base) as client:
                return client.post(f"{API}/registrations", json={"patient_id": patients[n]["id"],
                                                                "schedule_id": schedule["id"]})

        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(register, range(12)))
        assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 7, [r.text for r in responses]
        assert len({r.json()["registration_no"] for r in responses if r.status_code == 201}) == 5
        assert op.dms_schedule(schedule["id"])["booked"] == 5
    finally:
        op.platform.stop(second)


def test_parallel_registrations_of_one_patient_give_one(op: Outpatient) -> None:
    schedule = op.schedule(quota=10)
    patient = op.patient()

    def register(_: int) -> httpx.Response:
        with op.platform.client(op.clerk_user["access_token"]) as client:
            return client.post(f"{API}/registrations", json={"patient_id": patient["id"],
                                                            "schedule_id": schedule["id"]})

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(register, range(6)))
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 201:
            assert response.status_code == 409 and response.json()["code"] == "registration.duplicate", response.text
            assert response.json()["detail"]["registration_id"] in (created[0].json()["id"], None)
    assert op.dms_schedule(schedule["id"])["booked"] == 1


def test_an_idempotency_key_replays_a_registration(op: Outpatient) -> None:
    schedule = op.schedule()
    patient = op.patient()
    body = {"patient_id": patient["id"], "schedule_id": schedule["id"]}
    first = ok(op.clerk.post(f"{API}/registrations", json=body, headers={"Idempotency-Key": "reg-1"}), 201)
    again = op.clerk.post(f"{API}/registrations", json=body, headers={"Idempotency-Key": "reg-1"})
    assert ok(again, 201) == first and again.headers["idempotent-replayed"] == "true"
    assert op.dms_schedule(schedule["id"])["booked"] == 1


def test_list_filters_and_search(op: Outpatient) -> None:
    schedule = op.schedule()
    patient = op.patient()
    registration = op.register(schedule, patient)
    for params in ({"q": registration["registration_no"]}, {"q": registration["registration_no"].lower()},
                   {"q": patient["name"]}, {"q": patient["patient_no"]}, {"patient_id": patient["id"]},
                   {"doctor_id": schedule["doctor_id"], "status": "pending_payment",
                    "visit_date": schedule["schedule_date"]}):
        listed = ok(op.reader.get(f"{API}/registrations", params=params))
        assert [r["id"] for r in listed["items"]] == [registration["id"]], params
    assert ok(op.reader.get(f"{API}/registrations", params={"patient_id": patient["id"],
                                                            "status": "registered"}))["total"] == 0
    error(op.reader.post(f"{API}/registrations/{registration['id']}/cancel"), 403, "auth.forbidden")
    error(op.outsider.get(f"{API}/registrations"), 403, "auth.forbidden")
    error(op.reader.get(f"{API}/registrations/2000000000"), 404, "registration.not_found")


# ---------------------------------------------------------------------------------------------------------------
# Compensation and DMS outages


def test_a_failure_after_booking_releases_the_slot(op: Outpatient) -> None:
    """The service's own unit of work against the platform's database and the real DMS: the transaction fails
    after DMS booked, so the compensation releases the slot, and it is logged."""
    settings = op.settings()
    schedule = op.schedule(quota=2)
    patient = op.patient()
    db = Database("oms", settings.model_copy(update={"db_replica_url": ""}))
    client = httpx.Client(base_url=settings.gateway_url, timeout=5)
    peers = Peers(settings, ServiceTokens(settings, "oms", client))
    actor = Principal(sub="1", username="tester", role="admin", grants={"outpatient": "write"}, jti="t", exp=0)
    try:
        with capture_logs() as logs, pytest.raises(RuntimeError, match="disk full"), db.write() as session:
            registration = service.create_registration(session, peers, actor, patient["id"], schedule["id"])
            number = registration.registration_no
            assert op.dms_schedule(schedule["id"])["booked"] == 1  # booked in DMS, not yet committed here
            raise RuntimeError("disk full")
        assert op.dms_schedule(schedule["id"])["booked"] == 0
        released = [entry for entry in logs if entry["event"] == "registration_slot_released"]
        assert released and released[0]["registration_no"] == number and released[0]["released"] is True
        assert ok(op.clerk.get(f"{API}/registrations", params={"patient_id": patient["id"]}))["total"] == 0
        # The patient can still register, with the slot there for them.
        kept = op.register(schedule, patient)
        assert op.dms_schedule(schedule["id"])["booked"] == 1

        # A cancellation that fails after DMS released the slot books it again: the registration keeps it.
        with capture_logs() as logs, pytest.raises(RuntimeError), db.write() as session:
            service.cancel_registration(session, peers, kept["id"])
            assert op.dms_schedule(schedule["id"])["booked"] == 0
            raise RuntimeError("commit failed")
        assert op.dms_schedule(schedule["id"])["booked"] == 1
        assert [e["registration_no"] for e in logs if e["event"] == "registration_slot_rebooked"] == \
            [kept["registration_no"]]
        assert ok(op.clerk.get(f"{API}/registrations/{kept['id']}"))["status"] == "pending_payment"

        # DMS refusing the booking needs no compensation: nothing to release, nothing logged.
        other = op.patient()
        ok(op.admin.post(f"/api/scheduling/schedules/{schedule['id']}/close"))
        with capture_logs() as logs, pytest.raises(AppError) as caught, db.write() as session:
            service.create_registration(session, peers, actor, other["id"], schedule["id"])
        assert caught.value.code == "schedule.not_open"
        assert not [entry for entry in logs if entry["event"].startswith("registration_slot")]
    finally:
        peers.close()
        client.close()
        db.dispose()


def test_dms_down_is_a_fast_503_and_nothing_is_kept(op: Outpatient) -> None:
    schedule = op.schedule()
    patient = op.patient()
    registered = op.register(paid=True)
    dms = [p for p in op.platform.services if p.name == "dms" and p.alive()]
    for proc in dms:
        op.platform.stop(proc, signal.SIGTERM)
    try:
        started = time.monotonic()
        body = error(op.clerk.post(f"{API}/registrations", json={"patient_id": patient["id"],
                                                                 "schedule_id": schedule["id"]}),
                     503, "service.unavailable")
        assert time.monotonic() - started < 5
        assert body["detail"]["service"] == "dms"
        error(op.clerk.post(f"{API}/registrations/{registered['id']}/refund", headers={"Idempotency-Key": "down"}),
              503, "service.unavailable")
        error(op.clerk.get(f"{API}/lookups/on-duty", params={"department_id": schedule["department_id"]}),
              503, "service.unavailable")
        assert ok(op.clerk.get(f"{API}/registrations", params={"patient_id": patient["id"]}))["total"] == 0
        still = ok(op.clerk.get(f"{API}/registrations/{registered['id']}"))
        assert still["status"] == "registered"
        assert ok(op.clerk.get(f"{API}/payments", params={"registration_id": registered["id"]}))["total"] == 1
    finally:
        op.platform.start_service("dms")
    wait_until(lambda: op.admin.get(f"/api/scheduling/schedules/{schedule['id']}").status_code == 200, 15,
               message="the gateway to find the new DMS")
    assert op.dms_schedule(schedule["id"])["booked"] == 0
    # With DMS back, the same refund goes through.
    refund = ok(op.clerk.post(f"{API}/registrations/{registered['id']}/refund",
                              headers={"Idempotency-Key": "down"}), 201)
    assert Decimal(refund["amount"]) == Decimal("-30.00")


def test_the_fee_is_the_one_of_the_slot_booked(op: Outpatient) -> None:
    """The registration type (and with it the fee) of a session may change while nothing is booked. OMS reads
    the session before it books; if the type changes in between, the registration must still carry the fee
    and type of the session its slot was taken on, as DMS answered the booking, not the earlier read.

    The gap between the read and the booking is held open here by a row lock: the test's own uncommitted
    registration of the same patient and session makes OMS's insert wait."""
    schedule = op.schedule(quota=5)
    patient = op.patient()
    general = op.datacenter("registration-types", code=unique("PT"), name="普通号", fee="50.00")
    conn = mariadb(op.platform.env, database=schema(op.platform.env, "oms"))
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(
                "INSERT INTO registration (patient_id, schedule_id, doctor_id, doctor_name, department_id, "
                "department_name, visit_date, session, registration_type_name, fee, status, active_key, created_by, "
                "created_at, updated_at) VALUES (%s, %s, 1, 'x', 1, 'x', %s, 'morning', 'x', 0, 'pending_payment', "
                "0, 'x', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
                (patient["id"], schedule["id"], schedule["schedule_date"]))
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(op.clerk.post, f"{API}/registrations",
                                  json={"patient_id": patient["id"], "schedule_id": schedule["id"]}, timeout=60)
            wait_until(lambda: op.lock_waits() > 0, 15, message="OMS to wait on the registration's unique key")
            changed = ok(op.admin.patch(f"/api/scheduling/schedules/{schedule['id']}",
                                        json={"registration_type_id": general["id"]}))
            assert changed["fee"] == "50.00"
            with conn.cursor() as cur:
                cur.execute("ROLLBACK")
            created = ok(pending.result(), 201)
    finally:
        conn.close()
    booked = op.dms_schedule(schedule["id"])
    assert booked["booked"] == 1 and booked["fee"] == "50.00"
    assert created["fee"] == "50.00" and created["registration_type_name"] == "普通号"
    assert op.pay("registration", created["id"])["amount"] == "50.00"


def test_a_release_that_timed_out_is_booked_again(op: Outpatient) -> None:
    """DMS may have released the slot even though OMS got no answer (a timeout): the cancellation fails and its
    registration stays active, so the compensation must book the slot again, as it does for a booking that
    timed out. DMS is held up here by a lock on its session row, longer than OMS waits for an answer."""
    schedule = op.schedule(quota=2)
    registration = op.register(schedule)
    assert op.dms_schedule(schedule["id"])["booked"] == 1
    conn = mariadb(op.platform.env, database=schema(op.platform.env, "dms"))
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT id FROM schedule WHERE id = %s FOR UPDATE", (schedule["id"],))
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(op.clerk.post, f"{API}/registrations/{registration['id']}/cancel", timeout=60)
            # The release waits on the lock; OMS gives up on it and rolls back; its compensation (if any) waits too.
            wait_until(lambda: pending.done() or op.lock_waits("dms") >= 2, 30,
                       message="OMS to give up on the release")
            with conn.cursor() as cur:
                cur.execute("ROLLBACK")
            error(pending.result(), 503, "service.unavailable")
    finally:
        conn.close()
    assert ok(op.clerk.get(f"{API}/registrations/{registration['id']}"))["status"] == "pending_payment"
    wait_until(lambda: op.dms_schedule(schedule["id"])["booked"] == 1, 10,
               message="the active registration to hold its slot again")
    # Asked again, the cancellation goes through and frees the slot.
    assert ok(op.clerk.post(f"{API}/registrations/{registration['id']}/cancel"))["status"] == "cancelled"
    assert op.dms_schedule(schedule["id"])["booked"] == 0
