"""common/'s plumbing as pure logic, without servers: SQLite transactions and savepoints, idempotency keys on
SQLite, the event consumer's gap rule, the cache's `exists` and delayed deletes, and the circuit breaker and
round-robin balancer."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import String, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from structlog.testing import capture_logs

from common.cache import CachedReads, MemoryCache, RedisCache
from common.db import Database, after_commit, after_rollback
from common.discovery import IDEMPOTENT, MAX_ATTEMPTS, RETRY_STATUSES, Balancer, Breaker, Instance
from common.errors import AppError
from common.events import ConsumedEventMixin, EventConsumer, EventCursorMixin
from common.idempotency import Idempotency, IdempotencyKeyMixin
from common.settings import Settings

# ---------------------------------------------------------------------------------------------------------------
# A throw-away SQLite database in the embedded mode's setup


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "row"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class _Key(IdempotencyKeyMixin, _Base):
    __tablename__ = "idempotency_key"


class _Cursor(EventCursorMixin, _Base):
    __tablename__ = "event_cursor"


class _Consumed(ConsumedEventMixin, _Base):
    __tablename__ = "consumed_event"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database("unit", Settings(data_dir=tmp_path, db_primary_url="", db_replica_url=""))
    _Base.metadata.create_all(database.primary)
    try:
        yield database
    finally:
        database.dispose()


def _names(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(_Row.name).order_by(_Row.name)))


# ---------------------------------------------------------------------------------------------------------------
# The unit of work's hooks: after_commit on success, after_rollback (compensations) on failure


def test_unit_of_work_runs_compensations_only_when_it_rolls_back(db: Database) -> None:
    calls: list[str] = []
    with db.write() as session:
        session.add(_Row(name="kept"))
        after_commit(session, lambda: calls.append("committed"))
        after_rollback(session, lambda: calls.append("compensated"))
    assert calls == ["committed"]

    calls.clear()

    def fail_compensation() -> None:
        raise RuntimeError("the peer is down too")

    with pytest.raises(ValueError, match="saving failed"), db.write() as session:
        session.add(_Row(name="lost"))
        after_commit(session, lambda: calls.append("committed"))
        after_rollback(session, fail_compensation)  # logged; neither hides the error nor stops the next one
        after_rollback(session, lambda: calls.append("compensated"))
        raise ValueError("saving failed")
    assert calls == ["compensated"]
    assert _names(db) == ["kept"]


# ---------------------------------------------------------------------------------------------------------------
# SQLite: real transactions around savepoints


def test_sqlite_rolled_back_transaction_discards_a_released_savepoint(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        session.add(_Row(name="outer"))
        with session.begin_nested():
            session.add(_Row(name="inner"))
        # The savepoint is released here; without a BEGIN around it pysqlite would already have committed.
        raise RuntimeError("the unit of work fails after the savepoint")
    assert _names(db) == []


def test_sqlite_savepoint_alone_is_rolled_back_too(db: Database) -> None:
    """The savepoint is the first statement of the transaction (as in idempotency keys)."""
    with pytest.raises(RuntimeError), db.write() as session:
        with session.begin_nested():
            session.add(_Row(name="only"))
        raise RuntimeError("fail")
    assert _names(db) == []
    with db.primary.connect() as conn:  # the same at the Core level
        outer = conn.begin()
        conn.execute(_Row.__table__.insert().values(name="a"))
        nested = conn.begin_nested()
        conn.execute(_Row.__table__.insert().values(name="b"))
        nested.commit()
        outer.rollback()
    assert _names(db) == []


def test_sqlite_savepoint_rollback_keeps_the_outer_work(db: Database) -> None:
    with db.write() as session:
        session.add(_Row(name="kept"))
        session.flush()
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(_Row(name="undone"))
            session.flush()
            raise RuntimeError("only the savepoint fails")
    assert _names(db) == ["kept"]


def test_sqlite_reads_do_not_take_the_write_lock(db: Database) -> None:
    """BEGIN is deferred: an open read transaction does not stop a writer on another connection."""
    with db.read() as reader:
        assert reader.scalar(select(func.count()).select_from(_Row)) == 0
        assert reader.in_transaction()
        started = time.monotonic()
        with db.write() as writer:
            writer.add(_Row(name="written"))
        assert time.monotonic() - started < 2.0
    assert _names(db) == ["written"]
    with db.primary.connect() as conn:  # the pragmas are still in force
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_sqlite_immediate_begin_waits_for_the_write_lock(db: Database) -> None:
    """The `sqlite_begin` execution option: a writer that reads first can still wait for another writer."""
    immediate = db.primary.execution_options(sqlite_begin="IMMEDIATE")
    holder_has_lock, release = threading.Event(), threading.Event()

    def hold() -> None:
        with immediate.begin() as conn:
            conn.execute(_Row.__table__.insert().values(name="first"))
            holder_has_lock.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holder_has_lock.wait(5)
    threading.Timer(0.3, release.set).start()
    with immediate.begin() as conn:  # waits (busy_timeout) instead of failing with "database is locked"
        conn.execute(select(func.count()).select_from(_Row))
        conn.execute(_Row.__table__.insert().values(name="second"))
    thread.join()
    assert _names(db) == ["first", "second"]
    with pytest.raises(ValueError), db.primary.execution_options(sqlite_begin="NOW").begin() as conn:
        conn.execute(text("SELECT 1"))


# ---------------------------------------------------------------------------------------------------------------
# Idempotency keys on SQLite


class _Taken(AppError):
    status_code = 409
    code = "row.taken"


def _create(db: Database, key: str | None, name: str, owner: str = "u1") -> Any:
    def work() -> dict[str, Any]:
        with session.begin_nested():  # like a service's own flush-and-check
            if session.scalar(select(_Row.id).where(_Row.name == name)) is not None:
                raise _Taken()
            row = _Row(name=name)
            session.add(row)
        return {"id": row.id, "name": name}

    with db.write() as session:
        return Idempotency(key, owner, "POST", "/rows").run(session, _Key, {"name": name}, work, status_code=201)


def test_idempotency_replays_the_stored_response(db: Database) -> None:
    key = uuid.uuid4().hex
    first = _create(db, key, "a")
    again = _create(db, key, "a")
    assert first.status_code == again.status_code == 201
    assert again.body == first.body and b'"id"' in again.body
    assert again.headers["idempotent-replayed"] == "true"
    with pytest.raises(AppError) as reused:
        _create(db, key, "b")
    assert reused.value.code == "idempotency.key_reused"
    other_owner = _create(db, key, "c", owner="u2")  # keys are per caller
    assert other_owner.status_code == 201 and "idempotent-replayed" not in other_owner.headers
    assert _names(db) == ["a", "c"]


def test_idempotency_key_of_failed_work_is_not_kept(db: Database) -> None:
    _create(db, None, "taken")
    key = uuid.uuid4().hex
    for _ in range(2):  # the second try does the work again (and fails again), it is not a replayed success
        with pytest.raises(_Taken):
            _create(db, key, "taken")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(_Key)) == 0


def test_idempotency_key_without_a_response_is_in_progress(db: Database) -> None:
    key = uuid.uuid4().hex
    with db.write() as session:  # what a request still running, or one that crashed, would leave
        session.add(_Key(owner="u1", key=key, fingerprint=_fingerprint_of(db, key, "x")))
    with pytest.raises(AppError) as busy:
        _create(db, key, "x")
    assert busy.value.status_code == 409 and busy.value.code == "idempotency.in_progress"
    assert _names(db) == []


def _fingerprint_of(db: Database, key: str, name: str) -> str:
    """The fingerprint `run` computes, taken from a real run on a scratch owner."""
    _create(db, key, name, owner="scratch")
    with db.write() as session:
        row = session.get(_Key, ("scratch", key))
        fingerprint = row.fingerprint
        session.delete(row)
        session.execute(_Row.__table__.delete().where(_Row.name == name))
    return fingerprint


def test_idempotency_parallel_retries_do_the_work_once(db: Database) -> None:
    key = uuid.uuid4().hex
    results: list[Any] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        barrier.wait()
        results.append(_create(db, key, "once"))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.body for r in results}) == 1
    assert sum(1 for r in results if "idempotent-replayed" in r.headers) == 5
    assert _names(db) == ["once"]


# ---------------------------------------------------------------------------------------------------------------
# The event consumer's gap rule, against a scripted feed


class _Feed:
    """A feed whose visible events the test controls."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, event_id: int, created_at: datetime | None = None) -> None:
        self.events.append({"id": event_id, "type": "t", "payload": {},
                            "created_at": (created_at or datetime.now(UTC)).isoformat()})
        self.events.sort(key=lambda e: e["id"])

    def handle(self, request: httpx.Request) -> httpx.Response:
        after, limit = int(request.url.params["after"]), int(request.url.params["limit"])
        return httpx.Response(200, json={"items": [e for e in self.events if e["id"] > after][:limit]})


