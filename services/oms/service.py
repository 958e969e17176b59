"""The rules of the outpatient service: patients, registrations, pricing, payments and refunds, exams.

Functions take the session (and, where another service is involved, `peers`, and the acting user); they flush
so database errors surface here, and never commit: the request's unit of work does, together with the outbox
events emitted here.

Other services:
- DBS (master data) is read through its internal look-ups with this service's own token: a cashier holds only
  `outpatient`. DBS caches those answers itself and drops them when master data changes, so nothing is cached
  here (a department added a moment ago is offered at once); a price is the price at the moment of pricing,
  and is then snapshotted on the line.
- DMS (schedules) books, releases and marks visits of slots, idempotently by registration number. A call that
  took effect in DMS is undone by a compensation registered with `after_rollback` if this transaction then
  fails (a booked slot is released; a released one is booked again), and every compensation is logged.

Concurrency. Every change of state locks its row first (`SELECT … FOR UPDATE`, re-read with
`populate_existing`), so two requests on the same document are serialised: the second sees what the first
did (one payment succeeds, the other gets `payment.already_paid`). The lock is taken before any other read
of the transaction, so on MariaDB the transaction's snapshot is taken after it and later plain reads (the
ledger, a line's result) see everything committed before. Locks are always taken parent first (item order,
then its lines, then a line's result), so two such transactions never deadlock. On SQLite the write session
holds the database's write lock from its start, which serialises the same way.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, selectinload

from common.auth import Principal
from common.client import PeerError, Peers
from common.db import Database, WriteSession, after_rollback
from common.errors import AppError, Conflict, NotFound, ServiceUnavailable, Unprocessable
from common.events import emit
from common.logging import get_logger
from common.objects import ObjectStore
from common.pagination import PageParams, paginate
from common.timeutil import day_start_utc, hospital_today, utcnow
from common.types import to_fen
from services.oms import schemas
from services.oms.models import (
    AttachmentType,
    Base,
    ExamAttachment,
    ExamResult,
    ItemLineStatus,
    ItemOrder,
    ItemOrderLine,
    ItemOrderStatus,
    OutboxEvent,
    Patient,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentTarget,
    Prescription,
    PrescriptionLine,
    PrescriptionStatus,
    Registration,
    RegistrationStatus,
)

log = get_logger("services.oms")

Row = TypeVar("Row", bound=Base)

ZERO = Decimal("0.00")
# The largest amount a Numeric(12, 2) column holds: a document priced above it is refused, never truncated.
MAX_AMOUNT = Decimal("9999999999.99")


# ---------------------------------------------------------------------------------------------------------------
# Pricing (pure): lines -> amounts


@dataclass(frozen=True)
class Priced:
    """Line amounts in the order of the lines, and their exact sum."""

    amounts: list[Decimal]
    total: Decimal


def price_lines(lines: Iterable[tuple[Decimal, int]]) -> Priced:
    """Price (unit_price, quantity) pairs: each amount is quantity × unit_price rounded half up to the fen, the
    total is the exact sum of those amounts (never re-rounded, so a receipt's lines always add up).

    Refuses floats (TypeError) for prices and anything but an int for quantities: a float cannot hold most
    prices exactly, and a fractional quantity is not a quantity of packs."""
    amounts = []
    for unit_price, quantity in lines:
        if not isinstance(unit_price, Decimal):
            raise TypeError(f"unit_price must be a Decimal, not {type(unit_price).__name__}")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError(f"quantity must be an int, not {type(quantity).__name__}")
        if unit_price < 0 or quantity < 1:
            raise ValueError("unit_price must not be negative and quantity must be at least 1")
        amounts.append(to_fen(unit_price * quantity))
    return Priced(amounts, sum(amounts, ZERO))


# ---------------------------------------------------------------------------------------------------------------
# Numbers and small utilities


def document_no(prefix: str, row_id: int, day: date | None = None) -> str:
    """R20261125-00042: prefix, the hospital's date, the row's id (unique by itself, so numbers never race)."""
    return f"{prefix}{(day or hospital_today()):%Y%m%d}-{row_id:05d}"


def patient_number(row_id: int) -> str:
    return f"P{row_id:08d}"


def money(value: Decimal) -> str:
    """An amount as event payloads and ledger lines carry it: a string with two decimals."""
    return str(to_fen(value))


def _actor_id(actor: Principal) -> int | None:
    return actor.user_id


def _not_found(entity: str, row_id: int) -> NotFound:
    return NotFound(f"No {entity.replace('_', ' ')} with id {row_id}", code=f"{entity}.not_found",
                    detail={"id": row_id})


def _get(session: Session, model: type[Row], row_id: int, entity: str) -> Row:
    row = session.get(model, row_id)
    if row is None:
        raise _not_found(entity, row_id)
    return row


def _locked(session: Session, model: type[Row], row_id: int, entity: str) -> Row:
    """The row, locked for this transaction and re-read: the latest committed state, whatever was loaded
    before. Relationships load afterwards (plain reads), so the lock covers this row only, not the rows its
    eager joins would reach."""
    row = session.scalars(
        select(model).options(lazyload("*")).where(model.id == row_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise _not_found(entity, row_id)
    return row


def _locked_lines(session: Session, order: ItemOrder) -> list[ItemOrderLine]:
    lines = session.scalars(
        select(ItemOrderLine).options(lazyload("*")).where(ItemOrderLine.item_order_id == order.id)
        .order_by(ItemOrderLine.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    return list(lines)


def _event(session: WriteSession, type_: str, payload: dict[str, Any]) -> None:
    emit(session, OutboxEvent, type_, payload)


def _dump(model: type[BaseModel], row: Any) -> dict[str, Any]:
    return model.model_validate(row).model_dump(mode="json")


# ---------------------------------------------------------------------------------------------------------------
# Other services


def call_peer(peers: Peers, service: str, method: str, path: str, **kwargs: Any) -> Any:
    """`Peers.call`, with every way of not reaching the peer answered as 503 `service.unavailable`."""
    try:
        return peers.call(service, method, path, **kwargs)
    except ServiceUnavailable as exc:
        if exc.code == "service.unavailable":
            raise
        raise ServiceUnavailable(f"{service} is not available", code="service.unavailable",
                                 detail={"service": service}) from exc


Model = TypeVar("Model", bound=BaseModel)


def _peer_model(model: type[Model], body: Any, service: str) -> Model:
    """A peer's answer read into our model; an answer of the wrong shape is the peer failing, not our caller."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        log.error("peer_answer_invalid", target=service, model=model.__name__, error=str(exc)[:500])
        raise ServiceUnavailable(f"{service} gave an answer that could not be read", code="service.unavailable",
                                 detail={"service": service}) from exc


def _dbs_page(peers: Peers, namespace: str, params: list[tuple[str, Any]]) -> dict[str, Any]:
    return call_peer(peers, "dbs", "GET", f"/internal/{namespace}", params=params)


def _dbs_by_ids(peers: Peers, namespace: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Rows of a DBS catalogue by id, active or not (pricing tells the two apart)."""
    params = [("ids", i) for i in sorted(set(ids))] + [("size", 100)]
    return {row["id"]: row for row in _dbs_page(peers, namespace, params)["items"]}


def lookup_departments(peers: Peers, q: str | None) -> list[dict[str, Any]]:
    """Active clinical departments (for registration)."""
    params: list[tuple[str, Any]] = [("kind", "clinical"), ("active", "true"), ("size", 100)]
    if q:
        params.append(("q", q))
    items = _dbs_page(peers, "departments", params)["items"]
    return [{"id": d["id"], "code": d["code"], "name": d["name"]} for d in items]


def _lookup_page(peers: Peers, namespace: str, out: type[BaseModel], q: str | None,
                 page: PageParams) -> dict[str, Any]:
    params: list[tuple[str, Any]] = [("active", "true"), ("page", page.page), ("size", page.size)]
    if q:
        params.append(("q", q))
    body = _dbs_page(peers, namespace, params)
    items = [_peer_model(out, row, "dbs").model_dump(mode="json") for row in body["items"]]
    return {"items": items, "total": body["total"], "page": page.page, "size": page.size}


def lookup_drugs(peers: Peers, q: str | None, page: PageParams) -> dict[str, Any]:
    return _lookup_page(peers, "drugs", schemas.DrugLookup, q, page)


def lookup_medical_items(peers: Peers, q: str | None, page: PageParams) -> dict[str, Any]:
    return _lookup_page(peers, "medical-items", schemas.MedicalItemLookup, q, page)


def lookup_on_duty(peers: Peers, department_id: int, day: date | None, session: str | None) -> schemas.OnDutyList:
    """Open sessions of a department on a day, with their remaining slots (never cached: slots change)."""
    params: dict[str, Any] = {"department_id": department_id, "date": (day or hospital_today()).isoformat()}
    if session:
        params["session"] = session
    body = call_peer(peers, "dms", "GET", "/internal/schedules/on-duty", params=params)
    return _peer_model(schemas.OnDutyList, body, "dms")


def _schedule(peers: Peers, schedule_id: int) -> schemas.ScheduleOut:
    return _peer_model(schemas.ScheduleOut, call_peer(peers, "dms", "GET", f"/internal/schedules/{schedule_id}"),
                       "dms")


# ---------------------------------------------------------------------------------------------------------------
# 门诊患者 patients

ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK_CHARS = "10X98765432"


def id_card_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return ID_CARD_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_CARD_WEIGHTS, strict=True)) % 11]


def id_card_birth_date(id_card: str) -> date | None:
    """The birth date embedded at positions 7-14, or None when it is not a date."""
    try:
        return date(int(id_card[6:10]), int(id_card[10:12]), int(id_card[12:14]))
    except ValueError:
        return None


def normalize_id_card(value: str) -> str:
    """The number upper-cased, when it is 17 digits and the right check character, with a real birth date."""
    card = value.strip().upper()
    if (len(card) != 18 or not card[:17].isascii() or not card[:17].isdigit()
            or card[17] != id_card_check_char(card[:17]) or id_card_birth_date(card) is None):
        raise Unprocessable("The ID-card number is not valid (GB 11643)", code="patient.id_card_invalid",
                            detail={"field": "id_card"})
    return card


def _check_id_card(session: Session, card: str, birth_date: date, exclude_id: int | None) -> None:
    if id_card_birth_date(card) != birth_date:
        raise Unprocessable("The birth date does not match the ID-card number", code="patient.id_card_mismatch",
                            detail={"field": "birth_date"})
    statement = select(Patient.id).where(Patient.id_card == card)
    if exclude_id is not None:
        statement = statement.where(Patient.id != exclude_id)
    holder = session.scalar(statement)
    if holder is not None:
        raise _id_card_taken(holder)


def _id_card_taken(patient_id: int | None) -> Conflict:
    return Conflict("A patient with this ID-card number is already registered", code="patient.id_card_taken",
                    detail={"patient_id": patient_id})


def _check_duplicates(session: Session, name: str, birth_date: date, phone: str | None,
                      exclude_id: int | None) -> None:
    """Same name and birth date (and, when a phone is given, the same phone or none on file): probably the
    same person registered twice. The clerk may confirm with allow_duplicate."""
    statement = select(Patient).where(Patient.name == name, Patient.birth_date == birth_date)
    if phone:
        statement = statement.where(or_(Patient.phone == phone, Patient.phone.is_(None)))
    if exclude_id is not None:
        statement = statement.where(Patient.id != exclude_id)
    candidates = session.scalars(statement.order_by(Patient.id).limit(10)).all()
    if candidates:
        raise Conflict("A patient with the same name and birth date is already registered",
                       code="patient.possible_duplicate",
                       detail={"candidates": [_dump(schemas.PatientOut, c) for c in candidates]})


def _flush_patient(session: Session, patient: Patient, changes: dict[str, Any] | None = None) -> None:
    """Add the patient (or apply `changes` to it) and flush, in a savepoint: two requests with one ID-card number
    both pass the check, the unique key stops the second, and it gets the same answer as if the check had caught
    it. The changes are made inside the savepoint: `begin_nested` first flushes what is already pending, outside
    the savepoint, where a failure would leave the whole transaction unusable."""
    card = (changes or {}).get("id_card", patient.id_card)
    try:
        with session.begin_nested():
            session.add(patient)
            for name, value in (changes or {}).items():
                setattr(patient, name, value)
            session.flush()
    except IntegrityError as exc:
        if "id_card" not in str(exc.orig):
            raise
        holder = session.scalar(select(Patient.id).where(Patient.id_card == card).with_for_update(read=True))
        raise _id_card_taken(holder) from exc


def create_patient(session: WriteSession, data: dict[str, Any]) -> Patient:
    data = dict(data)
    allow_duplicate = data.pop("allow_duplicate", False)
    if data.get("id_card"):
        data["id_card"] = normalize_id_card(data["id_card"])
        _check_id_card(session, data["id_card"], data["birth_date"], None)
    if not allow_duplicate:
        _check_duplicates(session, data["name"], data["birth_date"], data.get("phone"), None)
    patient = Patient(**data)
    _flush_patient(session, patient)
    patient.patient_no = patient_number(patient.id)
    session.flush()
    return patient


def get_patient(session: Session, patient_id: int) -> Patient:
    return _get(session, Patient, patient_id, "patient")


def update_patient(session: WriteSession, patient_id: int, changes: dict[str, Any]) -> Patient:
    changes = dict(changes)
    allow_duplicate = changes.pop("allow_duplicate", False)
    patient = _locked(session, Patient, patient_id, "patient")
    if changes.get("id_card"):
        changes["id_card"] = normalize_id_card(changes["id_card"])
    changed = {name: value for name, value in changes.items() if getattr(patient, name) != value}
    if not changed:
        return patient
    birth_date = changed.get("birth_date", patient.birth_date)
    id_card = changed.get("id_card", patient.id_card)
    if id_card and ({"id_card", "birth_date"} & changed.keys()):
        _check_id_card(session, id_card, birth_date, patient.id)
    if not allow_duplicate and {"name", "birth_date", "phone"} & changed.keys():
        _check_duplicates(session, changed.get("name", patient.name), birth_date,
                          changed.get("phone", patient.phone), patient.id)
    _flush_patient(session, patient, changed)
    return patient


_TAIL = frozenset("0123456789X")


def list_patients(session: Session, q: str | None, gender: str | None, page: PageParams
                  ) -> tuple[list[Patient], int]:
    statement = select(Patient).order_by(Patient.id.desc())
    if gender:
        statement = statement.where(Patient.gender == gender)
    if q:
        upper = q.upper()
        matches = [Patient.name.icontains(q, autoescape=True), Patient.patient_no == upper, Patient.phone == q,
                   Patient.id_card == upper]
        if len(q) >= 4 and set(upper) <= _TAIL:
            # The last digits of an ID card or a phone, as patients often give them.
            matches.append(Patient.id_card.endswith(upper, autoescape=True))
            if upper.isdigit():
                matches.append(Patient.phone.endswith(q, autoescape=True))
        statement = statement.where(or_(*matches))
    return paginate(session, statement, page)


def patient_history(session: Session, patient_id: int) -> schemas.PatientHistory:
    """Every visit of a patient, newest first, with its documents (exam results and files included) and its
    ledger entries, and the patient's totals."""
    patient = get_patient(session, patient_id)
    registrations = session.scalars(
        select(Registration).where(Registration.patient_id == patient_id).order_by(Registration.id.desc())
    ).all()
    ids = [r.id for r in registrations]
    prescriptions = _by_registration(session, Prescription, ids)
    item_orders = _by_registration(session, ItemOrder, ids)
    payments = _by_registration(session, Payment, ids)
    visits = []
    for registration in registrations:
        visits.append(schemas.RegistrationHistory(
            **schemas.RegistrationOut.model_validate(registration).model_dump(),
            prescriptions=[schemas.PrescriptionOut.model_validate(p) for p in prescriptions.get(registration.id, [])],
            item_orders=[schemas.ItemOrderOut.model_validate(o) for o in item_orders.get(registration.id, [])],
            payments=[schemas.PaymentOut.model_validate(p) for p in payments.get(registration.id, [])],
        ))
    amounts = [p.amount for group in payments.values() for p in group]
    paid = sum((a for a in amounts if a > 0), ZERO)
    refunded = -sum((a for a in amounts if a < 0), ZERO)
    return schemas.PatientHistory(
        patient=schemas.PatientDetail.model_validate(patient), registrations=visits,
        totals=schemas.HistoryTotals(paid_amount=paid, refunded_amount=refunded, net_amount=paid - refunded),
    )


def _by_registration(session: Session, model: type[Row], registration_ids: list[int]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = {}
    if not registration_ids:
        return grouped
    rows = session.scalars(select(model).where(model.registration_id.in_(registration_ids)).order_by(model.id))
    for row in rows:
        grouped.setdefault(row.registration_id, []).append(row)
    return grouped


# ---------------------------------------------------------------------------------------------------------------
# 挂号 registrations


def get_registration(session: Session, registration_id: int) -> Registration:
    return _get(session, Registration, registration_id, "registration")


def _active_registration_id(session: Session, patient_id: int, schedule_id: int, *, lock: bool = False
                            ) -> int | None:
    statement = select(Registration.id).where(
        Registration.patient_id == patient_id, Registration.schedule_id == schedule_id,
        Registration.active_key == 0,
    )
    if lock:
        # A locking read sees the latest committed row, not this transaction's snapshot. Shared: after a
        # duplicate-key error every loser already holds a shared lock on the winner's key, and asking for an
        # exclusive one there would deadlock the losers with each other.
        statement = statement.with_for_update(read=True)
    return session.scalar(statement)


def _duplicate_registration(registration_id: int | None) -> Conflict:
    return Conflict("The patient already holds a registration for this clinic session",
                    code="registration.duplicate", detail={"registration_id": registration_id})


def _invalid_state(registration: Registration, action: str) -> Conflict:
    return Conflict(f"A {registration.status} registration cannot be {action}",
                    code="registration.invalid_state", detail={"status": registration.status})


def _slot_path(registration: Registration, action: str) -> str:
    return f"/internal/schedules/{registration.schedule_id}/{action}"


def _book_slot(session: WriteSession, peers: Peers, registration: Registration) -> schemas.ScheduleOut:
    """Book the registration's slot in DMS and return the session as DMS answered the booking. If this
    transaction fails afterwards the slot is released again; the compensation is registered before the call,
    because a call that times out may have booked."""
    body = {"registration_no": registration.registration_no}
    path, release_path = _slot_path(registration, "book"), _slot_path(registration, "release")
    maybe_booked = True

    def release() -> None:
        if not maybe_booked:
            return
        try:
            answer = _call_dms(peers, release_path, body)
        except AppError as exc:
            log.error("registration_slot_release_failed", registration_no=body["registration_no"],
                      schedule_id=registration.schedule_id, code=exc.code)
            return
        log.warning("registration_slot_released", reason="transaction rolled back",
                    registration_no=body["registration_no"], schedule_id=registration.schedule_id,
                    released=bool((answer or {}).get("released")))

    after_rollback(session, release)
    try:
        answer = _call_idempotent(peers, "dms", path, body)
    except PeerError:
        maybe_booked = False  # DMS refused it (full, closed, past …): nothing to undo
        raise
    except ServiceUnavailable as exc:
        if (exc.detail or {}).get("reason") == "no_instance":
            maybe_booked = False  # nothing was sent
        raise ServiceUnavailable("dms is not available", code="service.unavailable",
                                 detail={"service": "dms"}) from exc
    return _peer_model(schemas.ScheduleOut, (answer or {}).get("schedule"), "dms")


# A peer that answered with a server error (a deadlock it gave up on, an instance restarting) is asked again
# this many times, shortly after: only for calls that are idempotent by their body (booking by number).
_TRANSIENT_ATTEMPTS = 3


def _call_idempotent(peers: Peers, service: str, path: str, body: dict[str, Any]) -> Any:
    for attempt in range(1, _TRANSIENT_ATTEMPTS + 1):
        try:
            return peers.call(service, "POST", path, json=body, retry=True)
        except ServiceUnavailable as exc:
            answered = isinstance(exc.detail, dict) and "status" in exc.detail
            if not answered or attempt == _TRANSIENT_ATTEMPTS:
                raise
            log.warning("peer_call_retried", target=service, path=path, attempt=attempt,
                        status=exc.detail["status"])
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _call_dms(peers: Peers, path: str, body: dict[str, Any]) -> Any:
    """A slot call (book, release, visit: each idempotent by registration number), with every way of not
    getting an answer reported as 503 `service.unavailable`."""
    try:
        return _call_idempotent(peers, "dms", path, body)
    except ServiceUnavailable as exc:
        if exc.code == "service.unavailable":
            raise
        raise ServiceUnavailable("dms is not available", code="service.unavailable",
                                 detail={"service": "dms"}) from exc


def _release_slot(session: WriteSession, peers: Peers, registration: Registration) -> None:
    """Free the slot in DMS; if this transaction then fails, book it again (the registration stays active, so it
    must hold its slot). As for a booking, the compensation is registered before the call: a call that timed
    out, or that was retried after a server error, may have released the slot without saying so. Booking again
    is idempotent by number, so it is harmless when the slot was still held."""
    body = {"registration_no": registration.registration_no}
    maybe_released = True

    def rebook() -> None:
        if not maybe_released:
            return
        try:
            _call_dms(peers, _slot_path(registration, "book"), body)
        except AppError as exc:
            log.error("registration_slot_rebook_failed", registration_no=body["registration_no"],
                      schedule_id=registration.schedule_id, code=exc.code)
            return
        log.warning("registration_slot_rebooked", reason="transaction rolled back",
                    registration_no=body["registration_no"], schedule_id=registration.schedule_id)

    after_rollback(session, rebook)
    try:
        _call_dms(peers, _slot_path(registration, "release"), body)
    except PeerError:
        maybe_released = False  # DMS refused it (e.g. the visit was counted): nothing to undo
        raise
    except ServiceUnavailable as exc:
        if (exc.detail or {}).get("reason") == "no_instance":
            maybe_released = False  # nothing was sent
        raise


def _session_snapshot(schedule: schemas.ScheduleOut) -> dict[str, Any]:
    """What a registration keeps of its clinic session."""
    return {"schedule_id": schedule.id, "doctor_id": schedule.doctor_id, "doctor_name": schedule.doctor_name,
            "department_id": schedule.department_id, "department_name": schedule.department_name,
            "visit_date": schedule.schedule_date, "session": schedule.session,
            "registration_type_id": schedule.registration_type_id,
            "registration_type_name": schedule.registration_type_name or "", "fee": to_fen(schedule.fee)}


def create_registration(session: WriteSession, peers: Peers, actor: Principal, patient_id: int,
                        schedule_id: int) -> Registration:
    """Register a patient for a clinic session: the row first (so its number exists), then the slot in DMS.
    DMS's refusals (full, not open, past, not found) reach the client as DMS gave them."""
    patient = get_patient(session, patient_id)
    existing = _active_registration_id(session, patient_id, schedule_id)
    if existing is not None:
        raise _duplicate_registration(existing)
    schedule = _schedule(peers, schedule_id)
    registration = Registration(
        patient=patient, **_session_snapshot(schedule), status=RegistrationStatus.pending_payment, active_key=0,
        created_by_id=_actor_id(actor), created_by=actor.username,
    )
    try:
        with session.begin_nested():
            session.add(registration)
            session.flush()
    except IntegrityError as exc:
        if "active_key" not in str(exc.orig) and "uq_registration_patient" not in str(exc.orig):
            raise
        raise _duplicate_registration(_active_registration_id(session, patient_id, schedule_id, lock=True)) from exc
    registration.registration_no = document_no("R", registration.id)
    session.flush()
    # The session may have changed since it was read (its registration type, hence its fee, can change while
    # nothing is booked, and the read may come from a lagging replica): the booking's answer is authoritative.
    for name, value in _session_snapshot(_book_slot(session, peers, registration)).items():
        setattr(registration, name, value)
    session.flush()
    _event(session, "registration.created", _dump(schemas.RegistrationOut, registration))
    return registration


def cancel_registration(session: WriteSession, peers: Peers, registration_id: int) -> Registration:
    registration = _locked(session, Registration, registration_id, "registration")
    if registration.status != RegistrationStatus.pending_payment:
        raise _invalid_state(registration, "cancelled")
    _release_slot(session, peers, registration)
    registration.status = RegistrationStatus.cancelled
    registration.cancelled_at = utcnow()
    registration.active_key = registration.id
    session.flush()
    _event(session, "registration.cancelled", _dump(schemas.RegistrationOut, registration))
    return registration


def visit_registration(session: WriteSession, peers: Peers, registration_id: int) -> Registration:
    registration = _locked(session, Registration, registration_id, "registration")
    if registration.status != RegistrationStatus.registered:
        raise _invalid_state(registration, "marked visited")
    # Counted once by DMS however often it is sent, so a rollback here needs no compensation.
    _call_dms(peers, _slot_path(registration, "visit"), {"registration_no": registration.registration_no})
    registration.status = RegistrationStatus.visited
    registration.visited_at = utcnow()
    session.flush()
    _event(session, "registration.visited", _dump(schemas.RegistrationOut, registration))
    return registration


def list_registrations(session: Session, filters: dict[str, Any], page: PageParams
                       ) -> tuple[list[Registration], int]:
    statement = select(Registration).order_by(Registration.id.desc())
    for name in ("patient_id", "status", "visit_date", "department_id", "doctor_id"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Registration, name) == filters[name])
    if q := filters.get("q"):
        statement = statement.where(or_(
            Registration.registration_no == q.upper(),
            Registration.patient_id.in_(_patients_matching(q)),
        ))
    return paginate(session, statement, page)


def _patients_matching(q: str) -> Select:
    return select(Patient.id).where(or_(Patient.name.icontains(q, autoescape=True), Patient.patient_no == q.upper()))


# ---------------------------------------------------------------------------------------------------------------
# 处方划价 prescriptions and 项目划价 item orders


def _line_field(index: int, name: str) -> str:
    return f"lines[{index}].{name}"


def _check_no_duplicates(ids: list[int], field: str) -> None:
    seen: set[int] = set()
    for index, row_id in enumerate(ids):
        if row_id in seen:
            raise Unprocessable("The same entry appears twice in one document; change its quantity instead",
                                code="pricing.duplicate_line", detail={"field": _line_field(index, field)})
        seen.add(row_id)


def _catalogue_rows(peers: Peers, namespace: str, entity: str, ids: list[int], field: str) -> list[dict[str, Any]]:
    """The DBS rows for the lines, in line order; unknown or deactivated ones refused with the line's field."""
    rows = _dbs_by_ids(peers, namespace, ids)
    found = []
    for index, row_id in enumerate(ids):
        row = rows.get(row_id)
        if row is None:
            raise Unprocessable(f"No {entity.replace('_', ' ')} with id {row_id}", code=f"pricing.{entity}_not_found",
                                detail={"field": _line_field(index, field)})
        if not row.get("active", True):
            raise Unprocessable(f"{row['name']} is no longer in use", code=f"pricing.{entity}_inactive",
                                detail={"field": _line_field(index, field)})
        found.append(row)
    return found


def _priced(unit_prices: list[Decimal], quantities: list[int]) -> Priced:
    priced = price_lines(zip(unit_prices, quantities, strict=True))
    if priced.total > MAX_AMOUNT:
        raise Unprocessable("The document's total is too large", code="pricing.amount_too_large",
                            detail={"field": "lines"})
    return priced


def price_prescription_lines(peers: Peers, lines: list[dict[str, Any]]) -> list[PrescriptionLine]:
    """New lines priced and snapshotted from DBS now (not yet added to a session)."""
    ids = [line["drug_id"] for line in lines]
    _check_no_duplicates(ids, "drug_id")
    drugs = _catalogue_rows(peers, "drugs", "drug", ids, "drug_id")
    prices = [Decimal(str(drug["retail_price"])) for drug in drugs]
    priced = _priced(prices, [line["quantity"] for line in lines])
    return [
        PrescriptionLine(drug_id=drug["id"], drug_code=drug["code"], drug_name=drug["name"],
                         specification=drug["specification"], unit_name=drug["unit_name"], unit_price=price,
                         quantity=line["quantity"], usage=line.get("usage"), days=line.get("days"), amount=amount)
        for line, drug, price, amount in zip(lines, drugs, prices, priced.amounts, strict=True)
    ]


def price_item_order_lines(peers: Peers, lines: list[dict[str, Any]]) -> list[ItemOrderLine]:
    ids = [line["medical_item_id"] for line in lines]
    _check_no_duplicates(ids, "medical_item_id")
    items = _catalogue_rows(peers, "medical-items", "item", ids, "medical_item_id")
    prices = [Decimal(str(item["price"])) for item in items]
    priced = _priced(prices, [line["quantity"] for line in lines])
    return [
        ItemOrderLine(medical_item_id=item["id"], item_code=item["code"], item_name=item["name"],
                      category_name=item["category_name"], unit_name=item["unit_name"],
                      department_id=item["department_id"], department_name=item["department_name"],
                      result_required=bool(item["result_required"]), unit_price=price, quantity=line["quantity"],
                      amount=amount, status=ItemLineStatus.unpaid)
        for line, item, price, amount in zip(lines, items, prices, priced.amounts, strict=True)
    ]


def _active_registration_for_documents(session: Session, registration_id: int, *, lock: bool = False
                                       ) -> Registration:
    """The registration a document is written for, refused unless paid (registered or visited). With `lock`,
    read afresh and locked, so that a refund in flight is waited for and seen, not missed."""
    if lock:
        registration = _locked(session, Registration, registration_id, "registration")
    else:
        registration = get_registration(session, registration_id)
    if registration.status not in (RegistrationStatus.registered, RegistrationStatus.visited):
        raise Conflict("Only a paid registration can have prescriptions and item orders",
                       code="registration.not_active", detail={"status": registration.status})
    return registration


def create_prescription(session: WriteSession, peers: Peers, actor: Principal, data: dict[str, Any]
                        ) -> Prescription:
    _active_registration_for_documents(session, data["registration_id"])  # refused before asking DBS
    lines = price_prescription_lines(peers, data["lines"])
    # Checked again under the registration's lock (no lock is held across the call to DBS).
    registration = _active_registration_for_documents(session, data["registration_id"], lock=True)
    prescription = Prescription(
        registration=registration, patient_id=registration.patient_id, status=PrescriptionStatus.unpaid,
        total_amount=sum((line.amount for line in lines), ZERO), note=data.get("note"), lines=lines,
        created_by_id=_actor_id(actor), created_by=actor.username,
    )
    session.add(prescription)
    session.flush()
    prescription.prescription_no = document_no("RX", prescription.id)
    session.flush()
    return prescription


def create_item_order(session: WriteSession, peers: Peers, actor: Principal, data: dict[str, Any]) -> ItemOrder:
    _active_registration_for_documents(session, data["registration_id"])  # refused before asking DBS
    lines = price_item_order_lines(peers, data["lines"])
    # Checked again under the registration's lock (no lock is held across the call to DBS).
    registration = _active_registration_for_documents(session, data["registration_id"], lock=True)
    order = ItemOrder(
        registration=registration, patient_id=registration.patient_id, status=ItemOrderStatus.unpaid,
        total_amount=sum((line.amount for line in lines), ZERO), refunded_amount=ZERO, note=data.get("note"),
        lines=lines, created_by_id=_actor_id(actor), created_by=actor.username,
    )
    session.add(order)
    session.flush()
    order.order_no = document_no("XM", order.id)
    session.flush()
    return order


def _not_editable(entity: str, status: str) -> Conflict:
    return Conflict(f"A {status} {entity.replace('_', ' ')} cannot be changed", code=f"{entity}.not_editable",
                    detail={"status": status})


def _replace_lines(session: WriteSession, document: Prescription | ItemOrder, lines: list[Any],
                   data: dict[str, Any], note_given: bool) -> None:
    # The old lines go first (their unique keys would clash with the new ones), then the new ones come in.
    document.lines.clear()
    session.flush()
    document.lines.extend(lines)
    document.total_amount = sum((line.amount for line in lines), ZERO)
    if note_given:
        document.note = data.get("note")
    document.updated_at = utcnow()
    session.flush()


def replace_prescription_lines(session: WriteSession, peers: Peers, prescription_id: int, data: dict[str, Any],
                               note_given: bool) -> Prescription:
    lines = price_prescription_lines(peers, data["lines"])  # before the lock: no lock is held across a call
    prescription = _locked(session, Prescription, prescription_id, "prescription")
    if prescription.status != PrescriptionStatus.unpaid:
        raise _not_editable("prescription", prescription.status)
    _replace_lines(session, prescription, lines, data, note_given)
    return prescription


def replace_item_order_lines(session: WriteSession, peers: Peers, order_id: int, data: dict[str, Any],
                             note_given: bool) -> ItemOrder:
    lines = price_item_order_lines(peers, data["lines"])
    order = _locked(session, ItemOrder, order_id, "item_order")
    if order.status != ItemOrderStatus.unpaid:
        raise _not_editable("item_order", order.status)
    _locked_lines(session, order)
    _replace_lines(session, order, lines, data, note_given)
    return order


def cancel_prescription(session: WriteSession, prescription_id: int) -> Prescription:
    prescription = _locked(session, Prescription, prescription_id, "prescription")
    if prescription.status != PrescriptionStatus.unpaid:
        raise _not_editable("prescription", prescription.status)
    prescription.status = PrescriptionStatus.cancelled
    prescription.cancelled_at = utcnow()
    session.flush()
    return prescription


def cancel_item_order(session: WriteSession, order_id: int) -> ItemOrder:
    order = _locked(session, ItemOrder, order_id, "item_order")
    if order.status != ItemOrderStatus.unpaid:
        raise _not_editable("item_order", order.status)
    for line in _locked_lines(session, order):
        line.status = ItemLineStatus.cancelled
    order.status = ItemOrderStatus.cancelled
    order.cancelled_at = utcnow()
    session.flush()
    return order


def mark_dispensed(session: WriteSession, prescription_id: int) -> Prescription:
    """The pharmacy handed the drugs out (PMS's `prescription.dispensed`): a paid prescription is consumed and
    can no longer be refunded. Applying it twice changes nothing."""
    prescription = _locked(session, Prescription, prescription_id, "prescription")
    if prescription.status == PrescriptionStatus.dispensed:
        return prescription
    if prescription.status != PrescriptionStatus.paid:
        raise Conflict(f"A {prescription.status} prescription cannot be dispensed",
                       code="prescription.not_paid", detail={"status": prescription.status})
    prescription.status = PrescriptionStatus.dispensed
    prescription.dispensed_at = utcnow()
    session.flush()
    return prescription


def get_prescription(session: Session, prescription_id: int) -> Prescription:
    return _get(session, Prescription, prescription_id, "prescription")


def get_item_order(session: Session, order_id: int) -> ItemOrder:
    return _get(session, ItemOrder, order_id, "item_order")


def _document_list(session: Session, model: type[Prescription] | type[ItemOrder], number: Any,
                   filters: dict[str, Any], page: PageParams) -> tuple[list[Any], int]:
    statement = select(model).order_by(model.id.desc())
    for name in ("registration_id", "patient_id", "status"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(model, name) == filters[name])
    if q := filters.get("q"):
        upper = q.upper()
        statement = statement.where(or_(
            number == upper,
            model.registration_id.in_(select(Registration.id).where(Registration.registration_no == upper)),
            model.patient_id.in_(_patients_matching(q)),
        ))
    return paginate(session, statement, page)


def list_prescriptions(session: Session, filters: dict[str, Any], page: PageParams
                       ) -> tuple[list[Prescription], int]:
    return _document_list(session, Prescription, Prescription.prescription_no, filters, page)


def list_item_orders(session: Session, filters: dict[str, Any], page: PageParams) -> tuple[list[ItemOrder], int]:
    return _document_list(session, ItemOrder, ItemOrder.order_no, filters, page)


# ---------------------------------------------------------------------------------------------------------------
# 缴费 payments and refunds: an append-only ledger


def _record(session: WriteSession, actor: Principal, *, kind: PaymentKind, target: PaymentTarget, target_id: int,
            target_no: str, registration: Registration, amount: Decimal, method: str,
            lines: list[dict[str, Any]], refund_of: Payment | None = None, reason: str | None = None) -> Payment:
    """Append one ledger entry (and its `payment.recorded` event)."""
    payment = Payment(
        kind=kind, target=target, target_id=target_id, target_no=target_no, registration=registration,
        patient_id=registration.patient_id, amount=to_fen(amount), method=method, cashier_id=_actor_id(actor),
        cashier_name=actor.username, refund_of_id=refund_of.id if refund_of else None, reason=reason,
        lines=lines,
    )
    session.add(payment)
    session.flush()
    payment.payment_no = document_no("SF", payment.id)
    session.flush()
    _event(session, "payment.recorded", {
        "payment_id": payment.id, "payment_no": payment.payment_no, "kind": payment.kind, "target": payment.target,
        "target_id": payment.target_id, "registration_id": registration.id, "patient_id": payment.patient_id,
        "amount": money(payment.amount), "method": payment.method, "department_id": registration.department_id,
        "doctor_id": registration.doctor_id, "created_at": payment.created_at.isoformat(),
    })
    return payment


def _ledger_line(line_id: int, name: str, amount: Decimal) -> dict[str, Any]:
    return {"line_id": line_id, "name": name, "amount": money(amount)}


def _registration_line_name(registration: Registration) -> str:
    return f"挂号费（{registration.registration_type_name}）" if registration.registration_type_name else "挂号费"


def _already_paid(target: str, target_id: int, status: str) -> Conflict:
    return Conflict(f"This {target.replace('_', ' ')} is already paid", code="payment.already_paid",
                    detail={"target": target, "target_id": target_id, "status": status})


def _cannot_pay(target: str, target_id: int, status: str) -> Conflict:
    return Conflict(f"A {status} {target.replace('_', ' ')} cannot be paid", code="payment.invalid_state",
                    detail={"target": target, "target_id": target_id, "status": status})


def pay(session: WriteSession, actor: Principal, target: str, target_id: int, method: str) -> Payment:
    """Pay the whole outstanding amount of a registration, prescription or item order, computed here."""
    if target == PaymentTarget.registration:
        return _pay_registration(session, actor, target_id, method)
    if target == PaymentTarget.prescription:
        return _pay_prescription(session, actor, target_id, method)
    return _pay_item_order(session, actor, target_id, method)


def _pay_registration(session: WriteSession, actor: Principal, registration_id: int, method: str) -> Payment:
    registration = _locked(session, Registration, registration_id, "registration")
    if registration.status in (RegistrationStatus.registered, RegistrationStatus.visited):
        raise _already_paid(PaymentTarget.registration, registration_id, registration.status)
    if registration.status != RegistrationStatus.pending_payment:
        raise _cannot_pay(PaymentTarget.registration, registration_id, registration.status)
    payment = _record(
        session, actor, kind=PaymentKind.payment, target=PaymentTarget.registration, target_id=registration.id,
        target_no=registration.registration_no, registration=registration, amount=registration.fee, method=method,
        lines=[_ledger_line(registration.id, _registration_line_name(registration), registration.fee)],
    )
    registration.status = RegistrationStatus.registered
    registration.paid_at = payment.created_at
    session.flush()
    _event(session, "registration.paid", _dump(schemas.RegistrationOut, registration))
    return payment


def _prescription_event(prescription: Prescription) -> dict[str, Any]:
    return {
        "prescription_id": prescription.id, "prescription_no": prescription.prescription_no,
        "registration_id": prescription.registration_id, "patient_id": prescription.patient_id,
        "patient_name": prescription.patient.name, "total_amount": money(prescription.total_amount),
        "lines": [{"line_id": line.id, "drug_id": line.drug_id, "drug_name": line.drug_name,
                   "specification": line.specification, "unit_name": line.unit_name, "quantity": line.quantity,
                   "amount": money(line.amount)} for line in prescription.lines],
    }


def _pay_prescription(session: WriteSession, actor: Principal, prescription_id: int, method: str) -> Payment:
    prescription = _locked(session, Prescription, prescription_id, "prescription")
    if prescription.status in (PrescriptionStatus.paid, PrescriptionStatus.dispensed):
        raise _already_paid(PaymentTarget.prescription, prescription_id, prescription.status)
    if prescription.status != PrescriptionStatus.unpaid:
        raise _cannot_pay(PaymentTarget.prescription, prescription_id, prescription.status)
    payment = _record(
        session, actor, kind=PaymentKind.payment, target=PaymentTarget.prescription, target_id=prescription.id,
        target_no=prescription.prescription_no, registration=prescription.registration,
        amount=prescription.total_amount, method=method,
        lines=[_ledger_line(line.id, line.drug_name, line.amount) for line in prescription.lines],
    )
    prescription.status = PrescriptionStatus.paid
    prescription.paid_at = payment.created_at
    session.flush()
    _event(session, "prescription.paid", _prescription_event(prescription))
    return payment


def _item_order_event(order: ItemOrder, lines: list[ItemOrderLine], amount: Decimal) -> dict[str, Any]:
    return {
        "item_order_id": order.id, "order_no": order.order_no, "registration_id": order.registration_id,
        "patient_id": order.patient_id, "patient_name": order.patient.name, "amount": money(amount),
        "lines": [{"line_id": line.id, "medical_item_id": line.medical_item_id, "item_name": line.item_name,
                   "department_id": line.department_id, "quantity": line.quantity, "amount": money(line.amount)}
                  for line in lines],
    }


def _pay_item_order(session: WriteSession, actor: Principal, order_id: int, method: str) -> Payment:
    order = _locked(session, ItemOrder, order_id, "item_order")
    if order.status == ItemOrderStatus.paid:
        raise _already_paid(PaymentTarget.item_order, order_id, order.status)
    if order.status != ItemOrderStatus.unpaid:
        raise _cannot_pay(PaymentTarget.item_order, order_id, order.status)
    lines = _locked_lines(session, order)
    payment = _record(
        session, actor, kind=PaymentKind.payment, target=PaymentTarget.item_order, target_id=order.id,
        target_no=order.order_no, registration=order.registration, amount=order.total_amount, method=method,
        lines=[_ledger_line(line.id, line.item_name, line.amount) for line in lines],
    )
    for line in lines:
        line.status = ItemLineStatus.paid
    order.status = ItemOrderStatus.paid
    order.paid_at = payment.created_at
    session.flush()
    _event(session, "item_order.paid", _item_order_event(order, lines, order.total_amount))
    return payment


def _paid_net(session: Session, target: str, target_id: int) -> Decimal:
    """What the ledger holds for one document: its payments minus its refunds."""
    total = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                           .where(Payment.target == target, Payment.target_id == target_id))
    return to_fen(Decimal(total))


def _original_payment(session: Session, target: str, target_id: int) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.target == target, Payment.target_id == target_id,
                                                   Payment.kind == PaymentKind.payment)
                             .order_by(Payment.id.desc()).limit(1))
    if payment is None:  # a paid document always has its payment; without one there is nothing to refund
        raise Conflict("No payment of this document was found", code="refund.exceeds_paid",
                       detail={"target": target, "target_id": target_id, "paid_amount": money(ZERO)})
    return payment


