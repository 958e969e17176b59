"""Calling another service: discovery through the registry, round-robin, short timeouts, retries of idempotent
requests on another instance, and a circuit breaker per instance (shared logic in `common.discovery`).

    client = ServiceClient(settings, "dms")
    response = client.request("POST", "/internal/slots/book", token=service_token, json={...})

A call on behalf of a user passes the user's token; background work passes the service's own token.

`Peers` is what a service holds: one `ServiceClient` per peer service and its own service token, so that

    body = peers.call("dms", "POST", "/internal/schedules/7/book", json={"registration_no": "R…"})

returns the peer's JSON on success and raises an `AppError` otherwise: the peer's own error envelope, status
and code passed through for a 4xx (so `schedule.full` reaches the client as the peer said it), and a 503
(`service.unavailable`) when the peer cannot be reached or fails.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from common.discovery import IDEMPOTENT, MAX_ATTEMPTS, RETRY_STATUSES, Balancer, Watcher
from common.errors import AppError, ServiceUnavailable
from common.logging import get_logger
from common.middleware import current_request_id
from common.settings import Settings

log = get_logger("common.client")

__all__ = ["IDEMPOTENT", "MAX_ATTEMPTS", "RETRY_STATUSES", "PeerError", "Peers", "ServiceClient"]


class ServiceClient:
    def __init__(self, settings: Settings, service: str):
        self.service = service
        self.balancer = Balancer(service, settings.breaker_failures, settings.breaker_reset_seconds)
        self._watcher: Watcher | None = None
        self._settings = settings
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=httpx.Timeout(settings.client_timeout_seconds, connect=1.0))

    def _instances_ready(self) -> None:
        with self._lock:
            if self._watcher is None:
                self._watcher = Watcher(self._settings, self.balancer)
        self._watcher.wait_ready(3.0)

    def request(self, method: str, path: str, *, token: str, retry: bool = False, **kwargs) -> httpx.Response:
        """One call, on the first healthy instance; idempotent methods (or `retry=True`, for a POST that is
        idempotent by its body, like booking by registration number) move on to another instance on failure."""
        self._instances_ready()
        candidates = self.balancer.candidates()
        if not candidates:
            raise ServiceUnavailable(f"No instance of {self.service} is available", code="service.unavailable",
                                     detail={"service": self.service, "reason": "no_instance"})
        method = method.upper()
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        if request_id := current_request_id():
            headers["X-Request-ID"] = request_id
        attempts = candidates[:MAX_ATTEMPTS]
        for n, instance in enumerate(attempts):
            last = n == len(attempts) - 1
            try:
                response = self._http.request(method, instance.base_url + path, headers=headers, **kwargs)
            except httpx.ConnectError as exc:
                self.balancer.failed(instance)  # nothing was sent: any method may go elsewhere
                log.warning("call_connect_failed", target=instance.id, error=str(exc))
                if last:
                    break
                continue
            except httpx.TransportError as exc:
                self.balancer.failed(instance)
                log.warning("call_failed", target=instance.id, error=str(exc) or type(exc).__name__)
                if last or not (retry or method in IDEMPOTENT):
                    break
                continue
            if response.status_code in RETRY_STATUSES:
                self.balancer.failed(instance)  # an instance answering 502/503/504 is not healthy
                if (retry or method in IDEMPOTENT) and not last:
                    continue
            else:
                self.balancer.succeeded(instance)
            return response
        raise ServiceUnavailable(f"{self.service} did not answer", code="service.unavailable",
                                 detail={"service": self.service})

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._http.close()


class PeerError(AppError):
    """A peer service's error response, passed through with its own status, code, message and detail."""

    def __init__(self, status_code: int, envelope: dict[str, Any]):
        self.status_code = status_code
        super().__init__(envelope.get("message") or "The request was refused", code=envelope.get("code"),
                         detail=envelope.get("detail"))


class Peers:
    """The other services this one calls, with this service's own token (client credentials)."""

    def __init__(self, settings: Settings, tokens: Any):
        self._settings, self._tokens = settings, tokens  # tokens: common.auth.ServiceTokens
        self._clients: dict[str, ServiceClient] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> ServiceClient:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = ServiceClient(self._settings, service)
            return self._clients[service]

    def call(self, service: str, method: str, path: str, *, retry: bool = False, **kwargs: Any) -> Any:
        """The peer's JSON body (None for 204); a PeerError for its 4xx, ServiceUnavailable otherwise."""
        client = self.client(service)
        try:
            token = self._tokens.get()
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("Could not obtain a service token", code="service.unavailable",
                                     detail={"service": "gateway"}) from exc
        response = client.request(method, path, token=token, retry=retry, **kwargs)
        if response.status_code == 401:  # the token expired or was rotated: one fresh try
            self._tokens.reset()
            response = client.request(method, path, token=self._tokens.get(), retry=retry, **kwargs)
        if response.is_success:
            return None if response.status_code == 204 or not response.content else response.json()
        envelope = _envelope(response)
        if 400 <= response.status_code < 500 and response.status_code not in (401, 403) and envelope:
            raise PeerError(response.status_code, envelope)
        # Our own credentials refused, or the peer failed: to our caller that is the peer being unavailable.
        log.warning("peer_call_failed", target=service, path=path, status=response.status_code,
                    code=(envelope or {}).get("code"))
        raise ServiceUnavailable(f"{service} could not answer", code="service.unavailable",
                                 detail={"service": service, "status": response.status_code})

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("code"), str) else None
