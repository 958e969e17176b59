"""The one error type of the registry API: a status code and a plain-text reason, as Consul answers."""


class APIError(Exception):
    """Answered as ``status_code`` with ``reason`` as a text/plain body (Consul never wraps errors in JSON)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


def bad_request(reason: str) -> APIError:
    return APIError(400, reason)


def unknown_check(check_id: str) -> APIError:
    return APIError(404, f"Unknown check ID {quote(check_id)}. Ensure that the check ID is passed, not the check name.")


def unknown_service(service_id: str) -> APIError:
    return APIError(
        404, f"Unknown service ID {quote(service_id)}. Ensure that the service ID is passed, not the service name."
    )


def quote(text: str) -> str:
    """Go's ``%q`` for the plain identifiers that appear in Consul's messages."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