def _scripted_consumer(db: Database, feed: _Feed, applied: list[int], grace: float) -> EventConsumer:
    consumer = EventConsumer(source="src", base_url=lambda: "http://feed", token=lambda: "t", db=db,
                             cursor_model=_Cursor, consumed_model=_Consumed,
                             handlers={"t": lambda _session, event: applied.append(event["id"])},
                             gap_grace_seconds=grace)
    consumer._client = httpx.Client(transport=httpx.MockTransport(feed.handle))
    return consumer


def test_consumer_counts_a_gap_from_when_it_first_saw_it(db: Database) -> None:
    feed, applied = _Feed(), []
    consumer = _scripted_consumer(db, feed, applied, grace=0.5)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    feed.add(1, long_ago)
    feed.add(3, long_ago)  # 2 is missing; the producer's timestamps say "old", which proves nothing
    assert consumer.poll_once() == 1 and applied == [1]
    assert consumer.poll_once() == 0  # 2 was first seen missing just now
    time.sleep(0.2)
    feed.add(2, long_ago)  # the slow transaction commits within the grace period
    assert consumer.poll_once() == 2 and applied == [1, 2, 3]
    with capture_logs() as logs:
        feed.add(5)
        feed.add(7)
        assert consumer.poll_once() == 0
        time.sleep(0.3)
        feed.add(6)  # 6 arrives; 4 is still missing and has not been missing long enough
        assert consumer.poll_once() == 0
        time.sleep(0.3)
        assert consumer.poll_once() == 3 and applied == [1, 2, 3, 5, 6, 7]
    skipped = [line for line in logs if line["event"] == "event_gap_skipped"]
    assert [line["ids"] for line in skipped] == [[4]], logs
    assert skipped[0]["source"] == "src" and skipped[0]["log_level"] == "warning"
    with db.read() as session:
        assert consumer.cursor(session) == 7


