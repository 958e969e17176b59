"""The rules of sign-in, tokens, users, grants and the audit log. Functions take sessions; none commits.

Operations that must record something even when they fail (a wrong password counts towards the lockout, a
reused refresh token revokes its family) return the error instead of raising it, so the caller can commit first.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from common.archives import SERVICE_NAMES
from common.auth import Principal
from common.db import ReadSession, WriteSession
from common.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from common.pagination import PageParams, paginate
from common.settings import Settings, get_settings
from common.timeutil import utcnow
from gateway import schemas
from gateway.models import AuditLog, Grant, RefreshToken, Revocation, SigningKey, User
from gateway.security import (
    Signer,
    check_password_policy,
    generate_password,
    hash_password,
    hash_refresh_token,
    new_key_pair,
    user_claims,
    verify_password,
)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SERVICE_CLIENTS = frozenset(SERVICE_NAMES)


@dataclass
class Outcome:
    """What an operation produced: a value, or an error to raise after the commit; plus revocations to publish."""

    value: Any = None
    error: AppError | None = None
    revocations: list[Revocation] = field(default_factory=list)


# -- signing keys and bootstrap --------------------------------------------------------------------------------


def load_signer(session: WriteSession) -> Signer:
    """The active signing key (created on first start) and every published public key."""
    keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    if not any(k.active for k in keys):
        kid, pem, jwk = new_key_pair()
        session.add(SigningKey(kid=kid, private_pem=pem, public_jwk=jwk, active=True))
        session.flush()
        keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    active = [k for k in keys if k.active][-1]
    return Signer.from_rows((active.kid, active.private_pem), [k.public_jwk for k in keys])


def ensure_super_admin(session: WriteSession, username: str, password: str | None) -> str | None:
    """Create the bootstrap super admin when no super admin exists; returns a generated password to print."""
    username = username.strip().lower()
    if session.scalar(select(func.count()).select_from(User).where(User.role == "super_admin")):
        return None
    generated = None
    if not password:
        password = generated = generate_password()
    else:
        check_password_policy(password, username)
    session.add(User(username=username, display_name="超级管理员", role="super_admin",
                     password_hash=hash_password(password), must_change_password=generated is not None))
    session.flush()
    return generated


# -- tokens ----------------------------------------------------------------------------------------------------


def grants_of(session: WriteSession | ReadSession, user_id: int) -> list[dict[str, str]]:
    rows = session.scalars(select(Grant).where(Grant.user_id == user_id).order_by(Grant.archive)).all()
    return [{"archive": g.archive, "level": g.level} for g in rows]


def user_out(session: WriteSession | ReadSession, user: User) -> schemas.UserOut:
    return schemas.UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                           grants=grants_of(session, user.id))


def _issue_pair(session: WriteSession, signer: Signer, settings: Settings, user: User,
                family: str | None = None) -> schemas.TokenOut:
    now = utcnow()
    out = user_out(session, user)
    access, jti, access_exp = signer.issue(settings, user_claims(user, [g.model_dump() for g in out.grants]), now,
                                           settings.access_token_minutes)
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        token_hash=hash_refresh_token(refresh), family=family or uuid.uuid4().hex, user_id=user.id,
        access_jti=jti, access_expires_at=access_exp, expires_at=now + timedelta(days=settings.refresh_token_days),
    ))
    session.flush()
    return schemas.TokenOut(access_token=access, refresh_token=refresh, expires_in=settings.access_token_minutes * 60,
                            must_change_password=user.must_change_password, user=out)


def login(session: WriteSession, signer: Signer, settings: Settings, username: str, password: str,
          audit: dict[str, Any]) -> Outcome:
    user = session.scalar(select(User).where(User.username == username.strip().lower()).with_for_update())
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        # Checked before the password, so the right password is refused too while locked.
        verify_password(None, password)
        _audit_event(session, audit, "auth.login_locked", 403, user, {"locked_until": user.locked_until.isoformat()})
        return Outcome(error=_locked(user))
    if user is None:
        verify_password(None, password)  # as slow as a real check: timing must not tell which usernames exist
        _audit_event(session, audit, "auth.login_failed", 401, None, {"username": username[:64]})
        return Outcome(error=Unauthorized("Wrong username or password", code="auth.invalid_credentials"))
    if not verify_password(user.password_hash, password):
        _record_failure(session, user, audit, "auth.login_failed")
        return Outcome(error=Unauthorized("Wrong username or password", code="auth.invalid_credentials"))
    if not user.active:
        _audit_event(session, audit, "auth.login_disabled", 403, user, None)
        return Outcome(error=Forbidden("The account is disabled", code="auth.account_disabled"))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    _audit_event(session, audit, "auth.login", 200, user, None)
    return Outcome(value=_issue_pair(session, signer, settings, user))


def _locked(user: User) -> Forbidden:
    return Forbidden("The account is locked after too many failed sign-ins", code="auth.account_locked",
                     detail={"locked_until": user.locked_until.isoformat()})


def _record_failure(session: WriteSession, user: User, audit: dict[str, Any], action: str) -> None:
    """Count a wrong password and lock the account at the fifth. The increment is one atomic UPDATE, so
    parallel guesses cannot overwrite each other's count (SQLite ignores FOR UPDATE; MariaDB has no UPDATE …
    RETURNING)."""
    session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1))
    # The UPDATE holds the row (or SQLite's write lock) until commit, so this reads our own increment.
    failures = session.scalar(select(User.failed_logins).where(User.id == user.id))
    _audit_event(session, audit, action, 401, user, {"failed_logins": failures})
    if failures >= MAX_FAILED_LOGINS:
        locked_until = utcnow() + LOCKOUT
        session.execute(update(User).where(User.id == user.id).values(locked_until=locked_until, failed_logins=0))
        _audit_event(session, audit, "auth.locked", 403, user, {"locked_until": locked_until.isoformat()})
    session.expire(user)


def refresh(session: WriteSession, signer: Signer, settings: Settings, token: str,
            audit: dict[str, Any]) -> Outcome:
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
                         .with_for_update())
    now = utcnow()
    invalid = Unauthorized("The refresh token is not valid", code="auth.refresh_invalid")
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return Outcome(error=invalid)
    if row.used_at is not None:
        return _reused(session, row, audit)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return Outcome(error=invalid)
    # Claim the token atomically: of two concurrent refreshes with it, one wins and the other is a reuse.
    claimed = session.execute(update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                              .values(used_at=now)).rowcount
    if claimed != 1:
        return _reused(session, row, audit)
    return Outcome(value=_issue_pair(session, signer, settings, user, family=row.family))


def _reused(session: WriteSession, row: RefreshToken, audit: dict[str, Any]) -> Outcome:
    """A rotated token presented again: someone holds a copy. Revoke the whole family, and record it."""
    revocations = _revoke_family(session, row.family, "refresh_reuse")
    _audit_event(session, audit, "auth.refresh_reused", 401, session.get(User, row.user_id), {"family": row.family})
    return Outcome(error=Unauthorized("The refresh token was already used; sign in again",
                                      code="auth.refresh_reused"), revocations=revocations)


def _revoke_family(session: WriteSession, family: str, reason: str) -> list[Revocation]:
    now = utcnow()
    rows = session.scalars(select(RefreshToken).where(RefreshToken.family == family)).all()
    revocations = []
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
        if row.access_expires_at > now:
            revocations.append(Revocation(jti=row.access_jti, reason=reason, expires_at=row.access_expires_at))
    session.add_all(revocations)
    session.flush()
    return revocations


def logout(session: WriteSession, principal: Principal) -> Outcome:
    """Revoke the presented access token and every token of its refresh family."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.access_jti == principal.jti))
    revocations = _revoke_family(session, row.family, "logout") if row is not None else []
    if not any(r.jti == principal.jti for r in revocations):
        revocation = Revocation(jti=principal.jti, reason="logout",
                                expires_at=datetime.fromtimestamp(principal.exp, tz=utcnow().tzinfo))
        session.add(revocation)
        session.flush()
        revocations.append(revocation)
    return Outcome(revocations=revocations)


