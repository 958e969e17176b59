"""What the gateway process holds: the auth database, the signing keys, revocations, the audit writer, the proxy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from common.auth import Principal
from common.db import Database
from common.errors import Unauthorized
from common.logging import get_logger
from common.settings import Settings
from gateway import service
from gateway.audit import AuditWriter
from gateway.proxy import Proxy
from gateway.revocations import RevocationHub
from gateway.security import Signer

log = get_logger("gateway.runtime")


class GatewayRuntime:
    def __init__(self, settings: Settings, instance: str):
        self.settings = settings
        self.instance = instance
        self.db = Database("auth", settings)
        self.hub = RevocationHub()
        self.audit = AuditWriter(self.db)
        self.proxy = Proxy(settings, self.authenticate)
        self.signer: Signer | None = None
        self.draining = False
        self._verified: dict[str, Principal] = {}
        self._recent_writers: dict[str, float] = {}
        self._poll_task: asyncio.Task | None = None

    async def start(self) -> None:
        self.hub.bind(asyncio.get_running_loop())
        self.signer, entries = await run_in_threadpool(self._load)
        self.hub.load(entries)
        self.audit.start()
        await self.proxy.start()
        self._poll_task = asyncio.create_task(self._poll_revocations(), name="revocation-poll")

    def _load(self) -> tuple[Signer, list[dict[str, Any]]]:
        with self.db.write() as session:
            signer = service.load_signer(session)
            entries = service.live_revocations(session)
        return signer, entries

    async def stop(self) -> None:
        if self._poll_task:
            self._poll_task.cancel()
        await self.proxy.close()
        await self.audit.close()
        self.db.dispose()

    async def _poll_revocations(self) -> None:
        # Another gateway instance may have written revocations; pick them up from the shared database. All
        # live ones are read (there are few), since ids may commit out of order.
        while True:
            await asyncio.sleep(2.0)
            try:
                self.hub.load(await run_in_threadpool(self._read_live_revocations))
            except Exception as exc:
                log.warning("revocation_poll_failed", error=str(exc))

    def _read_live_revocations(self) -> list[dict[str, Any]]:
        with self.db.read(primary=True) as session:
            return service.live_revocations(session)

    # -- authentication (the proxy and the gateway's own routes) ----------------------------------------------

    def authenticate(self, token: str) -> Principal:
        assert self.signer is not None
        principal = self._verified.get(token)
        if principal is None or principal.exp <= time.time():
            principal = self.signer.verify(token, self.settings)
            if len(self._verified) > 8192:
                self._verified.clear()
            self._verified[token] = principal
        if self.hub.list.is_revoked(principal):
            raise Unauthorized("The token has been revoked", code="auth.token_revoked")
        return principal

    # -- units of work that revoke ----------------------------------------------------------------------------

    async def transact(self, fn: Callable[..., service.Outcome], *args: Any, writer: Principal | None = None) -> Any:
        """Run `fn(session, *args)` in a committed unit of work, publish its revocations, then return its value
        or raise its error (the error is raised only after the commit, so what it recorded is kept)."""

        def work() -> tuple[service.Outcome, list[dict[str, Any]]]:
            with self.db.write() as session:
                outcome = fn(session, *args)
                session.flush()
                entries = service.revocation_entries(outcome.revocations)
            return outcome, entries

        outcome, entries = await run_in_threadpool(work)
        if writer is not None:
            self.mark_write(writer)
        if entries and (seq := self.hub.load(entries)):
            await self.hub.propagated(seq)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    async def write(self, fn: Callable[..., Any], *args: Any, writer: Principal | None = None) -> Any:
        """Run `fn(session, *args)` in a committed unit of work and return its result."""

        def work() -> Any:
            with self.db.write() as session:
                return fn(session, *args)

        result = await run_in_threadpool(work)
        if writer is not None:
            self.mark_write(writer)
        return result

    async def read(self, fn: Callable[..., Any], *args: Any, reader: Principal | None = None) -> Any:
        """Run `fn(session, *args)` on a read session (the replica, unless the reader has just written)."""
        primary = reader is not None and self._recent_writers.get(reader.sub, 0.0) > time.monotonic()

        def work() -> Any:
            with self.db.read(primary=primary) as session:
                return fn(session, *args)

        return await run_in_threadpool(work)

    def mark_write(self, principal: Principal) -> None:
        self._recent_writers[principal.sub] = time.monotonic() + self.settings.replica_max_lag_seconds + 1.0