def _refund(session: WriteSession, actor: Principal, *, target: PaymentTarget, target_id: int, target_no: str,
            registration: Registration, amount: Decimal, lines: list[dict[str, Any]], reason: str | None) -> Payment:
    """Append the negative entry of a refund: never more than the ledger holds for the document, with the
    method of the payment it refunds."""
    paid = _paid_net(session, target, target_id)
    if amount > paid:
        raise Conflict("A refund cannot exceed what was paid", code="refund.exceeds_paid",
                       detail={"target": target, "target_id": target_id, "paid_amount": money(paid),
                               "refund_amount": money(amount)})
    original = _original_payment(session, target, target_id)
    return _record(session, actor, kind=PaymentKind.refund, target=target, target_id=target_id, target_no=target_no,
                   registration=registration, amount=-amount, method=original.method, lines=lines,
                   refund_of=original, reason=reason)


def refund_registration(session: WriteSession, peers: Peers, actor: Principal, registration_id: int,
                        reason: str | None) -> Payment:
    """退号: a paid registration that was not visited gets its fee back and frees its slot."""
    registration = _locked(session, Registration, registration_id, "registration")
    if registration.status == RegistrationStatus.visited:
        raise Conflict("The patient has already seen the doctor; the registration cannot be refunded",
                       code="registration.visited", detail={"status": registration.status})
    if registration.status != RegistrationStatus.registered:
        raise _invalid_state(registration, "refunded")
    payment = _refund(
        session, actor, target=PaymentTarget.registration, target_id=registration.id,
        target_no=registration.registration_no, registration=registration, amount=registration.fee,
        lines=[_ledger_line(registration.id, _registration_line_name(registration), -registration.fee)],
        reason=reason,
    )
    _release_slot(session, peers, registration)
    registration.status = RegistrationStatus.refunded
    registration.refunded_at = payment.created_at
    registration.active_key = registration.id
    session.flush()
    _event(session, "registration.refunded", _dump(schemas.RegistrationOut, registration))
    return payment


