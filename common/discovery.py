"""Service discovery over Consul's HTTP API: registering this process, and choosing an instance to call.

The same `Balancer` (round-robin over passing instances, a circuit breaker per instance) serves the gateway's
async proxy and the services' sync client; only the way each learns the instance list differs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import consul

from common.logging import get_logger
from common.settings import Settings

log = get_logger("common.discovery")


@dataclass(frozen=True)
class Instance:
    id: str
    address: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.port}"


def instances_from_health(entries: list[dict[str, Any]]) -> list[Instance]:
    """Instances from a `/v1/health/service/<name>?passing` answer (Consul's shape)."""
    out = []
    for entry in entries:
        service = entry["Service"]
        address = service.get("Address") or entry.get("Node", {}).get("Address") or "127.0.0.1"
        out.append(Instance(service["ID"], address, int(service["Port"])))
    return sorted(out, key=lambda i: i.id)


# Retry policy, shared by the gateway's proxy and `common.client` (ARCHITECTURE §6): idempotent methods may be
# retried on another instance after a failed call or a 502/503/504; any method may go elsewhere when the
# connection was refused (nothing was sent). At most MAX_ATTEMPTS instances are tried for one request.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_ATTEMPTS = 3


@dataclass
class Breaker:
    """Per-instance circuit breaker: closed → open after `threshold` consecutive failures → half-open after
    `reset_seconds`, when exactly one trial call is let through. The trial's success closes the breaker; its
    failure re-opens it for another full period. A trial that never reports (its caller vanished) is given up
    after `reset_seconds`, and another trial is allowed.

    Not thread-safe on its own: `Balancer` serialises access with its lock.
    """

    threshold: int
    reset_seconds: float
    failures: int = 0
    opened_at: float | None = None
    trial_started: float | None = None  # when the half-open trial in flight was let through

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.trial_started is not None else "open"

    def allows(self, now: float) -> bool:
        """May a call go to this instance now? In the half-open state this admits one trial and records it."""
        if self.opened_at is None:
            return True
        if now - self.opened_at < self.reset_seconds:
            return False
        if self.trial_started is not None and now - self.trial_started < self.reset_seconds:
            return False  # a trial is in flight
        self.trial_started = now
        return True

    def success(self) -> None:
        self.failures, self.opened_at, self.trial_started = 0, None, None

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = now  # (re)open: a failed half-open trial waits a full period again
            self.trial_started = None


@dataclass
class Balancer:
    """Round-robin over the passing instances of one service, skipping those whose breaker is open.

    Safe to share between threads (the services' sync client) and coroutines (the gateway).
    """

    name: str
    threshold: int = 5
    reset_seconds: float = 10.0
    instances: list[Instance] = field(default_factory=list)
    breakers: dict[str, Breaker] = field(default_factory=dict)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def update(self, instances: list[Instance]) -> None:
        with self._lock:
            # Build the breakers first, then publish both: a reader never sees an instance without its breaker.
            breakers = {i.id: self.breakers.get(i.id) or Breaker(self.threshold, self.reset_seconds)
                        for i in instances}
            self.breakers, self.instances = breakers, list(instances)

    def candidates(self) -> list[Instance]:
        """Instances to try in order for one request: round-robin start, open breakers left out.

        A breaker past its reset time is included once, as its trial; the trial counts as in flight from here
        (a caller that does not get to use it simply lets it time out after `reset_seconds`)."""
        with self._lock:
            instances, breakers = self.instances, self.breakers
            if not instances:
                return []
            now = self.clock()
            start = self._next % len(instances)
            self._next += 1
            ordered = instances[start:] + instances[:start]
            out = []
            for instance in ordered:
                breaker = breakers.get(instance.id)
                if breaker is None or breaker.allows(now):
                    if breaker is not None and breaker.opened_at is not None:
                        log.info("breaker_trial", service=self.name, target=instance.id)
                    out.append(instance)
            return out

    def succeeded(self, instance: Instance) -> None:
        with self._lock:
            breaker = self.breakers.get(instance.id)
            if breaker is not None and (breaker.failures or breaker.opened_at is not None):
                if breaker.opened_at is not None:
                    log.info("breaker_closed", service=self.name, target=instance.id)
                breaker.success()

    def failed(self, instance: Instance) -> None:
        with self._lock:
            breaker = self.breakers.get(instance.id)
            if breaker is not None:
                was_open = breaker.opened_at is not None
                breaker.failure(self.clock())
                if breaker.opened_at is not None and not was_open:
                    log.warning("breaker_opened", service=self.name, target=instance.id)


def consul_client(settings: Settings) -> consul.Consul:
    parts = urlsplit(settings.registry_base)
    return consul.Consul(host=parts.hostname or "127.0.0.1", port=parts.port or 8500, scheme=parts.scheme or "http",
                         connections_timeout=5)


class Registration:
    """This process in the registry: registered on start, kept registered, deregistered first on shutdown."""

    def __init__(self, settings: Settings, name: str, host: str, port: int, meta: dict[str, str] | None = None):
        self.settings, self.name, self.host, self.port = settings, name, host, port
        self.service_id = f"{name}-{host}-{port}"
        self.meta = meta or {}
        self._consul = consul_client(settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_registered, name="registration", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def register(self) -> None:
        check = consul.Check.http(
            f"http://{self.host}:{self.port}/health", interval=self.settings.check_interval, timeout="2s",
            deregister=self.settings.deregister_critical_after,
        )
        self._consul.agent.service.register(
            self.name, service_id=self.service_id, address=self.host, port=self.port, tags=["hap"],
            meta=self.meta, check=check,
        )
        log.info("registered", service_id=self.service_id, registry=self.settings.registry_base)

    def deregister(self) -> None:
        self._stop.set()
        try:
            self._consul.agent.service.deregister(self.service_id)
            log.info("deregistered", service_id=self.service_id)
        except Exception as exc:  # the registry being gone must not block shutdown
            log.warning("deregister_failed", error=str(exc))

    def _keep_registered(self) -> None:
        # Anti-entropy, as a Consul agent does: re-register if the registry restarted and forgot us.
        registered = False
        while not self._stop.is_set():
            try:
                if registered:
                    try:
                        self._consul.agent.service_definition(self.service_id)
                    except consul.NotFound:
                        registered = False
                if not registered:
                    self.register()
                registered = True
            except Exception as exc:
                registered = False
                log.warning("registry_unavailable", error=str(exc) or type(exc).__name__)
            self._stop.wait(1.0 if not registered else 10.0)


class Watcher:
    """Keeps a Balancer's instance list current with blocking queries (a thread per watched service)."""

    def __init__(self, settings: Settings, balancer: Balancer):
        self.settings, self.balancer = settings, balancer
        self._consul = consul_client(settings)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch-{balancer.name}", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        index = None
        while not self._stop.is_set():
            try:
                index, entries = self._consul.health.service(self.balancer.name, passing=True, index=index, wait="20s")
                self.balancer.update(instances_from_health(entries))
                self._ready.set()
            except Exception as exc:
                log.warning("discovery_unavailable", service=self.balancer.name, error=str(exc) or type(exc).__name__)
                index = None
                self._stop.wait(1.0)
