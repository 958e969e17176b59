#!/usr/bin/env python3
"""The real test infrastructure that `make test` runs the platform against.

    .venv/bin/python tests/testinfra.py up       # wipe the folder, start everything, wait until it all works
    .venv/bin/python tests/testinfra.py down     # stop everything by the pid files in the folder
    .venv/bin/python tests/testinfra.py status   # say what is up (exit 1 if anything is not)
    .venv/bin/python tests/testinfra.py env      # print the HAP_* export lines the app and tests use

What runs (everything bound to 127.0.0.1):

    MariaDB 10.11 primary 13306 and replica 13307 (GTID replication, replica read_only)
    Redis 7 master 16379 and replica 16380, Sentinels 26379/26380/26381 watching master `hapredis`
    nanio (S3) 19000

Everything lives in one throw-away folder, `<repo>/.testinfra/` unless `HAP_TESTINFRA_DIR` says otherwise:

    .hap-testinfra          marker: only a folder carrying it is ever wiped
    env                     the export lines, written by `up`
    pids/<daemon>.pid       one per daemon; `down` stops by these and nothing else
    logs/<daemon>.log       stdout/stderr of each daemon (appended across restarts)
    mariadb-primary/        my.cnf and data/ (likewise mariadb-replica/)
    mariadb-primary.sock    the server's socket, used by the root connections of this module
    redis-16379/            redis.conf and working dir (likewise redis-16380/, sentinel-263xx/)
    s3/                     nanio's data dir

The daemons run in their own sessions so they outlive this script (`make test` runs `up`, pytest, `down`).
The functions below (`infra_env`, `stop_replication`, `kill_redis_master`, ...) are for the platform's
tests and conftest; import them as `tests.testinfra`.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Run as a script, Python puts tests/ first on sys.path, where a test module named like a standard one
    # would shadow the standard library modules of the same name. Only sys and os (already loaded by
    # the interpreter) may be used before this line.
    _here = os.path.realpath(os.path.dirname(__file__))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _here]

# ruff: noqa: E402 - the imports below must follow the sys.path fix above
import argparse
import contextlib
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors
import redis
from minio import Minio

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

MARIADB_PRIMARY_PORT = 13306
MARIADB_REPLICA_PORT = 13307
DB_USER = "hap"
DB_PASSWORD = "hap-test-pw"
REPL_USER = "repl"
REPL_PASSWORD = "hap-test-repl-pw"
# Holds the probe rows `up` and the tests write to prove replication; the app's schemas are its own.
PROBE_SCHEMA = "hap_testinfra"

REDIS_MASTER_PORT = 16379
REDIS_REPLICA_PORT = 16380
SENTINEL_PORTS = (26379, 26380, 26381)
REDIS_MASTER_NAME = "hapredis"
SENTINEL_QUORUM = 2
# 1500, not 1000, on purpose. Right after a switch every Sentinel drops its link to the new master and,
# reconnects being rate-limited to its 1 s ping period, may reconnect only ~1 s later. With 1000 ms the
# new master then often looks down on arrival (measured on Redis 7.0: a spurious sdown after most
# switches, giving either a second failover or an aborted one that holds off the next real failover for
# 2 x failover-timeout, i.e. 8-9 s failovers in 4 of 12 rounds). With 1500: 12 of 12 clean, the new
# master named in ~2.9 s and settled (`wait_sentinel_failover`) in ~3.3 s, about what 1000 gives when clean.
SENTINEL_DOWN_AFTER_MS = 1500
SENTINEL_FAILOVER_TIMEOUT_MS = 5000

S3_PORT = 19000
S3_ACCESS_KEY = "hap-test-access"
S3_SECRET_KEY = "hap-test-secret-key"

APT_PACKAGES = ("mariadb-server", "redis-server", "redis-sentinel", "chromium", "fonts-wqy-microhei")
# Chinese glyphs for the browser tests' screenshots (Debian's chromium brings no CJK font).
REQUIRED_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
REQUIRED_BINARIES = ("mariadbd", "mariadb-install-db", "redis-server", "redis-sentinel", "chromium")
# mariadbd lives in /usr/sbin, which a non-login PATH may lack.
BINARY_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])

MARKER = ".hap-testinfra"
LOG_TAIL_LINES = 30


class InfraError(RuntimeError):
    """Something could not be started or did not come up; the message says what, with the log's tail."""


@dataclass(frozen=True)
class Daemon:
    """One long-running server process that `up` starts and `down` stops."""

    name: str  # stem of its pid file, its log file and its working folder
    port: int
    # Must appear in /proc/<pid>/cmdline before we signal a pid, so a recycled pid is never hit.
    program: str


MARIADB_PRIMARY = Daemon("mariadb-primary", MARIADB_PRIMARY_PORT, "mariadbd")
MARIADB_REPLICA = Daemon("mariadb-replica", MARIADB_REPLICA_PORT, "mariadbd")
NANIO = Daemon("nanio", S3_PORT, "nanio")


def redis_daemon(port: int) -> Daemon:
    return Daemon(f"redis-{port}", port, "redis")


def sentinel_daemon(port: int) -> Daemon:
    return Daemon(f"sentinel-{port}", port, "redis")


