"""Passwords (argon2id and the policy), signing keys, and issuing access and refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from common.auth import ALGORITHMS, Principal, decode_token
from common.errors import Unauthorized, Unprocessable
from common.settings import Settings

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# A hash to verify against when the username does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, username: str) -> None:
    """At least 8 characters, 3 of the 4 classes (lower, upper, digit, other), and not the username."""
    problems = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    if len(password) > 128:
        problems.append("at most 128 characters")
    classes = sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))
    if classes < 3:
        problems.append("3 of: lower case, upper case, digits, symbols")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if problems:
        raise Unprocessable("The password does not meet the policy: " + "; ".join(problems),
                            code="auth.password_policy", detail={"rules": problems})


def generate_password() -> str:
    """A random password that meets the policy (for the bootstrap admin and resets)."""
    while True:
        candidate = secrets.token_urlsafe(12) + "-7a"
        if any(c.isupper() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key_pair() -> tuple[str, str, dict[str, Any]]:
    """(kid, private PEM, public JWK) for a fresh Ed25519 key."""
    private = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex[:16]
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    return kid, pem, jwk


@dataclass
class Signer:
    """Signs access tokens with the active key and verifies them with any published key."""

    kid: str
    private_key: Any
    public_keys: dict[str, Any]
    jwks: dict[str, Any]

    @classmethod
    def from_rows(cls, active: tuple[str, str], published: list[dict[str, Any]]) -> Signer:
        kid, pem = active
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        public = {jwk["kid"]: OKPAlgorithm.from_jwk(jwk) for jwk in published}
        return cls(kid, private, public, {"keys": published})

    def issue(self, settings: Settings, claims: dict[str, Any], now: datetime,
              minutes: int) -> tuple[str, str, datetime]:
        """(token, jti, expires_at) for an access token with `claims` plus the registered ones."""
        jti = uuid.uuid4().hex
        expires = now + timedelta(minutes=minutes)
        payload = {**claims, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
                   "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "jti": jti}
        token = jwt.encode(payload, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})
        return token, jti, expires

    def verify(self, token: str, settings: Settings) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid", code="auth.token_invalid") from exc
        key = self.public_keys.get(header.get("kid"))
        if key is None or header.get("alg") not in ALGORITHMS:
            raise Unauthorized("The token is not valid", code="auth.token_invalid")
        return Principal.from_claims(decode_token(token, key, settings))


def user_claims(user: Any, grants: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "sub": str(user.id), "name": user.username, "role": user.role, "grants": grants,
        "ver": user.token_version, "mcp": bool(user.must_change_password),
    }
