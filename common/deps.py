"""The per-process runtime of a service and the request dependencies built on it.

Route signatures use the `Annotated` aliases: `CurrentUser`, `ServiceCaller`, `ReadDB`, `WriteDB`, `Cached`,
`PeerServices` (and `Pagination` from common.pagination).
The write session is the request's unit of work: committed after the endpoint returns and before the response
is sent, rolled back if anything raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from common.auth import Principal, TokenVerifier, authorize, bearer_token, ensure_service
from common.cache import Cache, CachedReads, T
from common.client import Peers
from common.db import Database, ReadSession, Session, WriteSession, after_commit
from common.logging import bind_context
from common.objects import ObjectStore
from common.settings import Settings


@dataclass
class Runtime:
    """Everything a service process holds for its lifetime; kept on `app.state.runtime`."""

    service: str
    archive: str
    instance: str
    settings: Settings
    db: Database
    cache: Cache
    verifier: TokenVerifier
    reads: CachedReads
    peers: Peers
    draining: bool = False
    _objects: ObjectStore | None = None
    _recent_writers: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def objects(self) -> ObjectStore:
        """The object store, connected at first use (only services that keep files need it)."""
        with self._lock:
            if self._objects is None:
                self._objects = ObjectStore(self.settings)
            return self._objects

    # Read-your-writes: after a write, the writer's reads go to the primary for longer than the replica may lag
    # before it is bypassed anyway. The mark is kept locally and in the shared cache for the other instances.

    @property
    def _ryw_seconds(self) -> float:
        return self.settings.replica_max_lag_seconds + 1.0

    def mark_write(self, principal: Principal) -> None:
        if self.db.replica is None:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._recent_writers) > 10_000:
                self._recent_writers = {s: t for s, t in self._recent_writers.items() if t > now}
            self._recent_writers[principal.sub] = now + self._ryw_seconds
        self.cache.set(f"ryw:{self.service}:{principal.sub}", 1, self._ryw_seconds)

    def recently_wrote(self, principal: Principal) -> bool:
        if self.db.replica is None:
            return False
        if self._recent_writers.get(principal.sub, 0.0) > time.monotonic():
            return True
        marked = self.cache.exists(f"ryw:{self.service}:{principal.sub}")
        return True if marked is None else marked  # unknown (cache down): the primary is the safe answer


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def authenticate(request: Request) -> Principal:
    """The verified caller of this request (signature, claims and revocation checked)."""
    verifier = get_runtime(request).verifier
    token = bearer_token(request.headers.get("authorization"))
    # A token seen before is checked on the loop; a new one on a worker thread (it may fetch keys).
    principal = verifier.verify_cached(token) or await run_in_threadpool(verifier.verify, token)
    request.state.principal = principal
    bind_context(user=principal.username)
    return principal


async def require_archive(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """The caller, allowed on this service's archive at the level the method needs (GET read, others write)."""
    authorize(principal, get_runtime(request).archive, request.method)
    return principal


async def require_service(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    return ensure_service(principal)


CurrentUser = Annotated[Principal, Depends(require_archive)]
ServiceCaller = Annotated[Principal, Depends(require_service)]


def _write_session(request: Request, principal: Annotated[Principal, Depends(authenticate)]
                   ) -> Iterator[WriteSession]:
    runtime = get_runtime(request)
    with runtime.db.write() as session:
        yield session
    runtime.mark_write(principal)


class ReadRouting:
    """Whether this request's reads must see the caller's own recent writes (primary, no cache).

    Decided at first need, on the endpoint's thread: a request answered from the cache never asks."""

    def __init__(self, runtime: Runtime, principal: Principal, method: str):
        self.runtime, self.principal, self.method = runtime, principal, method
        self._own_writes: bool | None = None

    def own_writes(self) -> bool:
        if self._own_writes is None:
            self._own_writes = self.method not in ("GET", "HEAD") or self.runtime.recently_wrote(self.principal)
        return self._own_writes


async def _routing(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> ReadRouting:
    return ReadRouting(get_runtime(request), principal, request.method)


async def _read_session(request: Request, routing: Annotated[ReadRouting, Depends(_routing)]
                        ) -> AsyncIterator[ReadSession]:
    # An async dependency, so it costs no thread hop; closing only touches the database if a query ran.
    session = get_runtime(request).db.read_session(routing.own_writes)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# scope="function": the commit happens before the response is sent, so a client never sees a success that
# was not committed, and a commit failure reaches the client as an error.
WriteDB = Annotated[WriteSession, Depends(_write_session, scope="function")]
ReadDB = Annotated[ReadSession, Depends(_read_session, scope="function")]


@dataclass
class CacheView:
    """The cache as one request sees it: a caller who just wrote bypasses it (and reads the primary)."""

    reads: CachedReads
    routing: ReadRouting

    def get_or_load(self, namespace: str, key: str, loader: Callable[[], T]) -> T:
        return loader() if self.routing.own_writes() else self.reads.get_or_load(namespace, key, loader)

    def invalidate_on_commit(self, session: Session, *namespaces: str) -> None:
        after_commit(session, lambda: self.reads.invalidate(*namespaces))


async def _cache_view(request: Request, routing: Annotated[ReadRouting, Depends(_routing)]) -> CacheView:
    return CacheView(get_runtime(request).reads, routing)


Cached = Annotated[CacheView, Depends(_cache_view)]


def _peers(request: Request) -> Peers:
    return get_runtime(request).peers


PeerServices = Annotated[Peers, Depends(_peers)]
