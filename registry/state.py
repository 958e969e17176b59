"""In-memory catalog of the registry: one node, its services and checks, and the indexes of blocking queries.

Like a Consul dev agent, everything lives in memory: after a restart, services re-register.
Every change takes the next value of one monotonic index (Consul's raft index) and records it
where blocking queries look: per service name (health and catalog queries for that name), for
the set of services (catalog and agent lists) and globally (agent checks). A change wakes every
waiting query, which re-checks its own index, so a query only returns when what it watches moved.

All methods run on the event loop thread and never await while mutating, so no locks are needed.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from registry.definitions import CRITICAL, PASSING, CheckDefinition, ServiceDefinition
from registry.errors import unknown_check, unknown_service

MAINTENANCE_PREFIX = "_service_maintenance:"
DEFAULT_MAINTENANCE_REASON = (
    "Maintenance mode is enabled for this service, but no reason was provided. This is a default message."
)


@dataclass(frozen=True)
class Node:
    """The single node this registry stands in for (a Consul dev agent is a one-node cluster)."""

    name: str
    id: str
    address: str
    datacenter: str


@dataclass
class Service:
    id: str
    name: str
    address: str
    port: int
    tags: list[str]
    meta: dict[str, str]
    weights: dict[str, int]
    enable_tag_override: bool
    create_index: int
    modify_index: int


@dataclass
class Check:
    """A health check; ``definition`` is None for checks the registry makes itself (serfHealth, maintenance)."""

    check_id: str
    name: str
    type: str
    status: str
    service_id: str = ""
    service_name: str = ""
    notes: str = ""
    output: str = ""
    definition: CheckDefinition | None = None
    create_index: int = 1
    modify_index: int = 1


class Catalog:
    def __init__(self, node: Node) -> None:
        self.node = node
        # Consul reports the agent's own liveness as a node-level check on every health entry.
        self.serf_health = Check("serfHealth", "Serf Health Status", "", PASSING, output="Agent alive and reachable")
        # The node and serfHealth count as registered at index 1. Changes are numbered on from the
        # wall clock in milliseconds, so a restarted registry hands out indexes above those of its
        # previous run: a watcher still holding an old index wakes at the first change instead of
        # waiting out its ?wait (clients only reset when an index goes backwards).
        self.index = time.time_ns() // 1_000_000
        self.services_index = 1
        self._name_index: dict[str, int] = {}
        self._services: dict[str, Service] = {}
        self._checks: dict[str, Check] = {}
        self._changed = asyncio.Event()
        self._closing = False

    # --- reads ---------------------------------------------------------------------------------

    def service(self, service_id: str) -> Service | None:
        return self._services.get(service_id)

    def services(self) -> list[Service]:
        return sorted(self._services.values(), key=lambda service: service.id)

    def check(self, check_id: str) -> Check | None:
        return self._checks.get(check_id)

    def checks(self) -> list[Check]:
        return sorted(self._checks.values(), key=lambda check: check.check_id)

    def checks_of(self, service_id: str) -> list[Check]:
        return [check for check in self.checks() if check.service_id == service_id]

    def instances(self, name: str) -> list[Service]:
        return [service for service in self.services() if service.name == name]

    def name_index(self, name: str) -> int:
        """Index of the last change to the instances or checks of service ``name``; kept after they are gone."""
        return self._name_index.get(name, 1)

    # --- writes --------------------------------------------------------------------------------

    def register(self, definition: ServiceDefinition, replace_existing_checks: bool) -> tuple[list[Check], list[Check]]:
        """Add or replace a service; returns (checks created or redefined, checks removed)."""
        index = self._next_index()
        previous = self._services.get(definition.id)
        self._services[definition.id] = Service(
            id=definition.id,
            name=definition.name,
            address=definition.address,
            port=definition.port,
            tags=definition.tags,
            meta=definition.meta,
            weights=definition.weights,
            enable_tag_override=definition.enable_tag_override,
            create_index=previous.create_index if previous else index,
            modify_index=index,
        )
        added = [self._put_check(definition, position, index) for position in range(len(definition.checks))]
        removed: list[Check] = []
        if replace_existing_checks:
            keep = {check.check_id for check in added}
            removed = [check for check in self.checks_of(definition.id) if check.check_id not in keep]
            for check in removed:
                del self._checks[check.check_id]
        self._changed_now(index, definition.name, previous.name if previous else definition.name, services=True)
        return added, removed

    def deregister(self, service_id: str) -> list[Check]:
        """Remove a service and its checks; returns the checks removed."""
        service = self._services.pop(service_id, None)
        if service is None:
            raise unknown_service(service_id)
        removed = self.checks_of(service_id)
        for check in removed:
            del self._checks[check.check_id]
        self._changed_now(self._next_index(), service.name, services=True)
        return removed

    def set_maintenance(self, service_id: str, enable: bool, reason: str) -> None:
        """Add or remove the critical ``_service_maintenance:<id>`` check, as ``consul maint`` does."""
        service = self._services.get(service_id)
        if service is None:
            raise unknown_service(service_id)
        check_id = MAINTENANCE_PREFIX + service_id
        if enable == (check_id in self._checks):
            return  # idempotent, and no index change for a no-op
        index = self._next_index()
        if enable:
            self._checks[check_id] = Check(
                check_id=check_id,
                name="Service Maintenance Mode",
                type="maintenance",
                status=CRITICAL,
                service_id=service.id,
                service_name=service.name,
                notes=reason or DEFAULT_MAINTENANCE_REASON,
                create_index=index,
                modify_index=index,
            )
        else:
            del self._checks[check_id]
        self._changed_now(index, service.name)

    def update_check(self, check_id: str, status: str, output: str) -> bool:
        """Record a check result; returns whether the status changed.

        Only a status change moves the index. Like Consul (which defers output-only syncs), an
        HTTP check whose body changes on every probe must not wake every watcher every interval.
        """
        check = self._checks.get(check_id)
        if check is None:
            raise unknown_check(check_id)
        check.output = output
        if check.status == status:
            return False
        index = self._next_index()
        check.status = status
        check.modify_index = index
        self._changed_now(index, check.service_name)
        return True

    # --- blocking queries ----------------------------------------------------------------------

    async def wait_past(self, min_index: int, index_of: Callable[[], int], timeout: float) -> None:
        """Return once ``index_of()`` exceeds ``min_index``, or after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while index_of() <= min_index and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def release_waiters(self) -> None:
        """Answer every held blocking query now, and hold no new one: the registry is shutting down."""
        self._closing = True
        self._changed.set()

    def _next_index(self) -> int:
        self.index += 1
        return self.index

    def _changed_now(self, index: int, *names: str, services: bool = False) -> None:
        for name in names:
            self._name_index[name] = index
        if services:
            self.services_index = index
        # Wake every waiter, then give later waiters a fresh event to sleep on.
        self._changed.set()
        self._changed = asyncio.Event()

    def _put_check(self, definition: ServiceDefinition, position: int, index: int) -> Check:
        check_definition = definition.checks[position]
        check_id = check_definition.check_id or f"service:{definition.id}"
        if not check_definition.check_id and len(definition.checks) > 1:
            check_id += f":{position + 1}"
        previous = self._checks.get(check_id)
        check = Check(
            check_id=check_id,
            name=check_definition.name or f"Service '{definition.name}' check",
            type=check_definition.type,
            status=check_definition.status or CRITICAL,
            service_id=definition.id,
            service_name=definition.name,
            notes=check_definition.notes,
            definition=check_definition,
            create_index=previous.create_index if previous else index,
            modify_index=index,
        )
        if previous:
            # Consul keeps the last result when a service re-registers, so a restart of the
            # registering process does not flap a passing instance to critical.
            check.status, check.output = previous.status, previous.output
        self._checks[check_id] = check
        return check
