"""Running one component under uvicorn: bind, register, serve, and on SIGTERM drain before exiting.

Shutdown order on SIGTERM: deregister (callers stop choosing this instance), answer `/health` with 503, keep
serving for `drain_seconds` so requests already routed here finish, then let uvicorn close the listener and
wait for in-flight requests. A second signal forces the exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn

from common.discovery import Registration
from common.logging import configure_logging, get_logger
from common.settings import get_settings

log = get_logger("common.serve")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Any, registration: Registration | None):
        super().__init__(config)
        self._app, self._registration = app, registration
        self._draining = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            self.force_exit = True
            self.should_exit = True
            return
        self._draining = True
        log.info("draining", signal=signal.Signals(sig).name)
        # Components holding long requests (the registry's blocking queries) answer them now, on their loop.
        on_drain = getattr(self._app.state, "on_drain", None)
        if on_drain is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(on_drain)
        threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _drain(self) -> None:
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is not None:
            runtime.draining = True
        if self._registration is not None:
            self._registration.deregister()
            # Give callers' registry watches time to drop us before the listener closes.
            threading.Event().wait(get_settings().drain_seconds)
        self.should_exit = True


def advertised_address(advertise_host: str, bind_host: str) -> str:
    """Where others reach us: the configured address, else the bind address unless it is a wildcard."""
    if advertise_host:
        return advertise_host
    if bind_host in ("0.0.0.0", "::", ""):
        return socket.gethostbyname(socket.gethostname())
    return bind_host


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(component: str, app_factory: Any, *, host: str, port: int, register: bool) -> None:
    settings = get_settings()
    sock = bind_socket(host, port)
    port = sock.getsockname()[1]
    address = advertised_address(settings.advertise_host, host)
    instance = f"{component}-{address}-{port}"
    configure_logging(component, instance, settings.log_level, settings.log_dir)
    app = app_factory()
    app.state.instance = instance
    registration = Registration(settings, component, address, port) if register else None
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=30,
        loop="uvloop", http="httptools", server_header=False, timeout_keep_alive=30,
        # X-Forwarded-For is believed only from proxies named in uvicorn's FORWARDED_ALLOW_IPS (production's
        # nginx); otherwise any local client could write another address into the audit log.
        proxy_headers=bool(os.environ.get("FORWARDED_ALLOW_IPS")),
    )
    server = DrainingServer(config, app, registration)
    log.info("listening", host=host, port=port)
    if registration is not None:
        # Register only once the app has started, so the first health check already finds it ready.
        original_startup = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original_startup(sockets=sockets)
            registration.start()

        server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])
