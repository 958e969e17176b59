"""Scheduling 排班管理 end to end, through the gateway: an admin with scheduling:write runs a department's
timetable (sessions, the week grid, who is on duty, closing and cancelling, templates and generated weeks, copied
weeks, attendance); an admin with scheduling:read sees it all and changes nothing. Doctors and registration
types are created in the data center first, with the super admin's token."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from common.timeutil import hospital_today
from tests import testinfra
from tests.harness import SERVICE_SECRET, Platform
from tests.services.dms.masterdata import Clinic, DataCenter, monday_after, schedule_body

API = "/api/scheduling"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["code"] == code, body
    return body


@pytest.fixture(scope="module")
def clinics(platform: Platform, admin_token: str) -> dict[str, Clinic]:
    """Two doctors of one new department (专家号 30.00 and 普通号 10.00) and one of another."""
    with DataCenter(platform, admin_token) as data:
        dept = data.department("心内科")
        expert = data.registration_type("30.00", "专家号")
        general = data.registration_type("10.00", "普通号")
        other = data.clinic("15.00", "马超", "急诊科")
        zhang = data.doctor(dept["id"], expert["id"], "张建国")
        li = data.doctor(dept["id"], general["id"], "李秀英")
    return {
        "zhang": Clinic(dept["id"], dept["name"], zhang["id"], zhang["name"], expert["id"], expert["name"], "30.00"),
        "li": Clinic(dept["id"], dept["name"], li["id"], li["name"], general["id"], general["name"], "10.00"),
        "other": other,
    }


@pytest.fixture(scope="module")
def writer(platform: Platform) -> httpx.Client:
    token = platform.create_admin(f"sched{uuid.uuid4().hex[:6]}", {"scheduling": "write"})["access_token"]
    with platform.client(token) as client:
        yield client


@pytest.fixture(scope="module")
def reader(platform: Platform) -> httpx.Client:
    token = platform.create_admin(f"schedr{uuid.uuid4().hex[:6]}", {"scheduling": "read"})["access_token"]
    with platform.client(token) as client:
        # Someone else wrote what this reader reads, so it comes from the replica: wait until that has it.
        client.event_hooks["request"] = [lambda _request: testinfra.wait_replica_caught_up()]
        yield client


@pytest.fixture(scope="module")
def slots(platform: Platform) -> httpx.Client:
    """The outpatient service's side: DMS's internal routes, directly (the gateway does not route them)."""
    token = httpx.post(f"{platform.gateway.url}/api/auth/token",
                       json={"client_id": "oms", "client_secret": SERVICE_SECRET}).json()["access_token"]
    dms = next(p for p in platform.services if p.name == "dms" and p.alive())
    with httpx.Client(base_url=dms.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        yield client


def test_a_session_from_creation_to_cancellation(writer: httpx.Client, reader: httpx.Client, slots: httpx.Client,
                                                 clinics: dict[str, Clinic]) -> None:
    zhang, li = clinics["zhang"], clinics["li"]
    week = monday_after(2)
    day = week + timedelta(days=2)  # a Wednesday
    morning = _ok(writer.post(f"{API}/schedules", json=schedule_body(zhang, day, "morning", 3, note="专家门诊")), 201)
    assert {k: morning[k] for k in ("doctor_name", "department_name", "registration_type_name", "fee", "quota",
                                    "booked", "remaining", "status", "note", "schedule_date")} == {
        "doctor_name": "张建国", "department_name": "心内科", "registration_type_name": "专家号", "fee": "30.00",
        "quota": 3, "booked": 0, "remaining": 3, "status": "open", "note": "专家门诊",
        "schedule_date": day.isoformat()}
    night = _ok(writer.post(f"{API}/schedules", json=schedule_body(li, day, "night", 10)), 201)
    afternoon = _ok(writer.post(f"{API}/schedules", json=schedule_body(li, day, "afternoon", 8)), 201)
    duplicate = _refused(writer.post(f"{API}/schedules", json=schedule_body(zhang, day, "morning", 5)), 409,
                         "schedule.duplicate")
    assert duplicate["detail"] == {"schedule_id": morning["id"]}
    past = hospital_today() - timedelta(days=1)
    body = _refused(writer.post(f"{API}/schedules", json=schedule_body(zhang, past, "morning", 5)), 422,
                    "schedule.date_in_past")
    assert body["detail"] == {"field": "schedule_date"}

    # Reads: the session, the list, the week grid, who is on duty.
    assert _ok(reader.get(f"{API}/schedules/{morning['id']}")) == morning
    listed = _ok(reader.get(f"{API}/schedules", params={"department_id": zhang.department_id, "size": 100,
                                                        "date_from": day.isoformat(), "date_to": day.isoformat()}))
    assert [i["id"] for i in listed["items"]] == [morning["id"], afternoon["id"], night["id"]]
    assert listed["total"] == 3 and listed["page"] == 1
    grid = _ok(reader.get(f"{API}/schedules/week", params={"week_start": week.isoformat(),
                                                           "department_id": zhang.department_id}))
    assert grid["days"] == [(week + timedelta(days=n)).isoformat() for n in range(7)]
    assert grid["week_end"] == (week + timedelta(days=6)).isoformat()
    assert [i["id"] for i in grid["items"]] == [morning["id"], afternoon["id"], night["id"]]
    _refused(reader.get(f"{API}/schedules/week", params={"week_start": day.isoformat()}), 422,
             "schedule.week_start_not_monday")

    # A patient books the morning (the outpatient service's call): one slot fewer on duty.
    booked = _ok(slots.post(f"/internal/schedules/{morning['id']}/book", json={"registration_no": "R-E2E-001"}))
    assert booked["status"] == "booked" and booked["schedule"]["remaining"] == 2
    duty = _ok(reader.get(f"{API}/schedules/on-duty", params={"department_id": zhang.department_id,
                                                              "date": day.isoformat()}))
    assert [(i["session"], i["doctor_name"], i["remaining"], i["fee"]) for i in duty["items"]] == [
        ("morning", "张建国", 2, "30.00"), ("afternoon", "李秀英", 8, "10.00"), ("night", "李秀英", 10, "10.00")]
    duty = _ok(reader.get(f"{API}/schedules/on-duty", params={"department_id": zhang.department_id,
                                                              "date": day.isoformat(), "session": "night"}))
    assert [i["id"] for i in duty["items"]] == [night["id"]]

    # Changes: quota never below booked; the type only while nothing is booked.
    body = _refused(writer.patch(f"{API}/schedules/{morning['id']}", json={"quota": 0}), 422, "validation.failed")
    _refused(writer.patch(f"{API}/schedules/{morning['id']}", json={"registration_type_id": li.registration_type_id}),
             409, "schedule.has_bookings")
    _ok(slots.post(f"/internal/schedules/{morning['id']}/book", json={"registration_no": "R-E2E-002"}))
    body = _refused(writer.patch(f"{API}/schedules/{morning['id']}", json={"quota": 1}), 409,
                    "schedule.quota_below_booked")
    assert body["detail"] == {"booked": 2}
    assert _ok(writer.patch(f"{API}/schedules/{morning['id']}", json={"quota": 6, "note": None}))["remaining"] == 4
    changed = _ok(writer.patch(f"{API}/schedules/{night['id']}",
                               json={"registration_type_id": zhang.registration_type_id}))
    assert (changed["registration_type_name"], changed["fee"]) == ("专家号", "30.00")

    # Close (no new bookings), reopen; cancel only when nobody holds a slot.
    closed = _ok(writer.post(f"{API}/schedules/{morning['id']}/close"))
    assert closed["status"] == "closed" and closed["remaining"] == 0
    _refused(slots.post(f"/internal/schedules/{morning['id']}/book", json={"registration_no": "R-E2E-003"}), 409,
             "schedule.not_open")
    _refused(writer.post(f"{API}/schedules/{morning['id']}/close"), 409, "schedule.invalid_state")
    assert _ok(writer.post(f"{API}/schedules/{morning['id']}/reopen"))["status"] == "open"
    body = _refused(writer.post(f"{API}/schedules/{morning['id']}/cancel"), 409, "schedule.has_bookings")
    assert body["detail"] == {"registrations": ["R-E2E-001", "R-E2E-002"], "booked": 2}
    for number in ("R-E2E-001", "R-E2E-002"):
        assert _ok(slots.post(f"/internal/schedules/{morning['id']}/release",
                              json={"registration_no": number}))["released"] is True
    cancelled = _ok(writer.post(f"{API}/schedules/{morning['id']}/cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["remaining"] == 0
    _refused(writer.patch(f"{API}/schedules/{morning['id']}", json={"quota": 4}), 409, "schedule.cancelled")
    grid = _ok(reader.get(f"{API}/schedules/week", params={"week_start": week.isoformat(),
                                                           "department_id": zhang.department_id}))
    assert morning["id"] not in [i["id"] for i in grid["items"]]
    # The time is free again for a new session.
    _ok(writer.post(f"{API}/schedules", json=schedule_body(zhang, day, "morning", 4)), 201)
    _refused(writer.get(f"{API}/schedules/999999999"), 404, "schedule.not_found")

    # Every change went out as an event, with the session as payload.
    mine, after = [], 0
    while batch := _ok(slots.get("/internal/events", params={"after": after, "limit": 1000}))["items"]:
        mine += [(e["type"], e["payload"]["status"]) for e in batch if e["payload"].get("id") == morning["id"]]
        after = batch[-1]["id"]
    assert mine == [("schedule.created", "open"), ("schedule.updated", "open"), ("schedule.updated", "closed"),
                    ("schedule.updated", "open"), ("schedule.cancelled", "cancelled")]


def test_templates_generate_and_copy_week(writer: httpx.Client, reader: httpx.Client,
                                          clinics: dict[str, Clinic]) -> None:
    zhang, li, other = clinics["zhang"], clinics["li"], clinics["other"]
    lines = [
        _ok(writer.post(f"{API}/templates", json={"doctor_id": zhang.doctor_id, "weekday": 1, "session": "morning",
                                                  "quota": 20}), 201),
        _ok(writer.post(f"{API}/templates", json={"doctor_id": li.doctor_id, "weekday": 3, "session": "afternoon",
                                                  "quota": 25, "registration_type_id": zhang.registration_type_id}),
            201),
        _ok(writer.post(f"{API}/templates", json={"doctor_id": other.doctor_id, "weekday": 7, "session": "night",
                                                  "quota": 12}), 201),
    ]
    assert lines[1]["registration_type_name"] == "专家号" and lines[0]["department_name"] == "心内科"
    body = _refused(writer.post(f"{API}/templates", json={"doctor_id": zhang.doctor_id, "weekday": 1,
                                                          "session": "morning", "quota": 5}), 409,
                    "template.duplicate")
    assert body["detail"] == {"template_id": lines[0]["id"]}
    listed = _ok(reader.get(f"{API}/templates", params={"department_id": zhang.department_id}))
    assert [t["id"] for t in listed["items"]] == [lines[0]["id"], lines[1]["id"]] and listed["total"] == 2
    assert _ok(writer.patch(f"{API}/templates/{lines[0]['id']}", json={"quota": 22}))["quota"] == 22

    week = monday_after(4)
    generated = _ok(writer.post(f"{API}/schedules/generate", json={"week_start": week.isoformat(),
                                                                   "department_id": zhang.department_id}))
    assert generated["created"] == 2 and generated["skipped"] == 0
    assert [(i["doctor_name"], i["schedule_date"], i["session"], i["quota"], i["fee"]) for i in generated["items"]] \
        == [("张建国", week.isoformat(), "morning", 22, "30.00"),
            ("李秀英", (week + timedelta(days=2)).isoformat(), "afternoon", 25, "30.00")]
    again = _ok(writer.post(f"{API}/schedules/generate", json={"week_start": week.isoformat(),
                                                               "department_id": zhang.department_id}))
    assert (again["created"], again["skipped"], again["items"]) == (0, 2, [])
    _refused(writer.post(f"{API}/schedules/generate", json={"week_start": (week + timedelta(days=1)).isoformat()}),
             422, "schedule.week_start_not_monday")

    # Copy that week forward; a conflict in the target week is skipped, never duplicated.
    target = week + timedelta(days=7)
    _ok(writer.post(f"{API}/schedules", json=schedule_body(li, target + timedelta(days=2), "afternoon", 3)), 201)
    copied = _ok(writer.post(f"{API}/schedules/copy-week", json={
        "source_week_start": week.isoformat(), "target_week_start": target.isoformat(),
        "department_id": zhang.department_id}))
    assert copied["created"] == 1 and copied["skipped"] == 1
    assert [(i["doctor_name"], i["schedule_date"], i["quota"], i["booked"]) for i in copied["items"]] == [
        ("张建国", target.isoformat(), 22, 0)]
    _refused(writer.post(f"{API}/schedules/copy-week", json={"source_week_start": week.isoformat(),
                                                             "target_week_start": week.isoformat()}),
             422, "schedule.copy_same_week")
    into_the_past = _ok(writer.post(f"{API}/schedules/copy-week", json={
        "source_week_start": week.isoformat(), "target_week_start": monday_after(-1).isoformat(),
        "department_id": zhang.department_id}))
    assert into_the_past["created"] == 0 and into_the_past["skipped"] == 2

    assert _ok(writer.delete(f"{API}/templates/{lines[2]['id']}"), 204) is None
    _refused(writer.delete(f"{API}/templates/{lines[2]['id']}"), 404, "template.not_found")


def test_attendance_sums_the_department(writer: httpx.Client, reader: httpx.Client, slots: httpx.Client,
                                        clinics: dict[str, Clinic]) -> None:
    zhang, li = clinics["zhang"], clinics["li"]
    week = monday_after(8)
    first = _ok(writer.post(f"{API}/schedules", json=schedule_body(zhang, week, "morning", 5)), 201)
    second = _ok(writer.post(f"{API}/schedules", json=schedule_body(zhang, week + timedelta(days=1), "night", 4)), 201)
    third = _ok(writer.post(f"{API}/schedules", json=schedule_body(li, week, "afternoon", 6)), 201)
    for schedule, numbers in ((first, 3), (second, 1), (third, 2)):
        for n in range(numbers):
            _ok(slots.post(f"/internal/schedules/{schedule['id']}/book",
                           json={"registration_no": f"R-ATT-{schedule['id']}-{n}"}))
    _ok(slots.post(f"/internal/schedules/{first['id']}/visit", json={"registration_no": f"R-ATT-{first['id']}-0"}))
    _ok(slots.post(f"/internal/schedules/{first['id']}/visit", json={"registration_no": f"R-ATT-{first['id']}-0"}))
    _ok(slots.post(f"/internal/schedules/{third['id']}/visit", json={"registration_no": f"R-ATT-{third['id']}-1"}))

    report = _ok(reader.get(f"{API}/attendance", params={"date_from": week.isoformat(),
                                                         "date_to": (week + timedelta(days=6)).isoformat(),
                                                         "department_id": zhang.department_id}))
    assert report["date_from"] == week.isoformat()
    assert [(i["doctor_name"], i["sessions"], i["quota"], i["booked"], i["visited"]) for i in report["items"]] == [
        ("张建国", 2, 9, 4, 1), ("李秀英", 1, 6, 2, 1)]
    assert report["totals"] == {"sessions": 3, "quota": 15, "booked": 6, "visited": 2}
    only = _ok(reader.get(f"{API}/attendance", params={"date_from": week.isoformat(), "date_to": week.isoformat(),
                                                       "doctor_id": li.doctor_id}))
    assert only["totals"] == {"sessions": 1, "quota": 6, "booked": 2, "visited": 1}
    _refused(reader.get(f"{API}/attendance", params={"date_from": week.isoformat(),
                                                     "date_to": (week - timedelta(days=1)).isoformat()}),
             422, "attendance.range_invalid")
    _refused(reader.get(f"{API}/attendance", params={"date_from": week.isoformat(),
                                                     "date_to": (week + timedelta(days=366)).isoformat()}),
             422, "attendance.range_too_long")


def test_read_only_admins_change_nothing(reader: httpx.Client, writer: httpx.Client,
                                         clinics: dict[str, Clinic], platform: Platform) -> None:
    zhang = clinics["other"]  # another department's doctor: the other tests' weeks stay as they expect
    day = monday_after(12)
    made = _ok(writer.post(f"{API}/schedules", json=schedule_body(zhang, day, "night", 5)), 201)
    template = _ok(writer.post(f"{API}/templates", json={"doctor_id": zhang.doctor_id, "weekday": 6,
                                                         "session": "night", "quota": 5}), 201)
    attempts = [
        reader.post(f"{API}/schedules", json=schedule_body(zhang, day, "morning", 5)),
        reader.patch(f"{API}/schedules/{made['id']}", json={"quota": 9}),
        reader.post(f"{API}/schedules/{made['id']}/close"),
        reader.post(f"{API}/schedules/{made['id']}/cancel"),
        reader.post(f"{API}/schedules/generate", json={"week_start": day.isoformat()}),
        reader.post(f"{API}/schedules/copy-week", json={"source_week_start": day.isoformat(),
                                                        "target_week_start": (day + timedelta(days=7)).isoformat()}),
        reader.post(f"{API}/templates", json={"doctor_id": zhang.doctor_id, "weekday": 5, "session": "night",
                                              "quota": 5}),
        reader.patch(f"{API}/templates/{template['id']}", json={"quota": 9}),
        reader.delete(f"{API}/templates/{template['id']}"),
    ]
    for response in attempts:
        _refused(response, 403, "auth.forbidden")
    assert _ok(reader.get(f"{API}/schedules/{made['id']}")) == made
    assert _ok(reader.get(f"{API}/templates", params={"doctor_id": zhang.doctor_id}))["total"] >= 1
    # A data-center-only admin sees no scheduling at all.
    other = platform.create_admin(f"dconly{uuid.uuid4().hex[:6]}", {"datacenter": "write"})["access_token"]
    with platform.client(other) as client:
        _refused(client.get(f"{API}/schedules"), 403, "auth.forbidden")
