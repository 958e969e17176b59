"""Running the real platform for tests: the registry, the gateway and services as processes on loopback ports.

The test infrastructure (MariaDB pair, Redis with Sentinels, nanio) is started by `tests/testinfra.py up`
before pytest runs (`make test` does it); this module only connects to it and starts our own components.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pymysql

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
ADMIN_PASSWORD = "Root#Test2026"
SERVICE_SECRET = "test-service-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@dataclass
class Proc:
    name: str
    port: int
    popen: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def instance_id(self) -> str:
        return f"{self.name}-127.0.0.1-{self.port}"

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Platform:
    env: dict[str, str]
    registry: Proc | None = None
    gateway: Proc | None = None
    services: list[Proc] = field(default_factory=list)

    # -- processes ---------------------------------------------------------------------------------------------

    def spawn(self, name: str, port: int, extra_env: dict[str, str] | None = None) -> Proc:
        ARTIFACTS.joinpath("logs").mkdir(parents=True, exist_ok=True)
        log = ARTIFACTS / "logs" / f"{name}-{port}.log"
        out = open(log, "wb")  # noqa: SIM115 - owned by the child
        popen = subprocess.Popen(
            [sys.executable, "-m", "common.cli", "serve", name, "--port", str(port)],
            cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=out, stderr=subprocess.STDOUT,
        )
        out.close()
        return Proc(name, port, popen, log)

    def start_service(self, name: str = "dbs", extra_env: dict[str, str] | None = None, wait: bool = True) -> Proc:
        proc = self.spawn(name, free_port(), extra_env)
        self.services.append(proc)
        if wait:
            self.wait_passing(proc)
        return proc

    def wait_healthy(self, proc: Proc, path: str = "/health", timeout: float = 30.0) -> None:
        def ok() -> bool:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited:\n{proc.log.read_text()[-3000:]}")
            try:
                return httpx.get(proc.url + path, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ok, timeout, 0.1, f"{proc.name} on {proc.port} to be healthy")

    def passing_instances(self, name: str) -> list[str]:
        entries = httpx.get(f"{self.registry.url}/v1/health/service/{name}", params={"passing": "1"}).json()
        return [e["Service"]["ID"] for e in entries]

    def wait_passing(self, proc: Proc, timeout: float = 30.0) -> None:
        """Until the instance is healthy, passing in the registry, and has its revocation list."""
        self.wait_healthy(proc, timeout=timeout)
        wait_until(lambda: proc.instance_id in self.passing_instances(proc.name), timeout, 0.1,
                   f"{proc.instance_id} passing in the registry")

    def stop(self, proc: Proc, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if proc.alive():
            proc.popen.send_signal(sig)
        try:
            return proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            return proc.popen.wait(5)

    def stop_all(self) -> None:
        for proc in [self.gateway, *self.services, self.registry]:
            if proc is not None and proc.alive():
                self.stop(proc)

    # -- clients -----------------------------------------------------------------------------------------------

    def client(self, token: str | None = None, base: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=base or self.gateway.url, headers=headers, timeout=10)

    def login(self, username: str, password: str) -> dict[str, Any]:
        response = httpx.post(f"{self.gateway.url}/api/auth/login", json={"username": username, "password": password},
                              timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def admin_token(self) -> str:
        return self.login("admin", ADMIN_PASSWORD)["access_token"]

    def create_admin(self, username: str, grants: dict[str, str], password: str = "Initial#Pw1") -> dict[str, Any]:
        """A ready-to-use admin (initial password already changed) holding `grants`; returns its token pair."""
        with self.client(self.admin_token()) as admin:
            created = admin.post("/api/admin/users", json={"username": username, "display_name": username,
                                                           "password": password, "role": "admin"})
            assert created.status_code == 201, created.text
            user_id = created.json()["id"]
            put = admin.put(f"/api/admin/users/{user_id}/grants",
                            json=[{"archive": a, "level": lvl} for a, lvl in grants.items()])
            assert put.status_code == 200, put.text
        first = self.login(username, password)
        new_password = password + "x"
        changed = httpx.post(f"{self.gateway.url}/api/auth/password",
                             json={"old_password": password, "new_password": new_password},
                             headers={"Authorization": f"Bearer {first['access_token']}"})
        assert changed.status_code == 200, changed.text
        return {**changed.json(), "user_id": user_id, "password": new_password}


def mariadb(env: dict[str, str], replica: bool = False, database: str | None = None) -> pymysql.Connection:
    url = env["HAP_DB_REPLICA_URL" if replica else "HAP_DB_PRIMARY_URL"]
    rest = url.split("://", 1)[1]
    creds, hostport = rest.split("@", 1)
    user, password = creds.split(":", 1)
    host, port = hostport.rstrip("/").split(":")
    return pymysql.connect(host=host, port=int(port), user=user, password=password, database=database,
                           autocommit=True, charset="utf8mb4")


def reset_schemas(env: dict[str, str], names: list[str]) -> None:
    conn = mariadb(env)
    try:
        with conn.cursor() as cur:
            for name in names:
                cur.execute(f"DROP DATABASE IF EXISTS `{env['HAP_DB_SCHEMA_PREFIX']}{name}`")
    finally:
        conn.close()


def schema(env: dict[str, str], component: str) -> str:
    """The MariaDB schema of one component in this platform (each platform has its own prefix)."""
    return f"{env['HAP_DB_SCHEMA_PREFIX']}{component}"


# Every component with a schema of its own (the gateway's is `auth`).
SCHEMAS = ["auth", "dbs", "dms", "oms"]


def start_platform(infra_env: dict[str, str], services: tuple[str, ...] = ("dbs",),
                   data_dir: Path | None = None) -> Platform:
    """Registry, gateway and one process per name in `services` (a name twice: two instances). With an empty
    `infra_env` they run in the embedded mode (SQLite files in `data_dir`, in-process cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAP_") and k != "CONSUL_HTTP_ADDR"}
    env.update(infra_env)
    registry_port, gateway_port = free_port(), free_port()
    env.update({
        "HAP_REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
        "HAP_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
        "HAP_PORT": str(gateway_port),
        "HAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HAP_SERVICE_SECRET": SERVICE_SECRET,
        "HAP_DATA_DIR": str(data_dir or ARTIFACTS / "data"),
        "HAP_UI_DIR": str(ROOT / "frontend" / "dist"),
        "HAP_CHECK_INTERVAL": "500ms",
        "HAP_DEREGISTER_CRITICAL_AFTER": "10s",
        # Schemas of its own, so two platforms (two test runs, a benchmark) never share or drop each other's.
        "HAP_DB_SCHEMA_PREFIX": f"hapt{registry_port}_",
        "PYTHONUNBUFFERED": "1",
    })
    if "HAP_DB_PRIMARY_URL" in env:
        reset_schemas(env, SCHEMAS)
    subprocess.run([sys.executable, "-m", "common.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    platform = Platform(env)
    try:
        platform.registry = platform.spawn("registry", registry_port)
        platform.wait_healthy(platform.registry, "/v1/status/leader")
        platform.gateway = platform.spawn("gateway", gateway_port)
        platform.wait_healthy(platform.gateway)
        for name in services:
            platform.start_service(name)
    except BaseException:
        platform.stop_all()  # leave no process behind when start-up fails
        raise
    return platform


def drop_schemas(platform: Platform) -> None:
    if "HAP_DB_PRIMARY_URL" in platform.env:
        reset_schemas(platform.env, SCHEMAS)
