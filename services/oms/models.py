"""Tables of the outpatient service (`hap_oms`).

Patients, registrations (a slot booked in DMS), priced documents (prescriptions and item orders with their
lines), the payment ledger, and exam results with their attachments. Master data (doctors, drugs, the price
list) belongs to DBS and schedules to DMS: what a document needs of them — names, specification, unit, price,
date and session — is snapshotted on its rows when it is made, so it never changes afterwards and lists never
call another service.

Enumerations are stored as their lower-snake-case values and guarded by CHECK constraints; money is
`Numeric(12, 2)`. Document numbers (`R20261125-00042`, `RX…`, `XM…`, `SF…`, `P00000042`) are derived from the
row's id right after its insert, so they never race; they are NULL only inside that one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from common.db import NAMING_CONVENTION, Money, not_negative, one_of
from common.events import OutboxEventMixin
from common.idempotency import IdempotencyKeyMixin
from common.timeutil import UtcDateTime, hospital_today, same_as_created_at, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ---------------------------------------------------------------------------------------------------------------
# Enumerations (spellings fixed by the API contract)


class Gender(StrEnum):
    male = "male"
    female = "female"
    unknown = "unknown"


class ClinicSession(StrEnum):
    morning = "morning"  # 上午
    afternoon = "afternoon"  # 下午
    night = "night"  # 夜间


class RegistrationStatus(StrEnum):
    pending_payment = "pending_payment"  # 待缴费: the slot is held
    registered = "registered"  # 已挂号 (paid)
    visited = "visited"  # 已就诊
    cancelled = "cancelled"  # 已取消 (never paid)
    refunded = "refunded"  # 已退号


# A patient holds at most one registration in these states per clinic session.
ACTIVE_REGISTRATION = (RegistrationStatus.pending_payment, RegistrationStatus.registered, RegistrationStatus.visited)


class PrescriptionStatus(StrEnum):
    unpaid = "unpaid"
    paid = "paid"
    dispensed = "dispensed"  # 已发药 (set when the pharmacy reports it)
    refunded = "refunded"
    cancelled = "cancelled"


class ItemOrderStatus(StrEnum):
    unpaid = "unpaid"
    paid = "paid"
    refunded = "refunded"
    cancelled = "cancelled"


class ItemLineStatus(StrEnum):
    unpaid = "unpaid"
    paid = "paid"
    examined = "examined"  # a result was entered: consumed, no longer refundable
    refunded = "refunded"
    cancelled = "cancelled"


class PaymentKind(StrEnum):
    payment = "payment"
    refund = "refund"


class PaymentTarget(StrEnum):
    registration = "registration"
    prescription = "prescription"
    item_order = "item_order"


class PaymentMethod(StrEnum):
    cash = "cash"  # 现金
    card = "card"  # 银行卡
    wechat = "wechat"  # 微信
    alipay = "alipay"  # 支付宝
    insurance = "insurance"  # 医保


class AttachmentType(StrEnum):
    pdf = "application/pdf"
    png = "image/png"
    jpeg = "image/jpeg"



def _mask(value: str | None, keep_start: int, keep_end: int, stars: int | None = None) -> str | None:
    if not value:
        return None
    middle = len(value) - keep_start - keep_end
    if middle <= 0:
        return "*" * len(value)
    return value[:keep_start] + "*" * (stars or middle) + value[-keep_end:]


# ---------------------------------------------------------------------------------------------------------------
# 门诊患者 patients


class Patient(Base):
    """门诊患者 — an outpatient: the person, identified by an ID-card number when one is given."""

    __tablename__ = "patient"
    __table_args__ = (one_of("gender", Gender),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_no: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    gender: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[date] = mapped_column(Date)
    id_card: Mapped[str | None] = mapped_column(String(18), unique=True, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    allergies: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)

    @property
    def age(self) -> int:
        """Whole years at the hospital's today."""
        today = hospital_today()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def id_card_masked(self) -> str | None:
        return _mask(self.id_card, 6, 4)  # 110101********1234

    @property
    def phone_masked(self) -> str | None:
        return _mask(self.phone, 3, 4)  # 138****0000


# ---------------------------------------------------------------------------------------------------------------
# 挂号 registrations


