"""`hap up`: the whole platform in one terminal, on the embedded default.

Starts the object store, the registry, the services and the gateway as child processes (each logging JSON lines
to `data/logs/<name>.log`), restarts a child that crashes, and on Ctrl-C or SIGTERM stops them in reverse order.
All state lives under `data/`; a second start reuses it and reseeds nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from common.settings import get_settings


@dataclass
class Child:
    name: str
    argv: list[str]
    health_url: str | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    log: Path = field(default_factory=Path)


def _secrets(data_dir: Path) -> dict[str, str]:
    """Generated once per installation and kept in data/secrets.json (readable by the owner only)."""
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {"HAP_SERVICE_SECRET": secrets.token_urlsafe(32), "HAP_S3_ACCESS_KEY": "hap" + secrets.token_hex(6),
              "HAP_S3_SECRET_KEY": secrets.token_urlsafe(24)}
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in _secrets(data_dir).items():
        env.setdefault(key, value)
    env.setdefault("HAP_DATA_DIR", str(data_dir))
    env.setdefault("HAP_S3_ENDPOINT", "127.0.0.1:9000")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def up(seed_demo: bool = True) -> int:
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    env = _environment(data_dir)
    os.environ.update({k: v for k, v in env.items() if k.startswith("HAP_")})
    get_settings.cache_clear()

    registry_port = urlsplit(settings.registry_base).port or 8500
    objects_port = int(settings.s3_endpoint.rpartition(":")[2])
    for name, port in (("object store", objects_port), ("registry", registry_port), ("gateway", settings.port)):
        if not _port_free(settings.host, port):
            print(f"Port {port} ({name}) is already in use: is the platform already running?", file=sys.stderr)
            return 1

    from common.cli import SERVICES, migrate
    from common.seed import seed

    migrate()
    first_run = not (data_dir / ".seeded").exists()
    report = seed(demo=seed_demo and first_run)
    if seed_demo and first_run:
        (data_dir / ".seeded").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    py = sys.executable
    gateway_url = f"http://{settings.host}:{settings.port}"
    children = [
        Child("objects", [py, "-m", "nanio", "serve", "--host", settings.host, "--port", str(objects_port),
                          "--data-dir", str(data_dir / "objects"), "--no-access-log"]),
        Child("registry", [py, "-m", "common.cli", "serve", "registry", "--port", str(registry_port)],
              f"{settings.registry_base}/v1/status/leader"),
        *[Child(c.name, [py, "-m", "common.cli", "serve", c.name]) for c in SERVICES],
        Child("gateway", [py, "-m", "common.cli", "serve", "gateway"], f"{gateway_url}/health"),
    ]
    env["NANIO_ACCESS_KEY"] = env["HAP_S3_ACCESS_KEY"]
    env["NANIO_SECRET_KEY"] = env["HAP_S3_SECRET_KEY"]

    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    try:
        for child in children:
            _start(child, env, data_dir)
            if child.health_url:
                _wait_healthy(child)
        from common.objects import ObjectStore

        ObjectStore(get_settings()).ensure_bucket()
    except BaseException:
        _stop_all(children)
        raise
    print(f"\nHospital archive platform is up: {gateway_url}/")
    print("\n".join(f"  {line}" for line in report.lines()))
    print(f"  Logs: {data_dir / 'logs'}   Stop: Ctrl-C\n", flush=True)

    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                child.process = None
                if now - child.started_at > 60:
                    child.backoff = 1.0
                child.restart_at = now + child.backoff
                print(f"{child.name} exited ({code}); restarting in {child.backoff:.0f}s", flush=True)
                child.backoff = min(child.backoff * 2, 30.0)
            elif child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                _start(child, env, data_dir)
        time.sleep(0.2)

    print("Stopping…", flush=True)
    _stop_all(children)
    print("Stopped.")
    return 0


def _stop_all(children: list[Child]) -> None:
    """SIGTERM in reverse start order (gateway first, object store last), each given time to drain."""
    for child in reversed(children):
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()


def _start(child: Child, env: dict[str, str], data_dir: Path) -> None:
    child.log = data_dir / "logs" / f"{child.name}.log"
    out = open(child.log, "ab")  # noqa: SIM115 - handed to the child for its lifetime
    child.process = subprocess.Popen(child.argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
    out.close()
    child.started_at = time.monotonic()


def _wait_healthy(child: Child, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process is not None and child.process.poll() is not None:
            raise SystemExit(f"{child.name} failed to start; see {child.log}")
        try:
            if httpx.get(child.health_url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{child.name} did not become healthy within {timeout:.0f}s; see {child.log}")
