"""Tables of the scheduling service (`hap_dms`): clinic sessions, the slots booked on them, weekly templates.

Doctor, department and registration-type data belong to the data center; a session keeps the ids and a snapshot
of the names (and the fee) taken when it was created, so that lists and bookings never call the data center.
Enumerations are stored as their lower-snake-case values and guarded by CHECK constraints; the counters of a
session are guarded too (quota ≥ 1, 0 ≤ booked ≤ quota, 0 ≤ visited ≤ booked), so no code path, however it
races, can overbook a session.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import NAMING_CONVENTION, Money, not_negative, one_of
from common.events import OutboxEventMixin
from common.idempotency import IdempotencyKeyMixin
from common.timeutil import UtcDateTime, same_as_created_at, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ClinicSession(StrEnum):
    """The part of the day a clinic session covers; also the order sessions are shown in."""

    morning = "morning"  # 上午
    afternoon = "afternoon"  # 下午
    night = "night"  # 夜间


class ScheduleStatus(StrEnum):
    open = "open"  # 开放: slots can be booked
    closed = "closed"  # 停诊 for new bookings; existing ones stay
    cancelled = "cancelled"  # 取消: no longer a session (only while nothing is booked)


class BookingStatus(StrEnum):
    booked = "booked"  # holds one slot of its session
    released = "released"  # gave its slot back (cancelled or refunded registration)



class Schedule(Base):
    """排班 — one clinic session of one doctor: a date, a part of the day, a quota of slots and their counters.

    `live_key` makes "one live session per doctor, date and part of the day" a UNIQUE constraint: it is 0 while the
    session is open or closed, and the row's own id once it is cancelled, so any number of cancelled sessions may
    sit beside the one live session, while two live ones (two clerks saving at once) cannot exist.
    """

    __tablename__ = "schedule"
    __table_args__ = (
        one_of("session", ClinicSession),
        one_of("status", ScheduleStatus),
        CheckConstraint("quota >= 1", name="quota_positive"),
        CheckConstraint("booked >= 0 AND booked <= quota", name="booked_within_quota"),
        CheckConstraint("visited >= 0 AND visited <= booked", name="visited_within_booked"),
        not_negative("fee"),
        CheckConstraint("(status <> 'cancelled' AND live_key = 0) OR (status = 'cancelled' AND live_key <> 0)",
                        name="live_key_matches_status"),
        UniqueConstraint("doctor_id", "schedule_date", "session", "live_key"),
        Index(None, "schedule_date", "department_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(Integer)
    doctor_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(Integer)
    department_name: Mapped[str] = mapped_column(String(64))
    registration_type_id: Mapped[int] = mapped_column(Integer)
    registration_type_name: Mapped[str] = mapped_column(String(64))
    fee: Mapped[Decimal] = mapped_column(Money)
    schedule_date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(16))
    quota: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    visited: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ScheduleStatus.open.value)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    live_key: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)

    @property
    def remaining(self) -> int:
        """Slots still bookable: none unless the session is open."""
        return self.quota - self.booked if self.status == ScheduleStatus.open else 0


class SlotBooking(Base):
    """号源占用 — the slot a registration holds on a session, keyed by the registration number.

    A registration number holds at most one slot: UNIQUE (registration_no, live_key), where `live_key` is 0 while
    the slot is held and the row's own id once it is released. That constraint is what makes booking idempotent
    under any concurrency: a repeated or concurrent booking with the same number cannot insert a second live row
    and finds the first one instead. A released row stays as the record that the slot was given back; booking
    the same number again later (a new attempt) inserts a new live row beside it, never touching the old one.
    """

    __tablename__ = "slot_booking"
    __table_args__ = (
        one_of("status", BookingStatus),
        UniqueConstraint("registration_no", "live_key"),
        # A held slot is live, a released one is not: the two columns never disagree.
        CheckConstraint("(status = 'booked' AND live_key = 0) OR (status = 'released' AND live_key <> 0)",
                        name="live_key_matches_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule.id"), index=True)
    registration_no: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.booked.value)
    live_key: Mapped[int] = mapped_column(Integer, default=0)
    visited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)


class ScheduleTemplate(Base):
    """排班模板 — one line of a department's standing weekly pattern: a doctor's session on a weekday.

    Generating a week turns each line into a session on that weekday; names are snapshots for the lists, the
    session itself takes fresh names and the current fee from the data center when it is generated.
    """

    __tablename__ = "schedule_template"
    __table_args__ = (
        one_of("session", ClinicSession),
        CheckConstraint("weekday >= 1 AND weekday <= 7", name="weekday_range"),
        CheckConstraint("quota >= 1", name="quota_positive"),
        UniqueConstraint("doctor_id", "weekday", "session"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(Integer, index=True)
    department_name: Mapped[str] = mapped_column(String(64))
    doctor_id: Mapped[int] = mapped_column(Integer)
    doctor_name: Mapped[str] = mapped_column(String(64))
    registration_type_id: Mapped[int] = mapped_column(Integer)
    registration_type_name: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int] = mapped_column(Integer)  # ISO: 1 = Monday … 7 = Sunday
    session: Mapped[str] = mapped_column(String(16))
    quota: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)


# ---------------------------------------------------------------------------------------------------------------
# Plumbing tables every service has (columns from common)


class OutboxEvent(OutboxEventMixin, Base):
    """发件箱事件 — a change of a session (`schedule.created/updated/cancelled`), served at /internal/events."""

    __tablename__ = "outbox_event"


class IdempotencyRecord(IdempotencyKeyMixin, Base):
    """幂等键 — a client's Idempotency-Key for a create, with the response it got."""

    __tablename__ = "idempotency_key"