def refund_prescription(session: WriteSession, actor: Principal, prescription_id: int, reason: str | None
                        ) -> Payment:
    prescription = _locked(session, Prescription, prescription_id, "prescription")
    if prescription.status == PrescriptionStatus.dispensed:
        raise Conflict("The drugs were already dispensed; the prescription cannot be refunded",
                       code="prescription.dispensed", detail={"status": prescription.status})
    if prescription.status != PrescriptionStatus.paid:
        raise Conflict(f"A {prescription.status} prescription cannot be refunded", code="prescription.not_paid",
                       detail={"status": prescription.status})
    payment = _refund(
        session, actor, target=PaymentTarget.prescription, target_id=prescription.id,
        target_no=prescription.prescription_no, registration=prescription.registration,
        amount=prescription.total_amount,
        lines=[_ledger_line(line.id, line.drug_name, -line.amount) for line in prescription.lines], reason=reason,
    )
    prescription.status = PrescriptionStatus.refunded
    prescription.refunded_at = payment.created_at
    session.flush()
    _event(session, "prescription.refunded", _prescription_event(prescription))
    return payment


def line_consumed(line: ItemOrderLine) -> bool:
    """A line whose exam was done (a result or a file was recorded) is consumed: it is no longer refundable."""
    return line.status == ItemLineStatus.examined or line.result is not None or bool(line.attachments)


