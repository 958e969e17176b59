"""Two DBS instances behind the gateway under a steady stream of GETs: one is stopped (SIGTERM) or killed
(SIGKILL) and no request fails; and the cache fails open while Redis fails over."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import httpx
import redis

from tests import testinfra
from tests.harness import Platform, Proc, wait_until


class Stream:
    """GETs from a few threads until stopped; counts every outcome."""

    def __init__(self, platform: Platform, token: str, threads: int = 4, vary: bool = False):
        self.url = platform.gateway.url + "/api/datacenter/departments"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.vary = vary
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            while not self._stop.is_set():
                params = {"q": uuid.uuid4().hex[:6]} if self.vary else {"size": 5}
                try:
                    response = client.get(self.url, params=params)
                    outcome = response.status_code == 200
                    detail = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as exc:
                    outcome, detail = False, repr(exc)
                with self._lock:
                    if outcome:
                        self.ok += 1
                    else:
                        self.failures.append(detail)

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)


def _served(proc: Proc) -> int:
    return sum(1 for line in proc.log_lines() if line.get("event") == "request")


def _second_instance(platform: Platform) -> Proc:
    second = platform.start_service("dbs")
    wait_until(lambda: len(platform.passing_instances("dbs")) == 2, 20, 0.1, "two passing DBS instances")
    return second


def test_sigterm_on_one_instance_fails_no_request(platform: Platform, admin_token: str) -> None:
    second = _second_instance(platform)
    with Stream(platform, admin_token) as stream:
        wait_until(lambda: _served(second) > 20, 20, 0.1, "the second instance to take traffic")
        before = stream.ok
        platform.stop(second, signal.SIGTERM)
        time.sleep(2.0)
    platform.services.remove(second)
    assert stream.failures == [], stream.failures[:5]
    assert stream.ok > before + 50
    # It drained: deregistered first, then finished its in-flight requests and exited.
    events = [line.get("event") for line in second.log_lines()]
    assert events.index("draining") < events.index("deregistered") < events.index("Shutting down")


def test_sigkill_on_one_instance_fails_no_get(platform: Platform, admin_token: str) -> None:
    second = _second_instance(platform)
    with Stream(platform, admin_token) as stream:
        wait_until(lambda: _served(second) > 20, 20, 0.1, "the second instance to take traffic")
        second.popen.send_signal(signal.SIGKILL)
        second.popen.wait(10)
        killed_at = stream.ok
        time.sleep(3.0)
    platform.services.remove(second)
    assert stream.failures == [], stream.failures[:5]
    assert stream.ok > killed_at + 50
    gateway_log = platform.gateway.log_lines()
    assert any(line.get("event") == "breaker_opened" and line.get("target") == second.instance_id
               for line in gateway_log), "the gateway's breaker for the killed instance should have opened"


def _cache_keys(platform: Platform, port: int) -> list[str]:
    """DBS's cache entries of this platform (each platform's keys carry its own prefix)."""
    pattern = f"{platform.env['HAP_DB_SCHEMA_PREFIX']}dbs:*"
    return [k.decode() for k in redis.Redis(host="127.0.0.1", port=port).keys(pattern)]


def test_cache_fails_open_and_returns_after_failover(platform: Platform, admin_token: str) -> None:
    old_master = testinfra.redis_master_port()
    headers = {"Authorization": f"Bearer {admin_token}"}
    warm = httpx.get(platform.gateway.url + "/api/datacenter/departments", params={"size": 7}, headers=headers)
    assert warm.status_code == 200
    assert _cache_keys(platform, old_master), "the read should have been cached in Redis"
    killed = testinfra.kill_redis_master()
    try:
        with Stream(platform, admin_token, threads=2, vary=True) as stream:
            new_master = testinfra.wait_sentinel_failover(killed)
            time.sleep(1.5)
        assert stream.failures == [], stream.failures[:5]
        assert stream.ok > 20
        # After the promotion the services find the new master and cache there again.
        tag = uuid.uuid4().hex[:6]

        def cached_on_new_master() -> bool:
            httpx.get(platform.gateway.url + "/api/datacenter/units", params={"q": tag}, headers=headers)
            return any(tag in key for key in _cache_keys(platform, new_master))

        wait_until(cached_on_new_master, 15, 0.3, "reads to be cached on the promoted master")
    finally:
        testinfra.restart_redis(killed)
