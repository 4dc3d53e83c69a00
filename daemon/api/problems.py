"""Errors as responses: every refusal is JSON ``{"error", "message", "errors": [{field, value, message}]}``.

- a body or header the schema refuses, or a request the service refuses as bad input: 422 naming
  the field and the value;
- an unknown parent: 404; a missing or wrong token: 401 (from ``auth``);
- an idempotency key reused with another body: 422 (as the IETF Idempotency-Key draft says);
- a service that is shutting down: 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from daemon.errors import IdempotencyKeyReusedError, ServiceClosedError, UnknownParentError
from engine.errors import InvalidInputError

__all__ = ["error_response", "install_error_handlers", "json_value"]

_log = structlog.get_logger(__name__)
_MAX_VALUE_CHARS = 200
_CODES = {
    status.HTTP_401_UNAUTHORIZED: "unauthorized",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
}


def json_value(value: Any) -> Any:
    """``value`` as JSON can carry it: decimals and non-finite floats as text, long text shortened."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    try:
        text = json.dumps(value, allow_nan=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    else:
        if len(text) <= _MAX_VALUE_CHARS:
            return json.loads(text)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def error_response(
    status_code: int,
    error: str,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one shape of every error body."""
    body = {"error": error, "message": message, "errors": errors or []}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _field_of(location: tuple[int | str, ...]) -> str:
    # ("body", "target_weights", "AAPL") -> "target_weights.AAPL"; a header keeps its name.
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "field": _field_of(tuple(item.get("loc", ()))),
            "value": json_value(item.get("input")),
            "message": str(item.get("msg", "refused")),
        }
        for item in error.errors()
    ]
    first = errors[0] if errors else {"field": "body", "value": None, "message": "refused"}
    message = f"{first['field']}={first['value']!r}: {first['message']}"
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_request", message, errors)


def _field_error(error: InvalidInputError) -> dict[str, Any]:
    return {"field": error.field, "value": json_value(error.value), "message": error.reason}


async def _on_invalid_input(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InvalidInputError)
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_request", str(error), [_field_error(error)]
    )


async def _on_unknown_parent(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, UnknownParentError)
    return error_response(status.HTTP_404_NOT_FOUND, "unknown_parent", str(error), [_field_error(error)])


async def _on_key_reused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IdempotencyKeyReusedError)
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "idempotency_key_reused", str(error), [_field_error(error)]
    )


async def _on_service_closed(request: Request, error: Exception) -> JSONResponse:
    return error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE, "service_closed", str(error), headers={"Retry-After": "5"}
    )


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = _CODES.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail), headers=dict(error.headers or {}))


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    _log.error("API request failed", path=request.url.path, error=repr(error))
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "the request failed")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app`` (the most specific error class wins)."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(UnknownParentError, _on_unknown_parent)
    app.add_exception_handler(IdempotencyKeyReusedError, _on_key_reused)
    app.add_exception_handler(InvalidInputError, _on_invalid_input)
    app.add_exception_handler(ServiceClosedError, _on_service_closed)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
