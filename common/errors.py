"""Errors that carry their own HTTP status and stable code, and the one handler that renders them.

Every response that is not a success has the same envelope::

    {"code": "stock.insufficient", "message": "…", "detail": {…}}

The hierarchy::

    AppError (500 internal.error)
    ├── BadRequest (400 request.invalid)
    ├── Unauthorized (401 auth.unauthorized)
    ├── Forbidden (403 auth.forbidden)
    ├── NotFound (404 <thing>.not_found)
    ├── Conflict (409 <thing>.conflict)
    ├── Unprocessable (422 validation.failed)
    └── ServiceUnavailable (503 service.unavailable)

Domain code raises these (or subclasses with a more precise `code`); it never builds responses itself.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.logging import get_logger

log = get_logger("common.errors")


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    code: str
    message: str
    detail: dict[str, Any] | None = None


class AppError(Exception):
    status_code = 500
    code = "internal.error"
    message = "Internal error"

    def __init__(self, message: str | None = None, *, code: str | None = None, detail: dict[str, Any] | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.detail = detail
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class BadRequest(AppError):
    status_code = 400
    code = "request.invalid"
    message = "The request is not valid"


class Unauthorized(AppError):
    status_code = 401
    code = "auth.unauthorized"
    message = "Authentication required"


class Forbidden(AppError):
    status_code = 403
    code = "auth.forbidden"
    message = "You do not have permission for this"


class NotFound(AppError):
    status_code = 404
    code = "resource.not_found"
    message = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "resource.conflict"
    message = "The request conflicts with the current state"


class Unprocessable(AppError):
    status_code = 422
    code = "validation.failed"
    message = "The data is not valid"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service.unavailable"
    message = "The service is temporarily unavailable"


def error_response(status: int, code: str, message: str, detail: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "detail": detail}, status_code=status, headers=headers)


# Documented on every route so the OpenAPI schema matches what the handlers below really send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Not permitted"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Validation failed"),
        (503, "Unavailable"),
    )
}

_HTTP_CODES = {
    400: "request.invalid",
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    406: "http.not_acceptable",
    413: "request.too_large",
    415: "request.unsupported_media_type",
}


def _validation_detail(exc: RequestValidationError) -> dict[str, Any]:
    errors = []
    for err in exc.errors():
        # `input` can echo secrets (passwords) and huge payloads back; location and reason are enough.
        loc = [str(part) for part in err.get("loc", ())]
        errors.append({"loc": loc, "type": err.get("type"), "msg": err.get("msg")})
    return {"errors": errors}


# MariaDB's ER_CONSTRAINT_FAILED and MySQL's ER_CHECK_CONSTRAINT_VIOLATED: data, not an unavailable database.
_CHECK_VIOLATIONS = frozenset({4025, 3819})


def _is_check_violation(exc: OperationalError) -> bool:
    args = getattr(exc.orig, "args", ())
    return bool(args) and args[0] in _CHECK_VIOLATIONS


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.envelope(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _validation_detail(exc)
        first = detail["errors"][0] if detail["errors"] else None
        message = f"{'.'.join(first['loc'])}: {first['msg']}" if first else "The data is not valid"
        code = "request.malformed_json" if first and first["type"] == "json_invalid" else "validation.failed"
        status = 400 if code == "request.malformed_json" else 422
        return error_response(status, code, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http.error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Services check uniqueness first; this only catches the race where two requests pass that check at once.
        log.warning("integrity_error", error=str(exc.orig))
        return error_response(409, "resource.conflict", "The change conflicts with existing data")

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        if _is_check_violation(exc):  # MariaDB reports a failed CHECK as an OperationalError (4025)
            log.warning("check_violation", error=str(exc.orig))
            return error_response(409, "resource.conflict", "The change conflicts with existing data")
        log.error("database_unavailable", error=str(exc.orig))
        return error_response(503, "database.unavailable", "The database is temporarily unavailable")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return error_response(500, "internal.error", "Internal error")