REDIS_DAEMONS = tuple(redis_daemon(p) for p in (REDIS_MASTER_PORT, REDIS_REPLICA_PORT))
SENTINEL_DAEMONS = tuple(sentinel_daemon(p) for p in SENTINEL_PORTS)
ALL_DAEMONS: tuple[Daemon, ...] = (MARIADB_PRIMARY, MARIADB_REPLICA, *REDIS_DAEMONS, *SENTINEL_DAEMONS, NANIO)


# --------------------------------------------------------------------------------------------------
# Folder, environment and progress output


def infra_dir() -> Path:
    """The throw-away folder: `HAP_TESTINFRA_DIR`, else `<repo>/.testinfra`."""
    return Path(os.environ.get("HAP_TESTINFRA_DIR") or REPO / ".testinfra").resolve()


def _folder(folder: Path | str | None) -> Path:
    return Path(folder).resolve() if folder is not None else infra_dir()


def infra_env(folder: Path | str | None = None) -> dict[str, str]:
    """The `HAP_*` settings that point the app and the tests at this infrastructure."""
    return {
        "HAP_DB_PRIMARY_URL": f"mysql+pymysql://{DB_USER}:{DB_PASSWORD}@{HOST}:{MARIADB_PRIMARY_PORT}",
        "HAP_DB_REPLICA_URL": f"mysql+pymysql://{DB_USER}:{DB_PASSWORD}@{HOST}:{MARIADB_REPLICA_PORT}",
        "HAP_REDIS_SENTINELS": ",".join(f"{HOST}:{port}" for port in SENTINEL_PORTS),
        "HAP_REDIS_MASTER_NAME": REDIS_MASTER_NAME,
        "HAP_S3_ENDPOINT": f"{HOST}:{S3_PORT}",
        "HAP_S3_ACCESS_KEY": S3_ACCESS_KEY,
        "HAP_S3_SECRET_KEY": S3_SECRET_KEY,
        "HAP_TESTINFRA_DIR": str(_folder(folder)),
    }


def env_lines(folder: Path | str | None = None) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in infra_env(folder).items())


_T0 = time.monotonic()
_print_lock = threading.Lock()


def _say(message: str) -> None:
    # The three start-up threads report concurrently; the lock keeps their lines whole.
    with _print_lock:
        print(f"[{time.monotonic() - _T0:6.2f}s] {message}", flush=True)


# --------------------------------------------------------------------------------------------------
# Processes: spawn, track by pid file, stop


# Popen objects of the daemons this process started, so a dead child is reaped (not left as a zombie,
# which /proc would still list) when the tests kill and restart servers from inside pytest.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _pid_file(folder: Path, daemon: Daemon) -> Path:
    return folder / "pids" / f"{daemon.name}.pid"


def _log_file(folder: Path, daemon: Daemon) -> Path:
    return folder / "logs" / f"{daemon.name}.log"


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return f"\n--- {path}: no such file"
    return f"\n--- last {len(text)} lines of {path}:\n" + "\n".join(text)


def _logs_tail(folder: Path, daemons: Iterable[Daemon]) -> str:
    return "".join(_log_tail(_log_file(folder, d)) for d in daemons)


def _binary(name: str) -> str:
    found = shutil.which(name, path=BINARY_PATH)
    if found is None:
        raise InfraError(f"{name} is not installed (run `up`, which installs {' '.join(APT_PACKAGES)})")
    return found


def _spawn(folder: Path, daemon: Daemon, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Start a daemon detached from us (own session, output to its log) and record its pid."""
    workdir = folder / daemon.name
    workdir.mkdir(parents=True, exist_ok=True)
    with _log_file(folder, daemon).open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl-C in the terminal or pytest's exit must not take the daemon along.
            start_new_session=True,
        )
    _children[proc.pid] = proc
    _pid_file(folder, daemon).write_text(f"{proc.pid}\n")
    return proc.pid


def _pid_alive(pid: int, program: str) -> bool:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    # A zombie (a child of some other process that has not reaped it yet) is dead for our purposes.
    return state not in ("Z", "X") and program.encode() in cmdline


def daemon_pid(daemon: Daemon, folder: Path | str | None = None) -> int | None:
    """The pid of a running daemon per its pid file, or None when it is not running."""
    try:
        pid = int(_pid_file(_folder(folder), daemon).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _pid_alive(pid, daemon.program) else None


def _signal_and_wait(folder: Path, daemons: Iterable[Daemon], sig: signal.Signals, timeout: float) -> list[Daemon]:
    """Send `sig` to every running daemon given; return those still running after `timeout`."""
    running = {d: pid for d in daemons if (pid := daemon_pid(d, folder)) is not None}
    for pid in running.values():
        with contextlib.suppress(ProcessLookupError):  # exited in the meantime
            os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while running and time.monotonic() < deadline:
        running = {d: pid for d, pid in running.items() if _pid_alive(pid, d.program)}
        if running:
            time.sleep(0.05)
    return list(running)


def _stop(folder: Path, daemons: Sequence[Daemon], timeout: float = 20.0, wait_reaped: bool = False) -> None:
    """SIGTERM (clean shutdown), then SIGKILL whatever is still there; remove the pid files."""
    pids = [pid for d in daemons if (pid := daemon_pid(d, folder)) is not None]
    left = _signal_and_wait(folder, daemons, signal.SIGTERM, timeout)
    if left:
        _say(f"still running after SIGTERM, killing: {', '.join(d.name for d in left)}")
        left = _signal_and_wait(folder, left, signal.SIGKILL, 5.0)
    if left:
        raise InfraError(f"could not stop {', '.join(d.name for d in left)}")
    for daemon in daemons:
        _pid_file(folder, daemon).unlink(missing_ok=True)
    if wait_reaped:
        # The daemons outlived the `up` that started them, so init is their parent and reaps them; on
        # these machines it does so in batches about 1.5 s apart. Until then they show in `pgrep` as
        # <defunct>. They hold no ports or files, so this wait is only for a tidy process list.
        deadline = time.monotonic() + 5.0
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)


def _kill(folder: Path, daemon: Daemon) -> None:
    """SIGKILL one daemon (a crash, for failover tests) and wait until it is gone."""
    if daemon_pid(daemon, folder) is None:
        raise InfraError(f"{daemon.name} is not running")
    if _signal_and_wait(folder, [daemon], signal.SIGKILL, 10.0):
        raise InfraError(f"{daemon.name} survived SIGKILL")


def _wait_for(
    what: str,
    check: Callable[[], bool],
    *,
    folder: Path,
    daemons: Sequence[Daemon] = (),
    timeout: float,
    interval: float = 0.05,
) -> None:
    """Poll `check` until it returns True; fail with the daemons' log tails on timeout or death."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            if check():
                return
            last_error = ""
        except InfraError:
            raise  # the check saw a failure that waiting will not cure
        except Exception as exc:  # noqa: BLE001 - servers refuse, reset or half-answer while starting
            last_error = f"{type(exc).__name__}: {exc}"
        dead = [d.name for d in daemons if daemon_pid(d, folder) is None]
        if dead:
            raise InfraError(f"{', '.join(dead)} exited while waiting for {what}" + _logs_tail(folder, daemons))
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}{detail}" + _logs_tail(folder, daemons))
        time.sleep(interval)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as the servers use it: a TIME_WAIT left by the previous run is not "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def _port_owner(port: int) -> str:
    try:
        out = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return out or "(ss could not tell which process)"


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------
# Packages


