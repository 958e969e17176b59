"""`Idempotency-Key` for POSTs that move money or stock: the same key and body replay the first response; the same
key with another body is a 409.

The key row is inserted *before* the work, in the same transaction (call `run` before the write session has
read anything: on SQLite a deferred transaction that has read cannot wait for the write lock), and it only
becomes visible when that transaction commits with the stored response; if the work fails, the transaction
rolls back and takes the key row with it, so a retry with the same key does the work again. A concurrent
request with the same key waits for the first to finish — on MariaDB/MySQL on the row lock of the uncommitted
key in the unique index, on SQLite on the database's single write lock (the first holds it from its key insert
until it commits; the second waits up to busy_timeout) — and then either finds the stored response and replays
it or, if the first rolled back, simply does the work. (That needs a real transaction around the savepoint:
see the SQLite setup in `common.db`.)

The key and its response commit together, so a key without a response should never be seen; if one is (work
that commits on its own, a crash in between), the answer is 409 `idempotency.in_progress`, never a replayed
empty success. So is a key that exists at the insert but is gone at the read, twice in a row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from common.auth import Principal
from common.db import WriteSession
from common.deps import authenticate
from common.errors import Conflict
from common.timeutil import UtcDateTime, utcnow


class IdempotencyKeyMixin:
    """幂等键 — a client's key for one POST and the response it got."""

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)  # who sent it: keys are per caller
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Idempotency:
    def __init__(self, key: str | None, owner: str, method: str, path: str):
        self.key, self.owner, self.method, self.path = key, owner, method, path

    def run(self, session: WriteSession, model: type, body: Any, work: Callable[[], Any],
            status_code: int = 200) -> Any:
        """Do `work()` once per key; a repeat gets the stored response."""
        if not self.key:
            return work()
        fingerprint = hashlib.sha256(
            self.method.encode() + b" " + self.path.encode() + b"\n" + orjson.dumps(jsonable_encoder(body),
                                                                                   option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        for _attempt in range(2):
            try:
                with session.begin_nested():
                    session.add(model(owner=self.owner, key=self.key, fingerprint=fingerprint))
                break
            except IntegrityError:
                pass
            # The key exists. Read it afresh and with a locking read: a plain read on MariaDB would use this
            # transaction's snapshot, which may predate the other request's commit.
            existing = session.get(model, (self.owner, self.key), populate_existing=True, with_for_update=True)
            if existing is None:
                continue  # it rolled back between our insert and our read: try the insert once more
            if existing.fingerprint != fingerprint:
                raise Conflict("This Idempotency-Key was used with a different request",
                               code="idempotency.key_reused")
            if existing.status_code is None:
                raise _in_progress()
            return JSONResponse(existing.response, status_code=existing.status_code,
                                headers={"Idempotent-Replayed": "true"})
        else:
            raise _in_progress()
        result = jsonable_encoder(work())
        row = session.get(model, (self.owner, self.key))
        row.status_code, row.response = status_code, result
        session.flush()
        return JSONResponse(result, status_code=status_code)


def _in_progress() -> Conflict:
    return Conflict("A request with this Idempotency-Key is still being processed; retry later",
                    code="idempotency.in_progress")


def _idempotency(request: Request, principal: Annotated[Principal, Depends(authenticate)],
                 idempotency_key: Annotated[str | None, Header(max_length=128)] = None) -> Idempotency:
    return Idempotency(idempotency_key, principal.sub, request.method, request.url.path)


IdempotencyKey = Annotated[Idempotency, Depends(_idempotency)]
