"""common/'s cross-service plumbing against the real platform: idempotency keys, the outbox and its cursor
consumer, the service client, and the JSON logs."""

from __future__ import annotations

import json
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.client import ServiceClient
from common.db import Database
from common.events import ConsumedEventMixin, EventConsumer, EventCursorMixin
from common.settings import Settings
from tests.harness import SERVICE_SECRET, Platform, mariadb, wait_until

UNITS = "/api/datacenter/units"


def test_idempotency_key_replays_and_refuses_reuse(platform: Platform, admin_token: str) -> None:
    key = uuid.uuid4().hex
    body = {"code": f"U{key[:8]}", "name": f"包{key[:4]}"}
    with platform.client(admin_token) as c:
        first = c.post(UNITS, json=body, headers={"Idempotency-Key": key})
        again = c.post(UNITS, json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert again.headers.get("idempotent-replayed") == "true"
        other = c.post(UNITS, json={**body, "name": "别的"}, headers={"Idempotency-Key": key})
        assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"
        # Without a key, the same body is simply a duplicate code.
        duplicate = c.post(UNITS, json=body)
        assert duplicate.status_code == 409 and duplicate.json()["code"] == "datacenter.code_taken"


def test_idempotency_key_under_parallel_retries(platform: Platform, admin_token: str) -> None:
    key = uuid.uuid4().hex
    body = {"code": f"P{key[:8]}", "name": f"瓶{key[:4]}"}

    def post(_: int) -> httpx.Response:
        return httpx.post(platform.gateway.url + UNITS, json=body, timeout=20,
                          headers={"Idempotency-Key": key, "Authorization": f"Bearer {admin_token}"})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
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


@pytest.fixture
def consumer(platform: Platform, tmp_path: Path):
    db = Database("consumer", Settings(data_dir=tmp_path, db_primary_url="", db_replica_url=""))
    _Base.metadata.create_all(db.primary)
    token = _service_token(platform)

    def record(session, event) -> None:
        session.add(_Seen(event_id=event["id"], code=event["payload"]["code"], action=event["payload"]["action"]))

    made = EventConsumer(source="dbs", base_url=lambda: platform.services[0].url, token=lambda: token, db=db,
                         cursor_model=_Cursor, consumed_model=_Consumed, handlers={"catalogue.changed": record},
                         gap_grace_seconds=3.0)
    yield made, db
    db.dispose()


def _drain(made: EventConsumer, settle: float = 5.0) -> int:
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


def test_outbox_feed_and_cursor_consumer(platform: Platform, admin_token: str, consumer) -> None:
    made, db = consumer
    _drain(made)
    code = f"E{uuid.uuid4().hex[:8]}"
    with platform.client(admin_token) as c:
        unit = c.post(UNITS, json={"code": code, "name": "事件单位"}).json()
        c.patch(f"{UNITS}/{unit['id']}", json={"name": "事件单位二"})
        c.post(f"{UNITS}/{unit['id']}/deactivate")
    assert _drain(made) >= 3
    with db.read() as session:
        mine = session.scalars(select(_Seen).where(_Seen.code == code).order_by(_Seen.event_id)).all()
        assert [s.action for s in mine] == ["created", "updated", "deactivated"]
        cursor = made.cursor(session)
    # Nothing is applied twice: a fresh consumer on the same database starts at the stored cursor.
    assert _drain(made) == 0
    with db.read() as session:
        assert made.cursor(session) == cursor
    # The feed is for services only.
    user = httpx.get(platform.services[0].url + "/internal/events", headers={"Authorization": f"Bearer {admin_token}"})
    assert user.status_code == 403 and user.json()["code"] == "auth.service_only"


def test_consumer_waits_for_an_uncommitted_earlier_event(platform: Platform, admin_token: str, consumer) -> None:
    """Ids are taken at insert and become visible at commit: a later id may show first. The consumer must not
    move its cursor past the gap while the earlier transaction may still commit."""
    made, db = consumer
    _drain(made)
    slow = mariadb(platform.env, database="hap_dbs")
    slow.autocommit(False)
    try:
        with slow.cursor() as cur:
            cur.execute("INSERT INTO outbox_event (type, payload, created_at) VALUES "
                        "('catalogue.changed', %s, UTC_TIMESTAMP(6))",
                        (json.dumps({"entity": "units", "id": 0, "action": "slow", "code": "SLOW", "name": "慢",
                                     "active": True}),))
            slow_id = cur.lastrowid
        code = f"F{uuid.uuid4().hex[:8]}"
        with platform.client(admin_token) as c:
            assert c.post(UNITS, json={"code": code, "name": "快单位"}).status_code == 201
        assert made.poll_once() == 0  # the later event is visible, but the earlier id is not yet
        with db.read() as session:
            assert made.cursor(session) < slow_id
        slow.commit()
    finally:
        slow.close()
    assert _drain(made, settle=8.0) >= 2
    with db.read() as session:
        actions = [s.action for s in session.scalars(select(_Seen).order_by(_Seen.event_id)).all()]
        assert actions[-2:] == ["slow", "created"]


def test_service_client_round_robin_retry_and_breaker(platform: Platform, admin_token: str) -> None:
    second = platform.start_service("dbs")
    wait_until(lambda: len(platform.passing_instances("dbs")) == 2, 20, 0.1, "two passing DBS instances")
    client = ServiceClient(Settings(registry_url=platform.registry.url), "dbs")
    try:
        assert client.request("GET", UNITS, token=admin_token).status_code == 200
        wait_until(lambda: len(client.balancer.instances) == 2, 10, 0.1, "the client to see both instances")
        served_before = {p.instance_id: _requests(p) for p in (platform.services[0], second)}
        for _ in range(20):
            assert client.request("GET", UNITS, token=admin_token).status_code == 200
        for proc in (platform.services[0], second):
            assert _requests(proc) > served_before[proc.instance_id], f"{proc.instance_id} got no calls"
        second.popen.send_signal(signal.SIGKILL)
        second.popen.wait(10)
        for _ in range(20):  # the dead instance is still listed until its check fails: calls retry elsewhere
            assert client.request("GET", UNITS, token=admin_token).status_code == 200
        breaker = client.balancer.breakers.get(second.instance_id)
        assert breaker is None or breaker.opened_at is not None or breaker.failures > 0
    finally:
        client.close()
        platform.services.remove(second)


def _requests(proc) -> int:
    return sum(1 for line in proc.log_lines() if line.get("event") == "request")


def test_logs_are_json_with_the_agreed_fields_and_no_secrets(platform: Platform, admin_token: str) -> None:
    request_id = uuid.uuid4().hex
    with platform.client(admin_token) as c:
        assert c.get(UNITS, headers={"X-Request-ID": request_id}).status_code == 200
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
