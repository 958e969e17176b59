"""Engines and sessions: a write session on the primary, a read session on the replica.

`WriteSession` and `ReadSession` are distinct types so a signature says which one a function needs. The request
dependency (see `common.deps`) commits the write session; domain code only adds, flushes and raises.

The replica is a performance aid, never a point of failure: a monitor thread probes it, and reads fall back to
the primary while it is down or lagging more than `replica_max_lag_seconds`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CheckConstraint, Numeric, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "ReadSession", "Session", "WriteSession", "after_commit", "after_rollback", "schema_name",
           "Money", "one_of", "not_negative"]

from common.logging import get_logger
from common.settings import Settings

log = get_logger("common.db")


class WriteSession(Session):
    """A session on the primary. Committed by the request's unit of work, never by domain code."""


# Deterministic constraint names: MariaDB needs them to drop or alter a constraint later, and SQLite's batch
# migrations need them to recreate a table.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit of work has committed (e.g. cache invalidation); skipped on rollback."""
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` if the unit of work rolls back: the compensation of a call to another service that
    already took effect (e.g. release a slot booked for a registration that was not saved)."""
    session.info.setdefault("after_rollback", []).append(callback)


# Column helpers every service's models use.
Money = Numeric(12, 2)  # ARCHITECTURE §4: Decimal, two decimals, never float


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK constraint that keeps `column` within `values` (e.g. the members of a StrEnum)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def not_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_not_negative")


class ReadSession(Session):
    """A session for reads, on the replica when it is healthy. Flushing anything is a programming error.

    The engine is chosen at the first query, not when the session is made, so a request answered from the
    cache never touches a database. If the replica's connection fails, the statement is retried once on the
    primary (a read is safe to repeat) and the replica is marked down until the monitor sees it well again.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        if self.bind is None:
            self.bind = self.info.pop("choose_bind")()
        return self.bind

    # Every query path (execute, scalar(s), get) goes through this one method.
    def _execute_internal(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._execute_internal(statement, *args, **kwargs)
        except OperationalError as exc:
            fallback = self.info.get("fallback")
            if fallback is None or self.bind is fallback.primary or not _connection_failed(exc):
                raise
            fallback.mark_down(exc)
            self.rollback()
            self.bind = fallback.primary
            return super()._execute_internal(statement, *args, **kwargs)


# MySQL client errors meaning "no connection": can't connect, server gone away, lost connection.
_CONNECTION_ERRORS = {2002, 2003, 2006, 2013}


def _connection_failed(exc: OperationalError) -> bool:
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    return exc.connection_invalidated or code in _CONNECTION_ERRORS


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("A ReadSession must not write; use a WriteSession")


def schema_name(service: str, settings: Settings) -> str:
    return f"{settings.db_schema_prefix}{service}"


def database_url(settings: Settings, service: str, *, replica: bool = False) -> str | None:
    base = settings.db_replica_url if replica else settings.db_primary_url
    if not base:
        if replica:
            return None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(settings.data_dir / f'{service}.db').resolve()}"
    return f"{base.rstrip('/')}/{schema_name(service, settings)}?charset=utf8mb4"


def _make_engine(url: str, settings: Settings) -> Engine:
    if url.startswith("sqlite"):
        # SQLAlchemy's documented pysqlite recipe: the driver's own transaction handling is switched off
        # (`isolation_level=None`: it would emit BEGIN only before INSERT/UPDATE/DELETE, never before SAVEPOINT,
        # so a released savepoint committed on its own), and SQLAlchemy's "begin" emits the BEGIN instead.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Deferred by default: a transaction that only reads never takes the write lock. A connection with
            # the execution option `sqlite_begin="IMMEDIATE"` takes the write lock at BEGIN (waiting up to
            # busy_timeout): a deferred transaction that reads and then writes cannot wait for the lock and
            # fails at once with "database is locked" if another connection is writing or has written since.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
                raise ValueError(f"sqlite_begin must be DEFERRED, IMMEDIATE or EXCLUSIVE, not {mode!r}")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30},
    )


def ensure_schema(settings: Settings, service: str) -> None:
    """Create the service's schema on a MySQL server (the embedded SQLite file needs nothing)."""
    if not settings.db_primary_url:
        return
    engine = create_engine(settings.db_primary_url.rstrip("/") + "/?charset=utf8mb4")
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{schema_name(service, settings)}` "
                          "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()


@dataclass
class ReplicaState:
    healthy: bool = False
    lag_seconds: float | None = None
    reason: str = "not probed yet"
    checked_at: float = 0.0


