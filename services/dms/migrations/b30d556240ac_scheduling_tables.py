"""scheduling tables: sessions 排班 (one live session per doctor, date and part of the day, enforced by a UNIQUE
key with `live_key`), slot bookings 号源占用 (one live booking per registration number), templates 排班模板.

Portable to MySQL/MariaDB and SQLite: every string has a length, money is Numeric(12, 2), datetimes are
DATETIME(6) on MySQL/MariaDB, and every constraint and index has a name (see models.NAMING_CONVENTION).

Revision ID: b30d556240ac
Revises: 10c23a4a92f5
Create Date: 2026-11-25 20:35:24.285983
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'b30d556240ac'
down_revision = '10c23a4a92f5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('doctor_name', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('department_name', sa.String(length=64), nullable=False),
    sa.Column('registration_type_id', sa.Integer(), nullable=False),
    sa.Column('registration_type_name', sa.String(length=64), nullable=False),
    sa.Column('fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('schedule_date', sa.Date(), nullable=False),
    sa.Column('session', sa.String(length=16), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('visited', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('live_key', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("(status <> 'cancelled' AND live_key = 0) OR (status = 'cancelled' AND live_key <> 0)", name=op.f('ck_schedule_live_key_matches_status')),
    sa.CheckConstraint("session IN ('morning', 'afternoon', 'night')", name=op.f('ck_schedule_session')),
    sa.CheckConstraint("status IN ('open', 'closed', 'cancelled')", name=op.f('ck_schedule_status')),
    sa.CheckConstraint('booked >= 0 AND booked <= quota', name=op.f('ck_schedule_booked_within_quota')),
    sa.CheckConstraint('fee >= 0', name=op.f('ck_schedule_fee_not_negative')),
    sa.CheckConstraint('quota >= 1', name=op.f('ck_schedule_quota_positive')),
    sa.CheckConstraint('visited >= 0 AND visited <= booked', name=op.f('ck_schedule_visited_within_booked')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule')),
    sa.UniqueConstraint('doctor_id', 'schedule_date', 'session', 'live_key', name=op.f('uq_schedule_doctor_id_schedule_date_session_live_key'))
    )
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_schedule_date_department_id'), ['schedule_date', 'department_id'], unique=False)

    op.create_table('schedule_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('department_name', sa.String(length=64), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('doctor_name', sa.String(length=64), nullable=False),
    sa.Column('registration_type_id', sa.Integer(), nullable=False),
    sa.Column('registration_type_name', sa.String(length=64), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('session', sa.String(length=16), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("session IN ('morning', 'afternoon', 'night')", name=op.f('ck_schedule_template_session')),
    sa.CheckConstraint('quota >= 1', name=op.f('ck_schedule_template_quota_positive')),
    sa.CheckConstraint('weekday >= 1 AND weekday <= 7', name=op.f('ck_schedule_template_weekday_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_template')),
    sa.UniqueConstraint('doctor_id', 'weekday', 'session', name=op.f('uq_schedule_template_doctor_id_weekday_session'))
    )
    with op.batch_alter_table('schedule_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_template_department_id'), ['department_id'], unique=False)

    op.create_table('slot_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('registration_no', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('live_key', sa.Integer(), nullable=False),
    sa.Column('visited', sa.Boolean(), server_default=sa.text('0'), nullable=False),
    sa.Column('visited_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=True),
    sa.Column('released_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("(status = 'booked' AND live_key = 0) OR (status = 'released' AND live_key <> 0)", name=op.f('ck_slot_booking_live_key_matches_status')),
    sa.CheckConstraint("status IN ('booked', 'released')", name=op.f('ck_slot_booking_status')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedule.id'], name=op.f('fk_slot_booking_schedule_id_schedule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_booking')),
    sa.UniqueConstraint('registration_no', 'live_key', name=op.f('uq_slot_booking_registration_no_live_key'))
    )
    with op.batch_alter_table('slot_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slot_booking_schedule_id'), ['schedule_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('slot_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slot_booking_schedule_id'))

    op.drop_table('slot_booking')
    with op.batch_alter_table('schedule_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_template_department_id'))

    op.drop_table('schedule_template')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_schedule_date_department_id'))

    op.drop_table('schedule')