def _revoke_user_tokens(session: WriteSession, user: User, reason: str) -> Revocation:
    """Every token the user holds now stops working: bump the version, end refresh families, publish."""
    user.token_version += 1
    session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
    # Access tokens are what the version check stops; refresh tokens were revoked in the table just above.
    revocation = Revocation(user_id=user.id, min_version=user.token_version, reason=reason,
                            expires_at=utcnow() + timedelta(minutes=get_settings().access_token_minutes + 5))
    session.add(revocation)
    session.flush()
    return revocation


def change_password(session: WriteSession, signer: Signer, settings: Settings, principal: Principal,
                    old_password: str, new_password: str, audit: dict[str, Any]) -> Outcome:
    user = _user_for(session, principal)
    if not verify_password(user.password_hash, old_password):
        # Counts towards the lockout: a stolen access token must not allow guessing the password.
        _record_failure(session, user, audit, "auth.password_change_failed")
        return Outcome(error=Unprocessable("The current password is wrong", code="auth.wrong_password"))
    check_password_policy(new_password, user.username)
    if verify_password(user.password_hash, new_password):
        raise Unprocessable("The new password must differ from the current one", code="auth.password_reused")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revocation = _revoke_user_tokens(session, user, "password_changed")
    _audit_event(session, audit, "auth.password_changed", 200, user, None)
    return Outcome(value=_issue_pair(session, signer, settings, user), revocations=[revocation])


