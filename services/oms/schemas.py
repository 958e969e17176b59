"""Request and response models of the outpatient service (field names and spellings fixed by the API contract).

Inputs forbid unknown fields, trim and bound every string and bound every id and count, so bad input is a 422
and never a database error. Money goes out as strings with two decimals (`MoneyOut`) and never comes in: the
server prices every document and computes every payment itself.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from common.timeutil import hospital_today
from common.types import Id, MoneyOut, blank_to_none, optional_text, text
from services.oms.models import (
    AttachmentType,
    ClinicSession,
    Gender,
    ItemLineStatus,
    ItemOrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTarget,
    PrescriptionStatus,
    RegistrationStatus,
)


class In(BaseModel):
    """Every request body: unknown fields refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Search = Annotated[optional_text(64), Field(description="Search text")]

# Dates a query may name: bounded, so date arithmetic (the next day, the zone's offset) can never overflow.
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31), description="YYYY-MM-DD")]

# ---------------------------------------------------------------------------------------------------------------
# 门诊患者 patients

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def _plausible_birth_date(value: dt.date) -> dt.date:
    if value > hospital_today():
        raise ValueError("birth_date cannot be in the future")
    if value < EARLIEST_BIRTH_DATE:
        raise ValueError("birth_date cannot be before 1900-01-01")
    return value


BirthDate = Annotated[dt.date, AfterValidator(_plausible_birth_date)]

# The rules of the number (check digit, embedded birth date) are the service's, with their own error codes; the
# schema only bounds the length so any 18-character attempt reaches them.
IdCardIn = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] | None,
    BeforeValidator(blank_to_none),
    Field(description="居民身份证号: 17 digits and a check digit or X (GB 11643)", examples=["11010519491231002X"]),
]

_PHONE = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"
PatientPhone = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, pattern=_PHONE)] | None,
    BeforeValidator(blank_to_none),
    Field(description="A mainland mobile (13800000000) or landline (010-62345678) number"),
]


class PatientCreate(In):
    name: text(64)
    gender: Gender
    birth_date: BirthDate
    id_card: IdCardIn = None
    phone: PatientPhone = None
    address: optional_text(255) = None
    allergies: optional_text(500) = None
    allow_duplicate: bool = Field(default=False, description="Save even when a patient with the same name and "
                                                             "birth date (and phone) exists")


class PatientUpdate(In):
    """Changes to apply; fields left out stay as they are. name, gender and birth_date cannot be null."""

    name: text(64) = None
    gender: Gender = None
    birth_date: BirthDate = None
    id_card: IdCardIn = None
    phone: PatientPhone = None
    address: optional_text(255) = None
    allergies: optional_text(500) = None
    allow_duplicate: bool = False


class PatientOut(Out):
    id: int
    patient_no: str
    name: str
    gender: Gender
    birth_date: dt.date
    age: int
    id_card_masked: str | None
    phone_masked: str | None
    created_at: dt.datetime


class PatientDetail(PatientOut):
    id_card: str | None
    phone: str | None
    address: str | None
    allergies: str | None
    updated_at: dt.datetime


class PatientQuery(BaseModel):
    q: Annotated[optional_text(64), Field(description="Name (contains), patient number, phone, or ID-card number "
                                                      "(whole, or its last 4+ characters)")] = None
    gender: Gender | None = None


# ---------------------------------------------------------------------------------------------------------------
# Look-ups (DBS master data and DMS sessions, for the screens)


class DepartmentLookup(Out):
    id: int
    code: str
    name: str


class DepartmentLookups(BaseModel):
    items: list[DepartmentLookup]


class DrugLookup(Out):
    id: int
    code: str
    name: str
    generic_name: str | None
    specification: str
    unit_name: str
    retail_price: MoneyOut
    category: str
    prescription_only: bool


class MedicalItemLookup(Out):
    id: int
    code: str
    name: str
    category_name: str
    unit_name: str
    price: MoneyOut
    department_id: int
    department_name: str
    result_required: bool


class ScheduleOut(Out):
    """A clinic session as DMS shows it (排班)."""

    id: int
    doctor_id: int
    doctor_name: str
    department_id: int
    department_name: str
    schedule_date: dt.date
    session: ClinicSession
    registration_type_id: int | None = None
    registration_type_name: str | None = None
    fee: MoneyOut
    quota: int
    booked: int
    visited: int
    remaining: int
    status: str
    note: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class OnDutyList(BaseModel):
    items: list[ScheduleOut]


