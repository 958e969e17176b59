"""The gateway as one ASGI app: the proxy for the service prefixes, FastAPI for its own routes, the built UI."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from common.errors import ERROR_RESPONSES, install_error_handlers
from common.logging import get_logger
from common.middleware import RequestContextMiddleware, current_request_id
from common.settings import get_settings
from gateway import api, service
from gateway.audit import request_record
from gateway.proxy import archive_of, match_route
from gateway.runtime import GatewayRuntime

log = get_logger("gateway")


def _bootstrap(runtime: GatewayRuntime) -> None:
    settings = runtime.settings
    with runtime.db.write() as session:
        generated = service.ensure_super_admin(session, settings.admin_username, settings.admin_password)
    if generated:
        # Shown once; only its hash is kept.
        print(f"\n  Super admin created: {settings.admin_username} / {generated}  (change it at first sign-in)\n",
              flush=True)


def create_api() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = GatewayRuntime(get_settings(), getattr(app.state, "instance", "gateway-local"))
        app.state.runtime = runtime
        app.state.on_drain = runtime.hub.wake_all  # answer the services' long polls at once on shutdown
        await run_in_threadpool(_bootstrap, runtime)
        await runtime.start()
        log.info("gateway_started")
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Gateway 网关", lifespan=lifespan, responses=ERROR_RESPONSES)
    install_error_handlers(app)
    for router in (api.auth, api.admin, api.wellknown, api.internal):
        app.include_router(router)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        runtime: GatewayRuntime | None = getattr(app.state, "runtime", None)
        if runtime is None or runtime.draining:
            return JSONResponse({"status": "critical"}, status_code=503)
        return JSONResponse({"status": "passing", "service": "gateway", "instance": runtime.instance})

    return app


class SinglePageApp(StaticFiles):
    """The built UI; unknown paths without a file extension get index.html so client-side routes work."""

    async def get_response(self, path: str, scope: Scope):
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as exc:  # StaticFiles raises its 404s; nothing above us turns them into answers
            if exc.status_code == 404 and "." not in path.rsplit("/", 1)[-1]:
                return await super().get_response("index.html", scope)
            return PlainTextResponse(exc.detail or "Not Found", status_code=exc.status_code)


_API_PATHS = ("/api/", "/.well-known/", "/internal/", "/docs", "/redoc", "/openapi.json", "/health")


class Gateway:
    """Dispatches each request, and writes the audit record of every `/api/...` request."""

    def __init__(self, api_app: FastAPI, ui_dir: Path | None):
        self.api = api_app
        self.state = api_app.state
        self.ui = SinglePageApp(directory=ui_dir, html=True) if ui_dir and (ui_dir / "index.html").exists() else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith(_API_PATHS) and self.ui is not None:
            await self.ui(scope, receive, send)
            return
        if not path.startswith("/api/"):
            await self.api(scope, receive, send)
            return
        runtime: GatewayRuntime = self.state.runtime
        started = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        request_id = current_request_id() or ""
        try:
            route = match_route(path)
            if route is not None:
                await runtime.proxy.handle(scope, receive, send_status, route[0], route[1], request_id)
            else:
                await self.api(scope, receive, send_status)
        finally:
            client = scope.get("client")
            await runtime.audit.record(request_record(
                method=scope["method"], path=path, status=status, started=started, archive=archive_of(path),
                principal=scope.get("state", {}).get("principal"), client_ip=client[0] if client else None,
                request_id=request_id))


def create_app() -> Any:
    settings = get_settings()
    api_app = create_api()
    app = RequestContextMiddleware(Gateway(api_app, settings.ui_dir), trust_incoming_id=False)
    app.state = api_app.state  # the runner sets `state.instance` before start-up
    return app
