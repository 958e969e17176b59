"""The registry's HTTP API: the subset of Consul's agent, health, catalog and status endpoints the platform uses.

Routes only translate HTTP: they read query parameters the way Consul does, hold blocking
queries (``?index=N&wait=30s``), set Consul's ``X-Consul-*`` headers and answer errors as plain
text. The catalog (``state``) and the check runner (``checks``) do the rest.
"""

import contextlib
import random
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from registry import shapes
from registry.checks import CheckRunner, new_http_client
from registry.definitions import CRITICAL, PASSING, WARNING, parse_check_update, parse_service_definition
from registry.duration import parse_duration
from registry.errors import APIError, bad_request, quote
from registry.state import Catalog, Check, Node, Service

DEFAULT_WAIT = 300.0  # Consul holds a blocking query 5 minutes when no ?wait is given
MAX_WAIT = 600.0  # and never longer than 10 minutes
SERVER_RPC_PORT = 8300  # what /v1/status/leader reports, as a Consul server does
# Go's strconv.ParseBool, which Consul uses for ?enable and ?passing (py-consul sends "True").
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),
    **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False),
}


def create_app(
    node_name: str = "hap-registry", datacenter: str = "dc1", advertise_addr: str = "127.0.0.1"
) -> Starlette:
    """The registry as an ASGI app; ``advertise_addr`` is the node address clients fall back to."""
    catalog = Catalog(Node(name=node_name, id=str(uuid.uuid4()), address=advertise_addr, datacenter=datacenter))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with new_http_client() as client:
            app.state.runner = CheckRunner(catalog, client)
            try:
                yield
            finally:
                await app.state.runner.close()

    app = Starlette(
        routes=[
            Route("/v1/agent/self", agent_self),
            Route("/v1/agent/services", agent_services),
            Route("/v1/agent/service/register", register_service, methods=["PUT"]),
            Route("/v1/agent/service/deregister/{service_id:path}", deregister_service, methods=["PUT"]),
            Route("/v1/agent/service/maintenance/{service_id:path}", service_maintenance, methods=["PUT"]),
            Route("/v1/agent/service/{service_id:path}", agent_service),
            Route("/v1/agent/checks", agent_checks),
            Route("/v1/agent/check/pass/{check_id:path}", _ttl_update(PASSING), methods=["PUT"]),
            Route("/v1/agent/check/warn/{check_id:path}", _ttl_update(WARNING), methods=["PUT"]),
            Route("/v1/agent/check/fail/{check_id:path}", _ttl_update(CRITICAL), methods=["PUT"]),
            Route("/v1/agent/check/update/{check_id:path}", update_check, methods=["PUT"]),
            Route("/v1/health/service/{service}", health_service),
            Route("/v1/catalog/services", catalog_services),
            Route("/v1/catalog/service/{service}", catalog_service),
            Route("/v1/catalog/nodes", catalog_nodes),
            Route("/v1/status/leader", status_leader),
        ],
        exception_handlers={APIError: _api_error},
        lifespan=lifespan,
    )
    app.state.catalog = catalog
    app.state.on_drain = catalog.release_waiters  # answer held blocking queries at once on shutdown
    return app


# --- agent: writes ------------------------------------------------------------------------------


async def register_service(request: Request) -> Response:
    definition = parse_service_definition(await request.body())
    # Consul's rule: the flag alone or "=true" replaces; any other value does not.
    replace = _first(request, "replace-existing-checks") in ("", "true")
    _runner(request).register(definition, replace_existing_checks=replace)
    return Response()


async def deregister_service(request: Request) -> Response:
    _runner(request).deregister(request.path_params["service_id"])
    return Response()


async def service_maintenance(request: Request) -> Response:
    raw = _first(request, "enable")
    if raw is None:
        raise bad_request("Missing value for enable")
    enable = _GO_BOOLS.get(raw)
    if enable is None:
        raise bad_request(f"Invalid value for enable: {quote(raw)}")
    reason = _first(request, "reason") or ""
    _catalog(request).set_maintenance(request.path_params["service_id"], enable, reason)
    return Response()


def _ttl_update(status: str) -> Callable[[Request], Any]:
    """``PUT /v1/agent/check/{pass,warn,fail}/:check_id?note=``; the note becomes the check's Output."""

    async def endpoint(request: Request) -> Response:
        note = _first(request, "note") or ""
        _runner(request).update_ttl(request.path_params["check_id"], status, note)
        return Response()

    return endpoint


async def update_check(request: Request) -> Response:
    status, output = parse_check_update(await request.body())
    _runner(request).update_ttl(request.path_params["check_id"], status, output)
    return Response()


# --- agent: reads -------------------------------------------------------------------------------


async def agent_self(request: Request) -> Response:
    node = _catalog(request).node
    config = {"Datacenter": node.datacenter, "NodeName": node.name, "NodeID": node.id, "Server": True}
    return JSONResponse({"Config": config})


async def agent_services(request: Request) -> Response:
    catalog = _catalog(request)
    index = await _block(request, lambda: catalog.services_index)
    body = {service.id: shapes.agent_service(service, catalog.node.datacenter) for service in catalog.services()}
    return _query_response(body, index)