class ReplicaMonitor:
    """Probes the replica in the background and says whether reads may go there.

    Lag comes from the replica's own `Seconds_Behind_Master`/`_Source`; when replication is stopped that is NULL,
    so the GTID positions are compared instead (MariaDB's or MySQL's flavour) and the lag counts from when the
    replica was first seen behind.
    """

    def __init__(self, primary: Engine, replica: Engine, max_lag: float, interval: float):
        self.primary, self.replica = primary, replica
        self.max_lag, self.interval = max_lag, interval
        self.state = ReplicaState()
        self._behind_since: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-monitor", daemon=True)
        self._thread.start()

    def usable(self) -> bool:
        state = self.state
        fresh = time.monotonic() - state.checked_at < max(3 * self.interval, 3.0)
        return fresh and state.healthy

    def stop(self) -> None:
        self._stop.set()

    def mark_down(self, exc: Exception) -> None:
        log.warning("replica_state_changed", healthy=False, reason=f"unreachable: {type(exc).__name__}")
        self.state = ReplicaState(False, None, f"unreachable: {type(exc).__name__}", time.monotonic())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.probe()
            self._stop.wait(self.interval)

    def probe(self) -> ReplicaState:
        now = time.monotonic()
        try:
            lag = self._measure_lag(now)
        except Exception as exc:  # any failure to reach or read the replica means: do not use it
            new = ReplicaState(False, None, f"unreachable: {type(exc).__name__}", now)
        else:
            healthy = lag <= self.max_lag
            new = ReplicaState(healthy, lag, "ok" if healthy else f"lagging {lag:.1f}s", now)
        if new.healthy != self.state.healthy:
            log.warning("replica_state_changed", healthy=new.healthy, reason=new.reason)
        self.state = new
        return new

    def _measure_lag(self, now: float) -> float:
        with self.replica.connect() as conn:
            # SHOW REPLICA STATUS exists on MariaDB ≥ 10.5 and MySQL ≥ 8.0.22; the column names differ.
            row = conn.exec_driver_sql("SHOW REPLICA STATUS").mappings().first()
            if row is None:  # not configured as a replica: it is whatever it is, treat as current
                return 0.0
            seconds = _first_of(row, "Seconds_Behind_Master", "Seconds_Behind_Source")
            sql_running = _first_of(row, "Slave_SQL_Running", "Replica_SQL_Running")
            mariadb = conn.dialect.is_mariadb
            replica_pos = conn.exec_driver_sql(
                "SELECT @@gtid_slave_pos" if mariadb else "SELECT @@global.gtid_executed").scalar()
        if seconds is not None and sql_running == "Yes":
            if seconds == 0:
                self._behind_since = None
            return float(seconds)
        # Replication is stopped: compare positions instead, and count the lag from when it fell behind.
        with self.primary.connect() as conn:
            if mariadb:
                primary_pos = conn.exec_driver_sql("SELECT @@gtid_binlog_pos").scalar()
                caught_up = _gtid_covers(replica_pos or "", primary_pos or "")
            else:
                caught_up = bool(conn.exec_driver_sql(
                    "SELECT GTID_SUBSET(@@global.gtid_executed, %s)", (replica_pos or "",)).scalar())
        if caught_up:
            self._behind_since = None
            return 0.0
        if self._behind_since is None:
            self._behind_since = now
        return now - self._behind_since


def _first_of(row: Any, *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


def _gtid_covers(replica_pos: str, primary_pos: str) -> bool:
    """True when the replica's MariaDB GTID position has reached the primary's in every replication domain."""

    def parse(pos: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in pos.split(","))):
            domain, _server, seq = part.split("-")
            out[domain] = max(out.get(domain, 0), int(seq))
        return out

    have = parse(replica_pos)
    return all(have.get(domain, 0) >= seq for domain, seq in parse(primary_pos).items())


class Database:
    """The engines and session factories of one service."""

    def __init__(self, service: str, settings: Settings):
        self.service = service
        self.primary = _make_engine(database_url(settings, service), settings)
        replica_url = database_url(settings, service, replica=True)
        self.replica = _make_engine(replica_url, settings) if replica_url else None
        # On SQLite a write session takes the write lock at BEGIN (see `_make_engine`); other dialects ignore this.
        self._write = sessionmaker(self.primary.execution_options(sqlite_begin="IMMEDIATE"), class_=WriteSession,
                                   expire_on_commit=False)
        self.monitor = (
            ReplicaMonitor(self.primary, self.replica, settings.replica_max_lag_seconds,
                           settings.replica_probe_seconds)
            if self.replica else None
        )

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        """A unit of work: commits when the block ends normally, rolls back when it raises."""
        session = self._write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            for callback in session.info.get("after_rollback", ()):
                try:
                    callback()
                except Exception:  # a compensation that fails must not hide the original error
                    log.exception("compensation_failed")
            raise
        finally:
            session.close()
        for callback in session.info.get("after_commit", ()):
            callback()

    def replica_usable(self) -> bool:
        return self.monitor is not None and self.monitor.usable()

    def mark_down(self, exc: Exception) -> None:
        if self.monitor is not None:
            self.monitor.mark_down(exc)

    def read_session(self, prefer_primary: Callable[[], bool] = lambda: False) -> ReadSession:
        """A read session whose engine is chosen at its first query: the primary when `prefer_primary()` says
        so (the caller has just written) or the replica is not usable, otherwise the replica."""

        def choose() -> Engine:
            if self.replica is None or not self.replica_usable() or prefer_primary():
                return self.primary
            return self.replica

        session = ReadSession(bind=None, autoflush=False)
        session.info["choose_bind"] = choose
        session.info["fallback"] = self
        return session

    @contextmanager
    def read(self, *, primary: bool = False) -> Iterator[ReadSession]:
        """A read session (see `read_session`); closing it ends the transaction but keeps loaded objects readable."""
        session = self.read_session(lambda: primary)
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        if self.monitor:
            self.monitor.stop()
        self.primary.dispose()
        if self.replica:
            self.replica.dispose()