def ensure_packages() -> None:
    """Install the Debian packages when a binary is missing (a fresh CI machine has none of them)."""
    missing = [name for name in REQUIRED_BINARIES if shutil.which(name, path=BINARY_PATH) is None]
    missing += [path for path in REQUIRED_FILES if not os.path.exists(path)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise InfraError(f"missing {', '.join(missing)}: run `sudo apt-get install {' '.join(APT_PACKAGES)}`")
    _say(f"missing {', '.join(missing)}: installing {' '.join(APT_PACKAGES)} with apt-get (minutes on a fresh machine)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", *APT_PACKAGES]):
        result = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-LOG_TAIL_LINES:])
            raise InfraError(f"`{' '.join(argv)}` failed with exit code {result.returncode}:\n{tail}")
    still = [name for name in REQUIRED_BINARIES if shutil.which(name, path=BINARY_PATH) is None]
    still += [path for path in REQUIRED_FILES if not os.path.exists(path)]
    if still:
        raise InfraError(f"still missing after apt-get install: {', '.join(still)}")


# --------------------------------------------------------------------------------------------------
# MariaDB


def _os_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _mariadb_socket(folder: Path, daemon: Daemon) -> Path:
    return folder / f"{daemon.name}.sock"


def _mariadb_cnf_path(folder: Path, daemon: Daemon) -> Path:
    return folder / daemon.name / "my.cnf"


def _write_mariadb_cnf(folder: Path, daemon: Daemon, server_id: int, *, replica: bool) -> Path:
    workdir = folder / daemon.name
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by tests/testinfra.py for a throw-away test server.",
        "[mysqld]",
        f"port = {daemon.port}",
        f"bind-address = {HOST}",
        f"socket = {_mariadb_socket(folder, daemon)}",
        f"datadir = {workdir / 'data'}",
        f"pid-file = {workdir / 'mariadbd.pid'}",
        # Own tmpdir: two bootstraps sharing /tmp collide on their temporary-table files
        # ("Error on delete of '/tmp/#sql-temptable-...'", about 1 run in 10 here).
        f"tmpdir = {workdir / 'tmp'}",
        f"server-id = {server_id}",
        "log-bin = binlog",
        "relay-log = relay-bin",
        "binlog_format = ROW",
        "gtid_strict_mode = ON",
        "log_slave_updates = ON",
        "skip-name-resolve",
        "character-set-server = utf8mb4",
        "collation-server = utf8mb4_unicode_ci",
        # Small and unsafe on power loss, which is what a throw-away test server wants: fast to start and commit.
        "innodb_buffer_pool_size = 64M",
        "innodb_log_file_size = 32M",
        "innodb_flush_log_at_trx_commit = 2",
        "sync_binlog = 0",
        # Seven services with connection pools plus the tests themselves.
        "max_connections = 500",
    ]
    if replica:
        lines += [
            # Only replication and accounts with READ_ONLY ADMIN may write; `hap` has neither SUPER nor it.
            "read_only = ON",
            # Notice a dead primary connection in seconds, not the default minute.
            "slave_net_timeout = 10",
        ]
    path = _mariadb_cnf_path(folder, daemon)
    path.write_text("\n".join(lines) + "\n")
    return path


def _mariadb_argv(folder: Path, daemon: Daemon) -> list[str]:
    # --defaults-file must come first; --user=root is required for mariadbd to agree to run as root.
    return [_binary("mariadbd"), f"--defaults-file={_mariadb_cnf_path(folder, daemon)}", f"--user={_os_user()}"]


