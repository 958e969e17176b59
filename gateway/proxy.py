"""The proxy: `/api/<archive>/…` → a passing instance of the owning service, after the permission check.

Kept lean on purpose (it is on every request): a plain ASGI handler, one pooled aiohttp client, whole bodies for
small messages and streaming for large ones, token verification cached per token (revocation checked every
time). Instances come from the registry by blocking queries; `common.discovery.Balancer` chooses among them.

Retries go to another instance: always when the connection could not be made (nothing was sent), and for
idempotent methods also after a dropped connection, a timeout or a 502/503/504.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import aiohttp
import orjson
import yarl

from common.archives import ARCHIVE_SERVICES, gateway_prefix
from common.auth import Principal, authorize, bearer_token
from common.discovery import IDEMPOTENT, MAX_ATTEMPTS, RETRY_STATUSES, Balancer, Instance, instances_from_health
from common.errors import AppError, BadRequest
from common.logging import bind_context, get_logger
from common.settings import Settings

log = get_logger("gateway.proxy")

# Gateway prefix → (registered service name, archive).
ROUTES: dict[str, tuple[str, str]] = {
    gateway_prefix(archive): (service, archive) for archive, service in ARCHIVE_SERVICES.items()
}
WHOLE_BODY_LIMIT = 256 * 1024
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
    b"transfer-encoding", b"upgrade", b"host", b"content-length",
})
# Also the headers the gateway's own server writes on every response: relaying the upstream's would send two.
_RESPONSE_SKIP = frozenset(h.decode() for h in HOP_BY_HOP) | {"date", "server"}


def match_route(path: str) -> tuple[str, str] | None:
    for prefix, target in ROUTES.items():
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            return target
    return None


def archive_of(path: str) -> str | None:
    route = match_route(path)
    if route is not None:
        return route[1]
    if path.startswith(("/api/auth", "/api/admin")):
        return "system"
    return None


async def send_error(send: Callable[[dict], Awaitable[None]], error: AppError) -> None:
    body = orjson.dumps(error.envelope())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status_code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))


class NoInstance(AppError):
    status_code = 503
    code = "gateway.no_instance"
    message = "No instance of the service is available"


class UpstreamFailed(AppError):
    status_code = 503
    code = "gateway.upstream_unavailable"
    message = "The service did not answer"


class Proxy:
    def __init__(self, settings: Settings, authenticate: Callable[[str], Principal]):
        self.settings = settings
        self.authenticate = authenticate
        self.balancers = {name: Balancer(name, settings.breaker_failures, settings.breaker_reset_seconds)
                          for name, _ in ROUTES.values()}
        self.session: aiohttp.ClientSession | None = None
        self._watchers: list[asyncio.Task] = []

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=1024, limit_per_host=256, keepalive_timeout=15, ttl_dns_cache=None)
        self.session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent", "Accept-Encoding"),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=1.0, sock_read=30.0),
        )
        for balancer in self.balancers.values():
            self._watchers.append(asyncio.create_task(self._watch(balancer), name=f"watch-{balancer.name}"))

    async def close(self) -> None:
        for task in self._watchers:
            task.cancel()
        if self.session is not None:
            await self.session.close()

    async def _watch(self, balancer: Balancer) -> None:
        """Keep the balancer's instance list current with Consul blocking queries."""
        assert self.session is not None
        url = f"{self.settings.registry_base}/v1/health/service/{balancer.name}"
        index = "0"
        while True:
            try:
                async with self.session.get(
                    url, params={"passing": "1", "index": index, "wait": "20s"},
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as response:
                    response.raise_for_status()
                    entries = await response.json()
                    new_index = response.headers.get("X-Consul-Index", "0")
                # An index that goes backwards means the registry restarted: start over, as Consul advises.
                index = new_index if new_index.isdigit() and int(new_index) >= int(index) else "0"
                instances = instances_from_health(entries)
                if instances != balancer.instances:
                    log.info("instances_changed", target=balancer.name, instances=[i.id for i in instances])
                balancer.update(instances)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("discovery_unavailable", target=balancer.name, error=str(exc) or type(exc).__name__)
                index = "0"
                await asyncio.sleep(1.0)

    async def handle(self, scope: dict[str, Any], receive: Callable, send: Callable, service: str,
                     archive: str, request_id: str) -> None:
        method = scope["method"]
        headers = scope["headers"]
        try:
            authorization = next((v.decode("latin-1") for k, v in headers if k == b"authorization"), None)
            principal = self.authenticate(bearer_token(authorization))
            scope.setdefault("state", {})["principal"] = principal
            bind_context(user=principal.username)
            authorize(principal, archive, method)
        except AppError as error:
            await send_error(send, error)
            return

        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        if _has_dot_segment(scope["path"]) or _has_dot_segment(unquote(path)):
            # The permission was decided on this path; one that a client or proxy would normalise elsewhere
            # ("/api/datacenter/../outpatient/...") is refused rather than forwarded.
            await send_error(send, BadRequest("Paths with '.' or '..' segments are not accepted",
                                              code="request.bad_path"))
            return
        try:
            body, stream = await self._request_body(headers, receive)
        except ClientGone:
            return
        forward = self._forward_headers(scope, request_id)
        if scope.get("query_string"):
            path = f"{path}?{scope['query_string'].decode('latin-1')}"

        balancer = self.balancers[service]
        candidates = balancer.candidates()
        if not candidates:
            await send_error(send, NoInstance(f"No instance of {service} is available", detail={"service": service}))
            return
        retry_any_method = stream is None
        for attempt, instance in enumerate(candidates[:MAX_ATTEMPTS]):
            last = attempt == min(len(candidates), MAX_ATTEMPTS) - 1
            try:
                response = await self._send(instance, method, path, forward, body, stream)
            except aiohttp.ClientConnectorError as exc:
                # Nothing reached the instance: safe to try another one whatever the method.
                balancer.failed(instance)
                log.warning("upstream_connect_failed", target=instance.id, error=str(exc))
                if last or not retry_any_method:
                    break
                continue
            except (TimeoutError, aiohttp.ClientError) as exc:
                balancer.failed(instance)
                log.warning("upstream_failed", target=instance.id, error=str(exc) or type(exc).__name__)
                if last or method not in IDEMPOTENT or stream is not None:
                    break
                continue
            if response.status in RETRY_STATUSES:
                balancer.failed(instance)  # an instance answering 502/503/504 is not healthy
                if method in IDEMPOTENT and not last and stream is None:
                    response.release()
                    continue
            else:
                balancer.succeeded(instance)
            await self._relay(response, send, method)
            return
        await send_error(send, UpstreamFailed(f"{service} did not answer", detail={"service": service}))

    async def _request_body(self, headers: list, receive: Callable) -> tuple[bytes, Any]:
        """Small bodies are read whole (so they can be retried); large or chunked ones are streamed. A client
        that goes away mid-body ends the request: a truncated body is never forwarded."""
        length = next((v for k, v in headers if k == b"content-length"), None)
        if length is not None and int(length) <= WHOLE_BODY_LIMIT:
            chunks = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            return b"".join(chunks), None
        if length is None and not any(k == b"transfer-encoding" for k, _ in headers):
            return b"", None

        async def stream():
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                yield message.get("body", b"")
                more = message.get("more_body", False)

        return b"", stream()

    def _forward_headers(self, scope: dict[str, Any], request_id: str) -> dict[str, str]:
        forward = {}
        for key, value in scope["headers"]:
            if key in HOP_BY_HOP or key == b"x-request-id":
                continue
            forward[key.decode("latin-1")] = value.decode("latin-1")
        forward["x-request-id"] = request_id
        client = scope.get("client")
        if client:
            prior = forward.get("x-forwarded-for")
            forward["x-forwarded-for"] = f"{prior}, {client[0]}" if prior else client[0]
        return forward

    async def _send(self, instance: Instance, method: str, path: str, headers: dict[str, str], body: bytes,
                    stream: Any) -> aiohttp.ClientResponse:
        assert self.session is not None
        # encoded=True: forward the path exactly as checked, without yarl normalising it again.
        url = yarl.URL(instance.base_url + path, encoded=True)
        return await self.session.request(method, url, headers=headers,
                                          data=stream if stream is not None else body, allow_redirects=False)

    async def _relay(self, response: aiohttp.ClientResponse, send: Callable, method: str) -> None:
        if method == "HEAD":  # no body follows; the upstream's Content-Length describes the GET
            headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
                       if k.lower() not in _RESPONSE_SKIP or k.lower() == "content-length"]
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            response.release()
            return
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
                   if k.lower() not in _RESPONSE_SKIP]
        try:
            if response.content_length is not None and response.content_length <= WHOLE_BODY_LIMIT:
                body = await response.read()
                headers.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": response.status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if response.content_length is not None:  # streamed, but the client may still know the size
                headers.append((b"content-length", str(response.content_length).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            async for chunk in response.content.iter_chunked(64 * 1024):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            response.release()
