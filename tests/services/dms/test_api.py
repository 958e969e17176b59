"""The scheduling service as a real process: slots under real parallel requests (MariaDB and the embedded SQLite
mode), look-ups in the real data center, who may call what, and Schemathesis over its API."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from common.timeutil import hospital_today
from tests.harness import ARTIFACTS, ROOT, SERVICE_SECRET, Platform, Proc, start_platform
from tests.services.dms.masterdata import DataCenter, monday_after, schedule_body

SCHEDULES = "/api/scheduling/schedules"
TOMORROW = hospital_today() + timedelta(days=1)


def dms(platform: Platform) -> Proc:
    return next(p for p in platform.services if p.name == "dms" and p.alive())


def service_token(platform: Platform, client_id: str = "oms") -> str:
    response = httpx.post(platform.gateway.url + "/api/auth/token",
                          json={"client_id": client_id, "client_secret": SERVICE_SECRET}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Registry, gateway, DBS and DMS in the embedded mode: SQLite files, in-process cache."""
    running = start_platform({}, services=("dbs", "dms"), data_dir=tmp_path_factory.mktemp("embedded"))
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(params=["mariadb", "sqlite"])
def target(request: pytest.FixtureRequest) -> tuple[Platform, str]:
    """The shared platform on MariaDB, or the embedded one on SQLite, with a super admin token for it."""
    if request.param == "mariadb":
        return request.getfixturevalue("platform"), request.getfixturevalue("admin_token")
    running = request.getfixturevalue("embedded")
    return running, running.admin_token()


def new_session(platform: Platform, admin_token: str, quota: int, **extra: Any) -> dict[str, Any]:
    with DataCenter(platform, admin_token) as data, platform.client(admin_token) as c:
        created = c.post(SCHEDULES, json=schedule_body(data.clinic(), TOMORROW, quota=quota, **extra))
    assert created.status_code == 201, created.text
    return created.json()