def _root_connect(folder: Path, daemon: Daemon) -> pymysql.connections.Connection[Any]:
    """An administrative connection over the server's socket (unix_socket auth as the OS user)."""
    return pymysql.connect(
        unix_socket=str(_mariadb_socket(folder, daemon)),
        user=_os_user(),
        autocommit=True,
        connect_timeout=2,
        read_timeout=300,  # MASTER_GTID_WAIT blocks for as long as its caller's timeout
        cursorclass=pymysql.cursors.DictCursor,
    )


def db_connect(port: int = MARIADB_PRIMARY_PORT, **kwargs: Any) -> pymysql.connections.Connection[Any]:
    """A connection as the application user `hap` over TCP (13306 primary, 13307 replica)."""
    options: dict[str, Any] = {"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30, "autocommit": True}
    options.update(kwargs)
    return pymysql.connect(host=HOST, port=port, user=DB_USER, password=DB_PASSWORD, **options)


def _query(conn: pymysql.connections.Connection[Any], sql: str, args: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _mariadb_ready(folder: Path, daemon: Daemon) -> bool:
    with _root_connect(folder, daemon) as conn:
        _query(conn, "SELECT 1")
    return True


def replica_status(folder: Path | str | None = None) -> dict[str, Any]:
    """`SHOW SLAVE STATUS` of the replica ({} when replication is not configured)."""
    with _root_connect(_folder(folder), MARIADB_REPLICA) as conn:
        rows = _query(conn, "SHOW SLAVE STATUS")
    return rows[0] if rows else {}


def _replication_running(folder: Path) -> bool:
    status = replica_status(folder)
    if status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes":
        return True
    # A thread that stopped on an error (bad credentials, a conflicting row) stays stopped: say so at once
    # instead of waiting out the timeout. A connecting IO thread shows "Connecting", not "No".
    for thread in ("IO", "SQL"):
        error = status.get(f"Last_{thread}_Error")
        if status.get(f"Slave_{thread}_Running") == "No" and error:
            raise InfraError(f"replication {thread} thread stopped: {error}")
    return False


def _init_mariadb_datadirs(folder: Path) -> None:
    """`mariadb-install-db` for both servers at once (about half a second each)."""
    procs: list[tuple[Daemon, subprocess.Popen[bytes], Path]] = []
    for daemon, server_id, replica in ((MARIADB_PRIMARY, 1, False), (MARIADB_REPLICA, 2, True)):
        cnf = _write_mariadb_cnf(folder, daemon, server_id, replica=replica)
        log_path = folder / "logs" / f"{daemon.name}-install.log"
        with log_path.open("wb") as log:
            argv = [
                _binary("mariadb-install-db"),
                f"--defaults-file={cnf}",
                f"--user={_os_user()}",
                "--skip-test-db",
            ]
            procs.append((daemon, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), log_path))
    failures = []
    for daemon, proc, log_path in procs:
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            failures.append(f"mariadb-install-db for {daemon.name} hung" + _log_tail(log_path))
            continue
        if rc != 0:
            failures.append(f"mariadb-install-db for {daemon.name} failed (exit {rc})" + _log_tail(log_path))
    if failures:
        raise InfraError("\n".join(failures))


def _setup_primary(folder: Path) -> None:
    with _root_connect(folder, MARIADB_PRIMARY) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{REPL_USER}'@'{HOST}' IDENTIFIED BY %s", (REPL_PASSWORD,))
        cur.execute(f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'{HOST}'")
        cur.execute(f"CREATE USER '{DB_USER}'@'{HOST}' IDENTIFIED BY %s", (DB_PASSWORD,))
        # The app creates its own schemas (hap_auth, hap_oms, ...), hence *.* and GRANT OPTION.
        cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{DB_USER}'@'{HOST}' WITH GRANT OPTION")
        # ALL includes READ_ONLY ADMIN (split from SUPER in 10.11), which would let `hap` write to the
        # read_only replica and hide bugs that send writes there; take it and SUPER away.
        cur.execute(f"REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM '{DB_USER}'@'{HOST}'")
        cur.execute(f"CREATE DATABASE {PROBE_SCHEMA}")
        cur.execute(
            f"CREATE TABLE {PROBE_SCHEMA}.probe ("
            " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
            " token VARCHAR(64) NOT NULL UNIQUE,"
            " created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
        )


def _start_replication_from_scratch(folder: Path) -> None:
    with _root_connect(folder, MARIADB_REPLICA) as conn, conn.cursor() as cur:
        cur.execute(
            "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s,"
            " MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
            (HOST, MARIADB_PRIMARY_PORT, REPL_USER, REPL_PASSWORD),
        )
        cur.execute("START SLAVE")


def write_probe_row() -> str:
    """Insert a fresh token into the probe table on the primary (as `hap`) and return it."""
    token = uuid.uuid4().hex
    with db_connect(MARIADB_PRIMARY_PORT) as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {PROBE_SCHEMA}.probe (token) VALUES (%s)", (token,))
    return token


def probe_row_on_replica(token: str) -> bool:
    """Whether the replica (read as `hap`) has the probe row with this token."""
    with db_connect(MARIADB_REPLICA_PORT) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT 1 FROM {PROBE_SCHEMA}.probe WHERE token = %s", (token,))
        return cur.fetchone() is not None


def _up_mariadb(folder: Path) -> None:
    _init_mariadb_datadirs(folder)
    _say("mariadb: datadirs initialised")
    for daemon in (MARIADB_PRIMARY, MARIADB_REPLICA):
        _spawn(folder, daemon, _mariadb_argv(folder, daemon))
    _wait_for("the MariaDB primary to accept connections", lambda: _mariadb_ready(folder, MARIADB_PRIMARY),
              folder=folder, daemons=[MARIADB_PRIMARY], timeout=60)
    _setup_primary(folder)
    _wait_for("the MariaDB replica to accept connections", lambda: _mariadb_ready(folder, MARIADB_REPLICA),
              folder=folder, daemons=[MARIADB_REPLICA], timeout=60)
    _start_replication_from_scratch(folder)
    _wait_for("Slave_IO_Running=Yes and Slave_SQL_Running=Yes", lambda: _replication_running(folder),
              folder=folder, daemons=[MARIADB_PRIMARY, MARIADB_REPLICA], timeout=30)
    token = write_probe_row()
    _wait_for("a probe row written on the primary to appear on the replica", lambda: probe_row_on_replica(token),
              folder=folder, daemons=[MARIADB_PRIMARY, MARIADB_REPLICA], timeout=30)
    _say("mariadb: primary 13306 and replica 13307 up, replication running")


# --------------------------------------------------------------------------------------------------
# Redis and Sentinel


def _redis_client(port: int) -> redis.Redis:
    return redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=1, decode_responses=True)


def _write_redis_conf(folder: Path, port: int, master_port: int | None) -> list[str]:
    daemon = redis_daemon(port)
    workdir = folder / daemon.name
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by tests/testinfra.py for a throw-away test server.",
        f"port {port}",
        f"bind {HOST}",
        "protected-mode no",  # loopback only; Sentinel and the tests connect without a password
        "daemonize no",
        f"dir {workdir}",
        'logfile ""',
        'save ""',
        "appendonly no",
        # Without persistence a full sync goes over the socket; the default 5 s wait for more replicas
        # before starting it would make every link-up (and restart_redis) 5 s slower.
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
        # ...and the replica loads it straight from the socket instead of writing a dump.rdb first.
        "repl-diskless-load on-empty-db",
    ]
    if master_port is not None:
        lines.append(f"replicaof {HOST} {master_port}")
    conf = workdir / "redis.conf"
    conf.write_text("\n".join(lines) + "\n")
    return [_binary("redis-server"), str(conf)]


