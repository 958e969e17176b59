"""The rules of the data center.

All twelve entities are catalogues with the same rules, so there is one generic service, `Catalogue`, and one
configuration of it per entity at the bottom of this file (`departments`, `doctors`, `drugs`, …). A
configuration says, for its entity:

    model       the table
    entity      the singular name, used in error codes (`drug.not_found`) and messages
    namespace   the plural kebab-case name: the route (`/api/datacenter/drugs`), the cache namespace, and the
                key under which this entity is counted when it blocks a delete
    search      the columns `q` searches, case-insensitively
    filters     the columns a list may be filtered on by equality
    references  field -> the model it points at; a new or changed value must name an existing, active row
    dependants  namespace -> the foreign-key column of another entity that points at this one; a row that
                is still referenced is not deleted (409 with the counts), and a write here invalidates the
                dependants' caches too, because their outputs show this entity's name

The rules themselves:
- codes are unique per entity, compared case-insensitively (MariaDB's collation does, so SQLite must too):
  409 `datacenter.code_taken` with detail {"field": "code"};
- a missing row is 404 `<entity>.not_found`;
- a reference to a missing row is 422 `datacenter.reference_not_found`, to a deactivated one
  422 `datacenter.reference_inactive`, both with detail {"field": …};
- delete only what nothing references, else 409 `datacenter.in_use` with detail {"references": {ns: count}};
  deactivating is always possible and is the way to retire a referenced row.

Functions take the session as an argument, flush so database errors surface here, and never commit: the
request's unit of work does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from common.errors import Conflict, NotFound, Unprocessable
from common.events import emit
from common.pagination import PageParams, paginate
from services.dbs.models import (
    Base,
    Department,
    Device,
    Doctor,
    Drug,
    DrugOrigin,
    Handler,
    ItemCategory,
    MedicalItem,
    OutboxEvent,
    RegistrationType,
    Supplier,
    Unit,
    Warehouse,
)

Row = TypeVar("Row", bound=Base)

# Columns no input may set: the key, and the state that only the explicit actions change.
_NOT_WRITABLE = frozenset({"id", "active", "created_at", "updated_at"})


@dataclass(frozen=True, eq=False)
class Catalogue(Generic[Row]):
    """The list/create/read/update/delete/activate rules of one entity (see the module docstring)."""

    model: type[Row]
    entity: str
    namespace: str
    search: tuple[str, ...] = ("code", "name")
    filters: tuple[str, ...] = ()
    references: Mapping[str, type[Base]] = field(default_factory=dict)
    dependants: Mapping[str, InstrumentedAttribute[Any]] = field(default_factory=dict)

    @property
    def invalidates(self) -> tuple[str, ...]:
        """The cache namespaces a write to this entity makes stale: its own and those showing its name."""
        return (self.namespace, *self.dependants)

    # --- reads ---------------------------------------------------------------------------------------------

    def list(self, session: Session, params: Mapping[str, Any], page: PageParams) -> tuple[list[Row], int]:
        """One page of rows, ordered by id, and the total. `params` holds `q`, `active`, filter values and
        `ids` (only these rows; used by other services to look rows up)."""
        model = self.model
        statement = select(model).order_by(model.id)
        for name, value in params.items():
            if value is None:
                continue
            if name == "ids":
                statement = statement.where(model.id.in_(value))
            elif name == "q":
                statement = statement.where(
                    or_(*(getattr(model, column).icontains(value, autoescape=True) for column in self.search))
                )
            elif name == "active":
                statement = statement.where(model.active == value)
            elif name in self.filters:
                statement = statement.where(getattr(model, name) == value)
            else:
                raise ValueError(f"{self.namespace} cannot be filtered on {name!r}")
        return paginate(session, statement, page)

    def get(self, session: Session, row_id: int) -> Row:
        row = session.get(self.model, row_id)
        if row is None:
            raise NotFound(f"No {self.entity} with id {row_id}", code=f"{self.entity}.not_found",
                           detail={"id": row_id})
        return row

    def reference_counts(self, session: Session, row_id: int) -> dict[str, int]:
        """How many rows of each dependant entity point at this row (only the non-zero counts)."""
        counts = {}
        for namespace, column in self.dependants.items():
            count = session.scalar(select(func.count()).select_from(column.class_).where(column == row_id))
            if count:
                counts[namespace] = count
        return counts

    # --- writes --------------------------------------------------------------------------------------------

    def create(self, session: Session, data: Mapping[str, Any]) -> Row:
        self._check_writable(data)
        self._check_code_free(session, data["code"])
        self._check_references(session, data)
        row = self.model(**data)
        session.add(row)
        self._flush(session)
        session.refresh(row)  # loads the referenced rows, for their names
        self._changed(session, row, "created")
        return row

    def update(self, session: Session, row_id: int, changes: Mapping[str, Any]) -> Row:
        """Apply a partial update. Only values that really change are checked and written, so a form that sends
        every field back still saves while, say, the doctor's department has since been deactivated."""
        self._check_writable(changes)
        row = self.get(session, row_id)
        changed = {name: value for name, value in changes.items() if getattr(row, name) != value}
        if not changed:
            return row
        if "code" in changed:
            self._check_code_free(session, changed["code"], exclude_id=row.id)
        self._check_references(session, changed)
        for name, value in changed.items():
            setattr(row, name, value)
        self._flush(session)
        session.refresh(row)  # a changed foreign key must show the new referenced name
        self._changed(session, row, "updated")
        return row

    def set_active(self, session: Session, row_id: int, active: bool) -> Row:
        """Activate or deactivate a row; doing it twice is harmless."""
        row = self.get(session, row_id)
        if row.active != active:
            row.active = active
            self._flush(session)
            session.refresh(row)
            self._changed(session, row, "activated" if active else "deactivated")
        return row

    def delete(self, session: Session, row_id: int) -> None:
        row = self.get(session, row_id)
        counts = self.reference_counts(session, row_id)
        if counts:
            raise self._in_use(row_id, counts)
        self._changed(session, row, "deleted")
        session.delete(row)
        try:
            session.flush()
        except IntegrityError as exc:  # a reference was added between the count and the delete
            raise self._in_use(row_id, {}) from exc

    def _changed(self, session: Session, row: Row, action: str) -> None:
        """Tell other services, in the same transaction: they may hold names and prices of this row."""
        emit(session, OutboxEvent, "catalogue.changed", {
            "entity": self.namespace, "id": row.id, "action": action, "code": row.code, "name": row.name,
            "active": row.active,
        })

    # --- checks --------------------------------------------------------------------------------------------

    def _check_writable(self, data: Mapping[str, Any]) -> None:
        forbidden = _NOT_WRITABLE.intersection(data)
        if forbidden:  # the schemas never let these through; this guards other callers
            raise ValueError(f"{', '.join(sorted(forbidden))} cannot be set directly")

    def _check_code_free(self, session: Session, code: str, exclude_id: int | None = None) -> None:
        statement = select(self.model.id).where(func.lower(self.model.code) == code.lower())
        if exclude_id is not None:
            statement = statement.where(self.model.id != exclude_id)
        if session.scalar(statement.limit(1)) is not None:
            raise self._code_taken(code)

    def _check_references(self, session: Session, data: Mapping[str, Any]) -> None:
        for field_name, target in self.references.items():
            target_id = data.get(field_name)
            if target_id is None:  # not given, or a nullable reference being cleared
                continue
            referenced = session.get(target, target_id)
            if referenced is None:
                raise Unprocessable(
                    f"{field_name}: no {target.__tablename__} with id {target_id}",
                    code="datacenter.reference_not_found", detail={"field": field_name, "id": target_id},
                )
            if not referenced.active:
                raise Unprocessable(
                    f"{field_name}: {target.__tablename__} {referenced.name} ({target_id}) is deactivated",
                    code="datacenter.reference_inactive", detail={"field": field_name, "id": target_id},
                )

    def _flush(self, session: Session) -> None:
        try:
            session.flush()
        except IntegrityError as exc:
            # Two requests passed the code check at once; the unique constraint stopped the second one.
            message = str(exc.orig)
            table = self.model.__tablename__
            if f"uq_{table}_code" in message or f"{table}.code" in message:
                raise self._code_taken(None) from exc
            raise

    def _code_taken(self, code: str | None) -> Conflict:
        shown = f" {code}" if code else ""
        return Conflict(f"The {self.entity} code{shown} is already taken",
                        code="datacenter.code_taken", detail={"field": "code"})

    def _in_use(self, row_id: int, counts: dict[str, int]) -> Conflict:
        listed = ", ".join(f"{namespace}: {count}" for namespace, count in counts.items()) or "new references"
        return Conflict(
            f"The {self.entity} {row_id} is still referenced ({listed}) and cannot be deleted; "
            "deactivate it instead",
            code="datacenter.in_use", detail={"references": counts},
        )


