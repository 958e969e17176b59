"""Routes of the data center: seven per entity, registered by `add_catalogue_routes` with the entity's schemas.

    GET    /api/datacenter/<entities>                   list (q, active, the entity's filters, page, size)
    POST   /api/datacenter/<entities>                   create (201)
    GET    /api/datacenter/<entities>/{id}              read
    PATCH  /api/datacenter/<entities>/{id}              update some fields
    DELETE /api/datacenter/<entities>/{id}              delete (204), or 409 datacenter.in_use
    POST   /api/datacenter/<entities>/{id}/deactivate   retire a row that is still referenced
    POST   /api/datacenter/<entities>/{id}/activate     bring it back
    GET    /internal/<entities>?ids=1&ids=2             look-ups by other services (service tokens only)

Reads are cached per entity namespace; a write invalidates that namespace and those of the entities that show
the written entity's name (see `Catalogue.invalidates`). The rules are in `service.py`.

This module must not use `from __future__ import annotations`: the endpoints are closures whose annotations
name the schemas passed in, and FastAPI needs those annotations as real objects.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from common.deps import Cached, ReadDB, WriteDB, get_runtime, require_archive, require_service
from common.idempotency import IdempotencyKey
from common.pagination import Page, PageParams, Pagination
from common.types import MAX_ID
from services.dbs import schemas, service
from services.dbs.models import IdempotencyRecord
from services.dbs.service import Catalogue

router = APIRouter(prefix="/api/datacenter", dependencies=[Depends(require_archive)])
# Other services' look-ups (names and prices for pricing, doctors for schedules), with their service tokens:
# a cashier holds outpatient:write, not datacenter:read, yet pricing must read the price list.
internal = APIRouter(prefix="/internal", dependencies=[Depends(require_service)], include_in_schema=False)

RowId = Annotated[int, Path(alias="id", ge=1, le=MAX_ID, description="The row's id")]
RowIdValue = Annotated[int, Field(ge=1, le=MAX_ID)]


def _list_key(filters: dict[str, Any], page: PageParams) -> str:
    """The cache key of one list query: its filters and page, canonically ordered."""
    return json.dumps({**filters, "page": page.page, "size": page.size}, sort_keys=True, ensure_ascii=False)


def add_catalogue_routes(
    catalogue: Catalogue,
    *,
    label: str,
    create: type[BaseModel],
    update: type[BaseModel],
    out: type[BaseModel],
    query: type[BaseModel],
) -> None:
    """Register the seven routes of one entity on `router`, typed with that entity's own schemas."""
    namespace, entity = catalogue.namespace, catalogue.entity
    path, item = f"/{namespace}", f"/{namespace}/{{id}}"

    def doc(operation: str, summary: str) -> dict[str, Any]:
        return {"name": operation, "operation_id": operation, "summary": f"{summary} — {label}", "tags": [namespace]}

    @router.get(path, response_model=Page[out], **doc(f"list_{namespace.replace('-', '_')}", "List"))
    def list_rows(filters: Annotated[query, Query()], page: Pagination, session: ReadDB, cached: Cached) -> Any:
        params = filters.model_dump(exclude_none=True)

        def load() -> dict[str, Any]:
            rows, total = catalogue.list(session, params, page)
            items = [out.model_validate(row) for row in rows]
            return Page[out](items=items, total=total, page=page.page, size=page.size).model_dump(mode="json")

        key = _list_key(filters.model_dump(mode="json", exclude_none=True), page)
        return cached.get_or_load(namespace, key, load)

    @internal.get(path, response_model=Page[out])
    def lookup_rows(request: Request, filters: Annotated[query, Query()], page: Pagination, cached: Cached,
                    ids: Annotated[list[RowIdValue] | None, Query(max_length=100)] = None) -> Any:
        params = {**filters.model_dump(exclude_none=True), "ids": sorted(set(ids)) if ids else None}

        def load() -> dict[str, Any]:
            # The primary: another service looks up a row a user may have created a moment ago (a drug priced
            # right after it was added), and the replica may not have it yet. Cached, invalidated on write.
            with get_runtime(request).db.read(primary=True) as session:
                rows, total = catalogue.list(session, params, page)
                items = [out.model_validate(row) for row in rows]
            return Page[out](items=items, total=total, page=page.page, size=page.size).model_dump(mode="json")

        key = _list_key({**filters.model_dump(mode="json", exclude_none=True), "ids": params["ids"]}, page)
        return cached.get_or_load(namespace, key, load)

    @router.post(path, response_model=out, status_code=status.HTTP_201_CREATED, **doc(f"create_{entity}", "Create"))
    def create_row(body: create, session: WriteDB, cached: Cached, idempotency: IdempotencyKey) -> Any:
        def work() -> BaseModel:
            row = catalogue.create(session, body.model_dump())
            cached.invalidate_on_commit(session, *catalogue.invalidates)
            return out.model_validate(row)

        # A retried create (same Idempotency-Key) gets the first answer instead of a 409 for its own code.
        return idempotency.run(session, IdempotencyRecord, body, work, status_code=status.HTTP_201_CREATED)

    @router.get(item, response_model=out, **doc(f"get_{entity}", "Read"))
    def get_row(row_id: RowId, session: ReadDB, cached: Cached) -> Any:
        def load() -> dict[str, Any]:
            return out.model_validate(catalogue.get(session, row_id)).model_dump(mode="json")

        return cached.get_or_load(namespace, f"id:{row_id}", load)

    @router.patch(item, response_model=out, **doc(f"update_{entity}", "Update some fields"))
    def update_row(row_id: RowId, body: update, session: WriteDB, cached: Cached) -> Any:
        row = catalogue.update(session, row_id, body.model_dump(exclude_unset=True))
        cached.invalidate_on_commit(session, *catalogue.invalidates)
        return out.model_validate(row)

    @router.delete(item, status_code=status.HTTP_204_NO_CONTENT, response_class=Response, response_model=None,
                   **doc(f"delete_{entity}", "Delete when nothing references it (else 409; deactivate instead)"))
    def delete_row(row_id: RowId, session: WriteDB, cached: Cached) -> Response:
        catalogue.delete(session, row_id)
        cached.invalidate_on_commit(session, *catalogue.invalidates)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(f"{item}/deactivate", response_model=out, **doc(f"deactivate_{entity}", "Deactivate"))
    def deactivate_row(row_id: RowId, session: WriteDB, cached: Cached) -> Any:
        row = catalogue.set_active(session, row_id, False)
        cached.invalidate_on_commit(session, *catalogue.invalidates)
        return out.model_validate(row)

    @router.post(f"{item}/activate", response_model=out, **doc(f"activate_{entity}", "Activate"))
    def activate_row(row_id: RowId, session: WriteDB, cached: Cached) -> Any:
        row = catalogue.set_active(session, row_id, True)
        cached.invalidate_on_commit(session, *catalogue.invalidates)
        return out.model_validate(row)


