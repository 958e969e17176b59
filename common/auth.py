"""Access tokens as every service sees them: verification against the gateway's JWKS, revocation, permissions.

A service trusts nothing the gateway did: it verifies the token's signature (EdDSA only, the key chosen by
`kid`), `iss`, `aud` and `exp`, checks that the token was not revoked, and applies the same archive/level rule.

Revocation takes effect at once: the gateway keeps a feed of revocations (a token's `jti`, or every token of a
user below a token version), and each service follows it with a long poll. The gateway does not answer a logout
or a grant change until every following service has taken the new entry (see gateway.revocations).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from common.errors import Forbidden, ServiceUnavailable, Unauthorized
from common.logging import get_logger
from common.settings import Settings

log = get_logger("common.auth")

ALGORITHMS = ["EdDSA"]
READ_METHODS = frozenset({"GET", "HEAD"})  # ARCHITECTURE §5: GET/HEAD read, every other method writes
LEVELS = {"read": 1, "write": 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (admin or super admin) or a service."""

    sub: str
    username: str
    role: str
    grants: dict[str, str]
    jti: str
    exp: int
    version: int = 0
    must_change_password: bool = False

    @property
    def is_service(self) -> bool:
        return self.role == "service"

    @property
    def user_id(self) -> int | None:
        return None if self.is_service else int(self.sub)

    def can(self, archive: str, level: str) -> bool:
        # A service token opens only `/internal/...` routes; work on a user's behalf carries the user's token.
        if self.role == "super_admin":
            return True
        held = self.grants.get(archive)
        return held is not None and LEVELS[held] >= LEVELS[level]

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        grants = {g["archive"]: g["level"] for g in claims.get("grants", [])}
        return cls(
            sub=str(claims["sub"]),
            username=claims.get("name", str(claims["sub"])),
            role=claims["role"],
            grants=grants,
            jti=claims["jti"],
            exp=int(claims["exp"]),
            version=int(claims.get("ver", 0)),
            must_change_password=bool(claims.get("mcp", False)),
        )


def ensure_service(principal: Principal) -> Principal:
    """`/internal/...` routes are for other services (client-credentials tokens) only."""
    if not principal.is_service:
        raise Forbidden("Only services may call internal routes", code="auth.service_only")
    return principal


def required_level(method: str) -> str:
    return "read" if method.upper() in READ_METHODS else "write"


def authorize(principal: Principal, archive: str, method: str) -> None:
    """The one permission rule, applied at the gateway and again in every service."""
    if principal.must_change_password:
        raise Forbidden("The initial password must be changed first", code="auth.password_change_required")
    level = required_level(method)
    if not principal.can(archive, level):
        raise Forbidden(f"Requires {archive}:{level}", code="auth.forbidden",
                        detail={"archive": archive, "level": level})


@dataclass
class RevocationList:
    """Revoked token ids and per-user minimum token versions, as last read from the gateway's feed."""

    jtis: dict[str, float] = field(default_factory=dict)  # jti -> exp (dropped once the token would expire anyway)
    min_versions: dict[str, int] = field(default_factory=dict)  # user sub -> lowest valid token version
    cursor: int = 0  # the feed's sequence number this list has applied up to
    epoch: str | None = None  # which gateway process numbered the feed
    synced_at: float = 0.0

    def apply(self, entries: list[dict[str, Any]]) -> None:
        """Apply feed entries; applying one twice changes nothing."""
        for entry in entries:
            if entry.get("jti"):
                self.jtis[entry["jti"]] = float(entry.get("expires_at") or time.time() + 86400)
            if entry.get("user_id") is not None and entry.get("min_version") is not None:
                sub = str(entry["user_id"])
                self.min_versions[sub] = max(self.min_versions.get(sub, 0), int(entry["min_version"]))
            if "seq" in entry:
                self.cursor = max(self.cursor, int(entry["seq"]))
        now = time.time()
        if len(self.jtis) > 10_000:
            self.jtis = {j: exp for j, exp in self.jtis.items() if exp > now}

    def is_revoked(self, principal: Principal) -> bool:
        return principal.jti in self.jtis or principal.version < self.min_versions.get(principal.sub, 0)


