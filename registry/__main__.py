"""``python -m registry [--host 127.0.0.1] [--port 8500]``: serve the registry with uvicorn."""

import argparse
import asyncio
import logging
import socket
from types import FrameType

import uvicorn

from registry.app import create_app
from registry.state import Catalog

_WILDCARDS = ("0.0.0.0", "::", "")


class _RegistryServer(uvicorn.Server):
    """Uvicorn, plus: on SIGINT/SIGTERM, answer held blocking queries at once.

    Otherwise uvicorn would wait up to ``?wait`` (minutes) for them before exiting, and the
    watchers would see a dropped connection instead of an answer.
    """

    def __init__(self, config: uvicorn.Config, catalog: Catalog) -> None:
        super().__init__(config)
        self._catalog = catalog
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None:
            # A signal handler may interrupt the loop anywhere; hand the work to the loop itself.
            self._loop.call_soon_threadsafe(self._catalog.release_waiters)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m registry", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8500, help="port to listen on (default 8500, Consul's)")
    parser.add_argument("--node", default="hap-registry", help="node name reported to clients")
    parser.add_argument("--datacenter", default="dc1")
    parser.add_argument(
        "--advertise", help="node address given to clients (default: --host, or 127.0.0.1 when --host is a wildcard)"
    )
    args = parser.parse_args(argv)
    advertise = args.advertise or ("127.0.0.1" if args.host in _WILDCARDS else args.host)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(args.node, args.datacenter, advertise_addr=advertise)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        # Heartbeats and long polls make an access line per second per service: noise, not news.
        access_log=False,
        # A backstop: requests still running a second after shutdown starts are cancelled.
        timeout_graceful_shutdown=1,
    )
    _RegistryServer(config, app.state.catalog).run()


if __name__ == "__main__":
    main()