def test_consumer_applies_each_event_once_even_from_a_reset_cursor(db: Database) -> None:
    feed, applied = _Feed(), []
    for event_id in (1, 2, 3):
        feed.add(event_id)
    consumer = _scripted_consumer(db, feed, applied, grace=10)
    assert consumer.poll_once() == 3
    assert _scripted_consumer(db, feed, applied, grace=10).poll_once() == 0  # a new one starts at the cursor
    with db.write() as session:
        session.get(_Cursor, "src").last_id = 0
    assert consumer.poll_once() == 3  # walks the events again ...
    assert applied == [1, 2, 3]  # ... without applying any twice
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(_Consumed)) == 3
        assert consumer.cursor(session) == 3


# ---------------------------------------------------------------------------------------------------------------
# The cache


def test_memory_cache_exists() -> None:
    cache = MemoryCache()
    assert cache.exists("k") is False
    cache.set("k", 1, 60)
    assert cache.exists("k") is True
    cache.set("short", 1, 0.05)
    time.sleep(0.1)
    assert cache.exists("short") is False
    cache.delete("k")
    assert cache.exists("k") is False


def test_redis_cache_exists_is_none_when_it_cannot_ask() -> None:
    settings = Settings(redis_sentinels="127.0.0.1:9", redis_password="", redis_sentinel_password="")  # nobody
    cache = RedisCache(settings)
    assert cache.exists("k") is None  # the failure
    assert not cache.available()
    assert cache.exists("k") is None  # the backoff: not even asked