def decode_token(token: str, key: Any, settings: Settings) -> dict[str, Any]:
    try:
        return jwt.decode(
            token, key, algorithms=ALGORITHMS, audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            options={"require": ["sub", "role", "iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired", code="auth.token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid", code="auth.token_invalid") from exc


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("A bearer token is required", code="auth.token_missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required", code="auth.token_missing")
    return token.strip()


class TokenVerifier:
    """Verifies access tokens in a service: keys from the gateway's JWKS, revocations from its feed."""

    def __init__(self, settings: Settings, service: str, instance: str):
        self.settings = settings
        self.service, self.instance = service, instance
        self.revocations = RevocationList()
        self._keys: dict[str, Any] = {}
        # The signature check is the costly part; a token's signature does not change, so remember the result.
        self._verified: dict[str, Principal] = {}
        self._keys_fetched_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client = httpx.Client(base_url=settings.gateway_url, timeout=httpx.Timeout(5.0, read=30.0))
        self.service_tokens = ServiceTokens(settings, service, self._client)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow_revocations, name="revocations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    # -- verification ----------------------------------------------------------------------------------------

    def verify_cached(self, token: str) -> Principal | None:
        """The caller, if this token's signature was already checked (no I/O, cheap); None otherwise."""
        principal = self._verified.get(token)
        if principal is None or principal.exp <= time.time():
            return None
        self.check_revocation(principal)
        return principal

    def verify(self, token: str) -> Principal:
        """Full check; may fetch the gateway's keys, so async callers run it on a worker thread."""
        principal = self._verified.get(token)
        if principal is None or principal.exp <= time.time():
            principal = self._verify_signature(token)
            if len(self._verified) > 4096:
                self._verified.clear()
            self._verified[token] = principal
        self.check_revocation(principal)
        return principal

    def _verify_signature(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid", code="auth.token_invalid") from exc
        key = self._key(kid)
        if key is None:
            raise Unauthorized("The token is not valid", code="auth.token_invalid")
        return Principal.from_claims(decode_token(token, key, self.settings))

    def ready(self) -> bool:
        synced = self.revocations.synced_at
        return synced > 0 and time.monotonic() - synced <= self.settings.revocation_stale_seconds

    def check_revocation(self, principal: Principal) -> None:
        if not self.ready():
            # Without a current revocation list a logged-out token could pass: refuse rather than guess.
            raise ServiceUnavailable("Token revocations are not available yet", code="auth.revocations_unavailable")
        if self.revocations.is_revoked(principal):
            raise Unauthorized("The token has been revoked", code="auth.token_revoked")

    def _key(self, kid: str | None) -> Any | None:
        if kid in self._keys:
            return self._keys[kid]
        # An unknown kid may be a rotated key: refetch, but not more than once a few seconds.
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._keys_fetched_at > 3.0:
                self._fetch_keys()
        return self._keys.get(kid)

    def _fetch_keys(self) -> None:
        self._keys_fetched_at = time.monotonic()
        try:
            response = self._client.get("/.well-known/jwks.json")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("jwks_unavailable", error=str(exc))
            return
        keys = {}
        for jwk in response.json().get("keys", []):
            if jwk.get("alg") in ALGORITHMS or jwk.get("crv") == "Ed25519":
                keys[jwk["kid"]] = PyJWK(jwk, algorithm="EdDSA").key
        self._keys = keys

    # -- revocation feed -------------------------------------------------------------------------------------

    def _follow_revocations(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                if not self._keys:  # keys first: a service is ready only when it can verify tokens
                    self._fetch_keys()
                    if not self._keys:
                        raise ValueError("no signing keys from the gateway yet")
                token = self.service_tokens.get()
                response = self._client.get(
                    "/internal/revocations",
                    # The first call answers at once so the service becomes ready; later ones are long polls.
                    params={"after": self.revocations.cursor, "epoch": self.revocations.epoch or "",
                            "wait": 20 if self.revocations.synced_at else 0, "watcher": self.instance},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code == 401:
                    self.service_tokens.reset()
                response.raise_for_status()
                body = response.json()
                if body["epoch"] != self.revocations.epoch:
                    # A new gateway process numbers its feed afresh (and sent everything still live).
                    self.revocations.epoch, self.revocations.cursor = body["epoch"], 0
                self.revocations.apply(body["items"])
                self.revocations.synced_at = time.monotonic()
                backoff = 0.2
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("revocations_unavailable", error=str(exc) or type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)


class ServiceTokens:
    """A service's own short-lived token from the gateway (client credentials), renewed before it expires."""

    def __init__(self, settings: Settings, service: str, client: httpx.Client):
        self.settings, self.service, self._client = settings, service, client
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def reset(self) -> None:
        self._token = None

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                response = self._client.post(
                    "/api/auth/token",
                    json={"client_id": self.service, "client_secret": self.settings.service_secret},
                )
                response.raise_for_status()
                body = response.json()
                self._token = body["access_token"]
                self._renew_at = time.monotonic() + max(body["expires_in"] * 0.8, 5)
            return self._token
