"""data center tables: the twelve catalogues of master data (科室, 医生, 挂号类型, 药品产地, 项目大类, 价目表,
药品, 器材, 仓库, 经办人, 计量单位, 供货商).

Portable to MySQL/MariaDB and SQLite: every string has a length, money is Numeric(12, 2), datetimes are
DATETIME(6) on MySQL/MariaDB, and every constraint and index has a name (see models.NAMING_CONVENTION).

Revision ID: eb017b36e78d
Revises:
Create Date: 2026-11-25 17:51:43.205932
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'eb017b36e78d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("kind IN ('clinical', 'medical_technical', 'administrative')", name=op.f('ck_department_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('code', name=op.f('uq_department_code'))
    )
    op.create_table('drug_origin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drug_origin')),
    sa.UniqueConstraint('code', name=op.f('uq_drug_origin_code'))
    )
    op.create_table('handler',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handler')),
    sa.UniqueConstraint('code', name=op.f('uq_handler_code'))
    )
    op.create_table('item_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_category')),
    sa.UniqueConstraint('code', name=op.f('uq_item_category_code'))
    )
    op.create_table('registration_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint('fee >= 0', name=op.f('ck_registration_type_fee_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_type')),
    sa.UniqueConstraint('code', name=op.f('uq_registration_type_code'))
    )
    op.create_table('supplier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('licence_no', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier')),
    sa.UniqueConstraint('code', name=op.f('uq_supplier_code'))
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    op.create_table('warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouse_code'))
    )
    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('specification', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('retail_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('low_stock_threshold', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("category IN ('equipment', 'consumable')", name=op.f('ck_device_category')),
    sa.CheckConstraint('low_stock_threshold >= 0', name=op.f('ck_device_low_stock_threshold_not_negative')),
    sa.CheckConstraint('retail_price >= 0', name=op.f('ck_device_retail_price_not_negative')),
    sa.ForeignKeyConstraint(['origin_id'], ['drug_origin.id'], name=op.f('fk_device_origin_id_drug_origin')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_device_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('code', name=op.f('uq_device_code'))
    )
    op.create_index(op.f('ix_device_origin_id'), 'device', ['origin_id'], unique=False)
    op.create_index(op.f('ix_device_unit_id'), 'device', ['unit_id'], unique=False)
    op.create_table('doctor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=32), nullable=False),
    sa.Column('registration_type_id', sa.Integer(), nullable=True),
    sa.Column('practice', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("gender IN ('male', 'female', 'unknown')", name=op.f('ck_doctor_gender')),
    sa.CheckConstraint("practice IN ('outpatient', 'inpatient')", name=op.f('ck_doctor_practice')),
    sa.CheckConstraint("title IN ('chief', 'associate_chief', 'attending', 'resident')", name=op.f('ck_doctor_title')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_doctor_department_id_department')),
    sa.ForeignKeyConstraint(['registration_type_id'], ['registration_type.id'], name=op.f('fk_doctor_registration_type_id_registration_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doctor')),
    sa.UniqueConstraint('code', name=op.f('uq_doctor_code'))
    )
    op.create_index(op.f('ix_doctor_department_id'), 'doctor', ['department_id'], unique=False)
    op.create_index(op.f('ix_doctor_registration_type_id'), 'doctor', ['registration_type_id'], unique=False)
    op.create_table('drug',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('generic_name', sa.String(length=64), nullable=True),
    sa.Column('specification', sa.String(length=64), nullable=False),
    sa.Column('dosage_form', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('retail_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('low_stock_threshold', sa.Integer(), nullable=False),
    sa.Column('prescription_only', sa.Boolean(), server_default=sa.text('0'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint("category IN ('western', 'chinese_patent', 'herbal')", name=op.f('ck_drug_category')),
    sa.CheckConstraint('low_stock_threshold >= 0', name=op.f('ck_drug_low_stock_threshold_not_negative')),
    sa.CheckConstraint('retail_price >= 0', name=op.f('ck_drug_retail_price_not_negative')),
    sa.ForeignKeyConstraint(['origin_id'], ['drug_origin.id'], name=op.f('fk_drug_origin_id_drug_origin')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_drug_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drug')),
    sa.UniqueConstraint('code', name=op.f('uq_drug_code'))
    )
    op.create_index(op.f('ix_drug_origin_id'), 'drug', ['origin_id'], unique=False)
    op.create_index(op.f('ix_drug_unit_id'), 'drug', ['unit_id'], unique=False)
    op.create_table('medical_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('result_required', sa.Boolean(), server_default=sa.text('0'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
    sa.CheckConstraint('price >= 0', name=op.f('ck_medical_item_price_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['item_category.id'], name=op.f('fk_medical_item_category_id_item_category')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_medical_item_department_id_department')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_medical_item_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_item')),
    sa.UniqueConstraint('code', name=op.f('uq_medical_item_code'))
    )
    op.create_index(op.f('ix_medical_item_category_id'), 'medical_item', ['category_id'], unique=False)
    op.create_index(op.f('ix_medical_item_department_id'), 'medical_item', ['department_id'], unique=False)
    op.create_index(op.f('ix_medical_item_unit_id'), 'medical_item', ['unit_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; MariaDB refuses to drop an index a foreign key still uses.
    op.drop_table('medical_item')
    op.drop_table('drug')
    op.drop_table('doctor')
    op.drop_table('device')
    op.drop_table('warehouse')
    op.drop_table('unit')
    op.drop_table('supplier')
    op.drop_table('registration_type')
    op.drop_table('item_category')
    op.drop_table('handler')
    op.drop_table('drug_origin')
    op.drop_table('department')