def line_refundable(line: ItemOrderLine) -> bool:
    return line.status == ItemLineStatus.paid and not line_consumed(line)


def refund_item_order(session: WriteSession, actor: Principal, order_id: int, line_ids: list[int] | None,
                      reason: str | None) -> Payment:
    """Refund paid lines of an item order (the given ones, or every one not examined). The order becomes
    refunded when none of its lines is paid or examined any more."""
    order = _locked(session, ItemOrder, order_id, "item_order")
    if order.status != ItemOrderStatus.paid:
        raise Conflict(f"A {order.status} item order cannot be refunded", code="item_order.not_paid",
                       detail={"status": order.status})
    lines = _locked_lines(session, order)
    if line_ids:
        by_id = {line.id: line for line in lines}
        chosen: list[ItemOrderLine] = []
        for index, line_id in enumerate(dict.fromkeys(line_ids)):
            line = by_id.get(line_id)
            if line is None:
                raise Unprocessable(f"Line {line_id} is not a line of this order", code="item_order.line_not_found",
                                    detail={"field": f"line_ids[{index}]", "line_id": line_id})
            if line_consumed(line):
                raise Conflict("This item was already examined and cannot be refunded", code="item.examined",
                               detail={"line_id": line.id})
            if line.status != ItemLineStatus.paid:
                raise Conflict(f"A {line.status} line cannot be refunded", code="item.not_paid",
                               detail={"line_id": line.id, "status": line.status})
            chosen.append(line)
    else:
        chosen = [line for line in lines if line_refundable(line)]
        if not chosen:
            consumed = next((line for line in lines if line_consumed(line)), None)
            if consumed is not None:
                raise Conflict("Every paid item was already examined", code="item.examined",
                               detail={"line_id": consumed.id})
            raise Conflict("No paid line is left to refund", code="item.not_paid", detail={"line_id": None})
    amount = sum((line.amount for line in chosen), ZERO)
    payment = _refund(
        session, actor, target=PaymentTarget.item_order, target_id=order.id, target_no=order.order_no,
        registration=order.registration, amount=amount,
        lines=[_ledger_line(line.id, line.item_name, -line.amount) for line in chosen], reason=reason,
    )
    for line in chosen:
        line.status = ItemLineStatus.refunded
    order.refunded_amount = order.refunded_amount + amount
    if not any(line.status in (ItemLineStatus.paid, ItemLineStatus.examined) for line in lines):
        order.status = ItemOrderStatus.refunded
        order.refunded_at = payment.created_at
    order.updated_at = utcnow()
    session.flush()
    _event(session, "item_order.refunded", _item_order_event(order, chosen, amount))
    return payment