def in_parallel(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`count` calls released at the same instant, each on its own thread."""
    barrier = threading.Barrier(count)

    def run(n: int) -> httpx.Response:
        barrier.wait()
        return call(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


# ---------------------------------------------------------------------------------------------------------------
# Slots under concurrency


def test_thirty_parallel_bookings_fill_exactly_the_quota(target: tuple[Platform, str]) -> None:
    platform, admin_token = target
    schedule = new_session(platform, admin_token, quota=5)
    url = f"/internal/schedules/{schedule['id']}"
    with httpx.Client(base_url=dms(platform).url, headers={"Authorization": f"Bearer {service_token(platform)}"},
                      timeout=30, limits=httpx.Limits(max_connections=40)) as oms:
        responses = in_parallel(30, lambda n: oms.post(f"{url}/book", json={"registration_no": f"R-PAR-{n:03d}"}))
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: 5, 409: 25}, [r.text for r in responses if r.status_code not in (200, 409)]
        refused = [r.json() for r in responses if r.status_code == 409]
        assert {body["code"] for body in refused} == {"schedule.full"}
        assert refused[0]["detail"] == {"schedule_id": schedule["id"], "quota": 5}
        booked = [r.json() for r in responses if r.status_code == 200]
        assert all(b["status"] == "booked" and b["schedule"]["id"] == schedule["id"] for b in booked)
        assert sorted(b["schedule"]["booked"] for b in booked) == [1, 2, 3, 4, 5]

        after = oms.get(url).json()
        assert (after["booked"], after["remaining"], after["quota"]) == (5, 0, 5)
        # The five winners hold the slots: a repeat of each answers 200 and takes nothing; releasing one frees one.
        winners = [b["registration_no"] for b in booked]
        for number in winners:
            again = oms.post(f"{url}/book", json={"registration_no": number})
            assert again.status_code == 200 and again.json()["schedule"]["booked"] == 5
        loser = next(f"R-PAR-{n:03d}" for n in range(30) if f"R-PAR-{n:03d}" not in winners)
        assert oms.post(f"{url}/book", json={"registration_no": loser}).json()["code"] == "schedule.full"
        assert oms.post(f"{url}/release", json={"registration_no": winners[0]}).json()["released"] is True
        late = oms.post(f"{url}/book", json={"registration_no": loser})
        assert late.status_code == 200 and late.json()["schedule"]["remaining"] == 0
    with platform.client(admin_token) as c:
        cancel = c.post(f"{SCHEDULES}/{schedule['id']}/cancel")
    assert cancel.status_code == 409 and cancel.json()["code"] == "schedule.has_bookings"
    assert sorted(cancel.json()["detail"]["registrations"]) == sorted([*winners[1:], loser])


def test_the_same_number_ten_times_in_parallel_books_one_slot(target: tuple[Platform, str]) -> None:
    platform, admin_token = target
    schedule = new_session(platform, admin_token, quota=3)
    url = f"/internal/schedules/{schedule['id']}"
    with httpx.Client(base_url=dms(platform).url, headers={"Authorization": f"Bearer {service_token(platform)}"},
                      timeout=30) as oms:
        responses = in_parallel(10, lambda n: oms.post(f"{url}/book", json={"registration_no": "R-SAME-1"}))
        assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
        assert {r.json()["registration_no"] for r in responses} == {"R-SAME-1"}
        assert oms.get(url).json()["booked"] == 1

        # Released in parallel: exactly one call frees the slot, the others find nothing to free.
        responses = in_parallel(5, lambda n: oms.post(f"{url}/release", json={"registration_no": "R-SAME-1"}))
        assert [r.status_code for r in responses] == [200] * 5
        assert sorted(r.json()["released"] for r in responses) == [False] * 4 + [True]
        assert oms.get(url).json()["booked"] == 0
        again = oms.post(f"{url}/release", json={"registration_no": "R-SAME-1"})
        assert again.json()["released"] is False and again.json()["schedule"]["booked"] == 0

        # Visits count once, however often they are reported.
        assert oms.post(f"{url}/book", json={"registration_no": "R-SAME-2"}).status_code == 200
        responses = in_parallel(5, lambda n: oms.post(f"{url}/visit", json={"registration_no": "R-SAME-2"}))
        assert [r.status_code for r in responses] == [200] * 5
        assert all(r.json()["visited"] is True for r in responses)
        shown = oms.get(url).json()
        assert (shown["booked"], shown["visited"]) == (1, 1)


def test_parallel_creates_and_generates_never_duplicate_a_session(target: tuple[Platform, str]) -> None:
    platform, admin_token = target
    with DataCenter(platform, admin_token) as data:
        place = data.clinic()
        colleague = data.doctor(place.department_id, place.registration_type_id, "同事")
    day = TOMORROW + timedelta(days=3)
    with platform.client(admin_token) as c:
        c.timeout = httpx.Timeout(30)
        responses = in_parallel(8, lambda n: c.post(SCHEDULES, json=schedule_body(place, day, "night", 5 + n)))
        assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.text for r in responses]
        winner = next(r.json() for r in responses if r.status_code == 201)
        assert {r.json()["detail"]["schedule_id"] for r in responses if r.status_code == 409} == {winner["id"]}

        for doctor_id, weekday in ((place.doctor_id, 2), (place.doctor_id, 4), (colleague["id"], 2)):
            made = c.post("/api/scheduling/templates", json={"doctor_id": doctor_id, "weekday": weekday,
                                                              "session": "morning", "quota": 9})
            assert made.status_code == 201, made.text
        week = {"week_start": monday_after(6).isoformat(), "department_id": place.department_id}
        responses = in_parallel(4, lambda n: c.post(f"{SCHEDULES}/generate", json=week))
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert sum(r.json()["created"] for r in responses) == 3
        assert all(r.json()["created"] + r.json()["skipped"] == 3 for r in responses)
        listed = c.get(SCHEDULES, params={"department_id": place.department_id, "date_from": week["week_start"]})
        assert listed.json()["total"] == 3


def test_parallel_generates_of_a_busy_week_all_succeed(platform: Platform, admin_token: str) -> None:
    """Several clerks generate the same week of a department with many template lines at once: each request
    answers 200 and every session is created exactly once. (On MariaDB a duplicate-key error leaves a shared
    lock on the key; requests inserting in an order other than the unique key's deadlock on one another.)"""
    with DataCenter(platform, admin_token) as data:
        place = data.clinic()
        doctors = [place.doctor_id] + [data.doctor(place.department_id, place.registration_type_id, f"同事{n}")["id"]
                                       for n in range(2)]
    with platform.client(admin_token) as c:
        c.timeout = httpx.Timeout(60)
        for doctor_id in doctors:
            for weekday in range(1, 8):
                for part in ("morning", "afternoon"):
                    made = c.post("/api/scheduling/templates", json={"doctor_id": doctor_id, "weekday": weekday,
                                                                      "session": part, "quota": 9})
                    assert made.status_code == 201, made.text
        for weeks in (10, 11, 12):
            week = {"week_start": monday_after(weeks).isoformat(), "department_id": place.department_id}
            responses = in_parallel(6, lambda n, week=week: c.post(f"{SCHEDULES}/generate", json=week))
            assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
            assert sum(r.json()["created"] for r in responses) == 42
            listed = c.get(SCHEDULES, params={"department_id": place.department_id, "size": 100,
                                              "date_from": week["week_start"],
                                              "date_to": (monday_after(weeks) + timedelta(days=6)).isoformat()})
            assert listed.json()["total"] == 42


def test_book_release_visit_errors_over_http(platform: Platform, admin_token: str) -> None:
    first = new_session(platform, admin_token, quota=1)
    second = new_session(platform, admin_token, quota=1)
    with httpx.Client(base_url=dms(platform).url, headers={"Authorization": f"Bearer {service_token(platform)}"},
                      timeout=10) as oms:
        def post(schedule_id: int, action: str, number: str) -> httpx.Response:
            return oms.post(f"/internal/schedules/{schedule_id}/{action}", json={"registration_no": number})

        assert post(first["id"], "book", "R-E1").status_code == 200
        conflict = post(second["id"], "book", "R-E1")
        assert conflict.status_code == 409 and conflict.json()["code"] == "booking.conflict"
        assert conflict.json()["detail"]["schedule_id"] == first["id"]
        missing = post(2_000_000_000, "book", "R-E2")
        assert missing.status_code == 404 and missing.json()["code"] == "schedule.not_found"
        not_found = post(second["id"], "visit", "R-E1")
        assert not_found.status_code == 409 and not_found.json()["code"] == "booking.not_found"
        with platform.client(admin_token) as c:
            assert c.post(f"{SCHEDULES}/{second['id']}/close").status_code == 200
        closed = post(second["id"], "book", "R-E3")
        assert closed.status_code == 409 and closed.json()["code"] == "schedule.not_open"
        assert closed.json()["detail"]["status"] == "closed"
        for bad in ({"registration_no": "R E"}, {"registration_no": ""}, {}, {"registration_no": "R1", "x": 1}):
            response = oms.post(f"/internal/schedules/{first['id']}/book", json=bad)
            assert response.status_code == 422 and response.json()["code"] == "validation.failed"
        on_duty = oms.get("/internal/schedules/on-duty",
                          params={"department_id": first["department_id"], "date": TOMORROW.isoformat()})
        assert on_duty.status_code == 200
        assert [(i["id"], i["remaining"], i["fee"]) for i in on_duty.json()["items"]] == [(first["id"], 0, "30.00")]


# ---------------------------------------------------------------------------------------------------------------
# Who may call what


def test_internal_routes_take_service_tokens_only(platform: Platform, admin_token: str) -> None:
    schedule = new_session(platform, admin_token, quota=2)
    base = dms(platform).url
    user = httpx.post(f"{base}/internal/schedules/{schedule['id']}/book", json={"registration_no": "R-U1"},
                      headers={"Authorization": f"Bearer {admin_token}"})
    assert user.status_code == 403 and user.json()["code"] == "auth.service_only"
    # A service token opens no user route, and the gateway does not route /internal at all.
    token = service_token(platform)
    as_service = httpx.get(f"{base}{SCHEDULES}", headers={"Authorization": f"Bearer {token}"})
    assert as_service.status_code == 403
    through_gateway = httpx.get(f"{platform.gateway.url}/internal/schedules/{schedule['id']}",
                                headers={"Authorization": f"Bearer {token}"})
    assert through_gateway.status_code == 404
    anonymous = httpx.get(f"{base}{SCHEDULES}")
    assert anonymous.status_code == 401


# ---------------------------------------------------------------------------------------------------------------
# Look-ups in the data center


def test_doctors_and_registration_types_are_checked_in_the_data_center(platform: Platform,
                                                                       admin_token: str) -> None:
    day = (TOMORROW + timedelta(days=2)).isoformat()
    with DataCenter(platform, admin_token) as data, platform.client(admin_token) as c:
        dept = data.department("眼科")
        cheap = data.registration_type("12.50", "普通号")
        retired = data.registration_type("8.00", "旧号")
        data.deactivate("registration-types", "registration_type", retired["id"])
        with_default = data.doctor(dept["id"], cheap["id"], "吴强")
        without_default = data.doctor(dept["id"], None, "孙燕")
        ward = data.doctor(dept["id"], cheap["id"], "陈静", practice="inpatient")
        gone = data.doctor(dept["id"], cheap["id"], "王磊")
        data.deactivate("doctors", "doctor", gone["id"])

        def create(doctor_id: int, **extra: Any) -> httpx.Response:
            return c.post(SCHEDULES, json={"doctor_id": doctor_id, "schedule_date": day, "session": "afternoon",
                                           "quota": 10, **extra})

        for doctor_id, code in [(2_000_000_000, "schedule.doctor_not_found"), (gone["id"], "schedule.doctor_inactive"),
                                (ward["id"], "schedule.doctor_not_outpatient")]:
            refused = create(doctor_id)
            assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
            assert refused.json()["detail"]["field"] == "doctor_id"
        refused = create(without_default["id"])
        assert refused.status_code == 422 and refused.json()["code"] == "schedule.registration_type_required"
        refused = create(with_default["id"], registration_type_id=retired["id"])
        assert refused.json()["code"] == "schedule.registration_type_inactive"
        refused = create(with_default["id"], registration_type_id=2_000_000_000)
        assert refused.json()["code"] == "schedule.registration_type_not_found"

        made = create(with_default["id"], note="周三下午")
        assert made.status_code == 201, made.text
        assert {k: made.json()[k] for k in ("doctor_name", "department_id", "department_name",
                                            "registration_type_name", "fee", "note")} == {
            "doctor_name": "吴强", "department_id": dept["id"], "department_name": "眼科",
            "registration_type_name": "普通号", "fee": "12.50", "note": "周三下午"}
        chosen = create(without_default["id"], registration_type_id=cheap["id"])
        assert chosen.status_code == 201 and chosen.json()["fee"] == "12.50"
        duplicate = create(with_default["id"])
        assert duplicate.status_code == 409 and duplicate.json()["detail"] == {"schedule_id": made.json()["id"]}

        # The fee is a snapshot: a later change in the data center reaches new sessions, not existing ones.
        data.set_fee(cheap["id"], "13.00")
        assert c.get(f"{SCHEDULES}/{made.json()['id']}").json()["fee"] == "12.50"
        later = c.post(SCHEDULES, json={"doctor_id": with_default["id"], "schedule_date": day, "session": "night",
                                        "quota": 5})
        assert later.json()["fee"] == "13.00"
        # Changing the type (nothing booked) snapshots the new one.
        expert = data.registration_type("40.00", "特需号")
        changed = c.patch(f"{SCHEDULES}/{made.json()['id']}", json={"registration_type_id": expert["id"]})
        assert changed.status_code == 200 and changed.json()["fee"] == "40.00"
        refused = c.patch(f"{SCHEDULES}/{made.json()['id']}", json={"registration_type_id": retired["id"]})
        assert refused.status_code == 422 and refused.json()["code"] == "schedule.registration_type_inactive"

        template = c.post("/api/scheduling/templates", json={"doctor_id": ward["id"], "weekday": 1,
                                                               "session": "morning", "quota": 5})
        assert template.status_code == 422 and template.json()["code"] == "schedule.doctor_not_outpatient"


# ---------------------------------------------------------------------------------------------------------------
# The data center unreachable; Schemathesis


def test_data_center_down_is_a_503_and_creates_nothing(embedded: Platform) -> None:
    token = embedded.admin_token()
    with DataCenter(embedded, token) as data:
        place = data.clinic()
    dbs = next(p for p in embedded.services if p.name == "dbs")
    embedded.stop(dbs)
    try:
        with embedded.client(token) as c:
            response = c.post(SCHEDULES, json={"doctor_id": place.doctor_id, "schedule_date": TOMORROW.isoformat(),
                                               "session": "night", "quota": 3})
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "service.unavailable"
            assert c.get(SCHEDULES, params={"doctor_id": place.doctor_id}).json()["total"] == 0
    finally:
        embedded.services.remove(dbs)
        embedded.start_service("dbs")


def test_schemathesis_finds_nothing_in_dms(platform: Platform, admin_token: str) -> None:
    base = dms(platform).url
    report = ARTIFACTS / "schemathesis-dms.txt"
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "--url", base,
         "--header", f"Authorization: Bearer {admin_token}",
         "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
         "--max-examples", "12", "--seed", "20261126", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "10", "--suppress-health-check", "all", "--no-color"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
