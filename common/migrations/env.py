"""The one Alembic environment: `hap migrate` hands it a connection and the component's metadata."""

from alembic import context
from sqlalchemy.types import TypeDecorator

config = context.config
connection = config.attributes["connection"]


def render_item(type_: str, obj, autogen_context):
    # Decorated types (e.g. UtcDateTime) are a Python-side concern; the migration records the column type.
    if type_ == "type" and isinstance(obj, TypeDecorator) and obj.__class__.__name__ == "UtcDateTime":
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return "sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')"
    return False


context.configure(
    connection=connection,
    target_metadata=config.attributes["target_metadata"],
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
