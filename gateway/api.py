"""Routes of the gateway itself: `/api/auth`, `/api/admin`, the JWKS, and the internal revocation feed."""

from __future__ import annotations

from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime

from common.archives import ARCHIVE_SERVICES
from common.auth import Principal, bearer_token, ensure_service
from common.errors import Forbidden, ServiceUnavailable
from common.logging import bind_context
from common.middleware import current_request_id
from common.pagination import Page, Pagination
from common.types import MAX_ID
from gateway import schemas, service
from gateway.runtime import GatewayRuntime

ARCHIVE_OF_SERVICE = {service: archive for archive, service in ARCHIVE_SERVICES.items()}


def get_runtime(request: Request) -> GatewayRuntime:
    return request.app.state.runtime


Runtime = Annotated[GatewayRuntime, Depends(get_runtime)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def _principal(request: Request, runtime: Runtime) -> Principal:
    principal = runtime.authenticate(bearer_token(request.headers.get("authorization")))
    request.state.principal = principal
    bind_context(user=principal.username)
    return principal


async def signed_in(request: Request, principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Any signed-in user; with an initial password only the password change, `me` and logout are open."""
    if principal.must_change_password and request.url.path not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        raise Forbidden("The initial password must be changed first", code="auth.password_change_required")
    if principal.is_service:
        raise Forbidden("Service tokens cannot use this route", code="auth.users_only")
    return principal


async def super_admin(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    if principal.role != "super_admin":
        raise Forbidden("Only the super admin may do this", code="auth.super_admin_only")
    return principal


async def service_caller(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    return ensure_service(principal)


SignedIn = Annotated[Principal, Depends(signed_in)]
SuperAdmin = Annotated[Principal, Depends(super_admin)]
ServiceCaller = Annotated[Principal, Depends(service_caller)]

ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset({"/api/auth/password", "/api/auth/me", "/api/auth/logout"})


def audit_context(request: Request) -> dict[str, Any]:
    """Who and where, for security events recorded by the service layer."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return {
        "client_ip": request.client.host if request.client else None, "method": request.method,
        "path": request.url.path, "request_id": current_request_id(),
        "user_id": principal.user_id if principal else None, "username": principal.username if principal else None,
    }


auth = APIRouter(prefix="/api/auth", tags=["auth"])
admin = APIRouter(prefix="/api/admin", tags=["admin"])
wellknown = APIRouter(tags=["keys"])
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


# -- sign-in and tokens ----------------------------------------------------------------------------------------


@auth.post("/login", response_model=schemas.TokenOut)
async def login(body: schemas.LoginIn, request: Request, runtime: Runtime) -> schemas.TokenOut:
    return await runtime.transact(service.login, runtime.signer, runtime.settings, body.username, body.password,
                                  audit_context(request))


@auth.post("/refresh", response_model=schemas.TokenOut)
async def refresh(body: schemas.RefreshIn, request: Request, runtime: Runtime) -> schemas.TokenOut:
    return await runtime.transact(service.refresh, runtime.signer, runtime.settings, body.refresh_token,
                                  audit_context(request))


@auth.post("/logout", status_code=204, response_class=Response)
async def logout(principal: SignedIn, runtime: Runtime) -> Response:
    await runtime.transact(service.logout, principal)
    return Response(status_code=204)


@auth.get("/me", response_model=schemas.UserOut)
async def me(principal: SignedIn, runtime: Runtime) -> schemas.UserOut:
    return await runtime.read(service.me, principal, reader=principal)


@auth.post("/password", response_model=schemas.TokenOut)
async def change_password(body: schemas.PasswordChangeIn, request: Request, principal: SignedIn,
                          runtime: Runtime) -> schemas.TokenOut:
    return await runtime.transact(service.change_password, runtime.signer, runtime.settings, principal,
                                  body.old_password, body.new_password, audit_context(request), writer=principal)


@auth.post("/token", response_model=schemas.ServiceTokenOut)
async def client_credentials(body: schemas.ClientCredentialsIn, runtime: Runtime) -> schemas.ServiceTokenOut:
    return service.service_token(runtime.signer, runtime.settings, body.client_id, body.client_secret)


@wellknown.get("/.well-known/jwks.json")
async def jwks(runtime: Runtime) -> dict[str, Any]:
    assert runtime.signer is not None
    return runtime.signer.jwks


@internal.get("/revocations", response_model=schemas.RevocationFeed)
async def revocations(_: ServiceCaller, runtime: Runtime, after: Annotated[int, Query(ge=0)] = 0,
                      epoch: Annotated[str, Query(max_length=32)] = "",
                      wait: Annotated[float, Query(ge=0, le=60)] = 0,
                      watcher: Annotated[str, Query(max_length=128)] = "anonymous") -> dict[str, Any]:
    items = await runtime.hub.follow(watcher, after, epoch, wait)
    return {"items": items, "epoch": runtime.hub.epoch}


# -- users and grants ------------------------------------------------------------------------------------------


@admin.get("/users", response_model=Page[schemas.UserDetail])
async def list_users(principal: SuperAdmin, runtime: Runtime, page: Pagination,
                     q: Annotated[str | None, Query(max_length=64)] = None,
                     role: schemas.Role | None = None, active: bool | None = None) -> dict[str, Any]:
    items, total = await runtime.read(service.list_users, page, q, role, active, reader=principal)
    return {"items": items, "total": total, "page": page.page, "size": page.size}


@admin.post("/users", response_model=schemas.UserDetail, status_code=201)
async def create_user(body: schemas.UserCreate, request: Request, principal: SuperAdmin,
                      runtime: Runtime) -> schemas.UserDetail:
    return await runtime.write(service.create_user, body, audit_context(request), writer=principal)


@admin.get("/users/{user_id}", response_model=schemas.UserDetail)
async def get_user(user_id: UserId, principal: SuperAdmin, runtime: Runtime) -> schemas.UserDetail:
    return await runtime.read(service.user_detail, user_id, reader=principal)


@admin.patch("/users/{user_id}", response_model=schemas.UserDetail)
async def update_user(user_id: UserId, body: schemas.UserUpdate, request: Request, principal: SuperAdmin,
                      runtime: Runtime) -> schemas.UserDetail:
    return await runtime.transact(service.update_user, principal, user_id, body, audit_context(request),
                                  writer=principal)


@admin.post("/users/{user_id}/reset-password", response_model=schemas.PasswordResetOut)
async def reset_password(user_id: UserId, request: Request, principal: SuperAdmin,
                         runtime: Runtime) -> schemas.PasswordResetOut:
    return await runtime.transact(service.reset_password, principal, user_id, audit_context(request),
                                  writer=principal)


@admin.get("/users/{user_id}/grants", response_model=list[schemas.GrantOut])
async def get_grants(user_id: UserId, principal: SuperAdmin, runtime: Runtime) -> list[schemas.GrantOut]:
    user = await runtime.read(service.user_detail, user_id, reader=principal)
    return user.grants


@admin.put("/users/{user_id}/grants", response_model=list[schemas.GrantOut])
async def put_grants(user_id: UserId, body: list[schemas.GrantIn], request: Request, principal: SuperAdmin,
                     runtime: Runtime) -> list[schemas.GrantOut]:
    return await runtime.transact(service.set_grants, user_id, body, audit_context(request), writer=principal)


# -- audit and services ----------------------------------------------------------------------------------------


@admin.get("/audit", response_model=Page[schemas.AuditOut])
async def audit(principal: SuperAdmin, runtime: Runtime, page: Pagination,
                user: Annotated[str | None, Query(max_length=64, description="username or user id")] = None,
                archive: Annotated[str | None, Query(max_length=16)] = None,
                status: Annotated[int | None, Query(ge=100, le=599)] = None,
                status_class: Annotated[int | None, Query(ge=1, le=5, description="2 for 2xx, 4 for 4xx…")] = None,
                action: Annotated[str | None, Query(max_length=32)] = None,
                method: Annotated[str | None, Query(max_length=8)] = None,
                since: AwareDatetime | None = None, until: AwareDatetime | None = None) -> dict[str, Any]:
    rows, total = await runtime.read(
        lambda s: service.search_audit(s, page, user=user, archive=archive, status=status, status_class=status_class,
                                       action=action, method=method, since=since, until=until), reader=principal)
    return {"items": [schemas.AuditOut.model_validate(r) for r in rows], "total": total, "page": page.page,
            "size": page.size}


@admin.get("/services", response_model=Page[schemas.ServiceOut])
async def services(_: SuperAdmin, runtime: Runtime) -> dict[str, Any]:
    """Every service in the registry with its instances and their health checks."""
    assert runtime.proxy.session is not None
    base = runtime.settings.registry_base
    try:
        async with runtime.proxy.session.get(f"{base}/v1/catalog/services",
                                             timeout=aiohttp.ClientTimeout(total=3)) as response:
            response.raise_for_status()
            names = sorted(await response.json())
        out = []
        for name in names:
            async with runtime.proxy.session.get(f"{base}/v1/health/service/{name}",
                                                 timeout=aiohttp.ClientTimeout(total=3)) as response:
                response.raise_for_status()
                entries = await response.json()
            out.append(schemas.ServiceOut(name=name, archive=ARCHIVE_OF_SERVICE.get(name),
                                          instances=[_instance(e) for e in entries]))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable("The registry is not reachable", code="registry.unavailable") from exc
    return {"items": out, "total": len(out), "page": 1, "size": max(len(out), 1)}


def _instance(entry: dict[str, Any]) -> schemas.InstanceOut:
    checks = [schemas.CheckOut(check_id=c.get("CheckID", ""), name=c.get("Name", ""), status=c.get("Status", ""),
                               output=(c.get("Output") or "")[:500]) for c in entry.get("Checks", [])]
    statuses = {c.status for c in checks}
    status = "critical" if "critical" in statuses else "warning" if "warning" in statuses else "passing"
    svc = entry["Service"]
    return schemas.InstanceOut(id=svc["ID"], address=svc.get("Address") or entry["Node"]["Address"],
                               port=svc["Port"], status=status, checks=checks)
