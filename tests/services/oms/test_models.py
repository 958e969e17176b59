"""The outpatient schema from its migrations (on MariaDB and on SQLite) and the demo seed; no platform needed.

The database is MariaDB when `HAP_DB_PRIMARY_URL` is set (a throw-away schema per test, dropped afterwards),
otherwise a SQLite file in a temporary directory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from common.db import Database, schema_name
from common.migrate import upgrade
from common.settings import Settings
from services.oms.models import Base, Patient, Payment, Registration
from services.oms.seed import seed_demo
from services.oms.service import id_card_birth_date, normalize_id_card


def _database(settings: Settings, name: str) -> Iterator[Database]:
    upgrade(settings, name, "services.oms", Base.metadata)
    database = Database(name, settings)
    try:
        yield database
    finally:
        if settings.db_primary_url:
            with database.primary.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{schema_name(name, settings)}`"))
        database.dispose()


@pytest.fixture(params=["env", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:
    env = Settings()
    if request.param == "env" and env.db_primary_url:
        yield from _database(env.model_copy(update={"db_replica_url": ""}), f"oms_t{uuid.uuid4().hex[:10]}")
    else:
        yield from _database(env.model_copy(update={"data_dir": tmp_path, "db_primary_url": "",
                                                    "db_replica_url": ""}), "oms")


def test_migrations_create_exactly_the_models_tables(db: Database) -> None:
    with db.primary.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert {"patient", "registration", "prescription", "prescription_line", "item_order", "item_order_line",
            "payment", "exam_result", "exam_attachment", "outbox_event", "idempotency_key"} == \
        set(Base.metadata.tables)


def test_every_string_column_has_a_length() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.type.python_type is str:
                assert column.type.length, f"{table.name}.{column.name}"


def _registration(patient: Patient, schedule_id: int = 7) -> Registration:
    return Registration(patient=patient, schedule_id=schedule_id, doctor_id=1, doctor_name="张建国",
                        department_id=1, department_name="内科", visit_date=date(2026, 11, 26), session="morning",
                        registration_type_name="专家号", fee=Decimal("30.00"), status="pending_payment",
                        created_by="clerk")


def test_the_database_holds_one_active_registration_per_patient_and_session(db: Database) -> None:
    with db.write() as s:
        patient = Patient(name="王建华", gender="male", birth_date=date(1968, 3, 14))
        first = _registration(patient)
        s.add(first)
        s.flush()
        first.status, first.active_key = "cancelled", first.id  # ended: the key no longer blocks
        s.add(_registration(patient))
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(_registration(s.get(Patient, patient.id)))
    with db.write() as s:  # another session of the same patient is fine
        s.add(_registration(s.get(Patient, patient.id), schedule_id=8))
    # CHECK constraints. (MariaDB reports their violation as error 4025, which PyMySQL raises as an
    # OperationalError; SQLite as an IntegrityError.)
    with pytest.raises((IntegrityError, OperationalError), match="amount_sign"), db.write() as s:
        registration = s.scalar(select(Registration).limit(1))
        s.add(Payment(kind="payment", target="registration", target_id=registration.id, target_no="R1",
                      registration=registration, patient_id=patient.id, amount=Decimal("-1.00"), method="cash",
                      cashier_name="clerk", lines=[]))
    with pytest.raises((IntegrityError, OperationalError), match="gender"), db.write() as s:
        s.add(Patient(name="x", gender="robot", birth_date=date(2000, 1, 1)))


def test_seed_is_idempotent_and_its_id_cards_are_valid(db: Database) -> None:
    with db.write() as s:
        seed_demo(s, first := {})
    with db.write() as s:
        seed_demo(s, second := {})
    assert first == second and len(first["patients"]) == 6
    with db.read() as s:
        patients = s.scalars(select(Patient).order_by(Patient.id)).all()
        assert s.scalar(select(func.count()).select_from(Patient)) == 6
    for patient in patients:
        assert patient.patient_no == f"P{patient.id:08d}"
        assert normalize_id_card(patient.id_card) == patient.id_card
        assert id_card_birth_date(patient.id_card) == patient.birth_date
        assert (int(patient.id_card[16]) % 2 == 1) == (patient.gender == "male")  # GB 11643's sex digit
    assert sum(1 for p in patients if p.phone) >= 5 and sum(1 for p in patients if p.allergies) >= 3