def _write_sentinel_conf(folder: Path, port: int, master_port: int) -> list[str]:
    # Sentinel rewrites its file as it learns (peers, replicas, failovers), so it is regenerated every
    # time; a stale one would point at the wrong master or at peers from a previous run.
    daemon = sentinel_daemon(port)
    workdir = folder / daemon.name
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by tests/testinfra.py; Sentinel rewrites this file at run time.",
        f"port {port}",
        f"bind {HOST}",
        "protected-mode no",
        "daemonize no",
        f"dir {workdir}",
        'logfile ""',
        "sentinel resolve-hostnames no",
        f"sentinel announce-ip {HOST}",
        f"sentinel monitor {REDIS_MASTER_NAME} {HOST} {master_port} {SENTINEL_QUORUM}",
        f"sentinel down-after-milliseconds {REDIS_MASTER_NAME} {SENTINEL_DOWN_AFTER_MS}",
        f"sentinel failover-timeout {REDIS_MASTER_NAME} {SENTINEL_FAILOVER_TIMEOUT_MS}",
        f"sentinel parallel-syncs {REDIS_MASTER_NAME} 1",
    ]
    conf = workdir / "sentinel.conf"
    conf.write_text("\n".join(lines) + "\n")
    return [_binary("redis-sentinel"), str(conf)]


def _redis_pings(port: int) -> bool:
    with _redis_client(port) as client:
        return bool(client.ping())


def _replica_linked(port: int) -> bool:
    with _redis_client(port) as client:
        info = client.info("replication")
    return info.get("role") == "slave" and info.get("master_link_status") == "up"


def _sentinel_state(port: int) -> dict[str, Any]:
    with _redis_client(port) as client:
        state = client.sentinel_master(REDIS_MASTER_NAME)
    assert isinstance(state, dict)
    return state


def _sentinels_settled() -> bool:
    for port in SENTINEL_PORTS:
        state = _sentinel_state(port)
        if not (state["is_master"] and state["num-other-sentinels"] == 2 and state["num-slaves"] == 1):
            return False
    return True


def _up_redis(folder: Path) -> None:
    _spawn(folder, REDIS_DAEMONS[0], _write_redis_conf(folder, REDIS_MASTER_PORT, None))
    # Start the replica only once the master answers: a replica that finds no master retries only
    # once a second.
    _wait_for("the Redis master to answer PING", lambda: _redis_pings(REDIS_MASTER_PORT),
              folder=folder, daemons=[REDIS_DAEMONS[0]], timeout=15)
    _spawn(folder, REDIS_DAEMONS[1], _write_redis_conf(folder, REDIS_REPLICA_PORT, REDIS_MASTER_PORT))
    _wait_for("the Redis replica's master_link_status to be up", lambda: _replica_linked(REDIS_REPLICA_PORT),
              folder=folder, daemons=REDIS_DAEMONS, timeout=15)
    _say("redis: master 16379 and replica 16380 up, linked")
    # Sentinels start after the link is up so their first INFO of the master already lists the replica
    # (later INFOs come only every 10 s).
    for port, daemon in zip(SENTINEL_PORTS, SENTINEL_DAEMONS, strict=True):
        _spawn(folder, daemon, _write_sentinel_conf(folder, port, REDIS_MASTER_PORT))
    _wait_for("every Sentinel to report num-other-sentinels=2 and num-slaves=1", _sentinels_settled,
              folder=folder, daemons=[*REDIS_DAEMONS, *SENTINEL_DAEMONS], timeout=30, interval=0.1)
    _say("redis: 3 sentinels agree on master hapredis")


