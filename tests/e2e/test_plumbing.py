"""common/'s cross-service plumbing against the real platform: idempotency keys, the outbox and its cursor
consumer, the service client, and the JSON logs."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import String, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from structlog.testing import capture_logs

from common.client import ServiceClient
from common.db import Database
from common.events import ConsumedEventMixin, EventConsumer, EventCursorMixin
from common.settings import Settings
from tests.harness import SERVICE_SECRET, Platform, mariadb, start_platform, wait_until

UNITS = "/api/datacenter/units"
GAP_GRACE = 3.0


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Registry, gateway and DBS in the embedded mode: SQLite files, in-process cache."""
    running = start_platform({}, services=("dbs",), data_dir=tmp_path_factory.mktemp("embedded"))
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(params=["mariadb", "sqlite"])
def target(request: pytest.FixtureRequest) -> tuple[Platform, str]:
    """The shared platform on MariaDB, or the embedded one on SQLite, with an admin token for it."""
    if request.param == "mariadb":
        return request.getfixturevalue("platform"), request.getfixturevalue("admin_token")
    running = request.getfixturevalue("embedded")
    return running, running.admin_token()


def test_idempotency_key_replays_and_refuses_reuse(target: tuple[Platform, str]) -> None:
    platform, admin_token = target
    key = uuid.uuid4().hex
    body = {"code": f"U{key[:8]}", "name": f"包{key[:4]}"}
    with platform.client(admin_token) as c:
        first = c.post(UNITS, json=body, headers={"Idempotency-Key": key})
        again = c.post(UNITS, json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert "idempotent-replayed" not in first.headers
        assert again.json() is not None and again.json()["code"] == body["code"]  # the real body, not null
        assert first.json() == again.json()
        assert again.headers.get("idempotent-replayed") == "true"
        other = c.post(UNITS, json={**body, "name": "别的"}, headers={"Idempotency-Key": key})
        assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"
        # Without a key, the same body is simply a duplicate code.
        duplicate = c.post(UNITS, json=body)
        assert duplicate.status_code == 409 and duplicate.json()["code"] == "datacenter.code_taken"
        assert c.get(UNITS, params={"q": body["code"]}).json()["total"] == 1


def test_idempotency_key_of_failed_work_is_not_replayed(target: tuple[Platform, str]) -> None:
    """The key row is written in the same transaction as the work: when the work fails, no key is kept, and a
    retry with the same key does the work again (and fails again) instead of replaying a success."""
    platform, admin_token = target
    code = f"T{uuid.uuid4().hex[:8]}"
    with platform.client(admin_token) as c:
        assert c.post(UNITS, json={"code": code, "name": "甲"}).status_code == 201
        key = uuid.uuid4().hex
        body = {"code": code, "name": "乙"}
        for _ in range(2):
            taken = c.post(UNITS, json=body, headers={"Idempotency-Key": key})
            assert taken.status_code == 409, taken.text
            assert taken.json()["code"] == "datacenter.code_taken"
            assert "idempotent-replayed" not in taken.headers
        listed = c.get(UNITS, params={"q": code}).json()
        assert listed["total"] == 1 and listed["items"][0]["name"] == "甲"


def test_idempotency_key_under_parallel_retries(target: tuple[Platform, str]) -> None:
    platform, admin_token = target
    key = uuid.uuid4().hex
    body = {"code": f"P{key[:8]}", "name": f"瓶{key[:4]}"}

    def post(_: int) -> httpx.Response:
        return httpx.post(platform.gateway.url + UNITS, json=body, timeout=20,
                          headers={"Idempotency-Key": key, "Authorization": f"Bearer {admin_token}"})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.json()["code"] == body["code"] for r in responses)
    assert sum(1 for r in responses if r.headers.get("idempotent-replayed") == "true") == 7
    with platform.client(admin_token) as c:
        assert c.get(UNITS, params={"q": body["code"]}).json()["total"] == 1


class _Base(DeclarativeBase):
    pass


class _Cursor(EventCursorMixin, _Base):
    __tablename__ = "event_cursor"


class _Consumed(ConsumedEventMixin, _Base):
    __tablename__ = "consumed_event"


class _Seen(_Base):
    __tablename__ = "seen"
    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))


def _service_token(platform: Platform) -> str:
    response = httpx.post(platform.gateway.url + "/api/auth/token",
                          json={"client_id": "tms", "client_secret": SERVICE_SECRET})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass
class _Consumers:
    """Consumers of DBS's feed sharing one SQLite database, and every call their handler got."""

    platform: Platform
    db: Database
    token: str
    calls: list[int] = field(default_factory=list)

    def record(self, session, event) -> None:
        self.calls.append(event["id"])
        session.add(_Seen(event_id=event["id"], code=event["payload"]["code"], action=event["payload"]["action"]))

    def new(self) -> EventConsumer:
        return EventConsumer(source="dbs", base_url=lambda: self.platform.services[0].url, token=lambda: self.token,
                             db=self.db, cursor_model=_Cursor, consumed_model=_Consumed,
                             handlers={"catalogue.changed": self.record}, gap_grace_seconds=GAP_GRACE)

    def seen(self, code: str | None = None) -> list[_Seen]:
        with self.db.read() as session:
            statement = select(_Seen).order_by(_Seen.event_id)
            if code is not None:
                statement = statement.where(_Seen.code == code)
            return list(session.scalars(statement))


