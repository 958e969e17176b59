"""The rules of the scheduling service.

Sessions (排班):
- a session is one doctor's clinic on one date and part of the day (morning, afternoon, night) with a quota;
  the doctor's department, names and the registration type's fee are taken from the data center when the
  session is created (or its registration type changed) and kept as a snapshot;
- a doctor has at most one live (open or closed) session per date and part of the day: 409 `schedule.duplicate`,
  backed by a UNIQUE constraint (see `Schedule.live_key`) so two clerks saving at once cannot both succeed;
- no session is created for a date before the hospital's today; the quota never drops below what is booked;
  the registration type changes only while nothing is booked; a cancelled session is final, and only a session
  without bookings can be cancelled (the 409 lists the registrations holding slots, so they can be called).

Slots (号源), for other services by registration number:
- booking never exceeds the quota under any concurrency: one conditional UPDATE (`booked < quota`) decides (and
  the CHECK constraint `booked <= quota` backs it), and a booking row with a UNIQUE live registration number
  makes a repeated or concurrent request with the same number answer the same without taking a second slot;
- releasing and marking a visit are idempotent: a second call changes nothing.

Lock order, the same on every path, so concurrent requests never deadlock: the session row first (a locking
read), then the slot booking row.

Functions take the session as an argument, flush so that database errors surface here, and never commit: the
request's unit of work does. Calls to the data center (`Peers`) happen before the first query of a write, so
no lock is held while waiting for another service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.client import Peers
from common.db import WriteSession
from common.errors import Conflict, NotFound, Unprocessable
from common.events import emit
from common.pagination import PageParams, paginate
from common.timeutil import hospital_today, utcnow
from services.dms.models import (
    BookingStatus,
    ClinicSession,
    OutboxEvent,
    Schedule,
    ScheduleStatus,
    ScheduleTemplate,
    SlotBooking,
)
from services.dms.schemas import ScheduleOut

MAX_ATTENDANCE_DAYS = 366
LOOKUP_CHUNK = 100  # the data center's look-ups take at most 100 ids per call

# Sessions sort morning, afternoon, night (not alphabetically).
SESSION_ORDER = {ClinicSession.morning: 0, ClinicSession.afternoon: 1, ClinicSession.night: 2}
_session_rank = case({s.value: rank for s, rank in SESSION_ORDER.items()}, value=Schedule.session)
_template_session_rank = case({s.value: rank for s, rank in SESSION_ORDER.items()}, value=ScheduleTemplate.session)


# ---------------------------------------------------------------------------------------------------------------
# Master data from the data center


@dataclass(frozen=True)
class DoctorRef:
    """What a session needs to know of a doctor (from DBS's `/internal/doctors`)."""

    id: int
    name: str
    department_id: int
    department_name: str
    registration_type_id: int | None
    practice: str
    active: bool


@dataclass(frozen=True)
class RegistrationTypeRef:
    """A registration type and its current fee (from DBS's `/internal/registration-types`)."""

    id: int
    name: str
    fee: Decimal
    active: bool


@dataclass(frozen=True)
class Assignment:
    """Who holds a session and at which registration type: the facts a session or template snapshots."""

    doctor: DoctorRef
    registration_type: RegistrationTypeRef


def _lookup(peers: Peers, path: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = sorted(set(ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start:start + LOOKUP_CHUNK]
        body = peers.call("dbs", "GET", path, params={"ids": chunk, "size": LOOKUP_CHUNK})
        found.update((item["id"], item) for item in body["items"])
    return found


def fetch_doctors(peers: Peers, ids: Iterable[int]) -> dict[int, DoctorRef]:
    """The doctors among `ids` that exist in the data center, active or not."""
    return {
        doctor_id: DoctorRef(id=doctor_id, name=item["name"], department_id=item["department_id"],
                             department_name=item["department_name"],
                             registration_type_id=item.get("registration_type_id"), practice=item["practice"],
                             active=item["active"])
        for doctor_id, item in _lookup(peers, "/internal/doctors", ids).items()
    }


def fetch_registration_types(peers: Peers, ids: Iterable[int]) -> dict[int, RegistrationTypeRef]:
    """The registration types among `ids` that exist in the data center, active or not."""
    return {
        type_id: RegistrationTypeRef(id=type_id, name=item["name"], fee=Decimal(item["fee"]), active=item["active"])
        for type_id, item in _lookup(peers, "/internal/registration-types", ids).items()
    }


def check_doctor(doctor: DoctorRef | None, doctor_id: int) -> DoctorRef:
    """The doctor, if a new session or template may be given to them: existing, active, outpatient."""
    if doctor is None:
        raise Unprocessable(f"No doctor with id {doctor_id}", code="schedule.doctor_not_found",
                            detail={"field": "doctor_id", "id": doctor_id})
    if not doctor.active:
        raise Unprocessable(f"The doctor {doctor.name} ({doctor_id}) is deactivated", code="schedule.doctor_inactive",
                            detail={"field": "doctor_id", "id": doctor_id})
    if doctor.practice != "outpatient":
        raise Unprocessable(f"The doctor {doctor.name} ({doctor_id}) works on the wards, not in the clinic",
                            code="schedule.doctor_not_outpatient", detail={"field": "doctor_id", "id": doctor_id})
    return doctor


def check_registration_type(registration_type: RegistrationTypeRef | None, type_id: int) -> RegistrationTypeRef:
    if registration_type is None:
        raise Unprocessable(f"No registration type with id {type_id}", code="schedule.registration_type_not_found",
                            detail={"field": "registration_type_id", "id": type_id})
    if not registration_type.active:
        raise Unprocessable(f"The registration type {registration_type.name} ({type_id}) is deactivated",
                            code="schedule.registration_type_inactive",
                            detail={"field": "registration_type_id", "id": type_id})
    return registration_type


def resolve_assignment(peers: Peers, doctor_id: int, registration_type_id: int | None) -> Assignment:
    """The doctor and registration type of a new session or template, checked; the type defaults to the
    doctor's own."""
    doctor = check_doctor(fetch_doctors(peers, [doctor_id]).get(doctor_id), doctor_id)
    type_id = registration_type_id or doctor.registration_type_id
    if type_id is None:
        raise Unprocessable(f"The doctor {doctor.name} has no default registration type; choose one",
                            code="schedule.registration_type_required", detail={"field": "registration_type_id"})
    registration_type = fetch_registration_types(peers, [type_id]).get(type_id)
    return Assignment(doctor, check_registration_type(registration_type, type_id))


# ---------------------------------------------------------------------------------------------------------------
# Sessions: reads


def schedule_out(row: Schedule) -> dict[str, Any]:
    """A session as the API and the events show it (JSON-ready)."""
    return ScheduleOut.model_validate(row).model_dump(mode="json")


def get_schedule(session: Session, schedule_id: int, *, lock: bool = False) -> Schedule:
    """The session; with `lock`, read afresh and locked until the transaction ends (for state changes)."""
    if lock:
        row = session.get(Schedule, schedule_id, with_for_update=True, populate_existing=True)
    else:
        row = session.get(Schedule, schedule_id)
    if row is None:
        raise NotFound(f"No session with id {schedule_id}", code="schedule.not_found", detail={"id": schedule_id})
    return row


def _ordered(statement: Select) -> Select:
    return statement.order_by(Schedule.schedule_date, _session_rank, Schedule.doctor_name, Schedule.id)


def list_schedules(session: Session, filters: Mapping[str, Any], page: PageParams) -> tuple[list[Schedule], int]:
    """One page of sessions by date, part of the day and doctor. Filters: department_id, doctor_id, date_from,
    date_to, session, status (each optional)."""
    statement = select(Schedule)
    for name, value in filters.items():
        if value is None:
            continue
        if name in ("department_id", "doctor_id", "session", "status"):
            statement = statement.where(getattr(Schedule, name) == value)
        elif name == "date_from":
            statement = statement.where(Schedule.schedule_date >= value)
        elif name == "date_to":
            statement = statement.where(Schedule.schedule_date <= value)
        else:
            raise ValueError(f"sessions cannot be filtered on {name!r}")
    return paginate(session, _ordered(statement), page)


def check_monday(day: date, field: str = "week_start") -> date:
    if day.isoweekday() != 1:
        raise Unprocessable(f"{field} must be a Monday; {day.isoformat()} is not",
                            code="schedule.week_start_not_monday", detail={"field": field})
    return day


def week_view(session: Session, week_start: date, department_id: int | None = None,
              doctor_id: int | None = None) -> dict[str, Any]:
    """Every live session of one Monday-to-Sunday week, for the grid (rows doctors, columns day × session)."""
    check_monday(week_start)
    days = [week_start + timedelta(days=n) for n in range(7)]
    statement = select(Schedule).where(Schedule.schedule_date.between(days[0], days[-1]),
                                       Schedule.status != ScheduleStatus.cancelled)
    if department_id is not None:
        statement = statement.where(Schedule.department_id == department_id)
    if doctor_id is not None:
        statement = statement.where(Schedule.doctor_id == doctor_id)
    items = session.scalars(_ordered(statement)).all()
    return {"week_start": days[0], "week_end": days[-1], "days": days, "items": list(items)}


def on_duty(session: Session, department_id: int, day: date, part: str | None = None) -> list[Schedule]:
    """The open sessions of a department on a day (and part of the day), by part of the day then doctor."""
    statement = select(Schedule).where(Schedule.department_id == department_id, Schedule.schedule_date == day,
                                       Schedule.status == ScheduleStatus.open)
    if part is not None:
        statement = statement.where(Schedule.session == part)
    return list(session.scalars(_ordered(statement)).all())


def attendance(session: Session, date_from: date, date_to: date, department_id: int | None = None,
               doctor_id: int | None = None) -> dict[str, Any]:
    """出诊: sessions, quota, booked and visited of the live sessions in a date range, summed per doctor.

    Names come from each doctor's most recently created session in the range (a doctor renamed or moved since
    shows under the newest name, on one line).
    """
    if date_to < date_from:
        raise Unprocessable("date_to is before date_from", code="attendance.range_invalid",
                            detail={"field": "date_to"})
    if (date_to - date_from).days + 1 > MAX_ATTENDANCE_DAYS:
        raise Unprocessable(f"The range may cover at most {MAX_ATTENDANCE_DAYS} days",
                            code="attendance.range_too_long", detail={"field": "date_to",
                                                                      "max_days": MAX_ATTENDANCE_DAYS})
    conditions = [Schedule.schedule_date.between(date_from, date_to), Schedule.status != ScheduleStatus.cancelled]
    if department_id is not None:
        conditions.append(Schedule.department_id == department_id)
    if doctor_id is not None:
        conditions.append(Schedule.doctor_id == doctor_id)
    sums = session.execute(
        select(Schedule.doctor_id, func.count(), func.sum(Schedule.quota), func.sum(Schedule.booked),
               func.sum(Schedule.visited), func.max(Schedule.id))
        .where(*conditions).group_by(Schedule.doctor_id)
    ).all()
    latest = {row.id: row for row in session.scalars(select(Schedule).where(Schedule.id.in_([s[5] for s in sums])))}
    items = []
    for doctor, sessions, quota, booked, visited, latest_id in sums:
        named = latest[latest_id]
        items.append({"doctor_id": doctor, "doctor_name": named.doctor_name, "department_id": named.department_id,
                      "department_name": named.department_name, "sessions": int(sessions), "quota": int(quota),
                      "booked": int(booked), "visited": int(visited)})
    items.sort(key=lambda item: (item["department_name"], item["doctor_name"], item["doctor_id"]))
    totals = {key: sum(item[key] for item in items) for key in ("sessions", "quota", "booked", "visited")}
    return {"date_from": date_from, "date_to": date_to, "items": items, "totals": totals}


def _holders(session: Session, schedule_id: int) -> list[str]:
    """The registration numbers holding a slot of the session, in booking order."""
    return list(session.scalars(
        select(SlotBooking.registration_no)
        .where(SlotBooking.schedule_id == schedule_id, SlotBooking.status == BookingStatus.booked)
        .order_by(SlotBooking.id)
    ))


# ---------------------------------------------------------------------------------------------------------------
# Sessions: writes


def _changed(session: WriteSession, row: Schedule, event: str) -> None:
    """Tell other services in the same transaction (`schedule.created`, `.updated`, `.cancelled`)."""
    session.flush()
    emit(session, OutboxEvent, event, schedule_out(row))


def _live_schedule_id(session: Session, doctor_id: int, day: date, part: str, *, fresh: bool = False) -> int | None:
    statement = select(Schedule.id).where(Schedule.doctor_id == doctor_id, Schedule.schedule_date == day,
                                          Schedule.session == part, Schedule.live_key == 0)
    if fresh:
        # A locking read sees the latest commit (MariaDB's plain reads see the transaction's first snapshot).
        statement = statement.with_for_update(read=True)
    return session.scalar(statement)


def _duplicate(schedule_id: int | None) -> Conflict:
    return Conflict("The doctor already has a session on that date and part of the day",
                    code="schedule.duplicate", detail={"schedule_id": schedule_id})


def _new_schedule(assignment: Assignment, day: date, part: str, quota: int, note: str | None) -> Schedule:
    doctor, registration_type = assignment.doctor, assignment.registration_type
    return Schedule(doctor_id=doctor.id, doctor_name=doctor.name, department_id=doctor.department_id,
                    department_name=doctor.department_name, registration_type_id=registration_type.id,
                    registration_type_name=registration_type.name, fee=registration_type.fee, schedule_date=day,
                    session=part, quota=quota, booked=0, visited=0, status=ScheduleStatus.open.value, note=note,
                    live_key=0)


def _insert(session: WriteSession, row: Any) -> bool:
    """Insert `row` in a savepoint; False (and nothing inserted) when a UNIQUE constraint refuses it."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _check_not_past(day: date) -> None:
    if day < hospital_today():
        raise Unprocessable(f"{day.isoformat()} is in the past", code="schedule.date_in_past",
                            detail={"field": "schedule_date"})


def add_schedule(session: WriteSession, assignment: Assignment, day: date, part: str, quota: int,
                 note: str | None = None) -> Schedule:
    """Create one open session for a checked assignment (see `resolve_assignment`)."""
    _check_not_past(day)
    existing = _live_schedule_id(session, assignment.doctor.id, day, part)
    if existing is not None:
        raise _duplicate(existing)
    row = _new_schedule(assignment, day, part, quota, note)
    if not _insert(session, row):
        # Another request created the same session between our check and our insert.
        raise _duplicate(_live_schedule_id(session, assignment.doctor.id, day, part, fresh=True))
    _changed(session, row, "schedule.created")
    return row


def create_schedule(session: WriteSession, peers: Peers, data: Mapping[str, Any]) -> Schedule:
    """POST /schedules: check the date, look the doctor and registration type up, create the session."""
    _check_not_past(data["schedule_date"])  # before asking the data center anything
    assignment = resolve_assignment(peers, data["doctor_id"], data.get("registration_type_id"))
    return add_schedule(session, assignment, data["schedule_date"], data["session"], data["quota"], data.get("note"))


def _has_bookings(session: Session, row: Schedule, message: str) -> Conflict:
    return Conflict(message, code="schedule.has_bookings",
                    detail={"registrations": _holders(session, row.id), "booked": row.booked})


def update_schedule(session: WriteSession, peers: Peers, schedule_id: int, changes: Mapping[str, Any]) -> Schedule:
    """PATCH /schedules/{id}: look a new registration type up (before any lock), then `change_schedule`."""
    type_id = changes.get("registration_type_id")
    types = fetch_registration_types(peers, [type_id]) if type_id is not None else {}
    return change_schedule(session, schedule_id, changes, types)


def change_schedule(session: WriteSession, schedule_id: int, changes: Mapping[str, Any],
                    types: Mapping[int, RegistrationTypeRef]) -> Schedule:
    """Quota (never below booked), registration type (only while nothing is booked; name and fee snapshotted
    again; `types` holds it as the data center has it), note. A value equal to the current one is no change and
    passes every rule, so a form that sends every field back still saves."""
    row = get_schedule(session, schedule_id, lock=True)
    if row.status == ScheduleStatus.cancelled:
        raise Conflict("A cancelled session cannot be changed", code="schedule.cancelled",
                       detail={"status": row.status})
    changed = False
    if "quota" in changes and changes["quota"] != row.quota:
        if changes["quota"] < row.booked:
            raise Conflict(f"{row.booked} slots are booked; the quota cannot be lower",
                           code="schedule.quota_below_booked", detail={"booked": row.booked})
        row.quota = changes["quota"]
        changed = True
    type_id = changes.get("registration_type_id")
    if type_id is not None and type_id != row.registration_type_id:
        if row.booked:
            raise _has_bookings(session, row, "The registration type cannot change while slots are booked")
        registration_type = check_registration_type(types.get(type_id), type_id)
        row.registration_type_id = registration_type.id
        row.registration_type_name = registration_type.name
        row.fee = registration_type.fee
        changed = True
    if "note" in changes and changes["note"] != row.note:
        row.note = changes["note"]
        changed = True
    if changed:
        _changed(session, row, "schedule.updated")
    return row


def _invalid_state(row: Schedule, action: str) -> Conflict:
    return Conflict(f"A {row.status} session cannot be {action}", code="schedule.invalid_state",
                    detail={"status": row.status})


def close_schedule(session: WriteSession, schedule_id: int) -> Schedule:
    """open → closed: no new bookings; the booked ones stay."""
    row = get_schedule(session, schedule_id, lock=True)
    if row.status != ScheduleStatus.open:
        raise _invalid_state(row, "closed")
    row.status = ScheduleStatus.closed.value
    _changed(session, row, "schedule.updated")
    return row


def reopen_schedule(session: WriteSession, schedule_id: int) -> Schedule:
    """closed → open."""
    row = get_schedule(session, schedule_id, lock=True)
    if row.status != ScheduleStatus.closed:
        raise _invalid_state(row, "reopened")
    row.status = ScheduleStatus.open.value
    _changed(session, row, "schedule.updated")
    return row


def cancel_schedule(session: WriteSession, schedule_id: int) -> Schedule:
    """open/closed → cancelled, only while nothing is booked; frees the doctor/date/session for a new one."""
    row = get_schedule(session, schedule_id, lock=True)  # a concurrent booking waits, then finds it cancelled
    if row.status == ScheduleStatus.cancelled:
        raise _invalid_state(row, "cancelled")
    if row.booked:
        raise _has_bookings(session, row, f"{row.booked} slots are booked; cancel those registrations first")
    row.status = ScheduleStatus.cancelled.value
    row.live_key = row.id
    _changed(session, row, "schedule.cancelled")
    return row


# ---------------------------------------------------------------------------------------------------------------
# Generating and copying weeks


@dataclass(frozen=True)
class Planned:
    """A session a template or a source week asks for."""

    doctor_id: int
    registration_type_id: int
    schedule_date: date
    session: str
    quota: int
    note: str | None = None


def create_planned(session: WriteSession, planned: Sequence[Planned], doctors: Mapping[int, DoctorRef],
                   types: Mapping[int, RegistrationTypeRef]) -> tuple[list[Schedule], int]:
    """Create the planned sessions that can be: not in the past, no live session there yet, doctor and
    registration type still usable. Returns the created sessions (in the planned order) and how many were
    skipped.

    The rows go in in the order of their UNIQUE key (doctor, date, part of the day), whatever the planned order:
    on MariaDB a duplicate-key error leaves a shared lock on that key until the transaction ends, so two
    generations of the same week inserting in different orders would deadlock; in one order they only wait."""
    if not planned:
        return [], 0
    today = hospital_today()
    dates = [p.schedule_date for p in planned]
    taken = {tuple(row) for row in session.execute(
        select(Schedule.doctor_id, Schedule.schedule_date, Schedule.session)
        .where(Schedule.doctor_id.in_({p.doctor_id for p in planned}),
               Schedule.schedule_date.between(min(dates), max(dates)), Schedule.live_key == 0)
    )}
    created: list[tuple[int, Schedule]] = []
    by_key = sorted(enumerate(planned), key=lambda item: (item[1].doctor_id, item[1].schedule_date,
                                                          item[1].session))
    for position, plan in by_key:
        key = (plan.doctor_id, plan.schedule_date, plan.session)
        doctor, registration_type = doctors.get(plan.doctor_id), types.get(plan.registration_type_id)
        usable = (doctor is not None and doctor.active and doctor.practice == "outpatient"
                  and registration_type is not None and registration_type.active)
        if plan.schedule_date < today or key in taken or not usable:
            continue
        row = _new_schedule(Assignment(doctor, registration_type), plan.schedule_date, plan.session, plan.quota,
                            plan.note)
        if not _insert(session, row):  # created concurrently since our read: skipped, never duplicated
            continue
        taken.add(key)
        _changed(session, row, "schedule.created")
        created.append((position, row))
    return [row for _, row in sorted(created, key=lambda item: item[0])], len(planned) - len(created)


def plan_from_templates(templates: Iterable[ScheduleTemplate], week_start: date) -> list[Planned]:
    return [
        Planned(doctor_id=t.doctor_id, registration_type_id=t.registration_type_id,
                schedule_date=week_start + timedelta(days=t.weekday - 1), session=t.session, quota=t.quota)
        for t in templates
    ]


def order_planned(planned: Iterable[Planned]) -> list[Planned]:
    """By date, part of the day and doctor: the order the answer lists the created sessions in."""
    return sorted(planned, key=lambda p: (p.schedule_date, SESSION_ORDER[ClinicSession(p.session)], p.doctor_id))


def create_with_master_data(session: WriteSession, peers: Peers, planned: Sequence[Planned]
                            ) -> tuple[list[Schedule], int]:
    """Create planned sessions with the doctors' and registration types' current data from the data center."""
    if not planned:
        return [], 0
    doctors = fetch_doctors(peers, {p.doctor_id for p in planned})
    types = fetch_registration_types(peers, {p.registration_type_id for p in planned})
    return create_planned(session, order_planned(planned), doctors, types)


def plan_week_from_templates(reads: Session, week_start: date, department_id: int | None = None) -> list[Planned]:
    """The sessions the templates (of one department, or all) ask for in the week starting `week_start`."""
    check_monday(week_start)
    statement = select(ScheduleTemplate).order_by(ScheduleTemplate.id)
    if department_id is not None:
        statement = statement.where(ScheduleTemplate.department_id == department_id)
    return plan_from_templates(reads.scalars(statement).all(), week_start)


def plan_week_copy(reads: Session, source_week_start: date, target_week_start: date,
                   department_id: int | None = None) -> list[Planned]:
    """The live sessions of the source week moved to the same weekday of the target week."""
    check_monday(source_week_start, "source_week_start")
    check_monday(target_week_start, "target_week_start")
    if source_week_start == target_week_start:
        raise Unprocessable("The source and target weeks are the same", code="schedule.copy_same_week",
                            detail={"field": "target_week_start"})
    shift = target_week_start - source_week_start
    statement = select(Schedule).where(
        Schedule.schedule_date.between(source_week_start, source_week_start + timedelta(days=6)),
        Schedule.status != ScheduleStatus.cancelled,
    ).order_by(Schedule.id)
    if department_id is not None:
        statement = statement.where(Schedule.department_id == department_id)
    return [
        Planned(doctor_id=s.doctor_id, registration_type_id=s.registration_type_id,
                schedule_date=s.schedule_date + shift, session=s.session, quota=s.quota, note=s.note)
        for s in reads.scalars(statement)
    ]


def generate_week(session: WriteSession, reads: Session, peers: Peers, week_start: date,
                  department_id: int | None = None) -> tuple[list[Schedule], int]:
    """POST /schedules/generate: one session per template line for the week; dates before today and
    doctor/date/sessions that already have a live session are skipped, so running it twice creates nothing new.

    The templates are read with `reads` (the caller's read session, on the primary for a POST), so no write lock
    is held while the data center is asked for current names and fees."""
    return create_with_master_data(session, peers, plan_week_from_templates(reads, week_start, department_id))


def copy_week(session: WriteSession, reads: Session, peers: Peers, source_week_start: date,
              target_week_start: date, department_id: int | None = None) -> tuple[list[Schedule], int]:
    """POST /schedules/copy-week: every live session of the source week, open and with nothing booked, on the
    same weekday of the target week; past dates and existing sessions skipped."""
    planned = plan_week_copy(reads, source_week_start, target_week_start, department_id)
    return create_with_master_data(session, peers, planned)


# ---------------------------------------------------------------------------------------------------------------
# Templates


def get_template(session: Session, template_id: int) -> ScheduleTemplate:
    row = session.get(ScheduleTemplate, template_id)
    if row is None:
        raise NotFound(f"No template line with id {template_id}", code="template.not_found",
                       detail={"id": template_id})
    return row


def list_templates(session: Session, filters: Mapping[str, Any], page: PageParams
                   ) -> tuple[list[ScheduleTemplate], int]:
    statement = select(ScheduleTemplate).order_by(ScheduleTemplate.department_name, ScheduleTemplate.doctor_name,
                                                  ScheduleTemplate.doctor_id, ScheduleTemplate.weekday,
                                                  _template_session_rank, ScheduleTemplate.id)
    for name, value in filters.items():
        if value is None:
            continue
        if name not in ("department_id", "doctor_id"):
            raise ValueError(f"templates cannot be filtered on {name!r}")
        statement = statement.where(getattr(ScheduleTemplate, name) == value)
    return paginate(session, statement, page)


def _template_id(session: Session, doctor_id: int, weekday: int, part: str, *, fresh: bool = False) -> int | None:
    statement = select(ScheduleTemplate.id).where(ScheduleTemplate.doctor_id == doctor_id,
                                                  ScheduleTemplate.weekday == weekday, ScheduleTemplate.session == part)
    return session.scalar(statement.with_for_update(read=True) if fresh else statement)


def _template_duplicate(template_id: int | None) -> Conflict:
    return Conflict("The doctor already has a template line for that weekday and part of the day",
                    code="template.duplicate", detail={"template_id": template_id})


def add_template(session: WriteSession, assignment: Assignment, weekday: int, part: str, quota: int
                 ) -> ScheduleTemplate:
    doctor, registration_type = assignment.doctor, assignment.registration_type
    existing = _template_id(session, doctor.id, weekday, part)
    if existing is not None:
        raise _template_duplicate(existing)
    row = ScheduleTemplate(department_id=doctor.department_id, department_name=doctor.department_name,
                           doctor_id=doctor.id, doctor_name=doctor.name, registration_type_id=registration_type.id,
                           registration_type_name=registration_type.name, weekday=weekday, session=part, quota=quota)
    if not _insert(session, row):
        raise _template_duplicate(_template_id(session, doctor.id, weekday, part, fresh=True))
    session.flush()
    return row


def create_template(session: WriteSession, peers: Peers, data: Mapping[str, Any]) -> ScheduleTemplate:
    assignment = resolve_assignment(peers, data["doctor_id"], data.get("registration_type_id"))
    return add_template(session, assignment, data["weekday"], data["session"], data["quota"])


def update_template(session: WriteSession, peers: Peers, template_id: int, changes: Mapping[str, Any]
                    ) -> ScheduleTemplate:
    type_id = changes.get("registration_type_id")
    types = fetch_registration_types(peers, [type_id]) if type_id is not None else {}
    return change_template(session, template_id, changes, types)


def change_template(session: WriteSession, template_id: int, changes: Mapping[str, Any],
                    types: Mapping[int, RegistrationTypeRef]) -> ScheduleTemplate:
    """Quota and registration type of a template line (sessions made from it earlier keep theirs)."""
    row = get_template(session, template_id)
    if changes.get("quota") is not None:
        row.quota = changes["quota"]
    type_id = changes.get("registration_type_id")
    if type_id is not None and type_id != row.registration_type_id:
        registration_type = check_registration_type(types.get(type_id), type_id)
        row.registration_type_id = registration_type.id
        row.registration_type_name = registration_type.name
    session.flush()
    return row


def delete_template(session: WriteSession, template_id: int) -> None:
    session.delete(get_template(session, template_id))
    session.flush()


# ---------------------------------------------------------------------------------------------------------------
# Slots (internal routes, for the outpatient service)


def _holder(session: Session, registration_no: str, *, share: bool = False) -> SlotBooking | None:
    """The live booking of a registration number, read afresh and locked (shared or exclusive)."""
    return session.scalar(
        select(SlotBooking)
        .where(SlotBooking.registration_no == registration_no, SlotBooking.live_key == 0)
        .with_for_update(read=share)
        .execution_options(populate_existing=True)
    )


def _booking_conflict(registration_no: str, holder: SlotBooking) -> Conflict:
    return Conflict(f"{registration_no} holds a slot on another session", code="booking.conflict",
                    detail={"registration_no": registration_no, "schedule_id": holder.schedule_id})


def book_slot(session: WriteSession, schedule_id: int, registration_no: str) -> Schedule:
    """Take one slot of the session for a registration number; the same number again answers the same.

    The session row is locked first, as on every slot path (see the module docstring): inserting the booking
    row checks its foreign key with a shared lock on the session row, and two bookings each holding that shared
    lock while waiting to update the row would deadlock. Then the booking row goes in: a concurrent request
    with the same number for another session waits on its UNIQUE key and then finds it (or, if this one rolls
    back, inserts its own). Last, one conditional UPDATE takes the slot, only if the session is open and not
    full; if it is not, the error rolls back the whole transaction, booking row included.
    """
    schedule = get_schedule(session, schedule_id, lock=True)
    for _attempt in range(3):
        if _insert(session, SlotBooking(schedule_id=schedule_id, registration_no=registration_no,
                                        status=BookingStatus.booked.value, live_key=0, visited=False)):
            break
        holder = _holder(session, registration_no, share=True)
        if holder is None:
            continue  # released or rolled back since our insert failed: try again
        if holder.schedule_id != schedule_id:
            raise _booking_conflict(registration_no, holder)
        return schedule  # a repeat: the same answer, nothing more taken
    else:
        raise Conflict(f"{registration_no} is being booked and released at once; retry",
                       code="booking.conflict", detail={"registration_no": registration_no})
    if schedule.schedule_date < hospital_today():
        raise Conflict("The session is over", code="schedule.past",
                       detail={"schedule_id": schedule_id, "schedule_date": schedule.schedule_date.isoformat()})
    taken = session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.status == ScheduleStatus.open, Schedule.booked < Schedule.quota)
        .values(booked=Schedule.booked + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(schedule)
    if taken != 1:
        if schedule.status != ScheduleStatus.open:
            raise Conflict(f"The session is {schedule.status}", code="schedule.not_open",
                           detail={"schedule_id": schedule_id, "status": schedule.status})
        raise Conflict("Every slot of the session is booked", code="schedule.full",
                       detail={"schedule_id": schedule_id, "quota": schedule.quota})
    return schedule


def release_slot(session: WriteSession, schedule_id: int, registration_no: str) -> tuple[Schedule, bool]:
    """Give back the slot this number holds on the session; (session, False) when it holds none here."""
    schedule = get_schedule(session, schedule_id, lock=True)
    holder = _holder(session, registration_no)
    if holder is None or holder.schedule_id != schedule_id:
        return schedule, False
    if holder.visited:
        raise Conflict(f"{registration_no} has visited the doctor; its slot is used", code="booking.visited",
                       detail={"registration_no": registration_no})
    holder.status = BookingStatus.released.value
    holder.live_key = holder.id
    holder.released_at = utcnow()
    session.flush()
    session.execute(
        update(Schedule).where(Schedule.id == schedule_id)
        .values(booked=Schedule.booked - 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(schedule)
    return schedule, True


def visit_slot(session: WriteSession, schedule_id: int, registration_no: str) -> Schedule:
    """Count the visit of the registration holding a slot on the session, once."""
    schedule = get_schedule(session, schedule_id, lock=True)
    holder = _holder(session, registration_no)
    if holder is None or holder.schedule_id != schedule_id:
        raise Conflict(f"{registration_no} holds no slot on this session", code="booking.not_found",
                       detail={"registration_no": registration_no, "schedule_id": schedule_id})
    if not holder.visited:
        holder.visited = True
        holder.visited_at = utcnow()
        session.flush()
        session.execute(
            update(Schedule).where(Schedule.id == schedule_id)
            .values(visited=Schedule.visited + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.refresh(schedule)
    return schedule