def sentinel_master_ports() -> dict[int, int | None]:
    """What each Sentinel names as the master's port (None for a Sentinel that does not answer)."""
    answers: dict[int, int | None] = {}
    for port in SENTINEL_PORTS:
        try:
            with _redis_client(port) as client:
                addr = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", REDIS_MASTER_NAME)
            answers[port] = int(addr[1]) if addr else None
        except redis.RedisError:
            answers[port] = None
    return answers


def redis_master_port() -> int:
    """The Redis master's port as every answering Sentinel names it; fails if they disagree."""
    named = {port for port in sentinel_master_ports().values() if port is not None}
    if len(named) != 1:
        raise InfraError(f"Sentinels do not agree on the master of {REDIS_MASTER_NAME}: {sentinel_master_ports()}")
    return named.pop()


def redis_role(port: int) -> str:
    with _redis_client(port) as client:
        return str(client.info("replication")["role"])


def kill_redis_master(folder: Path | str | None = None) -> int:
    """SIGKILL whichever Redis is master per Sentinel; return its port (for `restart_redis`)."""
    port = redis_master_port()
    _kill(_folder(folder), redis_daemon(port))
    return port


def _stable_master() -> int | None:
    """The master's port if every Sentinel names it and is connected to it and hears from it; else None."""
    ports: set[int] = set()
    for sentinel in SENTINEL_PORTS:
        state = _sentinel_state(sentinel)
        # Flags exactly "master": not s_down/o_down, no failover in progress, and not "disconnected",
        # which every Sentinel is for up to a second after a switch (see SENTINEL_DOWN_AFTER_MS).
        if state["flags"] != "master" or state["last-ping-sent"] > 500:
            return None
        ports.add(int(state["port"]))
    return ports.pop() if len(ports) == 1 else None