class OnDutyQuery(BaseModel):
    department_id: Id
    date: Day | None = Field(default=None, description="Hospital date; today when left out")
    session: ClinicSession | None = None


class LookupQuery(BaseModel):
    q: Search = None


# ---------------------------------------------------------------------------------------------------------------
# 挂号 registrations


class RegistrationCreate(In):
    patient_id: Id
    schedule_id: Id


class RegistrationOut(Out):
    id: int
    registration_no: str
    patient_id: int
    patient_name: str
    patient_no: str
    schedule_id: int
    doctor_id: int
    doctor_name: str
    department_id: int
    department_name: str
    visit_date: dt.date
    session: ClinicSession
    registration_type_name: str
    fee: MoneyOut
    status: RegistrationStatus
    created_at: dt.datetime
    paid_at: dt.datetime | None
    visited_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    refunded_at: dt.datetime | None
    created_by: str


class RegistrationQuery(BaseModel):
    q: Annotated[optional_text(64), Field(description="Registration number, or patient name or number")] = None
    patient_id: Id | None = None
    status: RegistrationStatus | None = None
    visit_date: Day | None = None
    department_id: Id | None = None
    doctor_id: Id | None = None


class RefundIn(In):
    reason: optional_text(255) = None


# ---------------------------------------------------------------------------------------------------------------
# 处方 prescriptions and 项目单 item orders

Quantity = Annotated[int, Field(ge=1, le=9999)]


class PrescriptionLineIn(In):
    drug_id: Id
    quantity: Quantity
    usage: optional_text(64) = Field(default=None, examples=["口服 一日三次 每次2粒"])
    days: Annotated[int, Field(ge=1, le=90)] | None = None


class PrescriptionCreate(In):
    registration_id: Id
    note: optional_text(500) = None
    lines: Annotated[list[PrescriptionLineIn], Field(min_length=1, max_length=50)]


class PrescriptionLinesIn(In):
    note: optional_text(500) = Field(default=None, description="Left out: the note stays; null or empty: cleared")
    lines: Annotated[list[PrescriptionLineIn], Field(min_length=1, max_length=50)]


class PrescriptionLineOut(Out):
    id: int
    drug_id: int
    drug_code: str
    drug_name: str
    specification: str
    unit_name: str
    unit_price: MoneyOut
    quantity: int
    usage: str | None
    days: int | None
    amount: MoneyOut


class PrescriptionOut(Out):
    id: int
    prescription_no: str
    registration_id: int
    registration_no: str
    patient_id: int
    patient_name: str
    status: PrescriptionStatus
    total_amount: MoneyOut
    note: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_at: dt.datetime | None
    refunded_at: dt.datetime | None
    lines: list[PrescriptionLineOut]


class DocumentQuery(BaseModel):
    q: Annotated[optional_text(64), Field(description="Document or registration number, or patient name")] = None
    registration_id: Id | None = None
    patient_id: Id | None = None


class PrescriptionQuery(DocumentQuery):
    status: PrescriptionStatus | None = None


class ItemOrderLineIn(In):
    medical_item_id: Id
    quantity: Quantity


class ItemOrderCreate(In):
    registration_id: Id
    note: optional_text(500) = None
    lines: Annotated[list[ItemOrderLineIn], Field(min_length=1, max_length=50)]


class ItemOrderLinesIn(In):
    note: optional_text(500) = Field(default=None, description="Left out: the note stays; null or empty: cleared")
    lines: Annotated[list[ItemOrderLineIn], Field(min_length=1, max_length=50)]


class ItemOrderRefundIn(In):
    line_ids: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = Field(
        default=None, description="The paid lines to refund; left out: every paid line without an exam result")
    reason: optional_text(255) = None


class ExamStatus(StrEnum):
    pending = "pending"  # paid, no result yet
    done = "done"  # examined


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: AttachmentType
    size: int
    uploaded_by: str
    created_at: dt.datetime


class AttachmentList(BaseModel):
    items: list[AttachmentOut]


class ExamOut(Out):
    line_id: int
    item_order_id: int
    order_no: str
    patient_id: int
    patient_name: str
    item_name: str
    department_name: str
    status: ExamStatus = Field(validation_alias="exam_status")
    findings: str | None
    conclusion: str | None
    examiner_id: int | None
    examiner_name: str | None
    examined_at: dt.datetime | None
    attachments: list[AttachmentOut]