def service_token(signer: Signer, settings: Settings, client_id: str, client_secret: str) -> schemas.ServiceTokenOut:
    secret_ok = bool(settings.service_secret) and hmac.compare_digest(client_secret.encode(),
                                                                      settings.service_secret.encode())
    if client_id not in SERVICE_CLIENTS or not secret_ok:
        raise Unauthorized("Unknown client or wrong secret", code="auth.invalid_client")
    claims = {"sub": f"service:{client_id}", "name": client_id, "role": "service", "grants": [], "ver": 0}
    token, _, _ = signer.issue(settings, claims, utcnow(), settings.access_token_minutes)
    return schemas.ServiceTokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


def _user_for(session: WriteSession | ReadSession, principal: Principal) -> User:
    user = session.get(User, principal.user_id) if not principal.is_service else None
    if user is None:
        raise Unauthorized("The user no longer exists", code="auth.token_invalid")
    return user


def me(session: ReadSession, principal: Principal) -> schemas.UserOut:
    return user_out(session, _user_for(session, principal))


# -- users and grants (super admin) ----------------------------------------------------------------------------


def _detail(session: WriteSession | ReadSession, user: User) -> schemas.UserDetail:
    base = user_out(session, user)
    return schemas.UserDetail(**base.model_dump(), active=user.active, must_change_password=user.must_change_password,
                              locked_until=user.locked_until, created_at=user.created_at,
                              last_login_at=user.last_login_at)


def get_user(session: WriteSession | ReadSession, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found", code="user.not_found")
    return user


def user_detail(session: ReadSession, user_id: int) -> schemas.UserDetail:
    return _detail(session, get_user(session, user_id))


def list_users(session: ReadSession, params: PageParams, q: str | None, role: str | None,
               active: bool | None) -> tuple[list[schemas.UserDetail], int]:
    stmt = select(User).order_by(User.id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like)))
    if role:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active == active)
    rows, total = paginate(session, stmt, params)
    return [_detail(session, u) for u in rows], total


def create_user(session: WriteSession, data: schemas.UserCreate, audit: dict[str, Any]) -> schemas.UserDetail:
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict("That username is taken", code="user.username_taken", detail={"field": "username"})
    check_password_policy(data.password, data.username)
    user = User(username=data.username, display_name=data.display_name, role=data.role,
                password_hash=hash_password(data.password), must_change_password=True)
    session.add(user)
    session.flush()
    _audit_event(session, audit, "admin.user_created", 201, user, {"role": data.role})
    return _detail(session, user)


def update_user(session: WriteSession, actor: Principal, user_id: int, data: schemas.UserUpdate,
                audit: dict[str, Any]) -> Outcome:
    user = get_user(session, user_id)
    revocations = []
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.active is not None and data.active != user.active:
        if not data.active:
            if str(user.id) == actor.sub:
                raise Conflict("You cannot disable your own account", code="user.cannot_disable_self")
            _guard_last_super_admin(session, user)
            revocations.append(_revoke_user_tokens(session, user, "user_disabled"))
        user.active = data.active
        _audit_event(session, audit, "admin.user_enabled" if data.active else "admin.user_disabled", 200, user, None)
    session.flush()
    return Outcome(value=_detail(session, user), revocations=revocations)