async def agent_service(request: Request) -> Response:
    catalog = _catalog(request)
    service_id = request.path_params["service_id"]
    service = catalog.service(service_id)
    if service is None:
        raise APIError(404, f"unknown service ID: {service_id}")
    body = shapes.agent_service_with_hash(service, catalog.node.datacenter)
    return JSONResponse(body, headers={"X-Consul-ContentHash": body["ContentHash"]})


async def agent_checks(request: Request) -> Response:
    catalog = _catalog(request)
    index = await _block(request, lambda: catalog.index)
    return _query_response({check.check_id: _check_shape(catalog, check) for check in catalog.checks()}, index)


# --- health, catalog, status --------------------------------------------------------------------


async def health_service(request: Request) -> Response:
    catalog = _catalog(request)
    name = request.path_params["service"]
    passing_only = _bool_flag(request, "passing")
    tags = request.query_params.getlist("tag")
    index = await _block(request, lambda: catalog.name_index(name))
    entries = []
    for service in _with_tags(catalog.instances(name), tags):
        checks = [catalog.serf_health, *catalog.checks_of(service.id)]
        # Consul's ?passing keeps only instances whose every check passes: warning is out too.
        if passing_only and any(check.status != PASSING for check in checks):
            continue
        entries.append(
            {
                "Node": shapes.node(catalog.node),
                "Service": shapes.node_service(service),
                "Checks": [_check_shape(catalog, check) for check in checks],
            }
        )
    return _query_response(entries, index)


async def catalog_services(request: Request) -> Response:
    catalog = _catalog(request)
    index = await _block(request, lambda: catalog.services_index)
    tags: dict[str, set[str]] = {}
    for service in catalog.services():
        tags.setdefault(service.name, set()).update(service.tags)
    return _query_response({name: sorted(tags[name]) for name in sorted(tags)}, index)


async def catalog_service(request: Request) -> Response:
    catalog = _catalog(request)
    name = request.path_params["service"]
    tags = request.query_params.getlist("tag")
    index = await _block(request, lambda: catalog.name_index(name))
    body = [shapes.catalog_service(service, catalog.node) for service in _with_tags(catalog.instances(name), tags)]
    return _query_response(body, index)


async def catalog_nodes(request: Request) -> Response:
    catalog = _catalog(request)
    index = await _block(request, lambda: 1)  # the single node never changes
    return _query_response([shapes.node(catalog.node)], index)


async def status_leader(request: Request) -> Response:
    return JSONResponse(f"{_catalog(request).node.address}:{SERVER_RPC_PORT}")


# --- helpers ------------------------------------------------------------------------------------


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def _runner(request: Request) -> CheckRunner:
    runner: CheckRunner = request.app.state.runner
    return runner


def _first(request: Request, name: str) -> str | None:
    """The first value of a query parameter, as Go's ``url.Values.Get`` reads it; None when absent."""
    values = request.query_params.getlist(name)
    return values[0] if values else None


def _bool_flag(request: Request, name: str) -> bool:
    """Consul's boolean query flags: absent is false, bare (``?passing``) is true, else ParseBool."""
    raw = _first(request, name)
    if raw is None:
        return False
    if raw == "":
        return True
    value = _GO_BOOLS.get(raw)
    if value is None:
        raise bad_request(f"Invalid value for ?{name}")
    return value


async def _block(request: Request, index_of: Callable[[], int]) -> int:
    """Hold a blocking query until ``index_of()`` passes ``?index`` or ``?wait`` runs out; returns the index."""
    raw_wait = _first(request, "wait") or ""
    try:
        wait = parse_duration(raw_wait) if raw_wait else 0.0
    except ValueError:
        raise bad_request("Invalid wait time") from None
    raw_index = _first(request, "index") or ""
    if raw_index and not re.fullmatch(r"[0-9]+", raw_index):
        raise bad_request("Invalid index")
    min_index = int(raw_index or 0)
    if min_index:
        wait = min(wait, MAX_WAIT) if wait > 0 else DEFAULT_WAIT
        # Consul adds up to wait/16 of jitter so that many watchers do not all wake at once.
        await _catalog(request).wait_past(min_index, index_of, wait + random.uniform(0, wait / 16))
    return index_of()


def _query_response(body: Any, index: int) -> JSONResponse:
    return JSONResponse(
        body, headers={"X-Consul-Index": str(index), "X-Consul-KnownLeader": "true", "X-Consul-LastContact": "0"}
    )


def _check_shape(catalog: Catalog, check: Check) -> dict[str, Any]:
    service = catalog.service(check.service_id)
    return shapes.health_check(check, catalog.node.name, service.tags if service else [])


def _with_tags(services: list[Service], tags: list[str]) -> list[Service]:
    """Instances carrying every tag in ``tags``, compared case-insensitively as Consul does."""
    wanted = {tag.lower() for tag in tags}
    return [service for service in services if wanted <= {tag.lower() for tag in service.tags}]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return PlainTextResponse(exc.reason, status_code=exc.status_code)
