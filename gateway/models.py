"""Tables of the auth database (`hap_auth`): users, grants, tokens, revocations, signing keys, audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import NAMING_CONVENTION
from common.timeutil import UtcDateTime, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# BigInteger ids on SQLite must be plain INTEGER to auto-increment.
BigId = BigInteger().with_variant(Integer, "sqlite")


class User(Base):
    """用户 — a person who signs in: a super admin or an admin with per-archive grants."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # super_admin | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Bumped when the user is disabled, their grants change or their password changes: tokens carrying an
    # older version are revoked everywhere at once.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Grant(Base):
    """授权 — one archive at one level (read or write) held by an admin."""

    __tablename__ = "grant"
    __table_args__ = (UniqueConstraint("user_id", "archive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    archive: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))


class RefreshToken(Base):
    """刷新令牌 — an opaque refresh token, stored hashed; rotated on use, its family revoked on reuse."""

    __tablename__ = "refresh_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    access_jti: Mapped[str] = mapped_column(String(32), index=True)  # the access token issued with it
    access_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Revocation(Base):
    """令牌吊销 — one entry of the revocation feed: a token id, or all of a user's tokens below a version."""

    __tablename__ = "revocation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    jti: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # after this it no longer matters
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SigningKey(Base):
    """签名密钥 — an Ed25519 key pair that signs access tokens; the public half is published in the JWKS."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditLog(Base):
    """审计日志 — append-only record of every API request and every security event."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(512))
    archive: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    status: Mapped[int] = mapped_column(Integer, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32), default="request", index=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