@pytest.fixture
def consumers(platform: Platform, tmp_path: Path) -> Iterator[_Consumers]:
    db = Database("consumer", Settings(data_dir=tmp_path, db_primary_url="", db_replica_url=""))
    _Base.metadata.create_all(db.primary)
    try:
        yield _Consumers(platform, db, _service_token(platform))
    finally:
        db.dispose()


def _drain(made: EventConsumer, settle: float = 15.0) -> int:
    """Poll until the consumer has caught up with the feed (waiting out gaps left by rolled-back writes)."""
    total = 0
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        applied = made.poll_once()
        total += applied
        if applied:
            continue
        with made.db.read() as session:
            cursor = made.cursor(session)
        response = made._client.get(f"{made.base_url()}/internal/events", params={"after": cursor, "limit": 1},
                                    headers={"Authorization": f"Bearer {made.token()}"})
        if not response.json()["items"]:
            break
        time.sleep(0.2)
    return total


def test_outbox_feed_and_cursor_consumer(platform: Platform, admin_token: str, consumers: _Consumers) -> None:
    made, db = consumers.new(), consumers.db
    _drain(made)
    code = f"E{uuid.uuid4().hex[:8]}"
    with platform.client(admin_token) as c:
        unit = c.post(UNITS, json={"code": code, "name": "事件单位"}).json()
        c.patch(f"{UNITS}/{unit['id']}", json={"name": "事件单位二"})
        c.post(f"{UNITS}/{unit['id']}/deactivate")
    assert _drain(made) >= 3
    assert [s.action for s in consumers.seen(code)] == ["created", "updated", "deactivated"]
    with db.read() as session:
        cursor = made.cursor(session)
    calls, seen = len(consumers.calls), len(consumers.seen())
    assert calls == seen > 0
    # A fresh consumer on the same database starts at the stored cursor: it applies nothing.
    fresh = consumers.new()
    assert _drain(fresh) == 0
    with db.read() as session:
        assert fresh.cursor(session) == cursor
    # Events are applied once by event id, not by the cursor: from a cursor set back to 0, the whole feed is
    # walked again without calling the handler for any of it.
    with db.primary.begin() as conn:
        conn.execute(update(_Cursor).where(_Cursor.source == "dbs").values(last_id=0))
    assert _drain(fresh, settle=60.0) >= calls
    with db.read() as session:
        assert fresh.cursor(session) == cursor
        assert session.scalar(select(func.count()).select_from(_Consumed)) >= calls
    assert len(consumers.calls) == calls and len(consumers.seen()) == seen
    # The feed is for services only.
    user = httpx.get(platform.services[0].url + "/internal/events", headers={"Authorization": f"Bearer {admin_token}"})
    assert user.status_code == 403 and user.json()["code"] == "auth.service_only"


def _slow_outbox_insert(platform: Platform, action: str) -> tuple[object, int]:
    """A transaction on DBS's database that has taken an outbox id but not committed (a slow writer)."""
    slow = mariadb(platform.env, database=platform.env.get("HAP_DB_SCHEMA_PREFIX", "hap_") + "dbs")
    slow.autocommit(False)
    with slow.cursor() as cur:
        cur.execute("INSERT INTO outbox_event (type, payload, created_at) VALUES "
                    "('catalogue.changed', %s, UTC_TIMESTAMP(6))",
                    (json.dumps({"entity": "units", "id": 0, "action": action, "code": action.upper(),
                                 "name": "慢", "active": True}),))
        return slow, cur.lastrowid


def test_consumer_waits_for_an_uncommitted_earlier_event(platform: Platform, admin_token: str,
                                                         consumers: _Consumers) -> None:
    """Ids are taken at insert and become visible at commit: a later id may show first. The consumer must not
    move its cursor past the gap while the earlier transaction may still commit; how long it waits counts from
    when it first saw the gap, not from the events' timestamps (the producer's flush time)."""
    made, db = consumers.new(), consumers.db
    _drain(made)
    # 1. The slow transaction commits, long after the later event was written.
    slow, slow_id = _slow_outbox_insert(platform, "slow")
    try:
        code = f"F{uuid.uuid4().hex[:8]}"
        with platform.client(admin_token) as c:
            assert c.post(UNITS, json={"code": code, "name": "快单位"}).status_code == 201
        time.sleep(GAP_GRACE + 0.5)  # the later event now looks older than the grace period
        assert made.poll_once() == 0  # ... but this consumer sees the gap only now: it waits
        with db.read() as session:
            assert made.cursor(session) < slow_id
        slow.commit()
    finally:
        slow.close()
    assert _drain(made) >= 2
    actions = [s.action for s in consumers.seen()]
    assert actions[-2:] == ["slow", "created"]

    # 2. The slow transaction rolls back: its id never appears, and the consumer skips it after the grace period.
    slow, lost_id = _slow_outbox_insert(platform, "lost")
    try:
        code = f"G{uuid.uuid4().hex[:8]}"
        with platform.client(admin_token) as c:
            assert c.post(UNITS, json={"code": code, "name": "后单位"}).status_code == 201
        first_seen = time.monotonic()
        assert made.poll_once() == 0
        slow.rollback()
    finally:
        slow.close()
    assert made.poll_once() == 0  # the consumer cannot tell a rollback from a slow commit: it still waits
    with capture_logs() as logs:
        wait_until(made.poll_once, GAP_GRACE + 5, 0.2, "the consumer to skip the rolled-back id")
    assert time.monotonic() - first_seen >= GAP_GRACE
    assert [s.action for s in consumers.seen(code)] == ["created"]
    assert "lost" not in [s.action for s in consumers.seen()]
    skipped = [line for line in logs if line["event"] == "event_gap_skipped"]
    assert len(skipped) == 1 and skipped[0]["ids"] == [lost_id] and skipped[0]["source"] == "dbs", logs
    with db.read() as session:
        assert made.cursor(session) > lost_id


