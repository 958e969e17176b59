"""The data center's rules (services/dbs/service.py) against a real, migrated database.

The database is MariaDB when `HAP_DB_PRIMARY_URL` is set (the test infrastructure; each test gets its own
throw-away schema `hap_dbs_t<random>`, dropped afterwards), otherwise a SQLite file in a temporary data dir
(the embedded mode). Either way the schema comes from the Alembic migration, not from `create_all`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, inspect, select, text

from common.db import Database, schema_name
from common.errors import Conflict, NotFound, Unprocessable
from common.migrate import upgrade
from common.pagination import PageParams
from common.settings import Settings
from services.dbs import schemas, service
from services.dbs.models import Base, Department, Doctor, Drug
from services.dbs.seed import seed_demo
from services.dbs.service import CATALOGUES, Catalogue

# namespace -> (create schema, output schema)
SCHEMAS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "departments": (schemas.DepartmentCreate, schemas.DepartmentOut),
    "doctors": (schemas.DoctorCreate, schemas.DoctorOut),
    "registration-types": (schemas.RegistrationTypeCreate, schemas.RegistrationTypeOut),
    "drug-origins": (schemas.DrugOriginCreate, schemas.DrugOriginOut),
    "item-categories": (schemas.ItemCategoryCreate, schemas.ItemCategoryOut),
    "medical-items": (schemas.MedicalItemCreate, schemas.MedicalItemOut),
    "drugs": (schemas.DrugCreate, schemas.DrugOut),
    "devices": (schemas.DeviceCreate, schemas.DeviceOut),
    "warehouses": (schemas.WarehouseCreate, schemas.WarehouseOut),
    "handlers": (schemas.HandlerCreate, schemas.HandlerOut),
    "units": (schemas.UnitCreate, schemas.UnitOut),
    "suppliers": (schemas.SupplierCreate, schemas.SupplierOut),
}


# ---------------------------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    env = Settings()
    if env.db_primary_url:
        # Reads go to the primary here: these tests are about the rules, not about replication.
        settings = env.model_copy(update={"db_replica_url": ""})
        name = f"dbs_t{uuid.uuid4().hex[:10]}"
    else:
        settings = env.model_copy(update={"data_dir": tmp_path})
        name = "dbs"
    upgrade(settings, name, "services.dbs", Base.metadata)
    database = Database(name, settings)
    try:
        yield database
    finally:
        if settings.db_primary_url:
            with database.primary.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{schema_name(name, settings)}`"))
        database.dispose()


def create(session, catalogue: Catalogue, **fields: Any):
    """Create a row the way the API does: validate with the entity's create schema, then call the service."""
    create_schema, _ = SCHEMAS[catalogue.namespace]
    return catalogue.create(session, create_schema.model_validate(fields).model_dump())


def update(session, catalogue: Catalogue, row_id: int, **fields: Any):
    update_schema = getattr(schemas, SCHEMAS[catalogue.namespace][0].__name__.replace("Create", "Update"))
    return catalogue.update(session, row_id, update_schema.model_validate(fields).model_dump(exclude_unset=True))


def out(catalogue: Catalogue, row) -> dict[str, Any]:
    return SCHEMAS[catalogue.namespace][1].model_validate(row).model_dump(mode="json")


@pytest.fixture
def refs(db: Database) -> dict[str, int]:
    """A few rows for others to reference: departments, a registration type, units, origins, a category."""
    with db.write() as s:
        ids = {
            "nk": create(s, service.departments, code="NK", name="内科", kind="clinical").id,
            "wk": create(s, service.departments, code="WK", name="外科", kind="clinical").id,
            "pt": create(s, service.registration_types, code="PT", name="普通号", fee="10").id,
            "he": create(s, service.units, code="HE", name="盒").id,
            "ci": create(s, service.units, code="CI", name="次").id,
            "yzj": create(s, service.drug_origins, code="YZJ", name="扬子江药业 江苏泰州").id,
            "jy": create(s, service.item_categories, code="JY", name="检验").id,
        }
    return ids


