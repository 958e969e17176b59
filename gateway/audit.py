"""The audit trail of every API request, written in batches off the request path.

A request only puts its record on a queue; one writer task inserts what has gathered over a fifth of a second
(up to 500 rows at a time) in a single statement on its own thread. Nothing is dropped: a failed insert is retried, and when the queue is
full, requests wait for room (back-pressure) rather than lose records. Shutdown flushes the queue.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import insert

from common.db import Database
from common.logging import get_logger
from common.timeutil import utcnow
from gateway.models import AuditLog

log = get_logger("gateway.audit")

BATCH = 500
QUEUE_LIMIT = 100_000
# Rows gather for this long before an insert, so a quiet minute costs a few inserts, not one per request.
FLUSH_INTERVAL = 0.2


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
        while True:
            batch = [await self.queue.get()]
            await asyncio.sleep(FLUSH_INTERVAL)
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._write(loop, batch)

    async def _write(self, loop: asyncio.AbstractEventLoop, batch: list[dict[str, Any]]) -> None:
        delay = 0.1
        while True:
            try:
                await loop.run_in_executor(self._executor, self._insert, batch)
                return
            except Exception as exc:
                log.error("audit_write_failed", rows=len(batch), error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _insert(self, batch: list[dict[str, Any]]) -> None:
        with self.db.write() as session:
            session.execute(insert(AuditLog), batch)

    async def close(self, timeout: float = 10.0) -> None:
        """Write out everything queued, then stop."""
        deadline = time.monotonic() + timeout
        while not self.queue.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._task is not None:
            self._task.cancel()
        rest = []
        while not self.queue.empty():
            rest.append(self.queue.get_nowait())
        if rest:
            self._insert(rest)
        self._executor.shutdown(wait=True)


def request_record(*, method: str, path: str, status: int, started: float, archive: str | None,
                   principal: Any, client_ip: str | None, request_id: str | None) -> dict[str, Any]:
    return {
        "at": utcnow(), "method": method, "path": path[:512], "status": status, "archive": archive,
        "duration_ms": int((time.perf_counter() - started) * 1000), "client_ip": client_ip,
        "request_id": request_id, "action": "request", "detail": None,
        "user_id": principal.user_id if principal is not None else None,
        "username": principal.username if principal is not None else None,
    }