def _guard_last_super_admin(session: WriteSession, user: User) -> None:
    if user.role != "super_admin":
        return
    # Locked, so two super admins disabling each other at once cannot leave none.
    others = session.scalars(select(User.id).where(
        User.role == "super_admin", User.active.is_(True), User.id != user.id).with_for_update()).all()
    if not others:
        raise Conflict("The last active super admin cannot be disabled", code="user.last_super_admin")


def reset_password(session: WriteSession, actor: Principal, user_id: int, audit: dict[str, Any]) -> Outcome:
    user = get_user(session, user_id)
    if str(user.id) == actor.sub:
        raise Conflict("Change your own password with your current one instead", code="user.cannot_reset_self")
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    revocation = _revoke_user_tokens(session, user, "password_reset")
    _audit_event(session, audit, "admin.password_reset", 200, user, None)
    return Outcome(value=schemas.PasswordResetOut(password=password), revocations=[revocation])


def set_grants(session: WriteSession, user_id: int, grants: list[schemas.GrantIn], audit: dict[str, Any]) -> Outcome:
    user = get_user(session, user_id)
    if user.role == "super_admin":
        raise Unprocessable("A super admin holds every archive; grants do not apply",
                            code="user.grants_not_applicable")
    wanted: dict[str, str] = {}
    for grant in grants:
        if grant.archive in wanted:
            raise Unprocessable(f"Archive {grant.archive} appears twice", code="user.grant_duplicate",
                                detail={"archive": grant.archive})
        wanted[grant.archive] = grant.level
    before = {g["archive"]: g["level"] for g in grants_of(session, user.id)}
    if before == wanted:
        return Outcome(value=user_out(session, user).grants)
    for row in session.scalars(select(Grant).where(Grant.user_id == user.id)).all():
        session.delete(row)
    session.flush()
    session.add_all(Grant(user_id=user.id, archive=a, level=lvl) for a, lvl in sorted(wanted.items()))
    revocation = _revoke_user_tokens(session, user, "grants_changed")
    _audit_event(session, audit, "admin.grants_changed", 200, user, {"before": before, "after": wanted})
    return Outcome(value=user_out(session, user).grants, revocations=[revocation])


# -- audit -----------------------------------------------------------------------------------------------------


def _audit_event(session: WriteSession, audit: dict[str, Any], action: str, status: int, user: User | None,
                 detail: dict[str, Any] | None) -> None:
    """A security event, written in the same transaction as the change it records."""
    session.add(AuditLog(
        occurred_at=utcnow(), user_id=user.id if user else audit.get("user_id"),
        username=user.username if user else audit.get("username"), client_ip=audit.get("client_ip"),
        method=audit.get("method", "POST"), path=audit.get("path", ""), archive="system", status=status,
        duration_ms=0, request_id=audit.get("request_id"), action=action, detail=detail,
    ))


def search_audit(session: ReadSession, params: PageParams, *, user: str | None, archive: str | None,
                 status: int | None, status_class: int | None, action: str | None, method: str | None,
                 since: datetime | None, until: datetime | None) -> tuple[list[AuditLog], int]:
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if user:
        is_id = user.isascii() and user.isdigit() and len(user) <= 9
        stmt = stmt.where(AuditLog.user_id == int(user)) if is_id else stmt.where(AuditLog.username == user)
    if archive:
        stmt = stmt.where(AuditLog.archive == archive)
    if status is not None:
        stmt = stmt.where(AuditLog.status == status)
    if status_class is not None:
        stmt = stmt.where(AuditLog.status >= status_class * 100, AuditLog.status < status_class * 100 + 100)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if method:
        stmt = stmt.where(AuditLog.method == method.upper())
    if since:
        stmt = stmt.where(AuditLog.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditLog.occurred_at < until)
    return paginate(session, stmt, params)


def revocation_entries(rows: list[Revocation]) -> list[dict[str, Any]]:
    return [{"id": r.id, "jti": r.jti, "user_id": r.user_id, "min_version": r.min_version,
             "expires_at": r.expires_at.timestamp()} for r in rows]


def live_revocations(session: ReadSession | WriteSession, after: int = 0) -> list[dict[str, Any]]:
    """Revocations that still matter (not yet past the tokens' expiry), oldest first."""
    rows = session.scalars(select(Revocation).where(Revocation.id > after, Revocation.expires_at > utcnow())
                           .order_by(Revocation.id)).all()
    return revocation_entries(list(rows))
