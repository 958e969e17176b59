"""Tables of the service (`hap_oms`)."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from common.db import NAMING_CONVENTION
from common.events import OutboxEventMixin
from common.idempotency import IdempotencyKeyMixin


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OutboxEvent(OutboxEventMixin, Base):
    """发件箱事件 — a domain event of this service, served to other services at /internal/events."""

    __tablename__ = "outbox_event"


class IdempotencyRecord(IdempotencyKeyMixin, Base):
    """幂等键 — a client's Idempotency-Key for a POST, with the response it got."""

    __tablename__ = "idempotency_key"
