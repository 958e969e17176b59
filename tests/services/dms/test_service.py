"""The scheduling rules (services/dms/service.py) against a real, migrated database, on MariaDB and on SQLite.

Each test gets its own throw-away MariaDB schema (`hap_dms_t<random>`, dropped afterwards) and a SQLite file in a
temporary data dir, and runs on both; the schema comes from the Alembic migrations, not from `create_all`. The
data center's part (looking doctors and registration types up) is exercised over HTTP in test_api.py and the
end-to-end tests; here the looked-up facts are given directly, as `DoctorRef`/`RegistrationTypeRef`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from common.db import Database, schema_name
from common.errors import Conflict, NotFound, Unprocessable
from common.migrate import upgrade
from common.pagination import PageParams
from common.settings import Settings
from common.timeutil import hospital_today
from services.dms import schemas, service
from services.dms.models import Base, OutboxEvent, Schedule, ScheduleTemplate, SlotBooking
from services.dms.seed import seed_demo
from services.dms.service import Assignment, DoctorRef, RegistrationTypeRef

TODAY = hospital_today()
THIS_MONDAY = TODAY - timedelta(days=TODAY.isoweekday() - 1)
NEXT_MONDAY = THIS_MONDAY + timedelta(days=7)
LAST_MONDAY = THIS_MONDAY - timedelta(days=7)
TOMORROW = TODAY + timedelta(days=1)

PT = RegistrationTypeRef(id=1, name="普通号", fee=Decimal("10.00"), active=True)
ZJ = RegistrationTypeRef(id=2, name="专家号", fee=Decimal("30.00"), active=True)
RETIRED = RegistrationTypeRef(id=3, name="停用号", fee=Decimal("5.00"), active=False)
TYPES = {t.id: t for t in (PT, ZJ, RETIRED)}


def doctor(doctor_id: int, name: str, department_id: int = 10, department_name: str = "内科", *,
           registration_type_id: int | None = 1, practice: str = "outpatient", active: bool = True) -> DoctorRef:
    return DoctorRef(id=doctor_id, name=name, department_id=department_id, department_name=department_name,
                     registration_type_id=registration_type_id, practice=practice, active=active)


ZHANG = doctor(101, "张建国", registration_type_id=2)
LI = doctor(102, "李秀英")
LIU = doctor(103, "刘伟", 20, "外科")
DOCTORS = {d.id: d for d in (ZHANG, LI, LIU)}


# ---------------------------------------------------------------------------------------------------------------
# Fixtures and shared steps


@pytest.fixture(params=["mariadb", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:
    env = Settings()
    if request.param == "mariadb":
        if not env.db_primary_url:
            pytest.fail("HAP_DB_PRIMARY_URL is not set: load the test infrastructure's env first", pytrace=False)
        # Reads go to the primary here: these tests are about the rules, not about replication.
        settings = env.model_copy(update={"db_replica_url": ""})
        name = f"dms_t{uuid.uuid4().hex[:10]}"
    else:
        settings = env.model_copy(update={"db_primary_url": "", "db_replica_url": "", "data_dir": tmp_path})
        name = "dms"
    upgrade(settings, name, "services.dms", Base.metadata)
    database = Database(name, settings)
    try:
        yield database
    finally:
        if settings.db_primary_url:
            with database.primary.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{schema_name(name, settings)}`"))
        database.dispose()


def add(db: Database, who: DoctorRef = ZHANG, day: date = TOMORROW, part: str = "morning", quota: int = 5,
        registration_type: RegistrationTypeRef | None = None, note: str | None = None) -> int:
    registration_type = registration_type or TYPES[who.registration_type_id or 1]
    with db.write() as s:
        return service.add_schedule(s, Assignment(who, registration_type), day, part, quota, note).id


def add_past(db: Database, who: DoctorRef = ZHANG, day: date = TODAY - timedelta(days=1), part: str = "morning",
             quota: int = 5) -> int:
    """A session of an earlier day, as it would be after the day passed (the rules refuse to create one)."""
    with db.write() as s:
        row = service._new_schedule(Assignment(who, TYPES[who.registration_type_id or 1]), day, part, quota, None)
        s.add(row)
        s.flush()
        return row.id


def out(db: Database, schedule_id: int) -> dict[str, Any]:
    with db.read() as s:
        return service.schedule_out(service.get_schedule(s, schedule_id))


def book(db: Database, schedule_id: int, number: str) -> dict[str, Any]:
    with db.write() as s:
        return service.schedule_out(service.book_slot(s, schedule_id, number))


def release(db: Database, schedule_id: int, number: str) -> tuple[dict[str, Any], bool]:
    with db.write() as s:
        row, released = service.release_slot(s, schedule_id, number)
        return service.schedule_out(row), released


def visit(db: Database, schedule_id: int, number: str) -> dict[str, Any]:
    with db.write() as s:
        return service.schedule_out(service.visit_slot(s, schedule_id, number))


def raises(exc_type: type, code: str, fn, *args: Any, **kwargs: Any) -> Any:
    with pytest.raises(exc_type) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value.envelope()
    return caught.value


def events(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as s:
        return [(e.type, e.payload) for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


# ---------------------------------------------------------------------------------------------------------------
# Migration


def test_migration_creates_exactly_the_models_tables(db: Database) -> None:
    with db.primary.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert {"schedule", "slot_booking", "schedule_template", "outbox_event", "idempotency_key"} == \
        set(Base.metadata.tables)


def test_the_database_itself_refuses_bad_counters_and_two_live_sessions(db: Database) -> None:
    """The CHECK and UNIQUE constraints hold even for code that skips the rules."""
    schedule_id = add(db, quota=2)
    for statement in ("UPDATE schedule SET booked = 3", "UPDATE schedule SET booked = -1",
                      "UPDATE schedule SET quota = 0", "UPDATE schedule SET visited = 1",
                      "UPDATE schedule SET session = 'noon'", "UPDATE schedule SET status = 'cancelled'",
                      "UPDATE schedule SET live_key = id"):
        with pytest.raises(DBAPIError) as caught, db.write() as s:
            s.execute(text(statement))
        assert "constraint" in str(caught.value).lower() or "check" in str(caught.value).lower(), statement
    with pytest.raises(IntegrityError), db.write() as s:
        row = service._new_schedule(Assignment(ZHANG, ZJ), TOMORROW, "morning", 5, None)
        s.add(row)
        s.flush()
    assert out(db, schedule_id)["booked"] == 0


# ---------------------------------------------------------------------------------------------------------------
# Creating sessions


def test_create_snapshots_the_doctor_and_fee_and_emits_an_event(db: Database) -> None:
    schedule_id = add(db, ZHANG, TOMORROW, "afternoon", quota=12, note=" 专家门诊 ")
    shown = out(db, schedule_id)
    assert {k: shown[k] for k in ("doctor_id", "doctor_name", "department_id", "department_name",
                                  "registration_type_id", "registration_type_name", "fee", "schedule_date",
                                  "session", "quota", "booked", "visited", "remaining", "status")} == {
        "doctor_id": 101, "doctor_name": "张建国", "department_id": 10, "department_name": "内科",
        "registration_type_id": 2, "registration_type_name": "专家号", "fee": "30.00",
        "schedule_date": TOMORROW.isoformat(), "session": "afternoon", "quota": 12, "booked": 0, "visited": 0,
        "remaining": 12, "status": "open"}
    assert shown["created_at"] == shown["updated_at"]
    assert events(db) == [("schedule.created", shown)]


def test_one_live_session_per_doctor_date_and_part_of_the_day(db: Database) -> None:
    first = add(db, ZHANG, TOMORROW, "morning")
    error = raises(Conflict, "schedule.duplicate", add, db, ZHANG, TOMORROW, "morning", quota=9)
    assert error.detail == {"schedule_id": first} and error.status_code == 409
    # Another part of the day, another date, another doctor: all fine.
    add(db, ZHANG, TOMORROW, "afternoon")
    add(db, ZHANG, TOMORROW + timedelta(days=1), "morning")
    add(db, LI, TOMORROW, "morning")
    # Cancelled sessions do not count: the slot of the timetable is free again, any number of times.
    for _ in range(2):
        with db.write() as s:
            service.cancel_schedule(s, first)
        first = add(db, ZHANG, TOMORROW, "morning")
    with db.read() as s:
        statuses = s.scalars(select(Schedule.status).where(Schedule.doctor_id == ZHANG.id,
                                                           Schedule.schedule_date == TOMORROW,
                                                           Schedule.session == "morning")).all()
    assert sorted(statuses) == ["cancelled", "cancelled", "open"]


def test_a_racing_duplicate_is_stopped_by_the_unique_key(db: Database, monkeypatch) -> None:
    """Two clerks both pass the check; the database refuses the second insert and it answers 409 duplicate."""
    first = add(db, LI, TOMORROW, "night")
    real = service._live_schedule_id
    monkeypatch.setattr(service, "_live_schedule_id",
                        lambda *args, fresh=False, **kwargs: real(*args, fresh=fresh, **kwargs) if fresh else None)
    error = raises(Conflict, "schedule.duplicate", add, db, LI, TOMORROW, "night")
    assert error.detail == {"schedule_id": first}
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Schedule)) == 1


def test_no_session_in_the_past(db: Database) -> None:
    error = raises(Unprocessable, "schedule.date_in_past", add, db, ZHANG, TODAY - timedelta(days=1))
    assert error.detail == {"field": "schedule_date"} and error.status_code == 422
    add(db, ZHANG, TODAY)  # today is fine


def test_doctor_and_registration_type_checks() -> None:
    assert service.check_doctor(LI, LI.id) is LI
    for who, code in [(None, "schedule.doctor_not_found"),
                      (doctor(7, "停用", active=False), "schedule.doctor_inactive"),
                      (doctor(8, "病房医生", practice="inpatient"), "schedule.doctor_not_outpatient")]:
        error = raises(Unprocessable, code, service.check_doctor, who, 7)
        assert error.detail["field"] == "doctor_id"
    assert service.check_registration_type(PT, 1) is PT
    for registration_type, code in [(None, "schedule.registration_type_not_found"),
                                    (RETIRED, "schedule.registration_type_inactive")]:
        error = raises(Unprocessable, code, service.check_registration_type, registration_type, 3)
        assert error.detail["field"] == "registration_type_id"


# ---------------------------------------------------------------------------------------------------------------
# Changing, closing, cancelling


def test_quota_never_below_booked(db: Database) -> None:
    schedule_id = add(db, quota=5)
    for n in range(3):
        book(db, schedule_id, f"R-Q{n}")
    with db.write() as s:
        error = raises(Conflict, "schedule.quota_below_booked", service.change_schedule, s, schedule_id,
                       {"quota": 2}, {})
    assert error.detail == {"booked": 3}
    with db.write() as s:
        shown = service.schedule_out(service.change_schedule(s, schedule_id, {"quota": 3, "note": "加号"}, {}))
    assert shown["quota"] == 3 and shown["remaining"] == 0 and shown["note"] == "加号"
    raises(Conflict, "schedule.full", book, db, schedule_id, "R-Q9")
    with db.write() as s:
        service.change_schedule(s, schedule_id, {"quota": 4}, {})
    assert book(db, schedule_id, "R-Q9")["booked"] == 4


def test_registration_type_changes_only_while_nothing_is_booked(db: Database) -> None:
    schedule_id = add(db, LI, quota=5)  # 普通号 10.00
    with db.write() as s:
        shown = service.schedule_out(service.change_schedule(s, schedule_id, {"registration_type_id": 2}, TYPES))
    assert shown["registration_type_name"] == "专家号" and shown["fee"] == "30.00"
    with db.write() as s:
        raises(Unprocessable, "schedule.registration_type_inactive", service.change_schedule, s, schedule_id,
               {"registration_type_id": 3}, TYPES)
        raises(Unprocessable, "schedule.registration_type_not_found", service.change_schedule, s, schedule_id,
               {"registration_type_id": 99}, TYPES)
    book(db, schedule_id, "R-T1")
    with db.write() as s:
        error = raises(Conflict, "schedule.has_bookings", service.change_schedule, s, schedule_id,
                       {"registration_type_id": 1}, TYPES)
    assert error.detail == {"registrations": ["R-T1"], "booked": 1}
    # Sending the current values back is no change, so it passes even with bookings.
    with db.write() as s:
        same = service.schedule_out(service.change_schedule(s, schedule_id, {"registration_type_id": 2, "quota": 5,
                                                                             "note": None}, {}))
    assert same["fee"] == "30.00" and same["updated_at"] == out(db, schedule_id)["updated_at"]
    assert [e[0] for e in events(db)] == ["schedule.created", "schedule.updated"]


def test_close_reopen_cancel(db: Database) -> None:
    schedule_id = add(db, quota=4)
    book(db, schedule_id, "R-C1")
    with db.write() as s:
        closed = service.schedule_out(service.close_schedule(s, schedule_id))
    assert closed["status"] == "closed" and closed["remaining"] == 0 and closed["booked"] == 1
    error = raises(Conflict, "schedule.not_open", book, db, schedule_id, "R-C2")
    assert error.detail == {"schedule_id": schedule_id, "status": "closed"}
    with db.write() as s:
        error = raises(Conflict, "schedule.invalid_state", service.close_schedule, s, schedule_id)
    assert error.detail == {"status": "closed"}
    with db.write() as s:
        assert service.reopen_schedule(s, schedule_id).status == "open"
    with db.write() as s:
        raises(Conflict, "schedule.invalid_state", service.reopen_schedule, s, schedule_id)
    assert book(db, schedule_id, "R-C2")["remaining"] == 2

    # Cancelling needs an empty session; the refusal names whom to call.
    book(db, schedule_id, "R-C3")
    release(db, schedule_id, "R-C2")
    with db.write() as s:
        error = raises(Conflict, "schedule.has_bookings", service.cancel_schedule, s, schedule_id)
    assert error.detail == {"registrations": ["R-C1", "R-C3"], "booked": 2}
    release(db, schedule_id, "R-C1")
    release(db, schedule_id, "R-C3")
    with db.write() as s:
        cancelled = service.schedule_out(service.cancel_schedule(s, schedule_id))
    assert cancelled["status"] == "cancelled" and cancelled["remaining"] == 0
    with db.write() as s:
        raises(Conflict, "schedule.invalid_state", service.cancel_schedule, s, schedule_id)
        raises(Conflict, "schedule.invalid_state", service.reopen_schedule, s, schedule_id)
        error = raises(Conflict, "schedule.cancelled", service.change_schedule, s, schedule_id, {"quota": 9}, {})
    raises(Conflict, "schedule.not_open", book, db, schedule_id, "R-C4")
    with db.read() as s:
        raises(NotFound, "schedule.not_found", service.get_schedule, s, 999_999)
    assert [e[0] for e in events(db)] == ["schedule.created", "schedule.updated", "schedule.updated",
                                          "schedule.cancelled"]
    assert events(db)[-1][1]["status"] == "cancelled"


# ---------------------------------------------------------------------------------------------------------------
# Slots


def test_booking_is_bounded_idempotent_and_released_once(db: Database) -> None:
    schedule_id = add(db, quota=2)
    assert book(db, schedule_id, "R20261126-00001")["booked"] == 1
    again = book(db, schedule_id, "R20261126-00001")  # a repeat takes nothing more
    assert again["booked"] == 1 and again["remaining"] == 1
    assert book(db, schedule_id, "R20261126-00002")["remaining"] == 0
    error = raises(Conflict, "schedule.full", book, db, schedule_id, "R20261126-00003")
    assert error.detail == {"schedule_id": schedule_id, "quota": 2} and error.status_code == 409
    with db.read() as s:  # the refused booking left no row behind
        assert s.scalar(select(func.count()).select_from(SlotBooking)) == 2

    shown, released = release(db, schedule_id, "R20261126-00001")
    assert released is True and shown["booked"] == 1
    shown, released = release(db, schedule_id, "R20261126-00001")
    assert released is False and shown["booked"] == 1
    shown, released = release(db, schedule_id, "R-NEVER")
    assert released is False and shown["booked"] == 1
    # The freed slot can be taken, by another number or by the same number booking anew.
    assert book(db, schedule_id, "R20261126-00001")["booked"] == 2
    with db.read() as s:
        rows = s.execute(select(SlotBooking.registration_no, SlotBooking.status)
                         .order_by(SlotBooking.id)).all()
    assert [tuple(r) for r in rows] == [("R20261126-00001", "released"), ("R20261126-00002", "booked"),
                                        ("R20261126-00001", "booked")]
    # Bookings are not schedule events (the outpatient service reports registrations itself).
    assert [e[0] for e in events(db)] == ["schedule.created"]


def test_a_number_holds_one_slot_only(db: Database) -> None:
    first, second = add(db, ZHANG, quota=3), add(db, LI, quota=3)
    book(db, first, "R-X1")
    error = raises(Conflict, "booking.conflict", book, db, second, "R-X1")
    assert error.detail == {"registration_no": "R-X1", "schedule_id": first}
    shown, released = release(db, second, "R-X1")  # held elsewhere: nothing to release here
    assert released is False and out(db, first)["booked"] == 1
    raises(Conflict, "booking.not_found", visit, db, second, "R-X1")
    release(db, first, "R-X1")
    assert book(db, second, "R-X1")["booked"] == 1  # released: free to book elsewhere
    assert out(db, first)["booked"] == 0


def test_no_booking_on_a_past_or_unknown_session(db: Database) -> None:
    past = add_past(db)
    error = raises(Conflict, "schedule.past", book, db, past, "R-P1")
    assert error.detail["schedule_id"] == past
    raises(NotFound, "schedule.not_found", book, db, 999_999, "R-P1")
    raises(NotFound, "schedule.not_found", release, db, 999_999, "R-P1")
    raises(NotFound, "schedule.not_found", visit, db, 999_999, "R-P1")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SlotBooking)) == 0


def test_visits_count_once_and_a_visited_slot_is_not_released(db: Database) -> None:
    schedule_id = add(db, quota=3)
    book(db, schedule_id, "R-V1")
    book(db, schedule_id, "R-V2")
    raises(Conflict, "booking.not_found", visit, db, schedule_id, "R-V3")
    assert visit(db, schedule_id, "R-V1")["visited"] == 1
    assert visit(db, schedule_id, "R-V1")["visited"] == 1
    error = raises(Conflict, "booking.visited", release, db, schedule_id, "R-V1")
    assert error.detail == {"registration_no": "R-V1"}
    release(db, schedule_id, "R-V2")
    raises(Conflict, "booking.not_found", visit, db, schedule_id, "R-V2")  # released: holds no slot
    with db.write() as s:
        service.close_schedule(s, schedule_id)
    book_after_close = out(db, schedule_id)
    assert book_after_close["booked"] == 1 and book_after_close["visited"] == 1


# ---------------------------------------------------------------------------------------------------------------
# Reads: lists, week, on duty, attendance


def test_lists_are_ordered_by_date_session_and_doctor_and_filtered(db: Database) -> None:
    day2 = TOMORROW + timedelta(days=1)
    ids = {
        "li-night": add(db, LI, TOMORROW, "night"),
        "zhang-morning": add(db, ZHANG, TOMORROW, "morning"),
        "li-morning": add(db, LI, TOMORROW, "morning"),
        "liu-afternoon": add(db, LIU, TOMORROW, "afternoon"),
        "zhang-day2": add(db, ZHANG, day2, "morning"),
    }
    with db.write() as s:
        service.close_schedule(s, ids["li-night"])

    def listed(**filters: Any) -> list[str]:
        names = {v: k for k, v in ids.items()}
        with db.read() as s:
            rows, total = service.list_schedules(s, filters, PageParams(page=1, size=100))
        assert total == len(rows)
        return [names[r.id] for r in rows]

    # morning < afternoon < night, then the doctor's name (张 U+5F20 before 李 U+674E, in both databases)
    order = listed()
    assert order == ["zhang-morning", "li-morning", "liu-afternoon", "li-night", "zhang-day2"]
    assert listed(doctor_id=LI.id) == [n for n in order if n.startswith("li-")]
    assert listed(department_id=20) == ["liu-afternoon"]
    assert listed(session="morning", date_to=TOMORROW) == [n for n in order if n.endswith("-morning")]
    assert listed(date_from=day2) == ["zhang-day2"]
    assert listed(status="closed") == ["li-night"]
    with db.read() as s:
        rows, total = service.list_schedules(s, {}, PageParams(page=2, size=2))
    assert total == 5 and [r.id for r in rows] == [ids[n] for n in order[2:4]]
    with pytest.raises(ValueError), db.read() as s:
        service.list_schedules(s, {"quota": 1}, PageParams())


def test_week_view_needs_a_monday_and_hides_cancelled_sessions(db: Database) -> None:
    week = NEXT_MONDAY
    kept = add(db, ZHANG, week + timedelta(days=6), "night")
    early = add(db, LI, week, "afternoon")
    gone = add(db, LIU, week + timedelta(days=2), "morning")
    add(db, LIU, week + timedelta(days=7), "morning")  # the Monday after: not in the week
    with db.write() as s:
        service.cancel_schedule(s, gone)
    with db.read() as s:
        view = service.week_view(s, week)
        assert view["week_start"] == week and view["week_end"] == week + timedelta(days=6)
        assert view["days"] == [week + timedelta(days=n) for n in range(7)]
        assert [r.id for r in view["items"]] == [early, kept]
        assert [r.id for r in service.week_view(s, week, doctor_id=ZHANG.id)["items"]] == [kept]
        assert service.week_view(s, week, department_id=20)["items"] == []
        for not_monday in range(1, 7):
            error = raises(Unprocessable, "schedule.week_start_not_monday", service.week_view, s,
                           week + timedelta(days=not_monday))
            assert error.detail == {"field": "week_start"}


def test_on_duty_lists_open_sessions_by_session_then_doctor(db: Database) -> None:
    night = add(db, ZHANG, TOMORROW, "night")
    morning_zhang = add(db, ZHANG, TOMORROW, "morning")
    morning_li = add(db, LI, TOMORROW, "morning", quota=1)
    closed = add(db, LI, TOMORROW, "afternoon")
    add(db, LIU, TOMORROW, "morning")  # another department
    with db.write() as s:
        service.close_schedule(s, closed)
    book(db, morning_li, "R-D1")  # full, still on duty (0 remaining)
    with db.read() as s:
        rows = service.on_duty(s, 10, TOMORROW)
        assert [r.id for r in rows] == [morning_zhang, morning_li, night]
        assert {r.id: r.remaining for r in rows} == {morning_zhang: 5, morning_li: 0, night: 5}
        assert [r.id for r in service.on_duty(s, 10, TOMORROW, "night")] == [night]
        assert service.on_duty(s, 10, TODAY) == []


def test_attendance_sums_per_doctor(db: Database) -> None:
    a = add_past(db, ZHANG, TODAY - timedelta(days=2), "morning", quota=10)
    b = add_past(db, ZHANG, TODAY - timedelta(days=1), "afternoon", quota=6)
    c = add_past(db, LI, TODAY - timedelta(days=1), "morning", quota=8)
    cancelled = add(db, LIU, TOMORROW, "morning", quota=30)
    d = add(db, LIU, TOMORROW, "afternoon", quota=4)
    with db.write() as s:
        service.cancel_schedule(s, cancelled)
        # Bookings and visits made on those days (the counters, as the slots would have left them).
        for schedule_id, booked, visited in ((a, 7, 5), (b, 6, 6), (c, 2, 0), (d, 3, 0)):
            s.execute(text("UPDATE schedule SET booked = :b, visited = :v WHERE id = :id"),
                      {"b": booked, "v": visited, "id": schedule_id})
    with db.read() as s:
        report = service.attendance(s, TODAY - timedelta(days=7), TOMORROW)
        by_doctor = {item["doctor_id"]: item for item in report["items"]}
        assert by_doctor[ZHANG.id] == {"doctor_id": ZHANG.id, "doctor_name": "张建国", "department_id": 10,
                                       "department_name": "内科", "sessions": 2, "quota": 16, "booked": 13,
                                       "visited": 11}
        assert by_doctor[LI.id]["sessions"] == 1 and by_doctor[LI.id]["booked"] == 2
        assert by_doctor[LIU.id] == {**by_doctor[LIU.id], "sessions": 1, "quota": 4, "booked": 3, "visited": 0}
        assert report["totals"] == {"sessions": 4, "quota": 28, "booked": 18, "visited": 11}
        assert [i["doctor_id"] for i in report["items"]] == [ZHANG.id, LI.id, LIU.id]  # 内科 before 外科
        only_li = service.attendance(s, TODAY - timedelta(days=7), TODAY, doctor_id=LI.id)
        assert [i["doctor_id"] for i in only_li["items"]] == [LI.id]
        surgery = service.attendance(s, TODAY - timedelta(days=7), TOMORROW, department_id=20)
        assert surgery["totals"] == {"sessions": 1, "quota": 4, "booked": 3, "visited": 0}
        empty = service.attendance(s, TODAY + timedelta(days=30), TODAY + timedelta(days=30))
        assert empty["items"] == [] and empty["totals"] == {"sessions": 0, "quota": 0, "booked": 0, "visited": 0}

        raises(Unprocessable, "attendance.range_invalid", service.attendance, s, TODAY, TODAY - timedelta(days=1))
        start = date(2024, 1, 1)
        assert service.attendance(s, start, start + timedelta(days=365))["items"] == []  # 366 days: allowed
        raises(Unprocessable, "attendance.range_too_long", service.attendance, s, start, start + timedelta(days=366))


# ---------------------------------------------------------------------------------------------------------------
# Templates, generating and copying weeks


def template(db: Database, who: DoctorRef, weekday: int, part: str, quota: int = 5,
             registration_type: RegistrationTypeRef | None = None) -> int:
    with db.write() as s:
        registration_type = registration_type or TYPES[who.registration_type_id or 1]
        return service.add_template(s, Assignment(who, registration_type), weekday, part, quota).id


def generate(db: Database, week_start: date, department_id: int | None = None,
             doctors: dict[int, DoctorRef] = DOCTORS) -> tuple[list[dict[str, Any]], int]:
    with db.write() as s:
        planned = service.order_planned(service.plan_week_from_templates(s, week_start, department_id))
        created, skipped = service.create_planned(s, planned, doctors, TYPES)
        return [service.schedule_out(r) for r in created], skipped


def copy(db: Database, source: date, target: date, department_id: int | None = None) -> tuple[list[dict], int]:
    with db.write() as s:
        planned = service.order_planned(service.plan_week_copy(s, source, target, department_id))
        created, skipped = service.create_planned(s, planned, DOCTORS, TYPES)
        return [service.schedule_out(r) for r in created], skipped


def test_templates_are_unique_per_doctor_weekday_and_session(db: Database) -> None:
    first = template(db, ZHANG, 1, "morning", 20)
    error = raises(Conflict, "template.duplicate", template, db, ZHANG, 1, "morning")
    assert error.detail == {"template_id": first}
    template(db, ZHANG, 1, "afternoon")
    template(db, LIU, 1, "morning")
    with db.write() as s:
        changed = service.change_template(s, first, {"quota": 25, "registration_type_id": 1}, TYPES)
        assert (changed.quota, changed.registration_type_name) == (25, "普通号")
        raises(Unprocessable, "schedule.registration_type_inactive", service.change_template, s, first,
               {"registration_type_id": 3}, TYPES)
    with db.read() as s:
        rows, total = service.list_templates(s, {"department_id": 10}, PageParams())
        assert total == 2 and [(r.weekday, r.session) for r in rows] == [(1, "morning"), (1, "afternoon")]
        rows, total = service.list_templates(s, {"doctor_id": LIU.id}, PageParams())
        assert total == 1 and rows[0].department_name == "外科"
    with db.write() as s:
        service.delete_template(s, first)
    with db.write() as s:
        raises(NotFound, "template.not_found", service.delete_template, s, first)
        raises(NotFound, "template.not_found", service.change_template, s, first, {"quota": 3}, {})
    template(db, ZHANG, 1, "morning")  # deleted: the line may be added again


def test_generate_creates_each_session_once(db: Database) -> None:
    template(db, ZHANG, 1, "morning", 20)
    template(db, ZHANG, 3, "afternoon", 22)
    template(db, LI, 7, "night", 15)
    template(db, LIU, 2, "morning", 30)
    created, skipped = generate(db, NEXT_MONDAY)
    assert skipped == 0
    assert [(c["schedule_date"], c["session"], c["doctor_name"], c["quota"], c["fee"]) for c in created] == [
        (NEXT_MONDAY.isoformat(), "morning", "张建国", 20, "30.00"),
        ((NEXT_MONDAY + timedelta(days=1)).isoformat(), "morning", "刘伟", 30, "10.00"),
        ((NEXT_MONDAY + timedelta(days=2)).isoformat(), "afternoon", "张建国", 22, "30.00"),
        ((NEXT_MONDAY + timedelta(days=6)).isoformat(), "night", "李秀英", 15, "10.00"),
    ]
    assert generate(db, NEXT_MONDAY) == ([], 4)  # twice: nothing new

    # A week in the past creates nothing; this week only from today on.
    assert generate(db, LAST_MONDAY) == ([], 4)
    created, skipped = generate(db, THIS_MONDAY)
    expected = [d for d in (THIS_MONDAY, THIS_MONDAY + timedelta(days=1), THIS_MONDAY + timedelta(days=2),
                            THIS_MONDAY + timedelta(days=6)) if d >= TODAY]
    assert sorted(c["schedule_date"] for c in created) == sorted(d.isoformat() for d in expected)
    assert skipped == 4 - len(expected)

    # One department only; an inactive doctor is skipped, not an error.
    week = NEXT_MONDAY + timedelta(days=7)
    created, skipped = generate(db, week, department_id=20)
    assert [c["doctor_name"] for c in created] == ["刘伟"] and skipped == 0
    created, skipped = generate(db, week, doctors={**DOCTORS, ZHANG.id: doctor(101, "张建国", active=False)})
    assert [c["doctor_name"] for c in created] == ["李秀英"] and skipped == 3
    with db.read() as s:
        raises(Unprocessable, "schedule.week_start_not_monday", service.plan_week_from_templates, s,
               NEXT_MONDAY + timedelta(days=1))


def test_copy_week_skips_conflicts_and_past_dates(db: Database) -> None:
    source = NEXT_MONDAY
    target = NEXT_MONDAY + timedelta(days=7)
    a = add(db, ZHANG, source, "morning", quota=12, note="专家")
    add(db, LI, source + timedelta(days=3), "night", quota=8)
    add(db, LIU, source + timedelta(days=4), "afternoon", quota=6)
    gone = add(db, LIU, source + timedelta(days=5), "morning")
    with db.write() as s:
        service.cancel_schedule(s, gone)
    book(db, a, "R-W1")
    visit(db, a, "R-W1")
    conflict = add(db, LI, target + timedelta(days=3), "night", quota=3)

    created, skipped = copy(db, source, target)
    assert skipped == 1  # 李秀英's night exists already in the target week
    assert [(c["doctor_name"], c["schedule_date"], c["quota"], c["booked"], c["visited"], c["status"], c["note"])
            for c in created] == [
        ("张建国", target.isoformat(), 12, 0, 0, "open", "专家"),
        ("刘伟", (target + timedelta(days=4)).isoformat(), 6, 0, 0, "open", None),
    ]
    assert out(db, conflict)["quota"] == 3  # untouched
    assert copy(db, source, target) == ([], 3)

    # Into a week that is over: nothing; into this week: only from today on.
    assert copy(db, source, LAST_MONDAY) == ([], 3)
    created, skipped = copy(db, source, THIS_MONDAY, department_id=10)
    expected = [d for d in (THIS_MONDAY, THIS_MONDAY + timedelta(days=3)) if d >= TODAY]
    assert sorted(c["schedule_date"] for c in created) == sorted(d.isoformat() for d in expected)
    assert skipped == 2 - len(expected)

    with db.read() as s:
        error = raises(Unprocessable, "schedule.copy_same_week", service.plan_week_copy, s, source, source)
        assert error.detail == {"field": "target_week_start"}
        error = raises(Unprocessable, "schedule.week_start_not_monday", service.plan_week_copy, s,
                       source + timedelta(days=1), target)
        assert error.detail == {"field": "source_week_start"}
        error = raises(Unprocessable, "schedule.week_start_not_monday", service.plan_week_copy, s, source,
                       target - timedelta(days=1))
        assert error.detail == {"field": "target_week_start"}


# ---------------------------------------------------------------------------------------------------------------
# Seed


DEMO = {
    "registration_types": [{"id": 1, "name": "普通号", "fee": Decimal("10.00")},
                           {"id": 2, "name": "专家号", "fee": Decimal("30.00")},
                           {"id": 3, "name": "急诊号", "fee": Decimal("15.00")}],
    "doctors": [
        {"id": 1, "name": "张建国", "department_id": 1, "department_name": "内科", "registration_type_id": 2},
        {"id": 2, "name": "李秀英", "department_id": 1, "department_name": "内科", "registration_type_id": 1},
        {"id": 4, "name": "刘伟", "department_id": 2, "department_name": "外科", "registration_type_id": 2},
        {"id": 13, "name": "马超", "department_id": 8, "department_name": "急诊科", "registration_type_id": 3},
        {"id": 6, "name": "杨帆", "department_id": 3, "department_name": "儿科", "registration_type_id": 2},
        {"id": 7, "name": "赵敏", "department_id": 3, "department_name": "儿科", "registration_type_id": 1},
    ],
}


def test_seed_is_idempotent_and_obeys_the_rules(db: Database) -> None:
    def counts() -> tuple[int, int]:
        with db.read() as s:
            return (s.scalar(select(func.count()).select_from(ScheduleTemplate)),
                    s.scalar(select(func.count()).select_from(Schedule)))

    with db.write() as s:
        seed_demo(s, {})  # the data center left nothing: nothing to seed
        seed_demo(s, {"doctors": DEMO["doctors"]})
    assert counts() == (0, 0)

    with db.write() as s:
        seed_demo(s, dict(DEMO))
    first = counts()
    with db.write() as s:
        seed_demo(s, dict(DEMO))
    assert counts() == first

    with db.read() as s:
        templates = s.scalars(select(ScheduleTemplate)).all()
        sessions = s.scalars(select(Schedule)).all()
    per_doctor: dict[int, int] = {}
    for t in templates:
        per_doctor[t.doctor_id] = per_doctor.get(t.doctor_id, 0) + 1
        assert 20 <= t.quota <= 30
    assert set(per_doctor) == {d["id"] for d in DEMO["doctors"]} and set(per_doctor.values()) <= {2, 3}
    # Next week in full, and this week from today on.
    next_week = [s_ for s_ in sessions if s_.schedule_date >= NEXT_MONDAY]
    assert len(next_week) == len(templates)
    assert all(s_.schedule_date >= TODAY and s_.status == "open" and 20 <= s_.quota <= 30 for s_ in sessions)
    assert len(sessions) == first[1] and first[1] >= len(templates)
    fees = {s_.doctor_name: (s_.registration_type_name, str(s_.fee)) for s_ in sessions}
    assert fees["张建国"] == ("专家号", "30.00") and fees["李秀英"] == ("普通号", "10.00")
    assert fees["马超"] == ("急诊号", "15.00")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == len(sessions)


# ---------------------------------------------------------------------------------------------------------------
# Input schemas


def test_inputs_are_bounded() -> None:
    good = {"doctor_id": 1, "schedule_date": "2026-11-26", "session": "morning", "quota": 20}
    assert schemas.ScheduleCreate.model_validate({**good, "note": "  "}).note is None
    for bad in [
        {**good, "schedule_date": "1999-12-31"}, {**good, "schedule_date": "2101-01-01"},
        {**good, "schedule_date": "2026-02-30"}, {**good, "session": "noon"}, {**good, "quota": 0},
        {**good, "quota": 501}, {**good, "doctor_id": 0}, {**good, "doctor_id": 2**31},
        {**good, "note": "备" * 256}, {**good, "status": "closed"}, {**good, "booked": 1},
        {k: v for k, v in good.items() if k != "quota"},
    ]:
        with pytest.raises(ValidationError):
            schemas.ScheduleCreate.model_validate(bad)
    assert schemas.ScheduleUpdate.model_validate({}).model_dump(exclude_unset=True) == {}
    assert schemas.ScheduleUpdate.model_validate({"note": None}).model_dump(exclude_unset=True) == {"note": None}
    for bad in [{"quota": None}, {"registration_type_id": None}, {"quota": 0}, {"status": "open"}]:
        with pytest.raises(ValidationError):
            schemas.ScheduleUpdate.model_validate(bad)
    for number in ("R20261126-00001", " R1 "):
        assert schemas.SlotIn.model_validate({"registration_no": number}).registration_no == number.strip()
    for number in ("", "R 1", "R" * 33, "R1;drop", None):
        with pytest.raises(ValidationError):
            schemas.SlotIn.model_validate({"registration_no": number})
    for bad in [{"doctor_id": 1, "weekday": 0, "session": "night", "quota": 1},
                {"doctor_id": 1, "weekday": 8, "session": "night", "quota": 1}]:
        with pytest.raises(ValidationError):
            schemas.TemplateCreate.model_validate(bad)
    with pytest.raises(ValidationError):
        schemas.AttendanceQuery.model_validate({"date_from": "2026-01-01"})
