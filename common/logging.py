"""JSON logging in the ELK style: one JSON object per line, `ensure_ascii=False`.

Every line carries `ts level event service instance request_id user`; the request id and user are bound per
request through contextvars, so code anywhere below a request logs them without passing them around.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import structlog

_ID_CARD = re.compile(r"\b(\d{6})\d{8}(\d{3}[\dXx])\b")
_SECRET_KEYS = {"password", "old_password", "new_password", "token", "access_token", "refresh_token",
                "client_secret", "authorization", "secret"}

_configured = False


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Logs never carry passwords, tokens or full ID-card numbers."""
    for key in list(event):
        value = event[key]
        if key.lower() in _SECRET_KEYS:
            event[key] = "***"
        elif isinstance(value, str) and len(value) >= 18:
            event[key] = _ID_CARD.sub(r"\1********\2", value)
    return event


def _dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def configure_logging(service: str, instance: str = "", level: str = "info", log_dir: Path | None = None) -> None:
    """Set up structlog and route stdlib logging (uvicorn, sqlalchemy) through the same JSON renderer."""
    global _configured
    structlog.contextvars.clear_contextvars()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,  # again: a traceback exists only from here on, and may quote data (a duplicate ID card)
            _static_fields(service, instance),
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / f"{service}.log", encoding="utf-8"))
    root = logging.getLogger()
    root.handlers.clear()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own access log is replaced by our request log line, which carries the request id.
    logging.getLogger("uvicorn.access").disabled = True
    # Client libraries log every request at INFO; our own lines already say what matters.
    for name in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    _configured = True


def _static_fields(service: str, instance: str):
    def add(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        event.setdefault("instance", instance)
        event.setdefault("request_id", None)
        event.setdefault("user", None)
        return event

    return add


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
