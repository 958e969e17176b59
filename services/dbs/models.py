"""Tables of the data center (`hap_dbs`): twelve catalogues of master data.

Every table has the catalogue columns of `CatalogueColumns` (id, code, name, active, created_at, updated_at);
codes are unique per table. Enumerations are stored as their lower-snake-case string values (ARCHITECTURE §11)
and guarded by CHECK constraints; money is `Numeric(12, 2)`. References are plain foreign keys (RESTRICT): a
referenced row cannot be deleted, only deactivated.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, MetaData, String, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from common.db import NAMING_CONVENTION, Money, not_negative, one_of
from common.events import OutboxEventMixin
from common.idempotency import IdempotencyKeyMixin
from common.timeutil import UtcDateTime, same_as_created_at, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ---------------------------------------------------------------------------------------------------------------
# Enumerations (the spellings are fixed by ARCHITECTURE §11)


class DepartmentKind(StrEnum):
    clinical = "clinical"  # 临床科室
    medical_technical = "medical_technical"  # 医技科室
    administrative = "administrative"  # 行政科室


class Gender(StrEnum):
    male = "male"
    female = "female"
    unknown = "unknown"


class DoctorTitle(StrEnum):
    chief = "chief"  # 主任医师
    associate_chief = "associate_chief"  # 副主任医师
    attending = "attending"  # 主治医师
    resident = "resident"  # 住院医师


class Practice(StrEnum):
    outpatient = "outpatient"  # 门诊
    inpatient = "inpatient"  # 住院


class DrugCategory(StrEnum):
    western = "western"  # 西药
    chinese_patent = "chinese_patent"  # 中成药
    herbal = "herbal"  # 中药饮片


class DeviceCategory(StrEnum):
    equipment = "equipment"  # 设备
    consumable = "consumable"  # 耗材




# ---------------------------------------------------------------------------------------------------------------
# The columns every catalogue has



class CatalogueColumns:
    """id, code, name, active and timestamps; mixed into every table of this service."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-3)
    code: Mapped[str] = mapped_column(String(32), unique=True, sort_order=-2)
    name: Mapped[str] = mapped_column(String(64), sort_order=-1)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), sort_order=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, sort_order=2)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=same_as_created_at, onupdate=utcnow, sort_order=3)


# ---------------------------------------------------------------------------------------------------------------
# Catalogues without references


class Department(CatalogueColumns, Base):
    """科室 — a department: clinical, medical-technical (检验, 放射, 药剂) or administrative."""

    __tablename__ = "department"
    __table_args__ = (one_of("kind", DepartmentKind),)

    kind: Mapped[str] = mapped_column(String(32))


class RegistrationType(CatalogueColumns, Base):
    """挂号类型 — a registration type (普通号, 专家号, 急诊号) and its fee."""

    __tablename__ = "registration_type"
    __table_args__ = (not_negative("fee"),)

    fee: Mapped[Decimal] = mapped_column(Money)


class DrugOrigin(CatalogueColumns, Base):
    """药品产地 — where drugs and devices come from: a manufacturer and its region, or a growing region."""

    __tablename__ = "drug_origin"


class ItemCategory(CatalogueColumns, Base):
    """项目大类 — a category of the price list (检验, 影像, 治疗, 手术, 护理)."""

    __tablename__ = "item_category"


class Unit(CatalogueColumns, Base):
    """计量单位 — a unit of measure (盒, 瓶, 支, 次 …)."""

    __tablename__ = "unit"


class Warehouse(CatalogueColumns, Base):
    """仓库 — a warehouse (西药库, 中药库, 器材库)."""

    __tablename__ = "warehouse"

    location: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Handler(CatalogueColumns, Base):
    """经办人 — a person who handles stock-in and stock-out orders."""

    __tablename__ = "handler"

    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)


class Supplier(CatalogueColumns, Base):
    """供货商 — a supplier of drugs and devices, with its contact and licence number."""

    __tablename__ = "supplier"

    contact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    licence_no: Mapped[str | None] = mapped_column(String(64), nullable=True)


# ---------------------------------------------------------------------------------------------------------------
# Catalogues with references. The referenced rows are loaded with the row (one query, many-to-one joins) so the
# `*_name` properties the API shows for the UI cost nothing extra.


class Doctor(CatalogueColumns, Base):
    """医生 — a doctor: department, title 职称, default registration type, outpatient or inpatient practice."""

    __tablename__ = "doctor"
    __table_args__ = (one_of("gender", Gender), one_of("title", DoctorTitle), one_of("practice", Practice))

    gender: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    title: Mapped[str] = mapped_column(String(32))
    registration_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_type.id"), index=True, nullable=True
    )
    practice: Mapped[str] = mapped_column(String(16))

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    registration_type: Mapped[RegistrationType | None] = relationship(lazy="joined")

    @property
    def department_name(self) -> str:
        return self.department.name

    @property
    def registration_type_name(self) -> str | None:
        return self.registration_type.name if self.registration_type else None


class MedicalItem(CatalogueColumns, Base):
    """价目表 — one line of the price list: an exam, treatment or service, its price and executing department."""

    __tablename__ = "medical_item"
    __table_args__ = (not_negative("price"),)

    category_id: Mapped[int] = mapped_column(ForeignKey("item_category.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)  # executing department
    result_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    category: Mapped[ItemCategory] = relationship(lazy="joined", innerjoin=True)
    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)
    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)

    @property
    def category_name(self) -> str:
        return self.category.name

    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def department_name(self) -> str:
        return self.department.name


class StockGoodsColumns:
    """The columns drugs and devices share: goods the warehouse and pharmacy stock, with a retail price."""

    specification: Mapped[str] = mapped_column(String(64))  # e.g. "0.25g×24粒"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    origin_id: Mapped[int] = mapped_column(ForeignKey("drug_origin.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    retail_price: Mapped[Decimal] = mapped_column(Money)
    low_stock_threshold: Mapped[int] = mapped_column(Integer)

    @declared_attr
    def unit(cls) -> Mapped[Unit]:
        return relationship(Unit, lazy="joined", innerjoin=True)

    @declared_attr
    def origin(cls) -> Mapped[DrugOrigin]:
        return relationship(DrugOrigin, lazy="joined", innerjoin=True)

    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def origin_name(self) -> str:
        return self.origin.name


class Drug(CatalogueColumns, StockGoodsColumns, Base):
    """药品 — a drug: western 西药, Chinese patent 中成药 or herbal 中药饮片, with its retail price."""

    __tablename__ = "drug"
    __table_args__ = (
        one_of("category", DrugCategory),
        not_negative("retail_price"),
        not_negative("low_stock_threshold"),
    )

    generic_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dosage_form: Mapped[str] = mapped_column(String(32))  # e.g. 胶囊剂
    prescription_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Device(CatalogueColumns, StockGoodsColumns, Base):
    """器材 — a device: equipment 设备 or a consumable 耗材, with its retail price."""

    __tablename__ = "device"
    __table_args__ = (
        one_of("category", DeviceCategory),
        not_negative("retail_price"),
        not_negative("low_stock_threshold"),
    )


# ---------------------------------------------------------------------------------------------------------------
# Plumbing tables every service has (columns from common)


class OutboxEvent(OutboxEventMixin, Base):
    """发件箱事件 — a change of master data (`catalogue.changed`), served to other services at /internal/events."""

    __tablename__ = "outbox_event"


class IdempotencyRecord(IdempotencyKeyMixin, Base):
    """幂等键 — a client's Idempotency-Key for a create, with the response it got."""

    __tablename__ = "idempotency_key"
