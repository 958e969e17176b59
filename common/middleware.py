"""Plain ASGI middlewares (cheap on the hot path): request ids and the one log line per request, and the admission
limit that keeps the worker threads from deadlocking."""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logging import bind_context, clear_context, get_logger

log = get_logger("http")

REQUEST_ID_HEADER = b"x-request-id"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def incoming_request_id(scope: Scope, trust: bool = True) -> str:
    if not trust:
        return new_request_id()
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            # Accept only a sane id from outside; anything else is replaced rather than logged verbatim.
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return new_request_id()


class RequestContextMiddleware:
    """Binds the request id (taken from `X-Request-ID` or created) and logs method, path, status and duration."""

    def __init__(self, app: ASGIApp, quiet_paths: frozenset[str] = frozenset({"/health"}),
                 trust_incoming_id: bool = True):
        self.app = app
        self.quiet_paths = quiet_paths
        # The gateway creates every request's id; services take the one the gateway (or a caller) passed on.
        self.trust_incoming_id = trust_incoming_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope, self.trust_incoming_id)
        clear_context()
        bind_context(request_id=request_id)
        _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # One id per response: a proxied answer already carries the same id from the service.
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER]
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"] not in self.quiet_paths:
                log.info("request", method=scope["method"], path=scope["path"], status=status,
                         duration_ms=round((time.perf_counter() - started) * 1000, 2))


class AdmissionLimit:
    """At most `limit` requests inside the app at once; the rest wait here, holding nothing.

    Why: a plain `def` endpoint uses a worker thread for the endpoint, then *another* one for FastAPI's response
    validation, and its unit of work commits only after that. If every worker thread were taken by requests
    blocked on a row lock, the request holding the lock could never get a thread to finish and commit: all of
    them would wait for the database's lock timeout. With fewer requests admitted than there are threads (a
    request uses one thread at a time), a thread is always free for the one that holds the lock.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt_paths: frozenset[str] = frozenset({"/health"})):
        self.app = app
        self.limit = limit
        self.exempt_paths = exempt_paths
        self._semaphore: anyio.Semaphore | None = None  # made on the event loop, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
