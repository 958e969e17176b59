"""Reads go to the replica, each user reads their own writes, and a replica that is down is never fatal."""

from __future__ import annotations

import time
import uuid

from tests import testinfra
from tests.harness import Platform, wait_until


def _department(tag: str) -> dict:
    return {"code": f"R{tag}", "name": f"复制测试科{tag}", "kind": "clinical"}


def test_writer_sees_own_write_while_replica_does_not(platform: Platform) -> None:
    tag = uuid.uuid4().hex[:6]
    writer = platform.create_admin(f"writer{tag}", {"datacenter": "write"})
    reader = platform.create_admin(f"reader{tag}", {"datacenter": "read"})
    testinfra.wait_replica_caught_up()
    testinfra.stop_replication()
    try:
        with platform.client(writer["access_token"]) as w, platform.client(reader["access_token"]) as r:
            created = w.post("/api/datacenter/departments", json=_department(tag))
            assert created.status_code == 201, created.text
            dept_id = created.json()["id"]
            # The writer reads the primary for a while after writing: the row is there.
            assert w.get(f"/api/datacenter/departments/{dept_id}").status_code == 200
            listed = w.get("/api/datacenter/departments", params={"q": f"R{tag}"}).json()
            assert listed["total"] == 1
            # Another user's read goes to the replica, which has not applied the write.
            assert r.get(f"/api/datacenter/departments/{dept_id}").status_code == 404
            assert r.get("/api/datacenter/departments", params={"q": f"R{tag}"}).json()["total"] == 0
            # Once the replica has lagged past the threshold it is bypassed: the other user sees the row too.
            wait_until(lambda: r.get(f"/api/datacenter/departments/{dept_id}").status_code == 200, 20, 0.5,
                       "the lagging replica to be bypassed")
    finally:
        testinfra.start_replication()
    testinfra.wait_replica_caught_up()


def test_reads_survive_a_killed_replica(platform: Platform) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = platform.create_admin(f"survivor{tag}", {"datacenter": "read"})
    testinfra.kill_replica()
    try:
        with platform.client(reader["access_token"]) as r:
            started = time.monotonic()
            statuses = []
            while time.monotonic() - started < 4:
                # A fresh query each time, so the answer cannot come from the cache.
                response = r.get("/api/datacenter/departments", params={"q": uuid.uuid4().hex[:8]})
                statuses.append(response.status_code)
            assert statuses and set(statuses) == {200}, statuses
    finally:
        testinfra.start_replica()
    testinfra.wait_replica_caught_up()


def test_direct_and_gateway_reads_agree(platform: Platform, admin_token: str) -> None:
    with platform.client(admin_token) as g, platform.client(admin_token, platform.services[0].url) as d:
        via_gateway = g.get("/api/datacenter/units")
        assert via_gateway.json()["total"] == d.get("/api/datacenter/units").json()["total"]
        assert via_gateway.headers.get("x-request-id")
