"""Service errors as JSON with a stable code and the conventional HTTP status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from backend.api.schemas import ErrorBody
from backend.errors import (
    ChatError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
)

# Most specific first: TooLarge is an InvalidInput.
STATUS_BY_ERROR: list[tuple[type[ChatError], int]] = [
    (TooLarge, 413),
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 429)
}


def status_of(exc: ChatError) -> int:
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(exc, kind)), 400)


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    body = ErrorBody(code=code, message=message).model_dump()
    return JSONResponse(body, status_code=status, headers=headers or None)


async def on_chat_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChatError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status_of(exc), exc.code, exc.message, **headers)


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Malformed JSON and wrong types are bad input (400), said in one readable sentence."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(400, "invalid_json", "The request body is not valid JSON.")
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    detail = first.get("msg", "is invalid")
    return error_response(400, InvalidInput.code, f"{where}: {detail}" if where else detail)


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
    return error_response(
        exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
    )
