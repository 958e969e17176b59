"""The outpatient visit across services, under the conditions that break weaker systems: parallel registrations
for the last slots (also over two OMS instances), a payment sent ten times at once, scheduling down, and files
that must outlive restarts of OMS and of the object store.

Every request is real: the gateway, OMS, DMS and DBS processes on MariaDB, Redis and the S3 server.
"""

from __future__ import annotations

import hashlib
import signal
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests import testinfra
from tests.harness import Platform, wait_until
from tests.hospital import Hospital, make_hospital, make_patient, make_session, ok

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"


@pytest.fixture(scope="module")
def clerk(platform: Platform) -> Iterator[httpx.Client]:
    """A clerk and cashier: outpatient:write and nothing else (OMS must need no other grant)."""
    tokens = platform.create_admin("acc_clerk", {"outpatient": "write"})
    with platform.client(tokens["access_token"]) as client:
        yield client


@pytest.fixture(scope="module")
def admin(platform: Platform, admin_token: str) -> Iterator[httpx.Client]:
    with platform.client(admin_token) as client:
        yield client


@pytest.fixture(scope="module")
def hospital(admin: httpx.Client) -> Hospital:
    return make_hospital(admin)


def _service(platform: Platform, name: str) -> list:
    return [p for p in platform.services if p.name == name and p.alive()]


def _register_all(urls: list[str], token: str, schedule_id: int, patients: list[dict[str, Any]]
                  ) -> list[httpx.Response]:
    """One registration per patient, all at once, the i-th sent to urls[i % len(urls)]."""

    def register(i: int) -> httpx.Response:
        with httpx.Client(base_url=urls[i % len(urls)], timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            return c.post("/api/outpatient/registrations",
                          json={"patient_id": patients[i]["id"], "schedule_id": schedule_id})

    with ThreadPoolExecutor(len(patients)) as pool:
        return list(pool.map(register, range(len(patients))))


def _outcome(responses: list[httpx.Response]) -> Counter:
    return Counter((r.status_code, r.json().get("code") if r.status_code != 201 else "ok") for r in responses)


def _booked(admin: httpx.Client, schedule_id: int) -> int:
    return ok(admin.get(f"/api/scheduling/schedules/{schedule_id}"))["booked"]


@pytest.mark.parametrize("instances", [1, 2])
def test_twenty_parallel_registrations_for_five_slots(platform: Platform, admin: httpx.Client,
                                                      clerk: httpx.Client, hospital: Hospital,
                                                      instances: int) -> None:
    if instances == 2 and len(_service(platform, "oms")) < 2:
        platform.start_service("oms")
    oms = _service(platform, "oms")[:instances]
    assert len(oms) == instances
    session = make_session(admin, hospital, quota=5)
    patients = [make_patient(clerk) for _ in range(20)]
    token = clerk.headers["Authorization"].removeprefix("Bearer ")

    # One instance: through the gateway. Two: straight at each OMS, ten requests each, at the same moment.
    urls = [platform.gateway.url] if instances == 1 else [p.url for p in oms]
    responses = _register_all(urls, token, session["id"], patients)

    assert _outcome(responses) == Counter({(201, "ok"): 5, (409, "schedule.full"): 15}), \
        [r.text for r in responses if r.status_code not in (201, 409)]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["message"] and refused.json()["detail"]["schedule_id"] == session["id"]
    assert _booked(admin, session["id"]) == 5
    registered = [r.json() for r in responses if r.status_code == 201]
    assert len({r["registration_no"] for r in registered}) == 5
    # Nothing is kept for the refused ones: exactly five registrations exist for this session.
    listed = ok(clerk.get("/api/outpatient/registrations", params={"doctor_id": hospital.doctor_id, "size": 100}))
    assert sum(1 for r in listed["items"] if r["schedule_id"] == session["id"]) == 5

    # Cancelling one frees exactly one slot, which the next patient gets; the one after is refused again.
    ok(clerk.post(f"/api/outpatient/registrations/{registered[0]['id']}/cancel"))
    assert _booked(admin, session["id"]) == 4
    late = [make_patient(clerk) for _ in range(2)]
    again = _register_all(urls, token, session["id"], late)
    assert _outcome(again) == Counter({(201, "ok"): 1, (409, "schedule.full"): 1})
    assert _booked(admin, session["id"]) == 5


def test_one_payment_for_ten_identical_requests(platform: Platform, admin: httpx.Client, clerk: httpx.Client,
                                                hospital: Hospital) -> None:
    session = make_session(admin, hospital, quota=3)
    patient = make_patient(clerk)
    registration = ok(clerk.post("/api/outpatient/registrations",
                                 json={"patient_id": patient["id"], "schedule_id": session["id"]}), 201)
    body = {"target": "registration", "target_id": registration["id"], "method": "wechat"}
    headers = {"Idempotency-Key": f"pay-{registration['registration_no']}"}

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: clerk.post("/api/outpatient/payments", json=body, headers=headers),
                                  range(10)))

    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1  # ten identical responses
    payment = responses[0].json()
    assert payment["amount"] == hospital.fee and payment["method"] == "wechat" and payment["kind"] == "payment"
    ledger = ok(clerk.get("/api/outpatient/payments", params={"registration_id": registration["id"]}))
    assert ledger["total"] == 1 and ledger["items"][0]["payment_no"] == payment["payment_no"]
    assert ok(clerk.get(f"/api/outpatient/registrations/{registration['id']}"))["status"] == "registered"

    reused = clerk.post("/api/outpatient/payments", json={**body, "method": "cash"}, headers=headers)
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency.key_reused"
    # A different key for the same, already paid registration is refused on its own merits.
    again = clerk.post("/api/outpatient/payments", json=body, headers={"Idempotency-Key": "another-key"})
    assert again.status_code == 409 and again.json()["code"] == "payment.already_paid"
    assert ok(clerk.get("/api/outpatient/payments", params={"registration_id": registration["id"]}))["total"] == 1