class ItemOrderLineOut(Out):
    id: int
    medical_item_id: int
    item_code: str
    item_name: str
    category_name: str
    unit_name: str
    department_id: int
    department_name: str
    result_required: bool
    unit_price: MoneyOut
    quantity: int
    amount: MoneyOut
    status: ItemLineStatus
    exam: ExamOut | None


class ItemOrderOut(Out):
    id: int
    order_no: str
    registration_id: int
    registration_no: str
    patient_id: int
    patient_name: str
    status: ItemOrderStatus
    total_amount: MoneyOut
    refunded_amount: MoneyOut
    note: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_at: dt.datetime | None
    lines: list[ItemOrderLineOut]


class ItemOrderQuery(DocumentQuery):
    status: ItemOrderStatus | None = None


# ---------------------------------------------------------------------------------------------------------------
# 缴费 payments


class PaymentCreate(In):
    target: PaymentTarget
    target_id: Id
    method: PaymentMethod


class PaymentLineOut(Out):
    line_id: int
    name: str
    amount: MoneyOut


class PaymentOut(Out):
    id: int
    payment_no: str
    kind: PaymentKind
    target: PaymentTarget
    target_id: int
    target_no: str
    registration_id: int
    registration_no: str
    patient_id: int
    patient_name: str
    amount: MoneyOut = Field(description="Positive for payments, negative for refunds")
    method: PaymentMethod
    cashier_id: int | None
    cashier_name: str
    refund_of_id: int | None
    reason: str | None
    lines: list[PaymentLineOut]
    created_at: dt.datetime


class PaymentQuery(BaseModel):
    q: Annotated[optional_text(64), Field(description="Receipt number, document number or patient name")] = None
    date: Day | None = Field(default=None, description="Hospital date of the entry")
    method: PaymentMethod | None = None
    kind: PaymentKind | None = None
    cashier_id: Id | None = None
    registration_id: Id | None = None
    target: PaymentTarget | None = None


class SummaryQuery(BaseModel):
    date: Day | None = Field(default=None, description="Hospital date; today when left out")
    cashier_id: Id | None = None


class MethodTotals(BaseModel):
    payment_count: int
    paid_amount: MoneyOut
    refund_count: int
    refunded_amount: MoneyOut = Field(description="The sum of the refunds' magnitudes (positive)")
    net_amount: MoneyOut


class MethodSummary(MethodTotals):
    method: PaymentMethod


class DailySummary(BaseModel):
    date: dt.date
    cashier_id: int | None
    methods: list[MethodSummary]
    totals: MethodTotals


class BillingDocument(BaseModel):
    target: PaymentTarget
    target_id: int
    target_no: str
    status: str
    total_amount: MoneyOut
    paid_amount: MoneyOut
    refundable_amount: MoneyOut


class BillingOut(BaseModel):
    registration: RegistrationOut
    paid_amount: MoneyOut = Field(description="Σ of every ledger entry of this registration (net)")
    unpaid_amount: MoneyOut
    refundable_amount: MoneyOut
    documents: list[BillingDocument]
    payments: list[PaymentOut]


# ---------------------------------------------------------------------------------------------------------------
# History of a patient


class RegistrationHistory(RegistrationOut):
    prescriptions: list[PrescriptionOut]
    item_orders: list[ItemOrderOut]
    payments: list[PaymentOut]


class HistoryTotals(BaseModel):
    paid_amount: MoneyOut
    refunded_amount: MoneyOut
    net_amount: MoneyOut


class PatientHistory(BaseModel):
    patient: PatientDetail
    registrations: list[RegistrationHistory]
    totals: HistoryTotals


# ---------------------------------------------------------------------------------------------------------------
# 项目检查 exams


class ExamIn(In):
    findings: text(4000)
    conclusion: text(1000)


class ExamQuery(BaseModel):
    status: ExamStatus | None = None
    q: Annotated[optional_text(64), Field(description="Patient name or order number")] = None
    department_id: Id | None = Field(default=None, description="The executing department")


class UploadQuery(BaseModel):
    filename: Annotated[
        optional_text(255), Field(description="The file's name, shown to users only; the stored key is generated")
    ] = None