# ---------------------------------------------------------------------------------------------------------------
# Migration


def test_migration_creates_exactly_the_models_tables(db: Database) -> None:
    with db.primary.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    # The twelve catalogues, plus the outbox and the idempotency keys every service keeps.
    assert len(Base.metadata.tables) == 14
    assert {"outbox_event", "idempotency_key"} <= tables


def test_configurations_agree_with_each_other() -> None:
    """Every reference is some catalogue's dependant (so deletes are counted and caches invalidated) and back."""
    by_model = {c.model: c for c in CATALOGUES}
    for catalogue in CATALOGUES:
        for field, target in catalogue.references.items():
            column = getattr(catalogue.model, field)
            assert by_model[target].dependants.get(catalogue.namespace) is column, (catalogue.namespace, field)
        for namespace, column in catalogue.dependants.items():
            referrer = next(c for c in CATALOGUES if c.namespace == namespace)
            assert referrer.model is column.class_
            assert referrer.references[column.key] is catalogue.model
        assert catalogue.invalidates[0] == catalogue.namespace
    assert sorted(c.namespace for c in CATALOGUES) == sorted(SCHEMAS)


# ---------------------------------------------------------------------------------------------------------------
# Create, read, update


def test_create_and_read_show_referenced_names(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        doctor = create(s, service.doctors, code="D001", name=" 张建国 ", gender="male", department_id=refs["nk"],
                        title="chief", registration_type_id=refs["pt"], practice="outpatient")
        created = out(service.doctors, doctor)
    assert created["name"] == "张建国"
    assert created["department_name"] == "内科"
    assert created["registration_type_name"] == "普通号"
    assert created["active"] is True
    assert created["created_at"] == created["updated_at"]

    with db.read() as s:
        assert out(service.doctors, service.doctors.get(s, doctor.id)) == created

    with db.write() as s:
        moved = update(s, service.doctors, doctor.id, department_id=refs["wk"], registration_type_id=None)
        shown = out(service.doctors, moved)
    assert shown["department_id"] == refs["wk"] and shown["department_name"] == "外科"
    assert shown["registration_type_id"] is None and shown["registration_type_name"] is None
    assert shown["code"] == "D001" and shown["title"] == "chief"  # untouched fields stay
    assert shown["created_at"] == created["created_at"]
    assert datetime.fromisoformat(shown["updated_at"]) > datetime.fromisoformat(created["updated_at"])


def test_update_without_real_change_writes_nothing(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        before = out(service.departments, service.departments.get(s, refs["nk"]))
    with db.write() as s:
        after = out(service.departments, update(s, service.departments, refs["nk"], code="NK", name="内科"))
    assert after == before


def test_renaming_a_reference_shows_in_its_dependants(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        item = create(s, service.medical_items, code="JY001", name="血常规", category_id=refs["jy"],
                      unit_id=refs["ci"], price="20", department_id=refs["nk"], result_required=True)
    with db.write() as s:
        update(s, service.departments, refs["nk"], name="普通内科")
    with db.read() as s:
        shown = out(service.medical_items, service.medical_items.get(s, item.id))
    assert shown["department_name"] == "普通内科"
    assert shown["category_name"] == "检验" and shown["unit_name"] == "次"
    assert shown["price"] == "20.00" and shown["result_required"] is True
    # ...which is why a write to departments invalidates the caches of the entities that show its name.
    assert service.departments.invalidates == ("departments", "doctors", "medical-items")


def test_missing_rows_are_404_with_the_entity_code(db: Database) -> None:
    with db.read() as s:
        for catalogue in CATALOGUES:
            with pytest.raises(NotFound) as caught:
                catalogue.get(s, 999)
            assert caught.value.code == f"{catalogue.entity}.not_found"
            assert caught.value.status_code == 404
    assert {c.entity for c in CATALOGUES} >= {"department", "registration_type", "medical_item", "drug_origin"}
    with pytest.raises(NotFound), db.write() as s:
        update(s, service.units, 999, name="盒")


# ---------------------------------------------------------------------------------------------------------------
# Codes


def test_codes_are_unique_per_entity(db: Database, refs: dict[str, int]) -> None:
    for code in ("NK", "nk", " NK "):
        with pytest.raises(Conflict) as caught, db.write() as s:
            create(s, service.departments, code=code, name="另一个内科", kind="clinical")
        assert caught.value.code == "datacenter.code_taken"
        assert caught.value.status_code == 409
        assert caught.value.detail == {"field": "code"}

    # The same code in another entity is fine.
    with db.write() as s:
        create(s, service.units, code="NK", name="内科单位")

    # Changing a code to a taken one is refused; keeping one's own code (or changing its case) is not.
    with pytest.raises(Conflict) as caught, db.write() as s:
        update(s, service.departments, refs["wk"], code="NK")
    assert caught.value.code == "datacenter.code_taken"
    with db.write() as s:
        assert update(s, service.departments, refs["nk"], code="nk", name="内科").code == "nk"


def test_a_code_race_is_still_code_taken(db: Database, refs: dict[str, int], monkeypatch) -> None:
    """Two requests that both pass the check: the unique constraint stops the second, with the same error."""
    monkeypatch.setattr(Catalogue, "_check_code_free", lambda *args, **kwargs: None)
    with pytest.raises(Conflict) as caught, db.write() as s:
        create(s, service.departments, code="NK", name="内科", kind="clinical")
    assert caught.value.code == "datacenter.code_taken"
    assert caught.value.detail == {"field": "code"}


# ---------------------------------------------------------------------------------------------------------------
# References


def test_references_must_exist_and_be_active(db: Database, refs: dict[str, int]) -> None:
    doctor = dict(code="D001", name="张建国", gender="male", department_id=refs["nk"], title="chief",
                  registration_type_id=refs["pt"], practice="outpatient")

    for field in ("department_id", "registration_type_id"):
        with pytest.raises(Unprocessable) as caught, db.write() as s:
            create(s, service.doctors, **{**doctor, field: 4242})
        assert caught.value.status_code == 422
        assert caught.value.code == "datacenter.reference_not_found"
        assert caught.value.detail["field"] == field

    with db.write() as s:
        service.departments.set_active(s, refs["wk"], False)
        doctor_id = create(s, service.doctors, **doctor).id

    with pytest.raises(Unprocessable) as caught, db.write() as s:
        create(s, service.doctors, **{**doctor, "code": "D002", "department_id": refs["wk"]})
    assert caught.value.code == "datacenter.reference_inactive"
    assert caught.value.detail["field"] == "department_id"

    with pytest.raises(Unprocessable) as caught, db.write() as s:
        update(s, service.doctors, doctor_id, department_id=refs["wk"])
    assert caught.value.code == "datacenter.reference_inactive"

    with pytest.raises(Unprocessable) as caught, db.write() as s:
        update(s, service.doctors, doctor_id, registration_type_id=777)
    assert caught.value.code == "datacenter.reference_not_found"
    assert caught.value.detail["field"] == "registration_type_id"

    # A row whose reference was deactivated later can still be edited, even by a form sending every field back.
    with db.write() as s:
        service.departments.set_active(s, refs["nk"], False)
    with db.write() as s:
        renamed = update(s, service.doctors, doctor_id, **{**doctor, "name": "张建华"})
        assert out(service.doctors, renamed)["name"] == "张建华"


def test_drug_and_device_references(db: Database, refs: dict[str, int]) -> None:
    drug = dict(code="XY001", name="阿莫西林胶囊", generic_name="阿莫西林", specification="0.25g×24粒",
                dosage_form="胶囊剂", unit_id=refs["he"], origin_id=refs["yzj"], category="western",
                retail_price="12.5", low_stock_threshold=50, prescription_only=True)
    with db.write() as s:
        shown = out(service.drugs, create(s, service.drugs, **drug))
    assert shown["unit_name"] == "盒" and shown["origin_name"] == "扬子江药业 江苏泰州"
    assert shown["retail_price"] == "12.50"

    with pytest.raises(Unprocessable) as caught, db.write() as s:
        create(s, service.devices, code="QC001", name="一次性注射器", specification="5ml", unit_id=refs["he"],
               origin_id=999, category="consumable", retail_price="0.6", low_stock_threshold=100)
    assert caught.value.detail["field"] == "origin_id"


# ---------------------------------------------------------------------------------------------------------------
# Delete, deactivate, activate


def test_delete_is_refused_while_referenced_then_deactivate(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        for n in range(3):
            create(s, service.doctors, code=f"D{n}", name=f"医生{n}", gender="unknown", department_id=refs["nk"],
                   title="resident", practice="inpatient")
        create(s, service.medical_items, code="ZL001", name="静脉输液", category_id=refs["jy"], unit_id=refs["ci"],
               price="15", department_id=refs["nk"])

    with pytest.raises(Conflict) as caught, db.write() as s:
        service.departments.delete(s, refs["nk"])
    assert caught.value.code == "datacenter.in_use"
    assert caught.value.status_code == 409
    assert caught.value.detail == {"references": {"doctors": 3, "medical-items": 1}}
    assert "deactivate" in caught.value.message

    with pytest.raises(Conflict) as caught, db.write() as s:
        service.units.delete(s, refs["ci"])
    assert caught.value.detail == {"references": {"medical-items": 1}}

    with db.write() as s:
        assert service.departments.set_active(s, refs["nk"], False).active is False
        assert service.departments.set_active(s, refs["nk"], False).active is False  # twice is harmless
    with db.read() as s:
        assert service.departments.get(s, refs["nk"]).active is False
        inactive, total = service.departments.list(s, {"active": False}, PageParams())
        assert [d.code for d in inactive] == ["NK"] and total == 1
    with db.write() as s:
        assert service.departments.set_active(s, refs["nk"], True).active is True

    # Unreferenced rows are deleted.
    with db.write() as s:
        service.departments.delete(s, refs["wk"])
    with pytest.raises(NotFound), db.read() as s:
        service.departments.get(s, refs["wk"])


def test_a_reference_added_concurrently_still_blocks_the_delete(
    db: Database, refs: dict[str, int], monkeypatch
) -> None:
    """If a reference appears between the count and the delete, the foreign key stops it: still in_use."""
    with db.write() as s:
        create(s, service.doctors, code="D1", name="医生", gender="male", department_id=refs["wk"],
               title="resident", practice="outpatient")
    monkeypatch.setattr(Catalogue, "reference_counts", lambda *args, **kwargs: {})
    with pytest.raises(Conflict) as caught, db.write() as s:
        service.departments.delete(s, refs["wk"])
    assert caught.value.code == "datacenter.in_use"
    with db.read() as s:
        assert service.departments.get(s, refs["wk"]).name == "外科"


# ---------------------------------------------------------------------------------------------------------------
# Lists: search, filters, pagination


def test_search_filters_and_pagination(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        for n in range(25):
            create(s, service.drugs, code=f"XY{n:03d}", name=f"Amoxicillin {n}" if n % 2 else f"布洛芬{n}",
                   generic_name="Ibuprofen_100%" if n == 4 else None, specification="0.25g×24粒",
                   dosage_form="胶囊剂", unit_id=refs["he"] if n < 20 else refs["ci"], origin_id=refs["yzj"],
                   category="herbal" if n % 5 == 0 else "western", retail_price=f"{n}.5",
                   low_stock_threshold=n, prescription_only=n % 3 == 0)

    with db.read() as s:
        first, total = service.drugs.list(s, {}, PageParams(page=1, size=10))
        assert total == 25 and [d.code for d in first] == [f"XY{n:03d}" for n in range(10)]
        last, total = service.drugs.list(s, {}, PageParams(page=3, size=10))
        assert total == 25 and [d.code for d in last] == [f"XY{n:03d}" for n in range(20, 25)]
        beyond, total = service.drugs.list(s, {}, PageParams(page=9, size=10))
        assert beyond == [] and total == 25

        # q: code and name (and generic name for drugs), case-insensitive
        found, total = service.drugs.list(s, {"q": "AMOXI"}, PageParams(size=100))
        assert total == 12 and all(d.name.startswith("Amoxicillin") for d in found)
        found, total = service.drugs.list(s, {"q": "xy01"}, PageParams(size=100))
        assert total == 10
        found, total = service.drugs.list(s, {"q": "ibuprofen"}, PageParams(size=100))
        assert [d.code for d in found] == ["XY004"]
        found, total = service.drugs.list(s, {"q": "布洛芬"}, PageParams(size=100))
        assert total == 13
        # LIKE wildcards in q are taken literally
        found, total = service.drugs.list(s, {"q": "_100%"}, PageParams(size=100))
        assert [d.code for d in found] == ["XY004"]
        found, total = service.drugs.list(s, {"q": "%"}, PageParams(size=100))
        assert total == 1

        # entity filters, combined with q and paginated totals
        found, total = service.drugs.list(s, {"category": "herbal"}, PageParams(size=2))
        assert total == 5 and [d.code for d in found] == ["XY000", "XY005"]
        found, total = service.drugs.list(s, {"unit_id": refs["ci"], "q": "amox"}, PageParams())
        assert [d.code for d in found] == ["XY021", "XY023"] and total == 2
        found, total = service.drugs.list(s, {"prescription_only": True, "category": "western"}, PageParams())
        assert total == sum(1 for n in range(25) if n % 3 == 0 and n % 5 != 0)

    with db.write() as s:
        service.drugs.set_active(s, first[0].id, False)
    with db.read() as s:
        assert service.drugs.list(s, {"active": True}, PageParams())[1] == 24
        assert [d.code for d in service.drugs.list(s, {"active": False}, PageParams())[0]] == ["XY000"]

    with pytest.raises(ValueError), db.read() as s:
        service.drugs.list(s, {"department_id": 1}, PageParams())  # not a filter of drugs


def test_doctor_filters_and_query_schema(db: Database, refs: dict[str, int]) -> None:
    with db.write() as s:
        for n, (dept, title) in enumerate([("nk", "chief"), ("nk", "resident"), ("wk", "chief")]):
            create(s, service.doctors, code=f"D{n}", name=f"医生{n}", gender="female", department_id=refs[dept],
                   title=title, practice="outpatient")
    query = schemas.DoctorQuery.model_validate({"department_id": str(refs["nk"]), "title": "chief", "q": " "})
    params = query.model_dump(exclude_none=True)
    assert params == {"department_id": refs["nk"], "title": "chief"}
    with db.read() as s:
        found, total = service.doctors.list(s, params, PageParams())
    assert [d.code for d in found] == ["D0"] and total == 1
    with pytest.raises(ValidationError):
        schemas.DoctorQuery.model_validate({"title": "professor"})


# ---------------------------------------------------------------------------------------------------------------
# Input and output schemas


def test_money_is_validated_and_shown_with_two_decimals(db: Database, refs: dict[str, int]) -> None:
    base = dict(code="PT", name="普通号")
    for bad in ("12.345", "-1", "-0.01", "NaN", "Infinity", "10000000000", "abc", None):
        with pytest.raises(ValidationError):
            schemas.RegistrationTypeCreate.model_validate({**base, "fee": bad})
    assert schemas.RegistrationTypeCreate.model_validate({**base, "fee": "12.5"}).fee == Decimal("12.50")
    assert schemas.RegistrationTypeCreate.model_validate({**base, "fee": 12}).fee == Decimal("12.00")
    # A JSON number with a fraction is a float on the way in: refused, so no float ever becomes a price.
    for float_input in (12.5, 0.1):
        with pytest.raises(ValidationError, match="not as a JSON number"):
            schemas.RegistrationTypeCreate.model_validate({**base, "fee": float_input})
    with pytest.raises(ValidationError):
        schemas.RegistrationTypeCreate.model_validate_json('{"code": "A", "name": "B", "fee": 0.1}')
    with pytest.raises(ValidationError):
        schemas.RegistrationTypeUpdate.model_validate({"fee": "1.005"})

    with db.write() as s:
        cheap = create(s, service.registration_types, code="ZJ", name="专家号", fee="30")
        big = create(s, service.registration_types, code="MAX", name="最大", fee="9999999999.99")
        zero = create(s, service.registration_types, code="ZERO", name="免费", fee=0)
    with db.read() as s:
        assert out(service.registration_types, service.registration_types.get(s, cheap.id))["fee"] == "30.00"
        assert out(service.registration_types, service.registration_types.get(s, big.id))["fee"] == "9999999999.99"
        assert out(service.registration_types, service.registration_types.get(s, zero.id))["fee"] == "0.00"
    assert schemas.RegistrationTypeOut.model_json_schema(mode="serialization")["properties"]["fee"]["type"] == \
        "string"


def test_inputs_reject_unknown_fields_and_bad_strings() -> None:
    good = dict(code="NK", name="内科", kind="clinical")
    assert schemas.DepartmentCreate.model_validate(good).code == "NK"
    bad_inputs = [
        {**good, "colour": "red"},  # unknown field
        {**good, "active": False},  # state changes only through the explicit actions
        {**good, "id": 5},
        {**good, "code": "N K"},
        {**good, "code": "内科"},
        {**good, "code": "x" * 33},
        {**good, "code": ""},
        {**good, "name": "   "},
        {**good, "name": "科" * 65},
        {**good, "kind": "surgical"},
        {k: v for k, v in good.items() if k != "kind"},
    ]
    for data in bad_inputs:
        with pytest.raises(ValidationError):
            schemas.DepartmentCreate.model_validate(data)

    for data in [{"colour": "red"}, {"active": True}, {"name": None}, {"kind": None}, {"code": "a b"}]:
        with pytest.raises(ValidationError):
            schemas.DepartmentUpdate.model_validate(data)
    assert schemas.DepartmentUpdate.model_validate({}).model_dump(exclude_unset=True) == {}
    assert schemas.DoctorUpdate.model_validate({"registration_type_id": None}).model_dump(exclude_unset=True) == \
        {"registration_type_id": None}
    with pytest.raises(ValidationError):
        schemas.DoctorUpdate.model_validate({"department_id": None})
    with pytest.raises(ValidationError):
        schemas.DoctorUpdate.model_validate({"department_id": 2**40})  # would overflow the INT column

    # every free-text field is bounded, so over-long input is a 422 and never a database error
    with pytest.raises(ValidationError):
        schemas.SupplierCreate.model_validate({"code": "S", "name": "S", "address": "路" * 256})
    with pytest.raises(ValidationError):
        schemas.DrugUpdate.model_validate({"specification": "x" * 65})
    with pytest.raises(ValidationError):
        schemas.DrugCreate.model_validate({"code": "X", "name": "X", "specification": "s", "dosage_form": "d",
                                           "unit_id": 1, "origin_id": 1, "category": "western",
                                           "retail_price": "1", "low_stock_threshold": -1})

    # phone numbers, loosely
    for phone in ("13800000000", "+86 138-0000-0000", "021-63211234", "0631-5716666"):
        assert schemas.HandlerCreate.model_validate({"code": "H", "name": "H", "phone": phone}).phone == phone
    for phone in ("1234", "phone123", "1" * 21, "138/0000/0000"):
        with pytest.raises(ValidationError):
            schemas.HandlerCreate.model_validate({"code": "H", "name": "H", "phone": phone})
    assert schemas.HandlerCreate.model_validate({"code": "H", "name": "H", "phone": " "}).phone is None
    assert schemas.WarehouseCreate.model_validate({"code": "W", "name": "W", "location": ""}).location is None


def test_every_string_column_has_a_length_and_its_schema_bounds_it() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.type.python_type is str:
                assert column.type.length, f"{table.name}.{column.name} has no length"
    for catalogue in CATALOGUES:
        create_schema, _ = SCHEMAS[catalogue.namespace]
        json_schema = create_schema.model_json_schema()
        for name, prop in json_schema["properties"].items():
            column = catalogue.model.__table__.columns[name]
            if column.type.python_type is not str or "$ref" in prop:  # enums are bounded by their values
                continue
            strings = [option for option in prop.get("anyOf", [prop]) if option.get("type") == "string"]
            lengths = [option.get("maxLength") or _pattern_length(option.get("pattern")) for option in strings]
            assert lengths, (catalogue.namespace, name)
            assert all(length and length <= column.type.length for length in lengths), (catalogue.namespace, name)


def _pattern_length(pattern: str | None) -> int | None:
    if pattern and pattern.endswith("}$"):
        return int(pattern.rsplit(",", 1)[1].rstrip("}$"))
    return None


# ---------------------------------------------------------------------------------------------------------------
# Seed


def test_seed_is_idempotent_and_obeys_the_rules(db: Database) -> None:
    def counts() -> dict[str, int]:
        with db.read() as s:
            return {c.namespace: s.scalar(select(func.count()).select_from(c.model)) for c in CATALOGUES}

    with db.write() as s:
        seed_demo(s, demo := {})
    first = counts()
    with db.write() as s:
        seed_demo(s, demo := {})
    assert counts() == first
    # Both runs leave the outpatient doctors for the services seeded after DBS (DMS's demo schedules).
    assert len(demo["doctors"]) >= 8 and all(d["department_name"] for d in demo["doctors"])
    assert first["departments"] >= 10 and first["doctors"] >= 14 and first["drugs"] >= 20
    assert first["registration-types"] == 3 and first["warehouses"] == 3 and first["handlers"] == 4
    assert first["suppliers"] == 4 and first["medical-items"] >= 15 and first["devices"] >= 6
    assert all(count > 0 for count in first.values())

    with db.read() as s:
        # Every seeded row passes the same validation as a row a user creates, and shows its references' names.
        for catalogue in CATALOGUES:
            create_schema, out_schema = SCHEMAS[catalogue.namespace]
            for row in s.scalars(select(catalogue.model)):
                create_schema.model_validate({name: getattr(row, name) for name in create_schema.model_fields})
                out_schema.model_validate(row)
        kinds = dict(s.execute(select(Department.name, Department.kind)).all())
        assert kinds["检验科"] == kinds["放射科"] == kinds["药剂科"] == "medical_technical"
        assert kinds["财务科"] == "administrative" and kinds["内科"] == "clinical"
        # doctors work in clinical departments only
        doctor_kinds = set(s.scalars(select(Department.kind).join(Doctor, Doctor.department_id == Department.id)))
        assert doctor_kinds == {"clinical"}
        titles = set(s.scalars(select(Doctor.title)))
        assert titles == {"chief", "associate_chief", "attending", "resident"}
        amoxicillin = s.scalar(select(Drug).where(Drug.name == "阿莫西林胶囊"))
        shown = out(service.drugs, amoxicillin)
        assert shown["specification"] == "0.25g×24粒" and shown["retail_price"] == "12.50"
        assert shown["unit_name"] == "盒" and shown["prescription_only"] is True
        fees = {r.name: out(service.registration_types, r)["fee"]
                for r in service.registration_types.list(s, {}, PageParams())[0]}
        assert fees == {"普通号": "10.00", "专家号": "30.00", "急诊号": "15.00"}
        categories = set(s.scalars(select(Drug.category)))
        assert categories == {"western", "chinese_patent", "herbal"}
