"""The revocation feed that services follow, and the barrier that makes a revocation take effect at once.

Entries are written to the `revocation` table in the same transaction as the change that causes them (logout,
disable, grant change, password change). After the commit the gateway:
1. applies them to its own in-memory `RevocationList` (the proxy checks it on every request), and
2. wakes every service waiting in `GET /internal/revocations?after=…&wait=…`, then waits — briefly, bounded —
   until each service that follows the feed has come back for more, which it only does after applying what it
   got. So when the logout answers, every live service already refuses the token.

The feed is ordered by a sequence number this process assigns as entries arrive, not by database id: two
transactions can commit (or reach this process) in the opposite order of their ids, and a follower that had
already read past the higher id would never be sent the lower one. A follower also sends the feed's `epoch`;
a restarted gateway has a new epoch and re-sends everything still live.

A service that does not come back in time soon passes `revocation_stale_seconds` and refuses all tokens.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from common.auth import RevocationList
from common.logging import get_logger

log = get_logger("gateway.revocations")

# A healthy watcher is back within milliseconds of each answer; one not seen for this long is gone.
GONE_AFTER_SECONDS = 5.0
FORGET_WATCHER_SECONDS = 3600.0


class RevocationHub:
    def __init__(self) -> None:
        self.epoch = uuid.uuid4().hex[:12]
        self.list = RevocationList()
        self.entries: list[dict[str, Any]] = []  # the live feed in sequence order
        self._seq = 0
        self._seq_of: dict[int, int] = {}  # database id -> its sequence in the feed
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._acked: dict[str, int] = {}  # watcher -> highest sequence it asked to read after (has applied)
        self._seen: dict[str, float] = {}  # watcher -> when it last asked
        self._waiting: dict[str, int] = {}  # watchers in a long poll right now (count of their open polls)
        self._closing = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._changed = asyncio.Condition()

    def load(self, entries: list[dict[str, Any]]) -> int:
        """Add entries not yet in the feed (from this process's commits, or read back from the database when
        another gateway instance wrote them); returns the highest sequence of the given entries (0 for none)."""
        fresh = sorted((e for e in entries if e["id"] not in self._seq_of), key=lambda e: e["id"])
        numbered = []
        for entry in fresh:
            self._seq += 1
            self._seq_of[entry["id"]] = self._seq
            numbered.append({**entry, "seq": self._seq})
        highest = max((self._seq_of[e["id"]] for e in entries), default=0)
        if not numbered:
            return highest
        self.list.apply(numbered)
        self.entries.extend(numbered)
        self._prune()
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._notify()))
        return highest

    def _prune(self) -> None:
        now = time.time()
        if self.entries and self.entries[0]["expires_at"] <= now and len(self.entries) > 1000:
            live = [e for e in self.entries if e["expires_at"] > now]
            keep = {e["id"] for e in live}
            self._seq_of = {i: seq for i, seq in self._seq_of.items() if i in keep}
            self.entries = live
        cutoff = time.monotonic() - FORGET_WATCHER_SECONDS
        for watcher in [w for w, seen in self._seen.items() if seen < cutoff and not self._waiting.get(w)]:
            self._seen.pop(watcher, None)
            self._acked.pop(watcher, None)
            self._waiting.pop(watcher, None)

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def wake_all(self) -> None:
        """Answer every long poll now (at shutdown), so the gateway does not wait out their `wait`."""
        self._closing = True
        if self._loop is not None:
            asyncio.ensure_future(self._notify())

    def since(self, after: int, limit: int = 1000) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["seq"] > after][:limit]

    async def follow(self, watcher: str, after: int, epoch: str | None, wait: float) -> list[dict[str, Any]]:
        """Long poll: entries after sequence `after`, or an empty list when `wait` runs out. A follower that
        knew another epoch (this gateway restarted) gets everything from the start."""
        assert self._changed is not None
        if epoch != self.epoch:
            after = 0
        self._acked[watcher] = after
        self._seen[watcher] = time.monotonic()
        self._waiting[watcher] = self._waiting.get(watcher, 0) + 1
        deadline = time.monotonic() + wait
        try:
            async with self._changed:
                while not (items := self.since(after)) and not self._closing:
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

    async def propagated(self, seq: int, timeout: float = 2.0) -> bool:
        """Wait until every active watcher has acknowledged sequence `seq` (asked for entries after it)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            behind = [w for w, acked in self._acked.items()
                      if acked < seq
                      and (self._waiting.get(w) or now - self._seen.get(w, 0.0) < GONE_AFTER_SECONDS)]
            if not behind:
                return True
            if now >= deadline:
                log.warning("revocation_not_acknowledged", seq=seq, watchers=behind)
                return False
            await asyncio.sleep(0.005)
