"""A small key/value cache: Redis behind Sentinel in production and tests, in-process in the embedded default.

The cache only ever speeds things up. Every Redis failure is a miss (fail open); after a failure Redis is left
alone for a moment so a dead master does not add a timeout to every request. Invalidations that could not be
delivered are kept (in this process) and replayed once Redis answers again, before anything else is sent.

What that does not cover: Redis replicates asynchronously, so a delete the old master acknowledged but had not
yet passed to its replica when it died is lost with it, and the promoted replica can serve that stale entry
until the entry's TTL expires (`CachedReads.invalidate` repeats its deletes after a delay, which catches a
failover that completes within that delay, but nothing guarantees it). Pending deletes of a process that exits
are lost the same way. Keep TTLs as short as the staleness that is acceptable after a failover.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson
import redis
from redis.sentinel import Sentinel

from common.logging import get_logger
from common.settings import Settings

log = get_logger("common.cache")

T = TypeVar("T")


class Cache(Protocol):
    def get(self, key: str) -> Any | None: ...
    def set(self, key: str, value: Any, ttl: float) -> None: ...
    def delete(self, *keys: str) -> None: ...
    def add(self, key: str, value: Any, ttl: float) -> bool: ...
    def exists(self, key: str) -> bool | None:
        """Whether `key` is set; None when the cache could not be asked (down, or backing off after a failure)."""
    def available(self) -> bool: ...


class MemoryCache:
    """In-process LRU with expiry, for the single-instance embedded default."""

    def __init__(self, max_items: int = 10_000):
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_items

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return orjson.loads(value)

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            # Stored serialised, like Redis, so a caller mutating its copy cannot change the cached one.
            self._items[key] = (time.monotonic() + ttl, orjson.dumps(value))
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def add(self, key: str, value: Any, ttl: float) -> bool:
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[0] >= time.monotonic():
                return False
            self._items[key] = (time.monotonic() + ttl, orjson.dumps(value))
            return True

    def exists(self, key: str) -> bool | None:
        with self._lock:
            item = self._items.get(key)
            return item is not None and item[0] >= time.monotonic()

    def available(self) -> bool:
        return True


class RedisCache:
    """Redis master found through Sentinel; fails open.

    Every key carries the deployment's prefix (`HAP_DB_SCHEMA_PREFIX`, "hap_" by default), so that two
    deployments sharing one Redis (a staging and a test platform, two test runs) never read each other's entries.
    """

    backoff_seconds = 1.0

    def __init__(self, settings: Settings):
        self._sentinel = Sentinel(
            settings.redis_sentinel_hosts,
            socket_timeout=0.3,
            socket_connect_timeout=0.3,
            sentinel_kwargs={"socket_timeout": 0.3, "socket_connect_timeout": 0.3,
                             "password": settings.redis_sentinel_password or None},
            password=settings.redis_password or None,
        )
        self._master = self._sentinel.master_for(
            settings.redis_master_name, socket_timeout=0.3, socket_connect_timeout=0.3, retry_on_timeout=False
        )
        self._prefix = settings.db_schema_prefix
        self._down_until = 0.0
        self._pending_deletes: set[str] = set()  # already prefixed
        self._lock = threading.Lock()

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, op: str, fn: Any) -> Any:
        if not self.available():
            return None
        try:
            if self._pending_deletes:
                self._replay_deletes()
            return fn()
        except (redis.RedisError, OSError) as exc:
            self._down_until = time.monotonic() + self.backoff_seconds
            log.warning("cache_unavailable", op=op, error=type(exc).__name__)
            return None

    def _replay_deletes(self) -> None:
        with self._lock:
            keys, self._pending_deletes = list(self._pending_deletes), set()
        try:
            self._master.delete(*keys)
        except BaseException:
            with self._lock:
                self._pending_deletes.update(keys)
            raise
        log.info("cache_invalidations_replayed", count=len(keys))

    def get(self, key: str) -> Any | None:
        raw = self._call("get", lambda: self._master.get(self._prefix + key))
        return None if raw is None else orjson.loads(raw)

    def set(self, key: str, value: Any, ttl: float) -> None:
        self._call("set", lambda: self._master.set(self._prefix + key, orjson.dumps(value), px=int(ttl * 1000)))

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        keys = tuple(self._prefix + key for key in keys)
        done = self._call("delete", lambda: self._master.delete(*keys) is not None)
        if not done:
            with self._lock:
                self._pending_deletes.update(keys)

    def add(self, key: str, value: Any, ttl: float) -> bool:
        return bool(self._call("add", lambda: self._master.set(self._prefix + key, orjson.dumps(value),
                                                               px=int(ttl * 1000), nx=True)))

    def exists(self, key: str) -> bool | None:
        # `_call` answers None when Redis failed or is being left alone; otherwise this is a real bool.
        return self._call("exists", lambda: bool(self._master.exists(self._prefix + key)))


def make_cache(settings: Settings) -> Cache:
    return RedisCache(settings) if settings.redis_sentinels else MemoryCache()


class CachedReads:
    """Cache-aside for one service's read models, grouped in namespaces that a write invalidates as a whole.

    A namespace's entries hang under a version token; invalidating deletes the token, so every entry of the
    namespace is orphaned at once (and expires by TTL). The delete is repeated after the replica lag bound,
    because a reader may have refilled the cache from a replica that had not yet applied the write; the repeats
    are made by one scheduler thread per instance (started at the first invalidation), not a timer per write.
    """

    VERSION_TTL = 86_400.0

    def __init__(self, cache: Cache, service: str, ttl: float, repeat_after: float):
        self.cache, self.service, self.ttl, self.repeat_after = cache, service, ttl, repeat_after
        self._due: list[tuple[float, int, tuple[str, ...]]] = []  # heap of (due time, sequence, keys)
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _version_key(self, namespace: str) -> str:
        return f"{self.service}:{namespace}:ver"

    def _version(self, namespace: str) -> str | None:
        key = self._version_key(namespace)
        version = self.cache.get(key)
        if version is None:
            self.cache.add(key, uuid.uuid4().hex, self.VERSION_TTL)
            version = self.cache.get(key)
        return version

    def get_or_load(self, namespace: str, key: str, loader: Callable[[], T]) -> T:
        """The cached value of `loader()`; the value must be JSON-serialisable (dump models with mode="json")."""
        version = self._version(namespace) if self.cache.available() else None
        if version is None:
            return loader()
        entry_key = f"{self.service}:{namespace}:{version}:{key}"
        hit = self.cache.get(entry_key)
        if hit is not None:
            return hit["v"]
        value = loader()
        self.cache.set(entry_key, {"v": value}, self.ttl)
        return value

    def invalidate(self, *namespaces: str) -> None:
        keys = tuple(self._version_key(ns) for ns in namespaces)
        if not keys:
            return
        self.cache.delete(*keys)
        self._schedule(self.repeat_after, keys)

    def pending(self) -> int:
        """How many delayed deletes are waiting (for tests and diagnostics)."""
        with self._wake:
            return len(self._due)

    def close(self) -> None:
        """Stop the scheduler thread, doing the deletes still waiting now rather than dropping them."""
        with self._wake:
            self._closed = True
            waiting, self._due = self._due, []
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        keys = {key for _, _, batch in waiting for key in batch}
        if keys:
            self.cache.delete(*keys)

    def _schedule(self, delay: float, keys: tuple[str, ...]) -> None:
        with self._wake:
            if self._closed:
                return
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), keys))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_delayed, name=f"cache-invalidate-{self.service}",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run_delayed(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._closed:
                    return
                now, keys = time.monotonic(), set()
                while self._due and self._due[0][0] <= now:
                    keys.update(heapq.heappop(self._due)[2])
            try:  # outside the lock: a slow cache must not hold up writers scheduling their deletes
                self.cache.delete(*sorted(keys))
            except Exception as exc:  # the caches fail open, but this thread must never die
                log.warning("cache_delayed_delete_failed", error=str(exc) or type(exc).__name__)
