"""Time: stored in UTC, shown in the hospital's zone (`HAP_TIMEZONE`), where "today" and months begin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from common.settings import get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A DATETIME column holding UTC: aware datetimes in, aware UTC datetimes out, on SQLite and MySQL alike."""

    # Microseconds on MySQL (its DATETIME keeps whole seconds by default), so order by time stays exact.
    impl = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def same_as_created_at(context: Any) -> datetime:
    """Column default for `updated_at`: a new row's is exactly its `created_at` (evaluated just before it, since
    `created_at` comes first in column order)."""
    return context.get_current_parameters()["created_at"]


def hospital_today() -> date:
    return datetime.now(get_settings().tz).date()


def day_start_utc(day: date) -> datetime:
    """The UTC instant at which `day` begins in the hospital's time zone."""
    return datetime.combine(day, time.min, tzinfo=get_settings().tz).astimezone(UTC)