# ---------------------------------------------------------------------------------------------------------------
# The twelve catalogues

departments = Catalogue(
    Department, "department", "departments",
    filters=("kind",),
    dependants={"doctors": Doctor.department_id, "medical-items": MedicalItem.department_id},
)
registration_types = Catalogue(
    RegistrationType, "registration_type", "registration-types",
    dependants={"doctors": Doctor.registration_type_id},
)
doctors = Catalogue(
    Doctor, "doctor", "doctors",
    filters=("department_id", "title", "practice", "gender", "registration_type_id"),
    references={"department_id": Department, "registration_type_id": RegistrationType},
)
drug_origins = Catalogue(
    DrugOrigin, "drug_origin", "drug-origins",
    dependants={"drugs": Drug.origin_id, "devices": Device.origin_id},
)
item_categories = Catalogue(
    ItemCategory, "item_category", "item-categories",
    dependants={"medical-items": MedicalItem.category_id},
)
units = Catalogue(
    Unit, "unit", "units",
    dependants={"medical-items": MedicalItem.unit_id, "drugs": Drug.unit_id, "devices": Device.unit_id},
)
medical_items = Catalogue(
    MedicalItem, "medical_item", "medical-items",
    filters=("category_id", "unit_id", "department_id", "result_required"),
    references={"category_id": ItemCategory, "unit_id": Unit, "department_id": Department},
)
drugs = Catalogue(
    Drug, "drug", "drugs",
    search=("code", "name", "generic_name"),
    filters=("category", "unit_id", "origin_id", "prescription_only"),
    references={"unit_id": Unit, "origin_id": DrugOrigin},
)
devices = Catalogue(
    Device, "device", "devices",
    filters=("category", "unit_id", "origin_id"),
    references={"unit_id": Unit, "origin_id": DrugOrigin},
)
warehouses = Catalogue(Warehouse, "warehouse", "warehouses")
handlers = Catalogue(Handler, "handler", "handlers")
suppliers = Catalogue(Supplier, "supplier", "suppliers")

CATALOGUES: tuple[Catalogue[Any], ...] = (
    departments, doctors, registration_types, drug_origins, item_categories, medical_items, drugs, devices,
    warehouses, handlers, units, suppliers,
)
