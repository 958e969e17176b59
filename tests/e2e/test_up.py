"""`hap up` (what `make up` runs) on the embedded default: it comes up, prints the URL and logins, stops cleanly
on Ctrl-C, and a second start keeps every record and reseeds nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.harness import ROOT, free_port


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "common.cli", "up"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.strip().startswith("Logs:"):
            return proc, lines
    proc.kill()
    raise AssertionError("hap up did not come up:\n" + "\n".join(lines))


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def _login(base: str, username: str, password: str) -> str:
    response = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _get(base: str, token: str, path: str) -> httpx.Response:
    return httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _wait_dbs(base: str, token: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _get(base, token, "/api/datacenter/departments").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("DBS never answered through the gateway")


def test_hap_up_twice_keeps_data_and_reseeds_nothing(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAP_") and k != "CONSUL_HTTP_ADDR"}
    env.update({
        "HAP_DATA_DIR": str(tmp_path / "data"), "HAP_PORT": str(port),
        "HAP_GATEWAY_URL": f"http://127.0.0.1:{port}",
        "HAP_REGISTRY_URL": f"http://127.0.0.1:{free_port()}", "HAP_S3_ENDPOINT": f"127.0.0.1:{free_port()}",
        "HAP_UI_DIR": str(tmp_path / "no-ui"), "PYTHONUNBUFFERED": "1",
    })
    base = f"http://127.0.0.1:{port}"

    proc, first = _start(env)
    try:
        text = "\n".join(first)
        assert f"is up: {base}/" in text
        generated = re.search(r"Super admin: admin / (\S+)", text)
        assert generated, text
        demo = re.search(r"Demo admin:\s+dc_editor / (\S+)", text)
        assert demo, text
        editor = _login(base, "dc_editor", demo.group(1))
        _wait_dbs(base, editor)
        seeded = _get(base, editor, "/api/datacenter/drugs").json()["total"]
        assert seeded >= 15
        created = httpx.post(f"{base}/api/datacenter/departments", headers={"Authorization": f"Bearer {editor}"},
                             json={"code": "KEEP1", "name": "保留科", "kind": "clinical"})
        assert created.status_code == 201, created.text
        departments = _get(base, editor, "/api/datacenter/departments").json()["total"]
        # The generated super admin password works (and must be changed at first sign-in).
        first_admin = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": generated.group(1)})
        assert first_admin.status_code == 200 and first_admin.json()["must_change_password"] is True
    finally:
        stopped = _stop(proc)
    assert "Stopped." in stopped
    for line in (tmp_path / "data" / "logs" / "dbs.log").read_text().splitlines()[-5:]:
        assert "Traceback" not in line

    proc, second = _start(env)
    try:
        text = "\n".join(second)
        assert not re.search(r"Super admin: admin / \S+", text), "the admin password must be printed only once"
        editor = _login(base, "dc_editor", demo.group(1))
        _wait_dbs(base, editor)
        assert _get(base, editor, "/api/datacenter/drugs").json()["total"] == seeded
        listed = _get(base, editor, "/api/datacenter/departments").json()
        assert listed["total"] == departments
        assert _get(base, editor, f"/api/datacenter/departments/{created.json()['id']}").status_code == 200
    finally:
        _stop(proc)