def test_scheduling_down_fails_fast_and_recovers(platform: Platform, admin: httpx.Client, clerk: httpx.Client,
                                                 hospital: Hospital) -> None:
    session = make_session(admin, hospital, quota=4)
    patient = make_patient(clerk)
    body = {"patient_id": patient["id"], "schedule_id": session["id"]}

    for dms in _service(platform, "dms"):
        platform.stop(dms, signal.SIGKILL)  # a crash: still registered, its port refuses connections
    try:
        for _ in range(3):
            started = time.monotonic()
            response = clerk.post("/api/outpatient/registrations", json=body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "service.unavailable"
            assert response.json()["detail"]["service"] == "dms"
            assert elapsed < 3.0, f"took {elapsed:.2f}s"
        history = ok(clerk.get(f"/api/outpatient/patients/{patient['id']}/history"))
        assert history["registrations"] == []  # nothing booked, nothing kept
    finally:
        platform.start_service("dms")

    # Scheduling is back (a new instance on a new port): OMS finds it without a restart.
    def registers() -> dict[str, Any] | None:
        response = clerk.post("/api/outpatient/registrations", json=body)
        return response.json() if response.status_code == 201 else None

    registration = wait_until(registers, 30, 0.5, "registration to work again")
    assert registration["status"] == "pending_payment"
    assert _booked(admin, session["id"]) == 1


def _exam_line(admin: httpx.Client, clerk: httpx.Client, hospital: Hospital) -> int:
    """A paid item line that needs a result, for a new patient's visit."""
    session = make_session(admin, hospital, quota=10)
    patient = make_patient(clerk)
    registration = ok(clerk.post("/api/outpatient/registrations",
                                 json={"patient_id": patient["id"], "schedule_id": session["id"]}), 201)
    ok(clerk.post("/api/outpatient/payments", json={"target": "registration", "target_id": registration["id"],
                                                    "method": "cash"}), 201)
    order = ok(clerk.post("/api/outpatient/item-orders", json={
        "registration_id": registration["id"], "lines": [{"medical_item_id": hospital.item_id, "quantity": 1}]}), 201)
    ok(clerk.post("/api/outpatient/payments", json={"target": "item_order", "target_id": order["id"],
                                                    "method": "card"}), 201)
    return order["lines"][0]["id"]


def test_attachments_are_checked_by_content_and_outlive_restarts(platform: Platform, admin: httpx.Client,
                                                                 clerk: httpx.Client, hospital: Hospital) -> None:
    line_id = _exam_line(admin, clerk, hospital)
    url = f"/api/outpatient/exams/{line_id}/attachments"
    big_pdf = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 - 9)  # exactly 20 MiB: the largest allowed
    files = {"report.pdf": PDF, "scan.png": PNG, "photo.jpg": JPEG, "full.pdf": big_pdf}
    stored = {}
    for name, data in files.items():
        created = ok(clerk.post(url, params={"filename": name}, content=data,
                                headers={"Content-Type": "application/octet-stream"}), 201)
        assert created["size"] == len(data) and created["filename"] == name
        stored[created["id"]] = (name, data)
    assert {a["content_type"] for a in ok(clerk.get(url))["items"]} == {"application/pdf", "image/png",
                                                                        "image/jpeg"}

    # The content decides, not the name or the declared type.
    fake = clerk.post(url, params={"filename": "report.pdf"}, content=b"just some text, not a PDF",
                      headers={"Content-Type": "application/pdf"})
    assert fake.status_code == 415 and fake.json()["code"] == "attachment.unsupported_type"
    gif = clerk.post(url, params={"filename": "x.png"}, content=b"GIF89a" + bytes(32))
    assert gif.status_code == 415
    too_big = clerk.post(url, params={"filename": "huge.pdf"}, content=big_pdf + b"0")
    assert too_big.status_code == 413 and too_big.json()["code"] == "attachment.too_large"
    assert len(ok(clerk.get(url))["items"]) == 4  # the refused ones left nothing behind

    reader_tokens = platform.create_admin("acc_reader", {"outpatient": "read"})
    outsider_tokens = platform.create_admin("acc_outsider", {"datacenter": "write"})

    def check_downloads() -> None:
        with platform.client(reader_tokens["access_token"]) as reader:
            for attachment_id, (name, data) in stored.items():
                response = reader.get(f"/api/outpatient/attachments/{attachment_id}")
                assert response.status_code == 200, response.text
                assert hashlib.sha256(response.content).digest() == hashlib.sha256(data).digest(), name
                # Relayed by the gateway (streamed when large) with its size known and one Date header.
                assert response.headers["content-length"] == str(len(data))
                assert len(response.headers.get_list("date")) == 1
                assert response.headers["x-content-type-options"] == "nosniff"
            upload = reader.post(url, params={"filename": "r.pdf"}, content=PDF)
            assert upload.status_code == 403  # read is not write
        with platform.client(outsider_tokens["access_token"]) as outsider:
            refused = outsider.get(f"/api/outpatient/attachments/{next(iter(stored))}")
            assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"

    check_downloads()

    # Restart OMS (every instance) and the object store; the files are still there, byte for byte.
    for oms in _service(platform, "oms"):
        platform.stop(oms)
    platform.start_service("oms")
    testinfra.restart_object_store()
    check_downloads()
