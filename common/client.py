"""Calling another service: discovery through the registry, round-robin, short timeouts, retries of idempotent
requests on another instance, and a circuit breaker per instance (shared logic in `common.discovery`).

    client = ServiceClient(settings, "dms")
    response = client.request("POST", "/internal/slots/book", token=service_token, json={...})

A call on behalf of a user passes the user's token; background work passes the service's own token.
"""

from __future__ import annotations

import threading

import httpx

from common.discovery import IDEMPOTENT, MAX_ATTEMPTS, RETRY_STATUSES, Balancer, Watcher
from common.errors import ServiceUnavailable
from common.logging import get_logger
from common.middleware import current_request_id
from common.settings import Settings

log = get_logger("common.client")

__all__ = ["IDEMPOTENT", "MAX_ATTEMPTS", "RETRY_STATUSES", "ServiceClient"]


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

    def request(self, method: str, path: str, *, token: str, **kwargs) -> httpx.Response:
        self._instances_ready()
        candidates = self.balancer.candidates()
        if not candidates:
            raise ServiceUnavailable(f"No instance of {self.service} is available", code="service.no_instance",
                                     detail={"service": self.service})
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
                if last or method not in IDEMPOTENT:
                    break
                continue
            if response.status_code in RETRY_STATUSES:
                self.balancer.failed(instance)  # an instance answering 502/503/504 is not healthy
                if method in IDEMPOTENT and not last:
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
