"""Request and response models of the scheduling service.

Inputs reject unknown fields, trim and bound their strings, and bound every number and date, so that nonsense is
a 422 and never reaches the database: dates lie between 2000-01-01 and 2100-12-31, quotas between 1 and 500,
ids within the INT column (`common.types.Id`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.types import Id, MoneyOut, optional_text
from services.dms.models import ClinicSession, ScheduleStatus

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_QUOTA = 500

# JSON Schema has no bounds for a date; the pattern documents the years (2000..2100) instead.
DAY_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Day = Annotated[date, Field(ge=MIN_DATE, le=MAX_DATE, description="YYYY-MM-DD, 2000-01-01..2100-12-31",
                            json_schema_extra={"pattern": DAY_PATTERN})]
Quota = Annotated[int, Field(ge=1, le=MAX_QUOTA, description="Slots of the session, 1..500")]
Weekday = Annotated[int, Field(ge=1, le=7, description="1 = Monday … 7 = Sunday")]
Note = optional_text(255)
RegistrationNo = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,32}$"),
    Field(description="The registration's number, which holds the slot", examples=["R20261126-00001"]),
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------------------------
# 排班 sessions


class ScheduleOut(BaseModel):
    """A clinic session as lists, the week grid and other services see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    doctor_id: int
    doctor_name: str
    department_id: int
    department_name: str
    schedule_date: date
    session: ClinicSession
    registration_type_id: int
    registration_type_name: str
    fee: MoneyOut
    quota: int
    booked: int
    visited: int
    remaining: int = Field(description="quota − booked while open, otherwise 0")
    status: ScheduleStatus
    note: str | None
    created_at: datetime
    updated_at: datetime


class ScheduleCreate(Input):
    doctor_id: Id
    schedule_date: Day
    session: ClinicSession
    quota: Quota
    registration_type_id: Id | None = Field(default=None, description="Defaults to the doctor's registration type")
    note: Note = None


class ScheduleUpdate(Input):
    """Changes to apply; fields left out stay as they are. `note: null` (or blank) clears the note."""

    quota: Quota = None
    registration_type_id: Id = Field(default=None, description="Only while nothing is booked")
    note: Note = None


class ScheduleQuery(BaseModel):
    department_id: Id | None = None
    doctor_id: Id | None = None
    date_from: Day | None = None
    date_to: Day | None = None
    session: ClinicSession | None = None
    status: ScheduleStatus | None = None


class WeekQuery(BaseModel):
    week_start: Day = Field(description="A Monday")
    department_id: Id | None = None
    doctor_id: Id | None = None


class WeekOut(BaseModel):
    week_start: date
    week_end: date
    days: list[date]
    items: list[ScheduleOut]


class OnDutyQuery(BaseModel):
    department_id: Id
    date: Day
    session: ClinicSession | None = None


class ScheduleList(BaseModel):
    items: list[ScheduleOut]


class GenerateIn(Input):
    week_start: Day = Field(description="A Monday")
    department_id: Id | None = Field(default=None, description="Only this department's templates")


class CopyWeekIn(Input):
    source_week_start: Day = Field(description="A Monday")
    target_week_start: Day = Field(description="A Monday, not the source")
    department_id: Id | None = Field(default=None, description="Only this department's sessions")


class GeneratedOut(BaseModel):
    created: int
    skipped: int = Field(description="Sessions not created: already there, in the past, or doctor/type inactive")
    items: list[ScheduleOut]


# ---------------------------------------------------------------------------------------------------------------
# 出诊 attendance


class AttendanceQuery(BaseModel):
    date_from: Day
    date_to: Day
    department_id: Id | None = None
    doctor_id: Id | None = None


class AttendanceTotals(BaseModel):
    sessions: int
    quota: int
    booked: int
    visited: int


class AttendanceLine(AttendanceTotals):
    doctor_id: int
    doctor_name: str
    department_id: int
    department_name: str


class AttendanceOut(BaseModel):
    date_from: date
    date_to: date
    items: list[AttendanceLine]
    totals: AttendanceTotals


# ---------------------------------------------------------------------------------------------------------------
# 排班模板 templates


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    doctor_id: int
    doctor_name: str
    department_id: int
    department_name: str
    weekday: int
    session: ClinicSession
    registration_type_id: int
    registration_type_name: str
    quota: int
    created_at: datetime
    updated_at: datetime


class TemplateCreate(Input):
    doctor_id: Id
    weekday: Weekday
    session: ClinicSession
    quota: Quota
    registration_type_id: Id | None = Field(default=None, description="Defaults to the doctor's registration type")


class TemplateUpdate(Input):
    """Changes to apply; fields left out stay as they are."""

    quota: Quota = None
    registration_type_id: Id = None


class TemplateQuery(BaseModel):
    department_id: Id | None = None
    doctor_id: Id | None = None


# ---------------------------------------------------------------------------------------------------------------
# Slots (internal: other services book, release and mark visits by registration number)


class SlotIn(Input):
    registration_no: RegistrationNo


class BookedOut(BaseModel):
    schedule: ScheduleOut
    registration_no: str
    status: Literal["booked"] = "booked"


class ReleasedOut(BaseModel):
    schedule: ScheduleOut
    registration_no: str
    released: bool = Field(description="false when this number held no slot here (nothing changed)")


class VisitedOut(BaseModel):
    schedule: ScheduleOut
    registration_no: str
    visited: bool