def wait_sentinel_failover(old_port: int, timeout: float = 30.0) -> int:
    """Wait until Sentinel has failed over away from `old_port` and settled; return the new master's port.

    Settled means all three Sentinels name the same master, are connected to it and get answers from it,
    and it reports role master: past the second after a switch in which Sentinels reconnect (see
    SENTINEL_DOWN_AFTER_MS), so clients that ask any Sentinel now get a master that stays.

    A failover takes about 2.9 s, plus about 0.4 s to settle. If Sentinel finds no replica it trusts (the
    master was killed again before `restart_redis` returned), it aborts (`-failover-abort-no-good-slave`
    in the sentinel logs) and retries only after 2 x failover-timeout (10 s).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            port = _stable_master()
            if port is not None and port != old_port and redis_role(port) == "master":
                return port
        except redis.RedisError:
            pass  # a Sentinel or the promoted server is busy switching; ask again
        if time.monotonic() >= deadline:
            raise InfraError(
                f"no settled Sentinel failover away from {old_port} within {timeout:.0f}s: {sentinel_master_ports()}"
            )
        time.sleep(0.05)


def restart_redis(port: int, folder: Path | str | None = None, timeout: float = 30.0) -> None:
    """Start a killed Redis again, as a replica of the current master (or as master if none took over)."""
    folder = _folder(folder)
    daemon = redis_daemon(port)
    if daemon_pid(daemon, folder) is not None:
        raise InfraError(f"{daemon.name} is still running")
    master = redis_master_port()
    # If Sentinel has not failed over yet, the restarted server is still the master it knows about.
    master_port = None if master == port else master
    spawned_at = time.monotonic()
    _spawn(folder, daemon, _write_redis_conf(folder, port, master_port))
    _wait_for(f"{daemon.name} to answer PING", lambda: _redis_pings(port),
              folder=folder, daemons=[daemon], timeout=timeout)
    if master_port is not None:
        _wait_for(f"{daemon.name}'s link to master {master_port}", lambda: _replica_linked(port),
                  folder=folder, daemons=[daemon], timeout=timeout)

        def sentinels_see_it() -> bool:
            # The next failover needs a replica every Sentinel considers healthy, judged by an INFO it
            # got from the new process: right after a failover the entry for the old master is not yet
            # flagged down, so "not s_down" alone would pass before Sentinel has looked at it.
            fresh_ms = (time.monotonic() - spawned_at) * 1000
            for sentinel in SENTINEL_PORTS:
                with _redis_client(sentinel) as client:
                    replicas = client.sentinel_slaves(REDIS_MASTER_NAME)
                if not any(
                    r["port"] == port
                    and not r["is_sdown"]
                    and not r["is_disconnected"]
                    and r.get("master-link-status") == "ok"
                    and r.get("master-port") == master_port
                    and r["info-refresh"] < fresh_ms
                    for r in replicas
                ):
                    return False
            return True

        _wait_for(f"every Sentinel to see {daemon.name} as a healthy replica", sentinels_see_it,
                  folder=folder, daemons=[daemon], timeout=timeout, interval=0.1)


# --------------------------------------------------------------------------------------------------
# nanio (S3)


def minio_client() -> Minio:
    return Minio(f"{HOST}:{S3_PORT}", access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False)


def _s3_works() -> bool:
    bucket = "hap-testinfra-probe"
    client = minio_client()
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    listed = any(b.name == bucket for b in client.list_buckets())
    client.remove_bucket(bucket)  # leave the store empty for the tests
    return listed


def _up_nanio(folder: Path) -> None:
    data_dir = folder / "s3"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANIO_")}  # no stray options file
    env.update(NANIO_ACCESS_KEY=S3_ACCESS_KEY, NANIO_SECRET_KEY=S3_SECRET_KEY)
    # Its default bind is 0.0.0.0, hence --host.
    argv = [sys.executable, "-m", "nanio", "serve", "--host", HOST, "--port", str(S3_PORT), "--data-dir", str(data_dir)]
    _spawn(folder, NANIO, argv, env=env)
    # Wait for the port first: the minio client retries refused connections with back-off.
    _wait_for("nanio to listen", lambda: _accepts_tcp(S3_PORT), folder=folder, daemons=[NANIO], timeout=30)
    _wait_for("nanio to make and list a bucket", _s3_works, folder=folder, daemons=[NANIO], timeout=30, interval=0.2)
    _say("nanio: S3 on 19000 up")


def restart_object_store(folder: Path | str | None = None) -> None:
    """Stop nanio and start it again on the same data directory (objects must survive it)."""
    folder = _folder(folder)
    _stop(folder, [NANIO])
    _up_nanio(folder)


# --------------------------------------------------------------------------------------------------
# Replication helpers for the platform's tests


def stop_replication(folder: Path | str | None = None) -> None:
    """STOP SLAVE on the replica: it keeps serving reads but falls behind (for lag tests)."""
    folder = _folder(folder)
    with _root_connect(folder, MARIADB_REPLICA) as conn:
        _query(conn, "STOP SLAVE")
    status = replica_status(folder)
    if status.get("Slave_IO_Running") != "No" or status.get("Slave_SQL_Running") != "No":
        raise InfraError(
            "replication still running after STOP SLAVE: "
            f"Slave_IO_Running={status.get('Slave_IO_Running')} Slave_SQL_Running={status.get('Slave_SQL_Running')}"
        )


def wait_replica_caught_up(folder: Path | str | None = None, timeout: float = 15.0) -> None:
    """Wait until the replica has applied everything the primary has binlogged so far."""
    folder = _folder(folder)
    with _root_connect(folder, MARIADB_PRIMARY) as conn:
        position = _query(conn, "SELECT @@GLOBAL.gtid_binlog_pos AS pos")[0]["pos"]
    with _root_connect(folder, MARIADB_REPLICA) as conn:
        result = _query(conn, "SELECT MASTER_GTID_WAIT(%s, %s) AS r", (position, timeout))[0]["r"]
    if result != 0:
        raise InfraError(f"replica did not reach the primary's GTID position {position} within {timeout:.0f}s")


def start_replication(folder: Path | str | None = None, timeout: float = 15.0) -> None:
    """START SLAVE on the replica and wait until it runs and has caught up."""
    folder = _folder(folder)
    with _root_connect(folder, MARIADB_REPLICA) as conn:
        _query(conn, "START SLAVE")
    _wait_for("replication to run again", lambda: _replication_running(folder),
              folder=folder, daemons=[MARIADB_PRIMARY, MARIADB_REPLICA], timeout=timeout)
    wait_replica_caught_up(folder, timeout)


def kill_replica(folder: Path | str | None = None) -> None:
    """SIGKILL the replica's mariadbd (a crash, not a shutdown)."""
    _kill(_folder(folder), MARIADB_REPLICA)


def start_replica(folder: Path | str | None = None, timeout: float = 60.0) -> None:
    """Start the (killed or stopped) replica again; replication resumes from its GTID position."""
    folder = _folder(folder)
    if daemon_pid(MARIADB_REPLICA, folder) is not None:
        raise InfraError("the MariaDB replica is still running")
    _spawn(folder, MARIADB_REPLICA, _mariadb_argv(folder, MARIADB_REPLICA))
    _wait_for("the MariaDB replica to accept connections", lambda: _mariadb_ready(folder, MARIADB_REPLICA),
              folder=folder, daemons=[MARIADB_REPLICA], timeout=timeout)
    # The replica's connection settings survive in its datadir and the slave threads start with the server.
    _wait_for("replication to run again", lambda: _replication_running(folder),
              folder=folder, daemons=[MARIADB_PRIMARY, MARIADB_REPLICA], timeout=timeout)
    wait_replica_caught_up(folder, timeout)


# --------------------------------------------------------------------------------------------------
# up / down / status


def down(folder: Path | str | None = None, *, wait_reaped: bool = True) -> None:
    """Stop every daemon by its pid file. Leaves the folder (and its logs) for inspection."""
    folder = _folder(folder)
    running = [d for d in ALL_DAEMONS if daemon_pid(d, folder) is not None]
    _stop(folder, ALL_DAEMONS, wait_reaped=wait_reaped)
    if running:
        _say(f"stopped {', '.join(d.name for d in running)}")


