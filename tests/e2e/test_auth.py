"""Tokens and permissions, end to end: the gateway and a service reached directly must agree on every refusal."""

from __future__ import annotations

import base64
import http.client
import json
import time
import uuid
from datetime import UTC

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.harness import Platform, mariadb, schema, wait_until

DEPARTMENTS = "/api/datacenter/departments"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signing_key(platform: Platform):
    conn = mariadb(platform.env, database=schema(platform.env, "auth"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT kid, private_pem FROM signing_key WHERE active = 1")
            kid, pem = cur.fetchone()
    finally:
        conn.close()
    return kid, serialization.load_pem_private_key(pem.encode(), password=None)


def _forge(platform: Platform, **overrides) -> str:
    """A token signed with the real key whose claims are otherwise wrong (tests of the claim checks)."""
    kid, key = _signing_key(platform)
    now = int(time.time())
    claims = {"sub": "1", "name": "admin", "role": "super_admin", "grants": [], "ver": 1, "mcp": False,
              "iss": "hap-gateway", "aud": "hap", "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def _status_both(platform: Platform, token: str, path: str = DEPARTMENTS) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    via_gateway = httpx.get(platform.gateway.url + path, headers=headers)
    direct = httpx.get(platform.services[0].url + path, headers=headers)
    return via_gateway.status_code, direct.status_code


def _assert_refused(platform: Platform, token: str, code: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for base in (platform.gateway.url, platform.services[0].url):
        response = httpx.get(base + DEPARTMENTS, headers=headers)
        assert response.status_code == 401, (base, response.text)
        body = response.json()
        assert set(body) == {"code", "message", "detail"}
        if code:
            assert body["code"] == code, (base, body)


def test_valid_token_is_accepted_at_gateway_and_service(platform: Platform, admin_token: str) -> None:
    assert _status_both(platform, admin_token) == (200, 200)


def test_alg_none_token_is_refused(platform: Platform, admin_token: str) -> None:
    payload = jwt.decode(admin_token, options={"verify_signature": False})
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    _assert_refused(platform, token, "auth.token_invalid")


def test_hs256_with_public_key_as_secret_is_refused(platform: Platform, admin_token: str) -> None:
    # The classic algorithm-confusion attack: sign with HS256 using the published public key as the secret.
    jwks = httpx.get(platform.gateway.url + "/.well-known/jwks.json").json()
    payload = jwt.decode(admin_token, options={"verify_signature": False})
    header = {"alg": "HS256", "typ": "JWT", "kid": jwks["keys"][0]["kid"]}
    import hashlib
    import hmac

    signing_input = f"{_b64(header)}.{_b64(payload)}"
    sig = hmac.new(jwks["keys"][0]["x"].encode(), signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    _assert_refused(platform, token, "auth.token_invalid")


def test_tampered_payload_is_refused(platform: Platform) -> None:
    token = platform.create_admin(f"tamper{uuid.uuid4().hex[:6]}", {"datacenter": "read"})["access_token"]
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "super_admin"
    _assert_refused(platform, f"{header}.{_b64(claims)}.{signature}", "auth.token_invalid")


def test_wrong_audience_is_refused(platform: Platform) -> None:
    _assert_refused(platform, _forge(platform, aud="another-system"), "auth.token_invalid")


def test_wrong_issuer_is_refused(platform: Platform) -> None:
    _assert_refused(platform, _forge(platform, iss="someone-else"), "auth.token_invalid")


def test_expired_token_is_refused(platform: Platform) -> None:
    now = int(time.time())
    _assert_refused(platform, _forge(platform, iat=now - 3600, exp=now - 60), "auth.token_expired")


def test_missing_token_is_refused(platform: Platform) -> None:
    for base in (platform.gateway.url, platform.services[0].url):
        response = httpx.get(base + DEPARTMENTS)
        assert response.status_code == 401
        assert response.json()["code"] == "auth.token_missing"


def test_logout_revokes_at_once_everywhere(platform: Platform) -> None:
    pair = platform.create_admin(f"logout{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    token = pair["access_token"]
    assert _status_both(platform, token) == (200, 200)
    response = httpx.post(platform.gateway.url + "/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    _assert_refused(platform, token, "auth.token_revoked")
    # The refresh token of the same family is dead too.
    refreshed = httpx.post(platform.gateway.url + "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401


def test_disabling_a_user_revokes_at_once(platform: Platform, admin_token: str) -> None:
    pair = platform.create_admin(f"disable{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    assert _status_both(platform, pair["access_token"]) == (200, 200)
    with platform.client(admin_token) as admin:
        assert admin.patch(f"/api/admin/users/{pair['user_id']}", json={"active": False}).status_code == 200
    _assert_refused(platform, pair["access_token"], "auth.token_revoked")
    denied = httpx.post(platform.gateway.url + "/api/auth/login",
                        json={"username": pair["user"]["username"], "password": pair["password"]})
    assert denied.status_code == 403 and denied.json()["code"] == "auth.account_disabled"


def test_changing_grants_revokes_at_once(platform: Platform, admin_token: str) -> None:
    pair = platform.create_admin(f"grants{uuid.uuid4().hex[:6]}", {"datacenter": "write"})
    assert _status_both(platform, pair["access_token"]) == (200, 200)
    with platform.client(admin_token) as admin:
        response = admin.put(f"/api/admin/users/{pair['user_id']}/grants",
                             json=[{"archive": "datacenter", "level": "read"}])
        assert response.status_code == 200
    _assert_refused(platform, pair["access_token"], "auth.token_revoked")
    # A new sign-in carries the new grants.
    fresh = platform.login(pair["user"]["username"], pair["password"])
    assert fresh["user"]["grants"] == [{"archive": "datacenter", "level": "read"}]


def test_refresh_rotates_and_reuse_revokes_the_family(platform: Platform) -> None:
    pair = platform.create_admin(f"rotate{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    first = httpx.post(platform.gateway.url + "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != pair["refresh_token"]
    assert _status_both(platform, rotated["access_token"]) == (200, 200)
    # Presenting the old refresh token again: treated as theft, the whole family is revoked.
    reuse = httpx.post(platform.gateway.url + "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["code"] == "auth.refresh_reused"
    _assert_refused(platform, rotated["access_token"], "auth.token_revoked")
    again = httpx.post(platform.gateway.url + "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401


PERMISSION_CASES = [
    ("GET", DEPARTMENTS, None),
    ("POST", DEPARTMENTS, {"code": "P{n}", "name": "权限测试科{n}", "kind": "clinical"}),
    ("PATCH", DEPARTMENTS + "/{id}", {"name": "改名{n}"}),
    ("DELETE", DEPARTMENTS + "/{id}", None),
]


def _try(client: httpx.Client, method: str, path: str, body, n: str, dept_id: int) -> httpx.Response:
    path = path.format(id=dept_id)
    if isinstance(body, dict):
        body = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
    return client.request(method, path, json=body)


@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "direct"])
def test_permission_matrix(platform: Platform, admin_token: str, direct: bool) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = platform.create_admin(f"reader{tag}", {"datacenter": "read"})
    outsider = platform.create_admin(f"outsider{tag}", {"pharmacy": "write"})
    base = platform.services[0].url if direct else platform.gateway.url
    with platform.client(admin_token, base) as admin:
        created = admin.post(DEPARTMENTS, json={"code": f"PM{tag}", "name": f"矩阵科{tag}", "kind": "clinical"})
        assert created.status_code == 201, created.text
        dept_id = created.json()["id"]

    expected = {"reader": {"GET": 200, "POST": 403, "PATCH": 403, "DELETE": 403},
                "outsider": {"GET": 403, "POST": 403, "PATCH": 403, "DELETE": 403}}
    for who, pair in (("reader", reader), ("outsider", outsider)):
        with platform.client(pair["access_token"], base) as client:
            for n, (method, path, body) in enumerate(PERMISSION_CASES):
                response = _try(client, method, path, body, f"{tag}{n}", dept_id)
                assert response.status_code == expected[who][method], (who, method, response.text)
                if response.status_code == 403:
                    assert response.json()["code"] == "auth.forbidden"

    with platform.client(admin_token, base) as admin:
        statuses = [_try(admin, m, p, b, f"{tag}s{n}", dept_id).status_code
                    for n, (m, p, b) in enumerate(PERMISSION_CASES)]
    assert statuses == [200, 201, 200, 204]

    if not direct:
        # Every one of those requests is in the audit log, with who made it and the outcome.
        def audited() -> list[dict]:
            with platform.client(admin_token) as admin:
                rows = admin.get("/api/admin/audit", params={"archive": "datacenter", "size": 100}).json()["items"]
            return [r for r in rows if r["username"] in (f"reader{tag}", f"outsider{tag}")]

        rows = wait_until(lambda: len(audited()) >= 8 and audited(), 10, 0.2, "audit rows")
        seen = {(r["username"], r["method"], r["status"]) for r in rows}
        for who, _pair in (("reader", reader), ("outsider", outsider)):
            for method, status in expected[who].items():
                assert (f"{who}{tag}", method, status) in seen


def test_lockout_after_five_failures(platform: Platform, admin_token: str) -> None:
    pair = platform.create_admin(f"lock{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    username = pair["user"]["username"]
    url = platform.gateway.url + "/api/auth/login"
    for _ in range(5):
        wrong = httpx.post(url, json={"username": username, "password": "Wrong#Pass1"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "auth.invalid_credentials"
    right = httpx.post(url, json={"username": username, "password": pair["password"]})
    assert right.status_code == 403
    body = right.json()
    assert body["code"] == "auth.account_locked"
    locked_until = body["detail"]["locked_until"]
    from datetime import datetime

    minutes = (datetime.fromisoformat(locked_until) - datetime.now(UTC)).total_seconds() / 60
    assert 14 < minutes <= 15
    with platform.client(admin_token) as admin:
        events = admin.get("/api/admin/audit", params={"user": username, "size": 100}).json()["items"]
    actions = [e["action"] for e in events]
    assert actions.count("auth.login_failed") == 5
    assert "auth.locked" in actions and "auth.login_locked" in actions


def test_initial_password_must_be_changed_first(platform: Platform, admin_token: str) -> None:
    name = f"fresh{uuid.uuid4().hex[:6]}"
    with platform.client(admin_token) as admin:
        created = admin.post("/api/admin/users", json={"username": name, "display_name": "新用户",
                                                       "password": "Initial#Pw1", "role": "admin"})
        admin.put(f"/api/admin/users/{created.json()['id']}/grants", json=[{"archive": "datacenter", "level": "read"}])
    first = platform.login(name, "Initial#Pw1")
    assert first["must_change_password"] is True
    for base in (platform.gateway.url, platform.services[0].url):
        response = httpx.get(base + DEPARTMENTS, headers={"Authorization": f"Bearer {first['access_token']}"})
        assert response.status_code == 403 and response.json()["code"] == "auth.password_change_required"
    weak = httpx.post(platform.gateway.url + "/api/auth/password",
                      json={"old_password": "Initial#Pw1", "new_password": "short"},
                      headers={"Authorization": f"Bearer {first['access_token']}"})
    assert weak.status_code == 422 and weak.json()["code"] == "auth.password_policy"
    changed = httpx.post(platform.gateway.url + "/api/auth/password",
                         json={"old_password": "Initial#Pw1", "new_password": "Better#Pw22"},
                         headers={"Authorization": f"Bearer {first['access_token']}"})
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    assert _status_both(platform, changed.json()["access_token"]) == (200, 200)
    # The token issued before the change no longer works.
    _assert_refused(platform, first["access_token"], "auth.token_revoked")


def test_paths_that_could_confuse_the_permission_check(platform: Platform) -> None:
    reader = platform.create_admin(f"paths{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    headers = {"Authorization": f"Bearer {reader['access_token']}"}
    base = platform.gateway.url
    # A longer name that merely starts with the prefix is not the data center.
    assert httpx.get(base + "/api/datacenterx/departments", headers=headers).status_code == 404
    # Dot segments would be normalised after the check; they are refused before it. (Sent raw: HTTP clients,
    # httpx included, normalise them away before sending.)
    for path in ("/api/datacenter/../outpatient/patients", "/api/datacenter/%2e%2e/outpatient/patients",
                 "/api/datacenter/../../internal/events"):
        conn = http.client.HTTPConnection("127.0.0.1", platform.gateway.port, timeout=10)
        conn.request("GET", path, headers=headers)
        raw = conn.getresponse()
        body = json.loads(raw.read())
        conn.close()
        assert raw.status == 400 and body["code"] == "request.bad_path", (path, body)
    # HEAD is a read (passed on; the service does not serve HEAD); OPTIONS is not a read (ARCHITECTURE §5).
    assert httpx.head(base + DEPARTMENTS, headers=headers).status_code == 405
    assert httpx.options(base + DEPARTMENTS, headers=headers).status_code == 403


def test_service_tokens_open_only_internal_routes(platform: Platform) -> None:
    from tests.harness import SERVICE_SECRET

    token = httpx.post(platform.gateway.url + "/api/auth/token",
                       json={"client_id": "oms", "client_secret": SERVICE_SECRET}).json()["access_token"]
    assert _status_both(platform, token) == (403, 403)
    wrong = httpx.post(platform.gateway.url + "/api/auth/token", json={"client_id": "oms", "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "auth.invalid_client"


def test_lockout_counts_every_spelling_of_the_username(platform: Platform) -> None:
    pair = platform.create_admin(f"spell{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    username = pair["user"]["username"]
    url = platform.gateway.url + "/api/auth/login"
    for spelling in (username.upper(), f" {username}", username.title(), f"{username} ", username):
        assert httpx.post(url, json={"username": spelling, "password": "Wrong#Pass1"}).status_code == 401
    locked = httpx.post(url, json={"username": username, "password": pair["password"]})
    assert locked.status_code == 403 and locked.json()["code"] == "auth.account_locked"


def test_unknown_usernames_take_as_long_as_wrong_passwords(platform: Platform) -> None:
    pair = platform.create_admin(f"timing{uuid.uuid4().hex[:6]}", {"datacenter": "read"})
    url = platform.gateway.url + "/api/auth/login"

    def median_seconds(username: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            httpx.post(url, json={"username": username, "password": "Wrong#Pass1"})
            times.append(time.perf_counter() - started)
        return sorted(times)[1]

    known, unknown = median_seconds(pair["user"]["username"]), median_seconds(f"nobody{uuid.uuid4().hex[:6]}")
    # Both pay for one argon2 verification; an unknown name answering in a fraction of the time would tell.
    assert unknown > known * 0.5, (known, unknown)


def test_a_request_with_an_unusual_method_is_audited_and_the_trail_goes_on(platform: Platform,
                                                                           admin_token: str) -> None:
    odd = httpx.request("MKCALENDAR", platform.gateway.url + "/api/datacenter/departments")
    assert odd.status_code in (401, 405)
    marker = f"/api/datacenter/departments/{uuid.uuid4().int % 10**6 + 10**6}"
    assert httpx.get(platform.gateway.url + marker, headers={"Authorization": f"Bearer {admin_token}"}
                     ).status_code == 404

    def audited() -> dict:
        with platform.client(admin_token) as admin:
            rows = admin.get("/api/admin/audit", params={"size": 100}).json()["items"]
        return {(r["method"], r["path"]) for r in rows}

    rows = wait_until(lambda: (("GET", marker) in audited()) and audited(), 10, 0.2, "the audit trail")
    assert ("MKCALENDAR", "/api/datacenter/departments") in rows