class Registration(Base):
    """挂号 — a patient's registration for one clinic session of one doctor (a slot booked in DMS).

    `active_key` is 0 while the registration is active and its own id once cancelled or refunded; unique with
    patient and schedule, it lets the database itself refuse a second active registration of the same patient
    for the same session, however many requests race, while any number of ended ones may remain.
    """

    __tablename__ = "registration"
    __table_args__ = (
        one_of("status", RegistrationStatus),
        one_of("session", ClinicSession),
        not_negative("fee"),
        UniqueConstraint("patient_id", "schedule_id", "active_key"),
        Index("ix_registration_visit_date_department_id", "visit_date", "department_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    schedule_id: Mapped[int] = mapped_column(Integer, index=True)  # DMS's session
    doctor_id: Mapped[int] = mapped_column(Integer, index=True)
    doctor_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(Integer)
    department_name: Mapped[str] = mapped_column(String(64))
    visit_date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(16))
    registration_type_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    registration_type_name: Mapped[str] = mapped_column(String(64))
    fee: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(32), default=RegistrationStatus.pending_payment)
    active_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    patient: Mapped[Patient] = relationship(lazy="joined", innerjoin=True)

    @property
    def patient_name(self) -> str:
        return self.patient.name

    @property
    def patient_no(self) -> str:
        return self.patient.patient_no or ""


class PricedDocumentColumns:
    """What a priced document (处方 or 项目单) has besides its number, status and lines: whose visit it belongs to,
    its total, who made it, and when it was made, paid, refunded or cancelled."""

    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    total_amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    @declared_attr
    def registration(cls) -> Mapped[Registration]:
        return relationship(lazy="joined", innerjoin=True)

    @declared_attr
    def patient(cls) -> Mapped[Patient]:
        return relationship(lazy="joined", innerjoin=True)

    @property
    def registration_no(self) -> str:
        return self.registration.registration_no or ""

    @property
    def patient_name(self) -> str:
        return self.patient.name


# ---------------------------------------------------------------------------------------------------------------
# 处方 prescriptions


