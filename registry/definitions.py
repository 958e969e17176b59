"""Request bodies of the agent endpoints, decoded and validated as Consul does.

Consul matches JSON keys case-insensitively and also accepts snake_case (``py-consul`` sends
``"name"``, ``"checks"``, ``"http"``; config files use ``deregister_critical_service_after``), so
keys are folded before lookup. Error reasons follow Consul's wording so that a client's logs read
the same against this registry and against a real agent.
"""

import json
from dataclasses import dataclass
from typing import Any

from registry.duration import parse_duration
from registry.errors import bad_request

PASSING = "passing"
WARNING = "warning"
CRITICAL = "critical"
STATUSES = (PASSING, WARNING, CRITICAL)

# Check kinds a real agent runs but this stand-in does not; registering one must fail loudly
# instead of leaving a check that never runs (and so stays critical forever).
_UNSUPPORTED_CHECK_KEYS = (
    "args",
    "scriptargs",
    "tcp",
    "udp",
    "grpc",
    "h2ping",
    "dockercontainerid",
    "osservice",
    "aliasservice",
    "aliasnode",
)


@dataclass(frozen=True)
class CheckDefinition:
    """One entry of ``Check``/``Checks`` in a service registration; durations in seconds, 0 when unset."""

    check_id: str
    name: str
    notes: str
    status: str
    http: str
    method: str
    header: dict[str, list[str]]
    interval: float
    timeout: float
    ttl: float
    deregister_critical_service_after: float

    @property
    def type(self) -> str:
        return "http" if self.http else "ttl"


@dataclass(frozen=True)
class ServiceDefinition:
    """The body of ``PUT /v1/agent/service/register``."""

    id: str
    name: str
    address: str
    port: int
    tags: list[str]
    meta: dict[str, str]
    weights: dict[str, int]
    enable_tag_override: bool
    checks: list[CheckDefinition]


def parse_service_definition(body: bytes) -> ServiceDefinition:
    raw = _fold(_decode(body), "ServiceDefinition")
    name = _string(raw, "name", "Name")
    if not name:
        raise bad_request("Missing service name")
    address = _string(raw, "address", "Address")
    if address in ("0.0.0.0", "::", "[::]"):
        # Consul refuses these: a caller cannot connect to "any address".
        raise bad_request("Invalid service address")
    check_bodies = [_fold(item, "CheckType") for item in _list(raw, "checks", "Checks", dict)]
    single = raw.get("check")
    if single:  # Consul skips an empty "Check": {}
        check_bodies.insert(0, _fold(single, "CheckType"))
    return ServiceDefinition(
        id=_string(raw, "id", "ID") or name,
        name=name,
        address=address,
        port=_integer(raw, "port", "Port"),
        tags=_list(raw, "tags", "Tags", str),
        meta=_string_map(raw, "meta", "Meta"),
        weights=_weights(raw),
        enable_tag_override=_boolean(raw, "enabletagoverride", "EnableTagOverride"),
        checks=[_check_definition(check) for check in check_bodies],
    )


def parse_check_update(body: bytes) -> tuple[str, str]:
    """``(Status, Output)`` from the body of ``PUT /v1/agent/check/update/:check_id``."""
    raw = _fold(_decode(body), "checkUpdate")
    status = _string(raw, "status", "Status")
    if status not in STATUSES:
        raise bad_request(f"Invalid check status: '{status}'")
    return status, _string(raw, "output", "Output")


def _check_definition(raw: dict[str, Any]) -> CheckDefinition:
    if any(raw.get(key) for key in _UNSUPPORTED_CHECK_KEYS):
        raise bad_request("Invalid check: only HTTP and TTL checks are supported by this registry")
    check = CheckDefinition(
        check_id=_string(raw, "checkid", "CheckID") or _string(raw, "id", "ID"),
        name=_string(raw, "name", "Name"),
        notes=_string(raw, "notes", "Notes"),
        status=_string(raw, "status", "Status"),
        http=_string(raw, "http", "HTTP"),
        method=_string(raw, "method", "Method") or "GET",
        header=_header(raw),
        interval=_duration(raw, "interval", "Interval"),
        timeout=_duration(raw, "timeout", "Timeout"),
        ttl=_duration(raw, "ttl", "TTL"),
        deregister_critical_service_after=_duration(
            raw, "deregistercriticalserviceafter", "DeregisterCriticalServiceAfter"
        ),
    )
    # The same rules, in the same order, as Consul's CheckType.Validate.
    if check.interval > 0 and check.ttl > 0:
        raise bad_request("Invalid check: Interval and TTL cannot both be specified")
    if check.http and check.interval <= 0:
        raise bad_request("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks")
    if not check.http and check.ttl <= 0:
        raise bad_request("Invalid check: TTL must be > 0 for TTL checks")
    if check.status and check.status not in STATUSES:
        raise bad_request("Status for checks must 'passing', 'warning', 'critical'")
    return check


def _decode(body: bytes) -> Any:
    if not body.strip():
        raise bad_request("Request decode failed: EOF")  # what Go's json.Decoder says about an empty body
    try:
        return json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise bad_request(f"Request decode failed: {exc}") from None


def _fold(value: Any, go_type: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(value, go_type, "object")
    return {key.replace("_", "").lower(): item for key, item in value.items()}


def _type_error(value: Any, field_name: str, expected: str) -> Exception:
    found = {bool: "bool", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    kind = found.get(type(value), "null")
    return bad_request(f"Request decode failed: cannot unmarshal {kind} into {field_name} of type {expected}")


def _string(raw: dict[str, Any], key: str, field_name: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _type_error(value, field_name, "string")
    return value


def _integer(raw: dict[str, Any], key: str, field_name: str) -> int:
    value = raw.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, field_name, "int")
    return value


def _boolean(raw: dict[str, Any], key: str, field_name: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _type_error(value, field_name, "bool")
    return value


def _list(raw: dict[str, Any], key: str, field_name: str, item_type: type) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, item_type) for item in value):
        raise _type_error(value, field_name, f"[]{'string' if item_type is str else 'object'}")
    return value


def _string_map(raw: dict[str, Any], key: str, field_name: str) -> dict[str, str]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise _type_error(value, field_name, "map[string]string")
    return value


def _weights(raw: dict[str, Any]) -> dict[str, int]:
    weights = _fold(raw.get("weights") or {}, "Weights")
    # Consul's defaults; a Passing weight below 1 would take the instance out of DNS rotation.
    return {
        "Passing": _integer(weights, "passing", "Weights.Passing") or 1,
        "Warning": _integer(weights, "warning", "Weights.Warning") if "warning" in weights else 1,
    }


def _header(raw: dict[str, Any]) -> dict[str, list[str]]:
    value = raw.get("header")
    if value is None:
        return {}
    valid = isinstance(value, dict) and all(
        isinstance(values, list) and all(isinstance(item, str) for item in values) for values in value.values()
    )
    if not valid:
        raise _type_error(value, "Header", "map[string][]string")
    return value


def _duration(raw: dict[str, Any], key: str, field_name: str) -> float:
    value = raw.get(key)
    if value is None:
        return 0.0
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise bad_request(f"Request decode failed: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1e9  # a bare JSON number is a Go time.Duration, i.e. nanoseconds
    raise _type_error(value, field_name, "time.Duration")
