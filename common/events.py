"""Domain events between services: a transactional outbox, a feed over HTTP, and a cursor consumer.

Producer: `emit(session, OutboxEvent, "prescription.paid", {...})` adds the event in the same transaction as the
change, so an event exists exactly when its change committed. `event_feed_router(OutboxEvent)` serves
`GET /internal/events?after=<id>&limit=<n>` (service tokens only).

The feed reads the primary: a lagging replica would show gaps that are not there (and hide events).

Consumer: `EventConsumer` polls a producer's feed with a cursor stored in the consumer's own database and
applies each event at most once (the event id is recorded in the same transaction as its effects).

Auto-increment ids become visible in commit order, not id order: a transaction that took id 7 may commit after
one that took id 8. The consumer therefore never moves its cursor past a missing id until it has been missing
for `gap_grace_seconds` of the consumer's own clock, counted from when this consumer first saw the gap
(rolled-back transactions leave gaps that never fill; skipped ids are logged as `event_gap_skipped`). An
event's `created_at` cannot decide this: it is the producer's flush time, not its commit time, so a slow
transaction commits events that already look old.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import JSON, BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Database, ReadSession, WriteSession
from common.deps import ServiceCaller, get_runtime
from common.logging import get_logger
from common.timeutil import UtcDateTime, utcnow

log = get_logger("common.events")

BigId = BigInteger().with_variant(Integer, "sqlite")


class OutboxEventMixin:
    """发件箱事件 — columns of a service's outbox table (the service declares `class OutboxEvent(Mixin, Base)`)."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConsumedEventMixin:
    """已处理事件 — one row per applied event, so a redelivered event is skipped."""

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventCursorMixin:
    """事件游标 — how far this service has read another service's feed."""

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


def emit(session: WriteSession, model: type, type_: str, payload: dict[str, Any]) -> None:
    session.add(model(type=type_, payload=payload))


class EventOut(BaseModel):
    id: int
    type: str
    payload: dict[str, Any]
    created_at: datetime


class EventFeed(BaseModel):
    items: list[EventOut]


def event_feed_router(model: type) -> APIRouter:
    router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)

    @router.get("/events", response_model=EventFeed)
    def events(request: Request, _: ServiceCaller, after: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> EventFeed:
        # The primary, never the replica: a replica that has applied id 8 but not yet 7 would show a gap
        # that is not there, and a consumer waiting it out could skip an event that exists.
        with get_runtime(request).db.read(primary=True) as session:
            rows = session.scalars(select(model).where(model.id > after).order_by(model.id).limit(limit)).all()
            return EventFeed(items=[EventOut.model_validate(r, from_attributes=True) for r in rows])

    return router


Handler = Callable[[WriteSession, dict[str, Any]], None]


class EventConsumer:
    """Follows one producer's feed and applies events through `handlers[event type]`."""

    def __init__(self, *, source: str, base_url: Callable[[], str], token: Callable[[], str], db: Database,
                 cursor_model: type, consumed_model: type, handlers: dict[str, Handler],
                 interval: float = 0.5, gap_grace_seconds: float = 10.0):
        self.source, self.base_url, self.token = source, base_url, token
        self.db, self.cursor_model, self.consumed_model = db, cursor_model, consumed_model
        self.handlers, self.interval, self.gap_grace = handlers, interval, gap_grace_seconds
        self._client = httpx.Client(timeout=5.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"consume-{source}", daemon=True)
        # Missing id -> when this consumer first saw it missing (time.monotonic(); forgotten once passed).
        self._first_seen: dict[int, float] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def cursor(self, session: ReadSession | WriteSession) -> int:
        row = session.get(self.cursor_model, self.source)
        return row.last_id if row else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                applied = self.poll_once()
            except Exception as exc:
                log.warning("event_poll_failed", source=self.source, error=str(exc) or type(exc).__name__)
                applied = 0
            if not applied:
                self._stop.wait(self.interval)

    def poll_once(self) -> int:
        """Fetch and apply one batch; returns how many events were applied."""
        with self.db.read(primary=True) as session:
            after = self.cursor(session)
        response = self._client.get(f"{self.base_url()}/internal/events", params={"after": after, "limit": 200},
                                    headers={"Authorization": f"Bearer {self.token()}"})
        response.raise_for_status()
        items = response.json()["items"]
        now = time.monotonic()
        self._note_gaps(after, items, now)
        applied = 0
        expected = after + 1
        for item in items:
            if item["id"] > expected:
                missing = range(expected, item["id"])
                if not self._gap_expired(missing, now):
                    break  # an earlier id may still commit: wait for it
                log.warning("event_gap_skipped", source=self.source, ids=list(missing[:50]), count=len(missing),
                            waited_seconds=round(now - self._first_seen[missing[0]], 3))
            self._apply(item)
            applied += 1
            expected = item["id"] + 1
        self._first_seen = {i: t for i, t in self._first_seen.items() if i >= expected}
        return applied

    def _note_gaps(self, after: int, items: list[dict[str, Any]], now: float) -> None:
        """Remember when this consumer first saw each id missing below a visible one (all gaps of the batch, so
        that they age together rather than one after another)."""
        expected = after + 1
        for item in items:
            for missing in range(expected, item["id"]):
                self._first_seen.setdefault(missing, now)
            expected = item["id"] + 1

    def _gap_expired(self, missing: range, now: float) -> bool:
        """True when every id of the gap has been missing for `gap_grace_seconds` of local time."""
        return all(now - self._first_seen.get(i, now) >= self.gap_grace for i in missing)

    def _apply(self, item: dict[str, Any]) -> None:
        with self.db.write() as session:
            if session.get(self.consumed_model, (self.source, item["id"])) is None:
                handler = self.handlers.get(item["type"])
                if handler is not None:
                    handler(session, item)
                session.add(self.consumed_model(source=self.source, event_id=item["id"]))
            cursor = session.get(self.cursor_model, self.source)
            if cursor is None:
                session.add(self.cursor_model(source=self.source, last_id=item["id"]))
            else:
                cursor.last_id = max(cursor.last_id, item["id"])

