"""Request and response models of the data center, one set per entity.

For each entity `X` there are four models, each a distinct schema in the OpenAPI document:

    XCreate  the body of POST (extra fields rejected, strings trimmed, every string bounded)
    XUpdate  the body of PATCH: the same fields and rules as XCreate, all optional (made by `partial`)
    XOut     a row as the API shows it, with the names of the rows it references (for the UI)
    XQuery   the list filters: `q`, `active` and the entity's own (page and size come from Pagination)

`active` is in none of the inputs: it changes only through the explicit activate/deactivate actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from common.types import Id, Money, MoneyOut, OptionalPhone, optional_text, text
from services.dbs.models import DepartmentKind, DeviceCategory, DoctorTitle, DrugCategory, Gender, Practice

# ---------------------------------------------------------------------------------------------------------------
# Field types shared by the entities

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,32}$"),
    Field(description="Unique per entity: letters, digits, '_' and '-', at most 32", examples=["NK01"]),
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

Threshold = Annotated[int, Field(ge=0, le=1_000_000_000, description="Low-stock alert below this quantity")]


class CatalogueIn(BaseModel):
    """Fields every entity takes on create."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Code
    name: Name


class CatalogueOut(BaseModel):
    """Fields every entity shows."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime


class CatalogueQuery(BaseModel):
    """Filters every list takes."""

    q: Annotated[optional_text(64), Field(description="Search in code and name, case-insensitively")] = None
    active: Annotated[bool | None, Field(description="Only active (true) or deactivated (false) rows")] = None


def partial(create: type[CatalogueIn], name: str) -> type[BaseModel]:
    """The PATCH model of an entity: the fields of its create model, each optional, with the same rules.

    A field left out is not changed. `null` is accepted only where the column is nullable (the field's type
    allows None): sending `"name": null` is a 422, sending `"registration_type_id": null` clears it.
    """
    fields: dict[str, Any] = {}
    for field_name, info in create.model_fields.items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        # The default is not validated, so an omitted field is simply "unset", even where None is not allowed.
        fields[field_name] = (annotation, Field(default=None, description=info.description))
    return create_model(
        name,
        __config__=CatalogueIn.model_config,
        __doc__=f"Changes to apply; fields left out stay as they are (the rules of {create.__name__}).",
        __module__=create.__module__,
        **fields,
    )


# ---------------------------------------------------------------------------------------------------------------
# 科室 departments


class DepartmentCreate(CatalogueIn):
    kind: DepartmentKind


DepartmentUpdate = partial(DepartmentCreate, "DepartmentUpdate")


class DepartmentOut(CatalogueOut):
    kind: DepartmentKind


class DepartmentQuery(CatalogueQuery):
    kind: DepartmentKind | None = None


# ---------------------------------------------------------------------------------------------------------------
# 医生 doctors


class DoctorCreate(CatalogueIn):
    gender: Gender
    department_id: Id
    title: DoctorTitle
    registration_type_id: Id | None = Field(default=None, description="The default registration type")
    practice: Practice


DoctorUpdate = partial(DoctorCreate, "DoctorUpdate")


class DoctorOut(CatalogueOut):
    gender: Gender
    department_id: int
    department_name: str
    title: DoctorTitle
    registration_type_id: int | None
    registration_type_name: str | None
    practice: Practice


class DoctorQuery(CatalogueQuery):
    department_id: Id | None = None
    title: DoctorTitle | None = None
    practice: Practice | None = None
    gender: Gender | None = None
    registration_type_id: Id | None = None


# ---------------------------------------------------------------------------------------------------------------
# 挂号类型 registration types


class RegistrationTypeCreate(CatalogueIn):
    fee: Money


RegistrationTypeUpdate = partial(RegistrationTypeCreate, "RegistrationTypeUpdate")


class RegistrationTypeOut(CatalogueOut):
    fee: MoneyOut


class RegistrationTypeQuery(CatalogueQuery):
    pass


# ---------------------------------------------------------------------------------------------------------------
# 药品产地 drug origins, 项目大类 item categories, 计量单位 units: code and name only


class DrugOriginCreate(CatalogueIn):
    pass


DrugOriginUpdate = partial(DrugOriginCreate, "DrugOriginUpdate")


class DrugOriginOut(CatalogueOut):
    pass


class DrugOriginQuery(CatalogueQuery):
    pass


class ItemCategoryCreate(CatalogueIn):
    pass


ItemCategoryUpdate = partial(ItemCategoryCreate, "ItemCategoryUpdate")


class ItemCategoryOut(CatalogueOut):
    pass


class ItemCategoryQuery(CatalogueQuery):
    pass


class UnitCreate(CatalogueIn):
    pass


UnitUpdate = partial(UnitCreate, "UnitUpdate")


class UnitOut(CatalogueOut):
    pass


class UnitQuery(CatalogueQuery):
    pass


# ---------------------------------------------------------------------------------------------------------------
# 价目表 medical items


class MedicalItemCreate(CatalogueIn):
    category_id: Id
    unit_id: Id
    price: Money
    department_id: Id = Field(description="The executing department")
    result_required: bool = Field(default=False, description="An exam whose result must be entered")


MedicalItemUpdate = partial(MedicalItemCreate, "MedicalItemUpdate")


class MedicalItemOut(CatalogueOut):
    category_id: int
    category_name: str
    unit_id: int
    unit_name: str
    price: MoneyOut
    department_id: int
    department_name: str
    result_required: bool


class MedicalItemQuery(CatalogueQuery):
    category_id: Id | None = None
    unit_id: Id | None = None
    department_id: Id | None = None
    result_required: bool | None = None


# ---------------------------------------------------------------------------------------------------------------
# 药品 drugs


class DrugCreate(CatalogueIn):
    generic_name: optional_text(64) = None
    specification: text(64) = Field(examples=["0.25g×24粒"])
    dosage_form: text(32) = Field(examples=["胶囊剂"])
    unit_id: Id
    origin_id: Id
    category: DrugCategory
    retail_price: Money
    low_stock_threshold: Threshold
    prescription_only: bool = False


DrugUpdate = partial(DrugCreate, "DrugUpdate")


class DrugOut(CatalogueOut):
    generic_name: str | None
    specification: str
    dosage_form: str
    unit_id: int
    unit_name: str
    origin_id: int
    origin_name: str
    category: DrugCategory
    retail_price: MoneyOut
    low_stock_threshold: int
    prescription_only: bool


class DrugQuery(CatalogueQuery):
    q: Annotated[
        optional_text(64), Field(description="Search in code, name and generic name, case-insensitively")
    ] = None
    category: DrugCategory | None = None
    unit_id: Id | None = None
    origin_id: Id | None = None
    prescription_only: bool | None = None


# ---------------------------------------------------------------------------------------------------------------
# 器材 devices


class DeviceCreate(CatalogueIn):
    specification: text(64) = Field(examples=["5ml"])
    unit_id: Id
    origin_id: Id
    category: DeviceCategory
    retail_price: Money
    low_stock_threshold: Threshold


DeviceUpdate = partial(DeviceCreate, "DeviceUpdate")


class DeviceOut(CatalogueOut):
    specification: str
    unit_id: int
    unit_name: str
    origin_id: int
    origin_name: str
    category: DeviceCategory
    retail_price: MoneyOut
    low_stock_threshold: int


class DeviceQuery(CatalogueQuery):
    category: DeviceCategory | None = None
    unit_id: Id | None = None
    origin_id: Id | None = None


# ---------------------------------------------------------------------------------------------------------------
# 仓库 warehouses, 经办人 handlers, 供货商 suppliers


class WarehouseCreate(CatalogueIn):
    location: optional_text(128) = None


WarehouseUpdate = partial(WarehouseCreate, "WarehouseUpdate")


class WarehouseOut(CatalogueOut):
    location: str | None


class WarehouseQuery(CatalogueQuery):
    pass


class HandlerCreate(CatalogueIn):
    phone: OptionalPhone = None


HandlerUpdate = partial(HandlerCreate, "HandlerUpdate")


class HandlerOut(CatalogueOut):
    phone: str | None


class HandlerQuery(CatalogueQuery):
    pass


class SupplierCreate(CatalogueIn):
    contact: optional_text(64) = None
    phone: OptionalPhone = None
    address: optional_text(255) = None
    licence_no: optional_text(64) = Field(default=None, description="药品/医疗器械经营许可证 number")


SupplierUpdate = partial(SupplierCreate, "SupplierUpdate")


class SupplierOut(CatalogueOut):
    contact: str | None
    phone: str | None
    address: str | None
    licence_no: str | None


class SupplierQuery(CatalogueQuery):
    pass