def test_service_client_round_robin_retry_and_breaker(platform: Platform, admin_token: str) -> None:
    # A long check interval for the second instance: after it is killed, the registry keeps listing it as
    # passing for several seconds (it has just passed a check), so what keeps calls away from it is the
    # client's breaker, not the registry. (Its first check may fail while it syncs revocations: it must not
    # be deregistered for that before the second.)
    second = platform.start_service("dbs", extra_env={"HAP_CHECK_INTERVAL": "8s",
                                                      "HAP_DEREGISTER_CRITICAL_AFTER": "60s"})
    wait_until(lambda: len(platform.passing_instances("dbs")) == 2, 20, 0.1, "two passing DBS instances")
    settings = Settings(registry_url=platform.registry.url)
    client = ServiceClient(settings, "dbs")
    try:
        assert client.request("GET", UNITS, token=admin_token).status_code == 200
        wait_until(lambda: len(client.balancer.instances) == 2, 10, 0.1, "the client to see both instances")
        served_before = {p.instance_id: _requests(p) for p in (platform.services[0], second)}
        for _ in range(20):
            assert client.request("GET", UNITS, token=admin_token).status_code == 200
        for proc in (platform.services[0], second):
            assert _requests(proc) > served_before[proc.instance_id], f"{proc.instance_id} got no calls"
        breaker = client.balancer.breakers[second.instance_id]
        assert breaker.state == "closed" and breaker.failures == 0
        second.popen.send_signal(signal.SIGKILL)
        second.popen.wait(10)
        with capture_logs() as logs:
            for _ in range(20):  # every call still succeeds: a refused connection is retried on the other one
                assert client.request("GET", UNITS, token=admin_token).status_code == 200
        refused = [line for line in logs if line["event"] == "call_connect_failed"]
        assert {line["target"] for line in refused} == {second.instance_id}
        # The dead instance was tried until its breaker opened, then no more (the reset is 10 s away).
        assert len(refused) == settings.breaker_failures, refused
        assert breaker.state == "open"
        assert [line["event"] for line in logs].count("breaker_opened") == 1
        # ... while the registry still lists it: it was the breaker that kept the calls away.
        assert second.instance_id in [i.id for i in client.balancer.instances]
        assert second.instance_id in platform.passing_instances("dbs")
    finally:
        client.close()
        platform.services.remove(second)
        if second.alive():
            platform.stop(second)
        # Do not leave a dead instance listed for the tests that follow.
        httpx.put(f"{platform.registry.url}/v1/agent/service/deregister/{second.instance_id}")


def _requests(proc) -> int:
    return sum(1 for line in proc.log_lines() if line.get("event") == "request")


def test_logs_are_json_with_the_agreed_fields_and_no_secrets(platform: Platform, admin_token: str) -> None:
    forged = uuid.uuid4().hex
    with platform.client(admin_token) as c:
        response = c.get(UNITS, headers={"X-Request-ID": forged})
        assert response.status_code == 200
        # The gateway makes every request's id itself (a client cannot choose what the audit and logs say)
        # and passes it to the service.
        request_id = response.headers["x-request-id"]
        assert request_id != forged
        c.post("/api/auth/password", json={"old_password": "Not-the#one1", "new_password": "Whatever#123"})

    def lines_with_id(proc) -> list[dict]:
        return [line for line in proc.log_lines() if line.get("request_id") == request_id]

    gateway_lines = wait_until(lambda: lines_with_id(platform.gateway), 5, 0.1, "the gateway's request line")
    service_lines = wait_until(lambda: lines_with_id(platform.services[0]), 5, 0.1, "the service's request line")
    for line in gateway_lines + service_lines:
        assert {"ts", "level", "event", "service", "instance", "request_id", "user"} <= set(line), line
    assert service_lines[0]["user"] == "admin" and service_lines[0]["event"] == "request"
    for proc in (platform.gateway, platform.services[0]):
        text = proc.log.read_text(encoding="utf-8")
        assert admin_token not in text
        assert "Not-the#one1" not in text and "Whatever#123" not in text
