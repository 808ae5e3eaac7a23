"""The API application, mounted in front of the Reflex app so one process serves both."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from backend.api import errors, gateway, media_routes, message_routes, routes
from backend.api.limits import BodySizeLimit
from backend.container import Services
from backend.errors import ChatError

DESCRIPTION = """
The messenger's API for web, mobile and bot clients (the web UI is a client of the same
services). Authenticate with the token from `/auth/register` or `/auth/login`, sent as
`Authorization: Bearer <token>`. Real-time traffic uses the WebSocket at `/ws?token=...`.

Errors are JSON `{"code", "message"}`: 400 bad input, 401 no or expired token, 403 not yours
to change (someone else's message, or too late to edit or delete), 404 unknown *or not yours*
(a chat you are not in is indistinguishable from one that does not exist), 409
conflict, 413 too large, 429 rate limited (with `Retry-After`).
"""


def create_api(services: Callable[[], Services]) -> FastAPI:
    """The REST routes under /api/v1 and the WebSocket at /ws, over ``services()``."""
    api = FastAPI(
        title="Messenger API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    api.state.services = services
    # Bodies are capped before a route reads them; uploads stream to disk under their own caps.
    api.add_middleware(
        BodySizeLimit,
        max_bytes=lambda: services().settings.max_request_bytes,
        exempt=("/api/v1/media/upload",),
    )
    api.include_router(routes.router)
    api.include_router(media_routes.router)
    api.include_router(media_routes.gallery_router)
    api.include_router(message_routes.router)
    api.include_router(gateway.router)
    api.add_exception_handler(ChatError, errors.on_chat_error)
    api.add_exception_handler(RequestValidationError, errors.on_validation_error)
    api.add_exception_handler(HTTPException, errors.on_http_error)

    @api.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown_route(rest: str) -> JSONResponse:
        """Anything else under /api is the API's 404 (JSON), never the web app's page."""
        return errors.error_response(404, "not_found", "No such API route.")

    api.openapi = lambda: _without_validation_422(api)  # type: ignore[method-assign]
    return api


def _without_validation_422(api: FastAPI) -> dict:
    """FastAPI documents a 422 body for every route with input; this API answers bad input with
    400 and its own error body (errors.on_validation_error), so say that instead."""
    if api.openapi_schema is None:
        schema = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes
        )
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            operation.get("responses", {}).pop("422", None)
        schemas = schema.get("components", {}).get("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        api.openapi_schema = schema
    return api.openapi_schema
