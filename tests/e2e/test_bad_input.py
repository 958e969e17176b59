"""Bad input gets the error envelope, never a 5xx; and Schemathesis finds nothing in the services' or the gateway's
API."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ARTIFACTS, ROOT, Platform, start_platform


def _envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "detail"}, body
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize("target", ["gateway", "direct"])
def test_bad_bodies_get_the_envelope(platform: Platform, admin_token: str, target: str) -> None:
    base = platform.gateway.url if target == "gateway" else platform.services[0].url
    with platform.client(admin_token, base) as c:
        url = "/api/datacenter/departments"
        _envelope(c.post(url, content=b'{"code": "X1", "name": ', headers={"content-type": "application/json"}),
                  400, "request.malformed_json")
        body = _envelope(c.post(url, json={"code": "X1", "name": 42, "kind": "clinical"}), 422, "validation.failed")
        assert body["detail"]["errors"][0]["loc"][-1] == "name"
        _envelope(c.post(url, json={"code": "X1", "name": "科" * 500, "kind": "clinical"}), 422, "validation.failed")
        _envelope(c.post(url, json={"code": "X1", "name": "内科", "kind": "clinical", "colour": "red"}), 422)
        _envelope(c.post(url, json={"code": "X1", "name": "内科", "kind": "surgery"}), 422)
        _envelope(c.post(url, json=[1, 2, 3]), 422)
        _envelope(c.get(url, params={"size": 1000}), 422)
        _envelope(c.get(url, params={"page": 0}), 422)
        _envelope(c.get(url + "/not-a-number"), 422)
        _envelope(c.get(url + "/999999"), 404, "department.not_found")
        _envelope(c.get("/api/datacenter/no-such-thing"), 404)
        _envelope(c.put(url, json={}), 405)
        money = _envelope(c.post("/api/datacenter/registration-types",
                                 json={"code": "RT1", "name": "测试号", "fee": "12.345"}), 422)
        assert money["detail"]["errors"][0]["loc"][-1] == "fee"


def test_bad_bodies_at_the_gateway_api(platform: Platform, admin_token: str) -> None:
    with platform.client(admin_token) as c:
        _envelope(c.post("/api/auth/login", content=b"{", headers={"content-type": "application/json"}), 400)
        _envelope(c.post("/api/auth/login", json={"username": "admin"}), 422)
        _envelope(c.post("/api/admin/users", json={"username": "ab", "display_name": "x", "password": "Aa#12345"}),
                  422)
        _envelope(c.put("/api/admin/users/1/grants", json=[{"archive": "kitchen", "level": "read"}]), 422)
        _envelope(c.get("/api/admin/users/0"), 422, "validation.failed")
        _envelope(c.get("/api/admin/users/99999"), 404, "user.not_found")
        _envelope(c.get("/api/admin/audit", params={"since": "2026-01-01T00:00:00"}), 422)


def _schemathesis(url: str, base: str, token: str, name: str, *extra: str,
                  max_examples: int = 12) -> subprocess.CompletedProcess:
    report = ARTIFACTS / f"schemathesis-{name}.txt"
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", url, "--url", base, *extra,
         "--header", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
         "--max-examples", str(max_examples), "--seed", "20261125", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "10", "--suppress-health-check", "all", "--no-color"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(result.stdout + result.stderr)
    return result


@pytest.mark.parametrize("service", ["dbs", "dms", "oms"])
def test_schemathesis_finds_nothing_in_the_services(platform: Platform, admin_token: str, service: str) -> None:
    url = next(p.url for p in platform.services if p.name == service and p.alive())
    result = _schemathesis(f"{url}/openapi.json", url, admin_token, service)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "returned only 401/403" not in result.stdout, result.stdout[-3000:]


def test_schemathesis_finds_nothing_in_the_gateway(tmp_path) -> None:
    # A gateway of its own (embedded SQLite mode): the fuzzer disables users, resets passwords and logs out,
    # which must not disturb the shared platform.
    isolated = start_platform({}, services=(), data_dir=tmp_path)
    try:
        gateway = isolated.gateway.url
        schema = f"{gateway}/openapi.json"
        # Logging out and changing the password end the fuzzer's own token: those two run last, each with a
        # fresh token, so every other operation is fuzzed while signed in.
        ending = ("/api/auth/logout", "/api/auth/password")
        excluded = [arg for path in ending for arg in ("--exclude-path", path)]
        result = _schemathesis(schema, gateway, isolated.admin_token(), "gateway", *excluded)
        assert result.returncode == 0, result.stdout[-6000:]
        assert "returned only 401/403" not in result.stdout, result.stdout[-3000:]
        for path in ending:
            result = _schemathesis(schema, gateway, isolated.admin_token(), "gateway" + path.replace("/", "-"),
                                   "--include-path", path)
            assert result.returncode == 0, result.stdout[-6000:]
    finally:
        isolated.stop_all()
