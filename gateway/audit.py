"""The audit trail of every API request, written in batches off the request path.

A request only puts its record on a queue; one writer task inserts what has gathered over a fifth of a second
(up to 500 rows at a time) in a single statement on its own thread. While the database is unreachable the batch
is retried and new records wait in the queue; when the queue is full, requests wait for room (back-pressure)
rather than lose records. A row the database refuses outright (bad data) is written on its own, and only a row
that still fails is logged and given up, so one bad row never blocks the trail. Shutdown writes out what is
queued and what the writer holds.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, OperationalError

from common.db import Database
from common.logging import get_logger
from common.timeutil import utcnow
from gateway.models import AuditLog

log = get_logger("gateway.audit")

BATCH = 500
QUEUE_LIMIT = 100_000
# Rows gather for this long before an insert, so a quiet minute costs a few inserts, not one per request.
FLUSH_INTERVAL = 0.2
_STOP: dict[str, Any] = {}  # put on the queue to end the writer after everything before it


class AuditWriter:
    def __init__(self, db: Database):
        self.db = db
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def record(self, row: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            await self.queue.put(row)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            batch = [await self.queue.get()]
            await asyncio.sleep(FLUSH_INTERVAL)
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            if any(row is _STOP for row in batch):
                stopping = True
                batch = [row for row in batch if row is not _STOP]
                while not self.queue.empty():  # anything after the stop mark (records of the last requests)
                    row = self.queue.get_nowait()
                    if row is not _STOP:
                        batch.append(row)
            for start in range(0, len(batch), BATCH):
                await self._write(loop, batch[start:start + BATCH], give_up_after=30.0 if stopping else None)

    async def _write(self, loop: asyncio.AbstractEventLoop, batch: list[dict[str, Any]],
                     give_up_after: float | None) -> None:
        delay, started = 0.1, time.monotonic()
        while True:
            try:
                await loop.run_in_executor(self._executor, self._insert, batch)
                return
            except OperationalError as exc:  # the database is away: keep the batch and try again
                log.error("audit_write_failed", rows=len(batch), error=str(exc.orig))
                if give_up_after is not None and time.monotonic() - started > give_up_after:
                    log.error("audit_rows_abandoned", rows=batch)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except DBAPIError:  # the database refuses the data: find and set aside the bad rows
                await loop.run_in_executor(self._executor, self._insert_one_by_one, batch)
                return

    def _insert(self, batch: list[dict[str, Any]]) -> None:
        with self.db.write() as session:
            session.execute(insert(AuditLog), batch)

    def _insert_one_by_one(self, batch: list[dict[str, Any]]) -> None:
        for row in batch:
            try:
                self._insert([row])
            except DBAPIError as exc:
                log.error("audit_row_refused", row=row, error=str(exc.orig))

    async def close(self, timeout: float = 30.0) -> None:
        """Write out everything queued and held, then stop."""
        if self._task is None:
            return
        await self.queue.put(_STOP)
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.error("audit_close_timeout", queued=self.queue.qsize())
            self._task.cancel()
        self._executor.shutdown(wait=True)


def request_record(*, method: str, path: str, status: int, started: float, archive: str | None,
                   principal: Any, client_ip: str | None, request_id: str | None) -> dict[str, Any]:
    return {
        "occurred_at": utcnow(), "method": method[:16], "path": path[:512], "status": status, "archive": archive,
        "duration_ms": int((time.perf_counter() - started) * 1000), "client_ip": client_ip,
        "request_id": request_id, "action": "request", "detail": None,
        "user_id": principal.user_id if principal is not None else None,
        "username": principal.username if principal is not None else None,
    }