# One line per entity: its rules (service.py) and its schemas (schemas.py).
add_catalogue_routes(service.departments, label="department 科室", create=schemas.DepartmentCreate,
                     update=schemas.DepartmentUpdate, out=schemas.DepartmentOut, query=schemas.DepartmentQuery)
add_catalogue_routes(service.doctors, label="doctor 医生", create=schemas.DoctorCreate,
                     update=schemas.DoctorUpdate, out=schemas.DoctorOut, query=schemas.DoctorQuery)
add_catalogue_routes(service.registration_types, label="registration type 挂号类型",
                     create=schemas.RegistrationTypeCreate, update=schemas.RegistrationTypeUpdate,
                     out=schemas.RegistrationTypeOut, query=schemas.RegistrationTypeQuery)
add_catalogue_routes(service.drug_origins, label="drug origin 药品产地", create=schemas.DrugOriginCreate,
                     update=schemas.DrugOriginUpdate, out=schemas.DrugOriginOut, query=schemas.DrugOriginQuery)
add_catalogue_routes(service.item_categories, label="item category 项目大类",
                     create=schemas.ItemCategoryCreate, update=schemas.ItemCategoryUpdate,
                     out=schemas.ItemCategoryOut, query=schemas.ItemCategoryQuery)
add_catalogue_routes(service.medical_items, label="medical item 价目表", create=schemas.MedicalItemCreate,
                     update=schemas.MedicalItemUpdate, out=schemas.MedicalItemOut, query=schemas.MedicalItemQuery)
add_catalogue_routes(service.drugs, label="drug 药品", create=schemas.DrugCreate,
                     update=schemas.DrugUpdate, out=schemas.DrugOut, query=schemas.DrugQuery)
add_catalogue_routes(service.devices, label="device 器材", create=schemas.DeviceCreate,
                     update=schemas.DeviceUpdate, out=schemas.DeviceOut, query=schemas.DeviceQuery)
add_catalogue_routes(service.warehouses, label="warehouse 仓库", create=schemas.WarehouseCreate,
                     update=schemas.WarehouseUpdate, out=schemas.WarehouseOut, query=schemas.WarehouseQuery)
add_catalogue_routes(service.handlers, label="handler 经办人", create=schemas.HandlerCreate,
                     update=schemas.HandlerUpdate, out=schemas.HandlerOut, query=schemas.HandlerQuery)
add_catalogue_routes(service.units, label="unit 计量单位", create=schemas.UnitCreate,
                     update=schemas.UnitUpdate, out=schemas.UnitOut, query=schemas.UnitQuery)
add_catalogue_routes(service.suppliers, label="supplier 供货商", create=schemas.SupplierCreate,
                     update=schemas.SupplierUpdate, out=schemas.SupplierOut, query=schemas.SupplierQuery)