class Prescription(PricedDocumentColumns, Base):
    """处方 — a prescription of one registration: drug lines priced from DBS at the time it was written."""

    __tablename__ = "prescription"
    __table_args__ = (one_of("status", PrescriptionStatus), not_negative("total_amount"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prescription_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PrescriptionStatus.unpaid)
    dispensed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    lines: Mapped[list[PrescriptionLine]] = relationship(
        back_populates="prescription", lazy="selectin", order_by="PrescriptionLine.id", cascade="all, delete-orphan"
    )


class PrescriptionLine(Base):
    """处方明细 — one drug of a prescription, with the name, specification, unit and price it was priced at."""

    __tablename__ = "prescription_line"
    __table_args__ = (
        UniqueConstraint("prescription_id", "drug_id"),
        CheckConstraint("quantity >= 1 AND quantity <= 9999", name="quantity_range"),
        CheckConstraint("days IS NULL OR (days >= 1 AND days <= 90)", name="days_range"),
        not_negative("unit_price"),
        not_negative("amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescription.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int] = mapped_column(Integer, index=True)
    drug_code: Mapped[str] = mapped_column(String(32))
    drug_name: Mapped[str] = mapped_column(String(64))
    specification: Mapped[str] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)
    usage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    prescription: Mapped[Prescription] = relationship(back_populates="lines")


# ---------------------------------------------------------------------------------------------------------------
# 项目单 item orders


class ItemOrder(PricedDocumentColumns, Base):
    """项目单 — exams, treatments and services ordered for one registration, priced from the price list."""

    __tablename__ = "item_order"
    __table_args__ = (
        one_of("status", ItemOrderStatus),
        not_negative("total_amount"),
        not_negative("refunded_amount"),
        CheckConstraint("refunded_amount <= total_amount", name="refunded_within_total"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ItemOrderStatus.unpaid)
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")

    lines: Mapped[list[ItemOrderLine]] = relationship(
        back_populates="item_order", lazy="selectin", order_by="ItemOrderLine.id", cascade="all, delete-orphan"
    )


class ItemOrderLine(Base):
    """项目明细 — one item of an item order, with its snapshotted name, unit, department and price; paid, examined
    (a result was entered) or refunded one by one."""

    __tablename__ = "item_order_line"
    __table_args__ = (
        UniqueConstraint("item_order_id", "medical_item_id"),
        one_of("status", ItemLineStatus),
        CheckConstraint("quantity >= 1 AND quantity <= 9999", name="quantity_range"),
        not_negative("unit_price"),
        not_negative("amount"),
        Index("ix_item_order_line_status_department_id", "status", "department_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_order_id: Mapped[int] = mapped_column(ForeignKey("item_order.id", ondelete="CASCADE"), index=True)
    medical_item_id: Mapped[int] = mapped_column(Integer, index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    item_name: Mapped[str] = mapped_column(String(64))
    category_name: Mapped[str] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(Integer)  # the executing department
    department_name: Mapped[str] = mapped_column(String(64))
    result_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default=ItemLineStatus.unpaid)

    item_order: Mapped[ItemOrder] = relationship(back_populates="lines")
    result: Mapped[ExamResult | None] = relationship(back_populates="line", lazy="selectin", uselist=False)
    attachments: Mapped[list[ExamAttachment]] = relationship(
        back_populates="line", lazy="selectin", order_by="ExamAttachment.id"
    )

    # The exam view of a line (ExamOut reads these).

    @property
    def line_id(self) -> int:
        return self.id

    @property
    def order_no(self) -> str:
        return self.item_order.order_no or ""

    @property
    def patient_id(self) -> int:
        return self.item_order.patient_id

    @property
    def patient_name(self) -> str:
        return self.item_order.patient_name

    @property
    def exam_status(self) -> str:
        return "done" if self.status == ItemLineStatus.examined else "pending"

    @property
    def findings(self) -> str | None:
        return self.result.findings if self.result else None

    @property
    def conclusion(self) -> str | None:
        return self.result.conclusion if self.result else None

    @property
    def examiner_id(self) -> int | None:
        return self.result.examiner_id if self.result else None

    @property
    def examiner_name(self) -> str | None:
        return self.result.examiner_name if self.result else None

    @property
    def examined_at(self) -> datetime | None:
        return self.result.examined_at if self.result else None

    @property
    def is_exam(self) -> bool:
        """Whether the line shows as an exam: it has a result or files, or it awaits a required result."""
        if self.result is not None or self.attachments:
            return True
        return self.result_required and self.status in (ItemLineStatus.paid, ItemLineStatus.examined)

    @property
    def exam(self) -> ItemOrderLine | None:
        return self if self.is_exam else None


# ---------------------------------------------------------------------------------------------------------------
# 缴费流水 the payment ledger


class Payment(Base):
    """缴费流水 — one entry of the append-only payment ledger: a payment (positive) or a refund (negative, pointing
    at the payment it refunds). Never updated: a refund is a new entry. `lines` records what the entry paid or
    refunded ([{line_id, name, amount}], amounts as strings with the entry's sign)."""

    __tablename__ = "payment"
    __table_args__ = (
        one_of("kind", PaymentKind),
        one_of("target", PaymentTarget),
        one_of("method", PaymentMethod),
        CheckConstraint("(kind = 'payment' AND amount >= 0) OR (kind = 'refund' AND amount <= 0)",
                        name="amount_sign"),
        CheckConstraint("(kind = 'payment' AND refund_of_id IS NULL) OR (kind = 'refund' AND refund_of_id IS NOT "
                        "NULL)", name="refund_of"),
        Index("ix_payment_target_target_id", "target", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    target_no: Mapped[str] = mapped_column(String(32), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(16))
    cashier_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    cashier_name: Mapped[str] = mapped_column(String(64))
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    registration: Mapped[Registration] = relationship(lazy="joined", innerjoin=True)
    patient: Mapped[Patient] = relationship(lazy="joined", innerjoin=True)

    @property
    def registration_no(self) -> str:
        return self.registration.registration_no or ""

    @property
    def patient_name(self) -> str:
        return self.patient.name


# ---------------------------------------------------------------------------------------------------------------
# 检查结果 exam results and 检查附件 attachments


class ExamResult(Base):
    """检查结果 — the result of one paid item line: findings, conclusion, who examined and when."""

    __tablename__ = "exam_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_order_line_id: Mapped[int] = mapped_column(ForeignKey("item_order_line.id"), unique=True)
    findings: Mapped[str] = mapped_column(String(4000))
    conclusion: Mapped[str] = mapped_column(String(1000))
    examiner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    examiner_name: Mapped[str] = mapped_column(String(64))
    examined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow)

    line: Mapped[ItemOrderLine] = relationship(back_populates="result")


class ExamAttachment(Base):
    """检查附件 — a file (PDF, PNG or JPEG) of an exam, kept in the object store under a generated key; the user's
    file name is only shown, never used as the key."""

    __tablename__ = "exam_attachment"
    __table_args__ = (one_of("content_type", AttachmentType), CheckConstraint("size > 0", name="size_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_order_line_id: Mapped[int] = mapped_column(ForeignKey("item_order_line.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    line: Mapped[ItemOrderLine] = relationship(back_populates="attachments")


# ---------------------------------------------------------------------------------------------------------------
# Plumbing tables every service has (columns from common)


class OutboxEvent(OutboxEventMixin, Base):
    """发件箱事件 — a domain event of this service, served to other services at /internal/events."""

    __tablename__ = "outbox_event"


class IdempotencyRecord(IdempotencyKeyMixin, Base):
    """幂等键 — a client's Idempotency-Key for a POST, with the response it got."""

    __tablename__ = "idempotency_key"
