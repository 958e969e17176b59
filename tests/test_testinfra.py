"""The real test infrastructure works as the platform's tests expect (started by `testinfra.py up`).

These tests never skip: without the infrastructure they fail and say how to start it.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
import redis
from redis.sentinel import Sentinel

from tests import testinfra


@pytest.fixture(scope="module")
def infra_folder() -> Path:
    """The running infrastructure's folder; fails (never skips) when it is not up."""
    folder = testinfra.infra_dir()
    problems = testinfra.check_up(folder)
    if problems:
        pytest.fail(
            "the test infrastructure is not up; start it with `.venv/bin/python tests/testinfra.py up` "
            "(`make test` does this):\n  " + "\n  ".join(problems),
            pytrace=False,
        )
    return folder


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_env_points_at_the_fixed_loopback_ports(infra_folder: Path) -> None:
    env = testinfra.infra_env(infra_folder)

    assert env["HAP_DB_PRIMARY_URL"] == "mysql+pymysql://hap:hap-test-pw@127.0.0.1:13306"
    assert env["HAP_DB_REPLICA_URL"] == "mysql+pymysql://hap:hap-test-pw@127.0.0.1:13307"
    assert env["HAP_REDIS_SENTINELS"] == "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381"
    assert env["HAP_REDIS_MASTER_NAME"] == "hapredis"
    assert env["HAP_S3_ENDPOINT"] == "127.0.0.1:19000"
    assert env["HAP_TESTINFRA_DIR"] == str(infra_folder)
    assert (infra_folder / "env").read_text() == testinfra.env_lines(infra_folder)


def test_check_up_reports_a_folder_without_infrastructure(tmp_path: Path) -> None:
    problems = testinfra.check_up(tmp_path)

    assert problems and "has not completed" in problems[0]


def test_write_on_primary_is_visible_on_replica(infra_folder: Path) -> None:
    token = testinfra.write_probe_row()

    assert _eventually(lambda: testinfra.probe_row_on_replica(token)), "probe row never reached the replica"


def test_replica_refuses_writes_by_the_app_user(infra_folder: Path) -> None:
    with testinfra.db_connect(testinfra.MARIADB_REPLICA_PORT) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@read_only")
        assert cur.fetchone() == (1,)
        with pytest.raises(pymysql.err.OperationalError) as refused:
            cur.execute(f"INSERT INTO {testinfra.PROBE_SCHEMA}.probe (token) VALUES (%s)", (uuid.uuid4().hex,))
        # ER_OPTION_PREVENTS_STATEMENT: "running with the --read-only option"
        assert refused.value.args[0] == 1290
        with pytest.raises(pymysql.err.OperationalError):
            cur.execute("CREATE DATABASE hap_should_not_exist")


def test_app_user_can_create_its_own_schemas_on_primary(infra_folder: Path) -> None:
    schema = f"hap_testinfra_{uuid.uuid4().hex[:8]}"
    with testinfra.db_connect(testinfra.MARIADB_PRIMARY_PORT) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {schema}")
        try:
            cur.execute(f"CREATE TABLE {schema}.t (id INT PRIMARY KEY, name VARCHAR(20))")
            cur.execute(f"INSERT INTO {schema}.t VALUES (1, %s)", ("门诊",))
            cur.execute(f"SELECT name FROM {schema}.t")
            assert cur.fetchone() == ("门诊",)
        finally:
            cur.execute(f"DROP DATABASE {schema}")


def test_stop_and_start_replication_round_trip(infra_folder: Path) -> None:
    testinfra.stop_replication(infra_folder)
    try:
        status = testinfra.replica_status(infra_folder)
        assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
        token = testinfra.write_probe_row()
        time.sleep(0.5)
        assert not testinfra.probe_row_on_replica(token), "replica applied a write while replication was stopped"
    finally:
        testinfra.start_replication(infra_folder)

    status = testinfra.replica_status(infra_folder)
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes")
    assert testinfra.probe_row_on_replica(token)


def test_replica_crash_and_restart_resumes_replication(infra_folder: Path) -> None:
    testinfra.kill_replica(infra_folder)
    try:
        assert testinfra.daemon_pid(testinfra.MARIADB_REPLICA, infra_folder) is None
        token = testinfra.write_probe_row()  # the primary keeps taking writes while the replica is down
    finally:
        testinfra.start_replica(infra_folder)

    assert testinfra.probe_row_on_replica(token)


@pytest.fixture()
def sentinel() -> Iterator[Sentinel]:
    client = Sentinel([(testinfra.HOST, port) for port in testinfra.SENTINEL_PORTS], socket_timeout=1)
    yield client
    for s in client.sentinels:
        s.close()


def test_sentinels_agree_on_a_master_with_a_replica(infra_folder: Path, sentinel: Sentinel) -> None:
    master_port = testinfra.redis_master_port()  # 16379 unless a failover test has moved it

    assert master_port in (testinfra.REDIS_MASTER_PORT, testinfra.REDIS_REPLICA_PORT)
    for port in testinfra.SENTINEL_PORTS:
        with redis.Redis(host=testinfra.HOST, port=port, socket_timeout=2) as client:
            state = client.sentinel_master(testinfra.REDIS_MASTER_NAME)
        assert isinstance(state, dict)
        assert state["is_master"] and not state["is_odown"]
        assert state["port"] == master_port
        assert state["num-other-sentinels"] == 2
        assert state["num-slaves"] >= 1
    assert sentinel.discover_master(testinfra.REDIS_MASTER_NAME) == (testinfra.HOST, master_port)


def test_redis_write_through_sentinel_reaches_replica(infra_folder: Path, sentinel: Sentinel) -> None:
    key, value = f"testinfra:{uuid.uuid4().hex}", "档案"
    master = sentinel.master_for(testinfra.REDIS_MASTER_NAME, decode_responses=True)
    replica = sentinel.slave_for(testinfra.REDIS_MASTER_NAME, decode_responses=True)
    try:
        master.set(key, value, ex=60)
        assert master.get(key) == value
        assert _eventually(lambda: replica.get(key) == value)
    finally:
        master.delete(key)
        master.close()
        replica.close()


def test_s3_bucket_round_trip(infra_folder: Path) -> None:
    client = testinfra.minio_client()
    bucket = f"hap-testinfra-{uuid.uuid4().hex[:12]}"
    body = "病历 scan".encode() * 1000
    client.make_bucket(bucket)
    try:
        client.put_object(bucket, "a/b.pdf", io.BytesIO(body), len(body), content_type="application/pdf")
        response = client.get_object(bucket, "a/b.pdf")
        try:
            assert response.read() == body
            assert response.headers["Content-Type"] == "application/pdf"
        finally:
            response.close()
            response.release_conn()
        assert [o.object_name for o in client.list_objects(bucket, recursive=True)] == ["a/b.pdf"]
    finally:
        for obj in client.list_objects(bucket, recursive=True):
            client.remove_object(bucket, obj.object_name)
        client.remove_bucket(bucket)
