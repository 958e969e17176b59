"""The app factory every service uses: same plumbing, same `/health`, same error envelope, same lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from common.auth import TokenVerifier
from common.cache import CachedReads, make_cache
from common.client import Peers
from common.db import Database
from common.deps import Runtime
from common.errors import ERROR_RESPONSES, install_error_handlers
from common.logging import get_logger
from common.middleware import AdmissionLimit, RequestContextMiddleware
from common.settings import get_settings

log = get_logger("common.app")


def create_service_app(*, service: str, archive: str, title: str, routers: list[APIRouter]) -> FastAPI:
    """A FastAPI app for one service. `app.state.instance` is set by the runner before start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = get_settings()
        # One thread more than requests admitted (see AdmissionLimit): one is always free for a lock holder.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads + 1
        instance = getattr(app.state, "instance", f"{service}-local")
        verifier = TokenVerifier(settings, service, instance)
        cache = make_cache(settings)
        reads = CachedReads(cache, service, settings.cache_ttl_seconds, settings.replica_max_lag_seconds + 1.0)
        runtime = Runtime(service=service, archive=archive, instance=instance, settings=settings,
                          db=Database(service, settings), cache=cache, verifier=verifier, reads=reads,
                          peers=Peers(settings, verifier.service_tokens))
        app.state.runtime = runtime
        verifier.start()
        log.info("service_started", archive=archive)
        try:
            yield
        finally:
            verifier.stop()
            runtime.peers.close()
            runtime.reads.close()
            runtime.db.dispose()

    app = FastAPI(title=title, lifespan=lifespan, responses=ERROR_RESPONSES)
    install_error_handlers(app)
    app.add_middleware(AdmissionLimit, limit=get_settings().worker_threads)
    app.add_middleware(RequestContextMiddleware)  # added last: outermost, so waiting requests are logged too

    @app.get("/health", include_in_schema=False)
    def health(request: Request) -> JSONResponse:
        runtime: Runtime | None = getattr(request.app.state, "runtime", None)
        if runtime is None or runtime.draining:
            return JSONResponse({"status": "critical", "reason": "draining"}, status_code=503)
        if not runtime.verifier.ready():
            # Not routable until it knows current revocations (it would refuse every token anyway).
            return JSONResponse({"status": "critical", "reason": "revocations not synced"}, status_code=503)
        return JSONResponse({"status": "passing", "service": service, "instance": runtime.instance})

    for router in routers:
        app.include_router(router)
    return app