def get_payment(session: Session, payment_id: int) -> Payment:
    return _get(session, Payment, payment_id, "payment")


def list_payments(session: Session, filters: dict[str, Any], page: PageParams) -> tuple[list[Payment], int]:
    statement = select(Payment).order_by(Payment.id.desc())
    for name in ("method", "kind", "cashier_id", "registration_id", "target"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Payment, name) == filters[name])
    if (day := filters.get("date")) is not None:
        statement = statement.where(Payment.created_at >= day_start_utc(day),
                                    Payment.created_at < day_start_utc(day + timedelta(days=1)))
    if q := filters.get("q"):
        upper = q.upper()
        statement = statement.where(or_(
            Payment.payment_no == upper, Payment.target_no == upper,
            Payment.patient_id.in_(_patients_matching(q)),
        ))
    return paginate(session, statement, page)


def daily_summary(session: Session, day: date | None, cashier_id: int | None) -> schemas.DailySummary:
    """日结: the day's entries (in the hospital's day) by method, every method listed."""
    day = day or hospital_today()
    statement = (
        select(Payment.method, Payment.kind, func.count(), func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.created_at >= day_start_utc(day), Payment.created_at < day_start_utc(day + timedelta(days=1)))
        .group_by(Payment.method, Payment.kind)
    )
    if cashier_id is not None:
        statement = statement.where(Payment.cashier_id == cashier_id)
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {
        (method, kind): (count, Decimal(total)) for method, kind, count, total in session.execute(statement)
    }

    def totals(methods: Iterable[str]) -> dict[str, Any]:
        payment_count = sum(sums.get((m, PaymentKind.payment), (0, ZERO))[0] for m in methods)
        paid = sum((sums.get((m, PaymentKind.payment), (0, ZERO))[1] for m in methods), ZERO)
        refund_count = sum(sums.get((m, PaymentKind.refund), (0, ZERO))[0] for m in methods)
        refunded = -sum((sums.get((m, PaymentKind.refund), (0, ZERO))[1] for m in methods), ZERO)
        return {"payment_count": payment_count, "paid_amount": paid, "refund_count": refund_count,
                "refunded_amount": refunded, "net_amount": paid - refunded}

    methods = [m.value for m in PaymentMethod]
    return schemas.DailySummary(
        date=day, cashier_id=cashier_id,
        methods=[schemas.MethodSummary(method=m, **totals([m])) for m in methods],
        totals=schemas.MethodTotals(**totals(methods)),
    )