class _CountingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.deletes: list[tuple[str, ...]] = []

    def delete(self, *keys: str) -> None:
        self.deletes.append(keys)
        super().delete(*keys)


def test_cached_reads_repeats_deletes_from_one_thread() -> None:
    cache = _CountingCache()
    reads = CachedReads(cache, "svc", ttl=60, repeat_after=0.3)
    for _ in range(50):
        reads.invalidate("a", "b")
    schedulers = [t for t in threading.enumerate() if t.name == "cache-invalidate-svc"]
    assert len(schedulers) == 1  # one scheduler thread, not a timer per write
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert len(cache.deletes) == 50 and reads.pending() == 50
    # A reader refilled the cache from a lagging replica after the first delete: the repeat removes it.
    assert reads.get_or_load("a", "k", lambda: "stale") == "stale"
    time.sleep(0.6)
    assert reads.pending() == 0
    assert len(cache.deletes) > 50 and set(cache.deletes[-1]) == {"svc:a:ver", "svc:b:ver"}
    assert reads.get_or_load("a", "k", lambda: "fresh") == "fresh"
    reads.invalidate("a")
    before_close = len(cache.deletes)
    reads.close()
    # Shutting down does the waiting delete at once rather than leaving a stale entry until its TTL.
    assert reads.pending() == 0 and len(cache.deletes) == before_close + 1
    reads.invalidate("a")  # after close: the immediate delete still happens, nothing is scheduled
    assert reads.pending() == 0 and len(cache.deletes) == before_close + 2


def test_cached_reads_orders_deletes_by_due_time() -> None:
    cache = _CountingCache()
    reads = CachedReads(cache, "svc", ttl=60, repeat_after=0.4)
    reads.invalidate("first")
    reads._schedule(0.1, ("svc:early:ver",))
    time.sleep(0.25)
    assert ("svc:early:ver",) in cache.deletes and cache.deletes[0] == ("svc:first:ver",)
    assert cache.deletes.count(("svc:first:ver",)) == 1
    time.sleep(0.35)
    assert cache.deletes.count(("svc:first:ver",)) == 2
    reads.close()


# ---------------------------------------------------------------------------------------------------------------
# Circuit breaker and balancer


def test_retry_policy_constants() -> None:
    assert frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}) == IDEMPOTENT
    assert "POST" not in IDEMPOTENT and "PATCH" not in IDEMPOTENT
    assert frozenset({502, 503, 504}) == RETRY_STATUSES and MAX_ATTEMPTS == 3


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker = Breaker(threshold=5, reset_seconds=10)
    for _ in range(4):
        breaker.failure(100.0)
    assert breaker.state == "closed" and breaker.allows(100.0)
    breaker.success()  # a success resets the count: failures must be consecutive
    for _ in range(4):
        breaker.failure(100.0)
    assert breaker.state == "closed"
    breaker.failure(100.0)
    assert breaker.state == "open"
    assert not breaker.allows(100.0) and not breaker.allows(109.9)


def _opened(at: float = 100.0) -> Breaker:
    breaker = Breaker(threshold=5, reset_seconds=10)
    for _ in range(5):
        breaker.failure(at)
    return breaker


def test_breaker_lets_one_trial_through_after_reset_and_closes_on_success() -> None:
    breaker = _opened()
    assert breaker.allows(110.0)  # half-open: the trial
    assert breaker.state == "half_open"
    assert not breaker.allows(110.0) and not breaker.allows(115.0)  # only one at a time
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0
    assert all(breaker.allows(115.0) for _ in range(3))


def test_breaker_reopens_for_a_full_period_when_the_trial_fails() -> None:
    breaker = _opened()
    assert breaker.allows(110.0)
    breaker.failure(111.0)  # one failed trial is enough: no new count to the threshold
    assert breaker.state == "open"
    assert not breaker.allows(120.9)
    assert breaker.allows(121.0)  # the next trial, a full period after the failed one
    assert not breaker.allows(121.0)


