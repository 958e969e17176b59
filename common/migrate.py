"""Schema migrations: one Alembic environment, one versions folder per component (`<package>/migrations`)."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from common.db import database_url, ensure_schema
from common.settings import Settings

ENV_DIR = Path(__file__).parent / "migrations"


def _config(package: str, metadata, connection=None) -> Config:
    module = importlib.import_module(package)
    cfg = Config()
    cfg.set_main_option("script_location", str(ENV_DIR))
    cfg.set_main_option("version_locations", str(Path(module.__file__).parent / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["target_metadata"] = metadata
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(settings: Settings, database: str, package: str, metadata) -> None:
    """Bring one component's schema (`hap_<database>`, or `data/<database>.db`) to the newest revision."""
    ensure_schema(settings, database)
    engine = create_engine(database_url(settings, database))
    try:
        with engine.begin() as connection:
            command.upgrade(_config(package, metadata, connection), "head")
    finally:
        engine.dispose()


def autogenerate(settings: Settings, database: str, package: str, metadata, message: str) -> None:
    """Write a new revision for the difference between the models and the (migrated) database."""
    upgrade(settings, database, package, metadata)
    engine = create_engine(database_url(settings, database))
    try:
        with engine.begin() as connection:
            command.revision(_config(package, metadata, connection), message=message, autogenerate=True)
    finally:
        engine.dispose()