def billing(session: Session, registration_id: int) -> schemas.BillingOut:
    """One registration's account: what its ledger holds, what is priced but unpaid, and what could still be
    refunded, per document and in total."""
    registration = get_registration(session, registration_id)
    payments = session.scalars(select(Payment).where(Payment.registration_id == registration_id)
                               .order_by(Payment.id)).all()
    paid_by_document: dict[tuple[str, int], Decimal] = {}
    for payment in payments:
        key = (payment.target, payment.target_id)
        paid_by_document[key] = paid_by_document.get(key, ZERO) + payment.amount
    prescriptions = session.scalars(select(Prescription).where(Prescription.registration_id == registration_id)
                                    .order_by(Prescription.id)).all()
    orders = session.scalars(select(ItemOrder).where(ItemOrder.registration_id == registration_id)
                             .order_by(ItemOrder.id)).all()

    documents = [schemas.BillingDocument(
        target=PaymentTarget.registration, target_id=registration.id, target_no=registration.registration_no,
        status=registration.status, total_amount=registration.fee,
        paid_amount=paid_by_document.get((PaymentTarget.registration, registration.id), ZERO),
        refundable_amount=registration.fee if registration.status == RegistrationStatus.registered else ZERO,
    )]
    unpaid = registration.fee if registration.status == RegistrationStatus.pending_payment else ZERO
    for prescription in prescriptions:
        if prescription.status == PrescriptionStatus.unpaid:
            unpaid += prescription.total_amount
        documents.append(schemas.BillingDocument(
            target=PaymentTarget.prescription, target_id=prescription.id, target_no=prescription.prescription_no,
            status=prescription.status, total_amount=prescription.total_amount,
            paid_amount=paid_by_document.get((PaymentTarget.prescription, prescription.id), ZERO),
            refundable_amount=(prescription.total_amount if prescription.status == PrescriptionStatus.paid
                               else ZERO),
        ))
    for order in orders:
        if order.status == ItemOrderStatus.unpaid:
            unpaid += order.total_amount
        refundable = (sum((line.amount for line in order.lines if line_refundable(line)), ZERO)
                      if order.status == ItemOrderStatus.paid else ZERO)
        documents.append(schemas.BillingDocument(
            target=PaymentTarget.item_order, target_id=order.id, target_no=order.order_no, status=order.status,
            total_amount=order.total_amount,
            paid_amount=paid_by_document.get((PaymentTarget.item_order, order.id), ZERO),
            refundable_amount=refundable,
        ))
    return schemas.BillingOut(
        registration=schemas.RegistrationOut.model_validate(registration),
        paid_amount=sum((p.amount for p in payments), ZERO), unpaid_amount=unpaid,
        refundable_amount=sum((d.refundable_amount for d in documents), ZERO), documents=documents,
        payments=[schemas.PaymentOut.model_validate(p) for p in payments],
    )


