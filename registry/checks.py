"""Runs the registry's health checks and drops instances that stay critical.

- HTTP checks: one task per check requests the URL every Interval through one shared
  ``httpx.AsyncClient``; 2xx is passing, 429 warning, anything else or no answer critical.
- TTL checks: a loop timer per check turns it critical when no update arrives within TTL;
  each update (``/v1/agent/check/pass|warn|fail|update``) re-arms it.
- ``DeregisterCriticalServiceAfter``: a loop timer starts when a check turns critical and is
  cancelled when it recovers; if it fires, the instance is deregistered.

Service registration goes through ``CheckRunner`` so that checks start and stop with their
service. Consul raises Interval to at least 1 s and reaps every 30 s after at least 1 minute;
this stand-in honours shorter values so that tests stay fast, but registrations meant to work
against a real agent too should respect Consul's minimums.
"""

import asyncio
import logging

import httpx

from registry.definitions import CRITICAL, PASSING, WARNING, CheckDefinition, ServiceDefinition
from registry.duration import format_duration
from registry.errors import APIError, quote, unknown_check
from registry.state import Catalog, Check

log = logging.getLogger(__name__)

DEFAULT_HTTP_TIMEOUT = 10.0  # Consul's timeout for an HTTP check that sets none
OUTPUT_MAX_SIZE = 4096  # Consul's default check output_max_size
HTTP_CHECK_HEADERS = {"User-Agent": "Consul Health Check", "Accept": "text/plain, text/*, */*"}


def new_http_client() -> httpx.AsyncClient:
    """The client shared by all HTTP checks."""
    return httpx.AsyncClient(
        # No keep-alive (Consul's checks do the same): every probe must show that the instance
        # still accepts connections, which a pooled connection to a dying process would hide.
        limits=httpx.Limits(max_keepalive_connections=0),
        # Probes go straight to the instance; an HTTP(S)_PROXY meant for outbound traffic must not carry them.
        trust_env=False,
        headers=HTTP_CHECK_HEADERS,
        follow_redirects=True,
    )


class CheckRunner:
    def __init__(self, catalog: Catalog, client: httpx.AsyncClient) -> None:
        self._catalog = catalog
        self._client = client
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._ttl_timers: dict[str, asyncio.TimerHandle] = {}
        self._reap_timers: dict[str, asyncio.TimerHandle] = {}

    def register(self, definition: ServiceDefinition, replace_existing_checks: bool) -> None:
        added, removed = self._catalog.register(definition, replace_existing_checks)
        for check in removed:
            self._stop(check.check_id)
        for check in added:
            self._start(check)

    def deregister(self, service_id: str) -> None:
        for check in self._catalog.deregister(service_id):
            self._stop(check.check_id)

    def update_ttl(self, check_id: str, status: str, output: str) -> None:
        """Record a result pushed by the service itself; only TTL checks take one."""
        check = self._catalog.check(check_id)
        if check is None:
            raise unknown_check(check_id)
        if check.definition is None or check.definition.ttl <= 0:
            raise APIError(500, f"CheckID {quote(check_id)} does not have associated TTL")  # Consul's answer
        self._arm_ttl(check, check.definition.ttl)
        self._set_status(check, status, output)

    async def close(self) -> None:
        probes = list(self._probes.values())
        for check_id in {*self._probes, *self._ttl_timers, *self._reap_timers}:
            self._stop(check_id)
        await asyncio.gather(*probes, return_exceptions=True)

    def _start(self, check: Check) -> None:
        definition = check.definition
        assert definition is not None, "registered checks always carry their definition"
        self._stop(check.check_id)  # a re-registration replaces the running check
        if definition.http:
            self._probes[check.check_id] = asyncio.create_task(self._probe_every_interval(check, definition))
        else:
            self._arm_ttl(check, definition.ttl)
        self._track_critical(check)

    def _stop(self, check_id: str) -> None:
        probe = self._probes.pop(check_id, None)
        if probe is not None:
            probe.cancel()
        for timers in (self._ttl_timers, self._reap_timers):
            timer = timers.pop(check_id, None)
            if timer is not None:
                timer.cancel()

    def _set_status(self, check: Check, status: str, output: str) -> None:
        if self._catalog.update_check(check.check_id, status, output):
            log.info("check %s of %s is now %s: %s", check.check_id, check.service_id, status, output[:200])
            self._track_critical(check)

    def _arm_ttl(self, check: Check, ttl: float) -> None:
        previous = self._ttl_timers.pop(check.check_id, None)
        if previous is not None:
            previous.cancel()
        self._ttl_timers[check.check_id] = asyncio.get_running_loop().call_later(ttl, self._ttl_expired, check)

    def _ttl_expired(self, check: Check) -> None:
        del self._ttl_timers[check.check_id]
        output = "TTL expired"
        if check.output:
            output += f" (last output before timeout follows): {check.output}"
        self._set_status(check, CRITICAL, output)

    def _track_critical(self, check: Check) -> None:
        after = check.definition.deregister_critical_service_after if check.definition else 0.0
        if after <= 0:
            return
        if check.status != CRITICAL:
            timer = self._reap_timers.pop(check.check_id, None)
            if timer is not None:
                timer.cancel()
        elif check.check_id not in self._reap_timers:
            self._reap_timers[check.check_id] = asyncio.get_running_loop().call_later(after, self._reap, check, after)

    def _reap(self, check: Check, after: float) -> None:
        # Any recovery, removal or re-registration of the check cancels this timer, so the
        # check has been critical for the whole of ``after`` when it fires.
        del self._reap_timers[check.check_id]
        log.warning(
            "deregistering %s: check %s critical for more than %s",
            check.service_id,
            check.check_id,
            format_duration(after),
        )
        self.deregister(check.service_id)

    async def _probe_every_interval(self, check: Check, definition: CheckDefinition) -> None:
        while True:
            status, output = await self._probe(definition)
            self._set_status(check, status, output)
            await asyncio.sleep(definition.interval)

    async def _probe(self, definition: CheckDefinition) -> tuple[str, str]:
        method, url = definition.method, definition.http
        timeout = definition.timeout or DEFAULT_HTTP_TIMEOUT
        headers = [(name, value) for name, values in definition.header.items() for value in values]
        try:
            # One deadline for the whole exchange, like Go's Client.Timeout (httpx's are per phase).
            async with asyncio.timeout(timeout):
                response = await self._client.request(method, url, headers=headers)
        except TimeoutError:
            return CRITICAL, f'{method} "{url}": no answer within {format_duration(timeout)}'
        except Exception as exc:  # whatever stops a probe (refused, bad URL, ...) fails the check
            return CRITICAL, f'{method} "{url}": {type(exc).__name__}: {exc}'
        code = response.status_code
        status = PASSING if 200 <= code < 300 else WARNING if code == 429 else CRITICAL
        return status, f"HTTP {method} {url}: {code} {response.reason_phrase} Output: {response.text[:OUTPUT_MAX_SIZE]}"