def test_breaker_gives_up_on_a_trial_that_never_reports() -> None:
    breaker = _opened()
    assert breaker.allows(110.0)
    assert not breaker.allows(119.9)
    assert breaker.allows(120.0)  # the first trial's caller vanished: another one may go
    assert not breaker.allows(120.1)


def _instances(*names: str) -> list[Instance]:
    return [Instance(name, "127.0.0.1", 8000 + n) for n, name in enumerate(names)]


def test_balancer_round_robin() -> None:
    balancer = Balancer("svc")
    balancer.update(_instances("a", "b", "c"))
    firsts = [balancer.candidates()[0].id for _ in range(6)]
    assert firsts == ["a", "b", "c", "a", "b", "c"]
    assert [i.id for i in balancer.candidates()] == ["a", "b", "c"]  # the rest follow, for retries


def test_balancer_skips_open_breakers_and_tries_them_again_after_reset() -> None:
    clock = [1000.0]
    balancer = Balancer("svc", threshold=5, reset_seconds=10, clock=lambda: clock[0])
    a, b, c = _instances("a", "b", "c")
    balancer.update([a, b, c])
    for _ in range(5):
        balancer.failed(b)
    assert balancer.breakers["b"].state == "open"
    for _ in range(6):
        assert "b" not in [i.id for i in balancer.candidates()]
    clock[0] += 10
    with_trial = [[i.id for i in balancer.candidates()] for _ in range(3)]
    assert sum(ids.count("b") for ids in with_trial) == 1  # exactly one trial call
    balancer.failed(b)  # the trial failed: out for another full period
    clock[0] += 5
    assert all("b" not in [i.id for i in balancer.candidates()] for _ in range(3))
    clock[0] += 5
    assert sum([i.id for i in balancer.candidates()].count("b") for _ in range(3)) == 1
    balancer.succeeded(b)  # the trial succeeded: closed, back in the rotation
    assert all("b" in [i.id for i in balancer.candidates()] for _ in range(3))
    # A breaker survives an update of the list; a new instance starts closed.
    for _ in range(5):
        balancer.failed(b)
    d = Instance("d", "127.0.0.1", 9000)
    balancer.update([a, b, c, d])
    assert balancer.breakers["b"].state == "open" and balancer.breakers["d"].state == "closed"
    assert balancer.candidates() and all(i.id != "b" for i in balancer.candidates())


def test_balancer_update_and_candidates_from_many_threads() -> None:
    balancer = Balancer("svc")
    lists = [_instances("a", "b"), _instances("c", "d", "e"), _instances("f")]
    stop = threading.Event()
    errors: list[BaseException] = []

    def choose() -> None:
        try:
            while not stop.is_set():
                balancer.candidates()
        except BaseException as exc:  # a KeyError here was the bug
            errors.append(exc)

    threads = [threading.Thread(target=choose) for _ in range(4)]
    for thread in threads:
        thread.start()
    for n in range(5000):
        balancer.update(lists[n % 3])
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []


# ---------------------------------------------------------------------------------------------------------------
# Logs never carry full ID-card numbers, not even inside a traceback


def test_tracebacks_in_logs_are_redacted_too(tmp_path: Path) -> None:
    import json
    import logging

    from common.logging import configure_logging, get_logger

    configure_logging("unit", "unit-1", log_dir=tmp_path)
    try:
        try:
            raise RuntimeError("Duplicate entry '210103199209090014' for key 'uq_patient_id_card'")
        except RuntimeError:
            get_logger("unit").exception("unhandled_error", id_card="110101199001011237")
        for handler in logging.getLogger().handlers:
            handler.flush()
        line = json.loads((tmp_path / "unit.log").read_text(encoding="utf-8").splitlines()[-1])
    finally:
        logging.getLogger().handlers.clear()
    assert line["id_card"] == "110101********1237"
    assert "210103********0014" in line["exception"] and "210103199209090014" not in line["exception"]