# ---------------------------------------------------------------------------------------------------------------
# 项目检查 exams and their attachments

EXAM_LINE_STATES = (ItemLineStatus.paid, ItemLineStatus.examined)
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

# Magic bytes -> stored content type; the client's Content-Type and file name are never believed.
_SIGNATURES = (
    (b"%PDF-", AttachmentType.pdf),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.png),
    (b"\xff\xd8\xff", AttachmentType.jpeg),
)
_EXTENSIONS = {AttachmentType.pdf: "pdf", AttachmentType.png: "png", AttachmentType.jpeg: "jpg"}


def sniff_content_type(head: bytes) -> AttachmentType | None:
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def _exam_not_found(line_id: int) -> NotFound:
    return NotFound(f"No exam for item line {line_id}", code="exam.not_found", detail={"line_id": line_id})


def _exam_not_paid(line: ItemOrderLine) -> Conflict:
    return Conflict("Results can only be recorded for a paid item", code="exam.not_paid",
                    detail={"line_id": line.id, "status": line.status})


def get_exam(session: Session, line_id: int) -> ItemOrderLine:
    """The exam of a paid (or examined) item line."""
    line = session.get(ItemOrderLine, line_id)
    if line is None or line.status not in EXAM_LINE_STATES:
        raise _exam_not_found(line_id)
    return line


def _locked_exam_line(session: WriteSession, line_id: int) -> ItemOrderLine:
    """The line, locked after its order (the order's lock is what refunds and payments take first), and
    refused unless paid or examined."""
    order_id = session.scalar(select(ItemOrderLine.item_order_id).where(ItemOrderLine.id == line_id))
    if order_id is None:
        raise _exam_not_found(line_id)
    _locked(session, ItemOrder, order_id, "item_order")
    line = _locked(session, ItemOrderLine, line_id, "item_order_line")
    if line.status not in EXAM_LINE_STATES:
        raise _exam_not_paid(line)
    return line


