"""Request and response bodies of the auth and admin API (ARCHITECTURE §11)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.archives import ARCHIVES

Archive = Literal[ARCHIVES]  # type: ignore[valid-type]
Level = Literal["read", "write"]
Role = Literal["admin", "super_admin"]
Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z][a-z0-9_.-]{2,31}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Password


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordChangeIn(Strict):
    old_password: Password
    new_password: Password


class ClientCredentialsIn(Strict):
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class GrantOut(BaseModel):
    archive: Archive
    level: Level


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    grants: list[GrantOut]


class UserDetail(UserOut):
    active: bool
    must_change_password: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    must_change_password: bool
    user: UserOut


class ServiceTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserCreate(Strict):
    username: Username
    display_name: DisplayName
    password: Password
    role: Role = "admin"


class UserUpdate(Strict):
    display_name: DisplayName | None = None
    active: bool | None = None


class GrantIn(Strict):
    archive: Archive
    level: Level


class PasswordResetOut(BaseModel):
    password: str = Field(description="The new initial password, shown once; it must be changed at next sign-in")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    user_id: int | None
    username: str | None
    client_ip: str | None
    method: str
    path: str
    archive: str | None
    status: int
    duration_ms: int
    request_id: str | None
    action: str
    detail: dict | None


class CheckOut(BaseModel):
    check_id: str
    name: str
    status: str
    output: str


class InstanceOut(BaseModel):
    id: str
    address: str
    port: int
    status: Literal["passing", "warning", "critical"]
    checks: list[CheckOut]


class ServiceOut(BaseModel):
    """A service in the registry (a name registered there that owns no archive, e.g. a helper, has none)."""

    name: str
    archive: str | None
    instances: list[InstanceOut]


class RevocationEntry(BaseModel):
    id: int
    seq: int
    jti: str | None
    user_id: int | None
    min_version: int | None
    expires_at: float


class RevocationFeed(BaseModel):
    items: list[RevocationEntry]
    epoch: str
