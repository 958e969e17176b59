"""The revocation feed that services follow, and the barrier that makes a revocation take effect at once.

Entries are written to the `revocation` table in the same transaction as the change that causes them (logout,
disable, grant change, password change). After the commit the gateway:
1. applies them to its own in-memory `RevocationList` (the proxy checks it on every request), and
2. wakes every service waiting in `GET /internal/revocations?after=…&wait=…`, then waits — briefly, bounded —
   until each service that has followed the feed lately has come back for more, which it only does after
   applying what it got. So when the logout answers, every live service already refuses the token.
A service that does not come back in time is past `revocation_stale_seconds` soon and refuses all tokens.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from common.auth import RevocationList
from common.logging import get_logger

log = get_logger("gateway.revocations")

# A healthy watcher is back within milliseconds of each answer; one not seen for this long is gone.
GONE_AFTER_SECONDS = 5.0


class RevocationHub:
    def __init__(self) -> None:
        self.list = RevocationList()
        self.entries: list[dict[str, Any]] = []  # the recent feed, in id order, for long polls
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._acked: dict[str, int] = {}  # watcher -> highest id it asked to read after (i.e. has applied)
        self._seen: dict[str, float] = {}  # watcher -> when it last asked
        self._waiting: dict[str, int] = {}  # watchers in a long poll right now (count of their open polls)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._changed = asyncio.Condition()

    def load(self, entries: list[dict[str, Any]]) -> None:
        """Apply entries read from the database (at start, and when another gateway instance wrote some)."""
        fresh = [e for e in entries if e["id"] > self.list.last_id]
        if not fresh:
            return
        self.list.apply(fresh)
        self.entries.extend(fresh)
        if len(self.entries) > 20_000:
            del self.entries[: len(self.entries) - 10_000]
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._notify()))

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def since(self, after: int, limit: int = 1000) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["id"] > after][:limit]

    async def follow(self, watcher: str, after: int, wait: float) -> list[dict[str, Any]]:
        """Long poll: entries after `after`, or an empty list when `wait` runs out."""
        assert self._changed is not None
        self._acked[watcher] = max(after, self._acked.get(watcher, 0))
        self._seen[watcher] = time.monotonic()
        self._waiting[watcher] = self._waiting.get(watcher, 0) + 1
        deadline = time.monotonic() + wait
        try:
            async with self._changed:
                while not (items := self.since(after)):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        await asyncio.wait_for(self._changed.wait(), remaining)
                    except TimeoutError:
                        break
        finally:
            self._waiting[watcher] -= 1
            self._seen[watcher] = time.monotonic()
        return items

    async def propagated(self, revocation_id: int, timeout: float = 2.0) -> bool:
        """Wait until every active watcher has acknowledged `revocation_id` (asked for entries after it)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            behind = [w for w, acked in self._acked.items()
                      if acked < revocation_id
                      and (self._waiting.get(w) or now - self._seen.get(w, 0.0) < GONE_AFTER_SECONDS)]
            if not behind:
                return True
            if now >= deadline:
                log.warning("revocation_not_acknowledged", revocation_id=revocation_id, watchers=behind)
                return False
            await asyncio.sleep(0.005)