def _wipe_and_create(folder: Path) -> None:
    if folder.exists():
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            # HAP_TESTINFRA_DIR might point anywhere; only ever delete a folder this script made.
            raise InfraError(f"refusing to wipe {folder}: it is not empty and has no {MARKER} marker")
        shutil.rmtree(folder)
    for sub in ("pids", "logs"):
        (folder / sub).mkdir(parents=True)
    (folder / MARKER).write_text("Made by tests/testinfra.py; `up` deletes this folder and everything in it.\n")


def _check_ports_free() -> None:
    taken = [port for port in sorted({d.port for d in ALL_DAEMONS}) if _port_in_use(port)]
    if taken:
        owners = "\n".join(f"  {port}: {_port_owner(port)}" for port in taken)
        raise InfraError(f"port(s) {', '.join(map(str, taken))} on {HOST} are taken by something else:\n{owners}")


def up(folder: Path | str | None = None) -> None:
    """Start everything from scratch and wait until it all works; stop it all again on failure."""
    folder = _folder(folder)
    started = time.monotonic()
    ensure_packages()
    if (folder / "pids").is_dir():
        down(folder, wait_reaped=False)  # whatever a previous run left behind
    _check_ports_free()
    mariadb_socket = _mariadb_socket(folder, MARIADB_PRIMARY)
    if len(str(mariadb_socket).encode()) > 100:
        raise InfraError(f"{folder} is too long a path for a unix socket ({mariadb_socket}); set HAP_TESTINFRA_DIR")
    _wipe_and_create(folder)
    _say(f"starting MariaDB, Redis and nanio in {folder}")

    # The three are independent: MariaDB's ~2 s and Sentinel's discovery overlap instead of adding up.
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            "MariaDB": pool.submit(_up_mariadb, folder),
            "Redis": pool.submit(_up_redis, folder),
            "nanio": pool.submit(_up_nanio, folder),
        }
        errors = [f"{name}: {exc}" for name, future in futures.items() if (exc := future.exception()) is not None]
    if errors:
        _say("failed; stopping what was started")
        try:
            down(folder, wait_reaped=False)
        except InfraError as exc:
            errors.append(str(exc))
        raise InfraError("\n\n".join(errors))

    (folder / "env").write_text(env_lines(folder))
    _say(f"test infrastructure up in {time.monotonic() - started:.1f}s; settings in {folder / 'env'}")


def check_up(folder: Path | str | None = None) -> list[str]:
    """Problems that keep the infrastructure from being usable; empty when everything is up."""
    folder = _folder(folder)
    if not (folder / "env").is_file():
        return [f"{folder / 'env'} does not exist: `up` has not completed for {folder}"]
    problems = []
    for daemon in ALL_DAEMONS:
        if daemon_pid(daemon, folder) is None:
            problems.append(f"{daemon.name} is not running (no live pid in {_pid_file(folder, daemon)})")
        elif not _accepts_tcp(daemon.port):
            problems.append(f"{daemon.name} does not accept connections on {HOST}:{daemon.port}")
    return problems


def _describe(folder: Path, daemon: Daemon) -> str:
    """One line of detail for `status`, asked of the server itself."""
    try:
        if daemon in (MARIADB_PRIMARY, MARIADB_REPLICA):
            with _root_connect(folder, daemon) as conn:
                row = _query(conn, "SELECT @@read_only AS ro, @@gtid_current_pos AS pos")[0]
            text = f"read_only={row['ro']} gtid={row['pos'] or '-'}"
            if daemon is MARIADB_REPLICA:
                s = replica_status(folder)
                text += (f" io={s.get('Slave_IO_Running')} sql={s.get('Slave_SQL_Running')}"
                         f" behind={s.get('Seconds_Behind_Master')}")
            return text
        if daemon in REDIS_DAEMONS:
            with _redis_client(daemon.port) as client:
                info = client.info("replication")
            if info["role"] == "master":
                return f"master, {info['connected_slaves']} replica(s)"
            return f"replica of {info['master_port']}, link {info['master_link_status']}"
        if daemon in SENTINEL_DAEMONS:
            state = _sentinel_state(daemon.port)
            return (f"master {state['ip']}:{state['port']} flags={state['flags']} "
                    f"other-sentinels={state['num-other-sentinels']} replicas={state['num-slaves']}")
        if daemon is NANIO:
            return f"{len(minio_client().list_buckets())} bucket(s)"
    except Exception as exc:  # noqa: BLE001 - status reports, it does not fail
        return f"not answering: {type(exc).__name__}: {exc}"
    return ""


def status(folder: Path | str | None = None) -> bool:
    """Print one line per daemon; True when all are up."""
    folder = _folder(folder)
    print(f"test infrastructure in {folder}")
    all_up = True
    for daemon in ALL_DAEMONS:
        pid = daemon_pid(daemon, folder)
        if pid is None:
            all_up = False
            print(f"  {daemon.name:<16} {HOST}:{daemon.port:<6} DOWN")
        else:
            print(f"  {daemon.name:<16} {HOST}:{daemon.port:<6} pid {pid:<8} {_describe(folder, daemon)}")
    return all_up


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="testinfra.py",
        description="Start/stop the real test infrastructure (MariaDB pair, Redis + Sentinels, nanio).",
    )
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    args = parser.parse_args(argv)
    folder = infra_dir()
    try:
        if args.command == "up":
            up(folder)
        elif args.command == "down":
            down(folder)
        elif args.command == "status":
            return 0 if status(folder) else 1
        else:
            print(env_lines(folder), end="")
    except InfraError as exc:
        print(f"testinfra {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