def _exam_result_row(session: WriteSession, line_id: int, values: dict[str, Any], now: datetime) -> ExamResult:
    """The result row of a locked line, inserted with `values` when it has none yet.

    Never a locking read of a row that may not exist: on MariaDB that locks the index gap, and two examiners
    saving the first results of different orders would deadlock on their inserts. The line's lock already keeps
    other writers of its result out; a result committed after this transaction's snapshot (read before that
    lock) is caught by the unique key, and then read with a locking read, which sees it."""
    statement = select(ExamResult).where(ExamResult.item_order_line_id == line_id)
    result = session.scalars(statement).first()
    if result is not None:
        return result
    result = ExamResult(item_order_line_id=line_id, created_at=now, **values)
    try:
        with session.begin_nested():
            session.add(result)
    except IntegrityError:
        result = session.scalars(statement.with_for_update().execution_options(populate_existing=True)).one()
    return result


def record_exam(session: WriteSession, actor: Principal, line_id: int, findings: str, conclusion: str
                ) -> ItemOrderLine:
    """Enter (or correct) the result of a paid line; the line becomes examined, i.e. no longer refundable."""
    line = _locked_exam_line(session, line_id)
    now = utcnow()
    values = {"findings": findings, "conclusion": conclusion, "examiner_id": _actor_id(actor),
              "examiner_name": actor.username, "examined_at": now}
    result = _exam_result_row(session, line.id, values, now)
    for name, value in values.items():
        setattr(result, name, value)
    line.status = ItemLineStatus.examined
    session.flush()
    session.refresh(line)  # the result relationship, for the answer
    order = line.item_order
    _event(session, "exam.recorded", {
        "line_id": line.id, "item_order_id": order.id, "order_no": order.order_no,
        "registration_id": order.registration_id, "patient_id": order.patient_id,
        "medical_item_id": line.medical_item_id, "item_name": line.item_name, "department_id": line.department_id,
        "examiner_id": result.examiner_id, "examiner_name": result.examiner_name,
        "examined_at": now.isoformat(), "conclusion": conclusion,
    })
    return line


def check_exam_open(session: Session, line_id: int) -> None:
    """Refuse early (before a file is read) what `record_attachment` would refuse."""
    line = session.get(ItemOrderLine, line_id)
    if line is None:
        raise _exam_not_found(line_id)
    if line.status not in EXAM_LINE_STATES:
        raise _exam_not_paid(line)


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to store."""

    data: bytes
    content_type: AttachmentType
    sha256: str
    filename: str


def check_upload(data: bytes, filename: str | None) -> Upload:
    if not data:
        raise Unprocessable("The file is empty", code="attachment.empty")
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise UnsupportedAttachment()
    return Upload(data, content_type, hashlib.sha256(data).hexdigest(),
                  clean_filename(filename, f"attachment.{_EXTENSIONS[content_type]}"))


class AttachmentTooLarge(AppError):
    status_code = 413
    code = "attachment.too_large"
    message = f"Files larger than {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB are not accepted"

    def __init__(self) -> None:
        super().__init__(detail={"max_bytes": ATTACHMENT_MAX_BYTES})


class UnsupportedAttachment(AppError):
    status_code = 415
    code = "attachment.unsupported_type"
    message = "Only PDF, PNG and JPEG files are accepted"

    def __init__(self) -> None:
        super().__init__(detail={"accepted": [t.value for t in AttachmentType]})


def clean_filename(value: str | None, default: str) -> str:
    """A name safe to show and to put in a header: no directories, no control characters, at most 255."""
    name = (value or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    return (name or default)[:255]


def attachment_key(line_id: int) -> str:
    return f"oms/exams/{line_id}/{uuid.uuid4()}"


def record_attachment(session: WriteSession, actor: Principal, line_id: int, upload: Upload, key: str,
                      store: Callable[[], None]) -> ExamAttachment:
    """Record a file of a paid line and store it (`store()`, e.g. `put_object`), both under the order's lock,
    so a refund can never slip in between. The row is flushed first: a file is stored only for a row that the
    database accepted, and `put_object` removes it again if the transaction then fails."""
    line = _locked_exam_line(session, line_id)
    attachment = ExamAttachment(
        item_order_line_id=line.id, object_key=key, filename=upload.filename, content_type=upload.content_type,
        size=len(upload.data), sha256=upload.sha256, uploaded_by_id=_actor_id(actor), uploaded_by=actor.username,
    )
    session.add(attachment)
    session.flush()
    store()
    return attachment


def list_attachments(session: Session, line_id: int) -> list[ExamAttachment]:
    line = get_exam(session, line_id)
    return list(line.attachments)


def get_attachment(session: Session, attachment_id: int) -> ExamAttachment:
    attachment = session.get(ExamAttachment, attachment_id)
    if attachment is None:
        raise NotFound(f"No attachment with id {attachment_id}", code="attachment.not_found",
                       detail={"id": attachment_id})
    return attachment


def list_exams(session: Session, filters: dict[str, Any], page: PageParams) -> tuple[list[ItemOrderLine], int]:
    """The work list: paid or examined lines whose item requires a result, queue order (oldest first)."""
    status = filters.get("status")
    states = {"pending": (ItemLineStatus.paid,), "done": (ItemLineStatus.examined,)}.get(status, EXAM_LINE_STATES)
    statement = (
        select(ItemOrderLine).join(ItemOrder, ItemOrder.id == ItemOrderLine.item_order_id)
        .where(ItemOrderLine.result_required.is_(True), ItemOrderLine.status.in_(states))
        .options(selectinload(ItemOrderLine.item_order))
        .order_by(ItemOrderLine.id)
    )
    if filters.get("department_id") is not None:
        statement = statement.where(ItemOrderLine.department_id == filters["department_id"])
    if q := filters.get("q"):
        statement = statement.where(or_(ItemOrder.order_no == q.upper(),
                                        ItemOrder.patient_id.in_(_patients_matching(q))))
    return paginate(session, statement, page)


# ---------------------------------------------------------------------------------------------------------------
# The object store (files of exams)

# Files up to this size are read whole and sent in one piece; larger ones are streamed (a streamed response
# costs more per request, a whole read costs memory).
WHOLE_READ_BYTES = 256 * 1024
_STREAM_CHUNK = 64 * 1024

def _store_unavailable(exc: Exception, op: str, key: str) -> ServiceUnavailable:
    log.error("object_store_failed", op=op, key=key, error=str(exc) or type(exc).__name__)
    return ServiceUnavailable("The file store is not available", code="attachment.store_unavailable")


def put_object(session: WriteSession, objects: ObjectStore, key: str, upload: Upload) -> None:
    """Store a file as part of the session's unit of work: if the transaction fails afterwards, the stored
    object is removed again (the compensation is logged)."""
    try:
        objects.put(key, upload.data, upload.content_type)
    except Exception as exc:  # the SDK raises S3, HTTP and socket errors alike
        raise _store_unavailable(exc, "put", key) from exc

    def remove() -> None:
        try:
            objects.delete(key)
        except Exception as exc:
            log.error("attachment_remove_failed", key=key, error=str(exc) or type(exc).__name__)
            return
        log.warning("attachment_removed", reason="transaction rolled back", key=key)

    after_rollback(session, remove)


def find_attachment(session: Session, db: Database, attachment_id: int) -> ExamAttachment:
    """The attachment's row; one just uploaded by someone else may not have reached the replica yet, so a miss
    there is asked of the primary before it is a 404."""
    try:
        return get_attachment(session, attachment_id)
    except NotFound:
        with db.read(primary=True) as primary:
            return get_attachment(primary, attachment_id)


def read_object(objects: ObjectStore, key: str) -> bytes:
    try:
        return objects.get(key)
    except Exception as exc:
        raise _store_unavailable(exc, "get", key) from exc


def open_object(objects: ObjectStore, key: str) -> Iterator[bytes]:
    """The object's bytes as a stream of chunks (the connection is opened here, so a failure is still a 503)."""
    try:
        return objects.stream(key, _STREAM_CHUNK)
    except Exception as exc:
        raise _store_unavailable(exc, "get", key) from exc
