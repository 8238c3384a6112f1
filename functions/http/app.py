"""The FastAPI application: one app object for the local server (uvicorn) and Lambda (Mangum).

Errors are mapped to responses here, in one place: a PlatformError carries its status code; request
validation problems become 422 with one entry per field; anything unexpected becomes a JSON 500 that
names the request, never an HTML stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.core.engine import get_engine
from functions.errors import PlatformError
from functions.http import dashboard, interfaces
from functions.http.middleware.auth import AdminAuthMiddleware
from functions.http.middleware.limits import RequestLimitsMiddleware
from functions.http.middleware.security_headers import SecurityHeadersMiddleware
from functions.http.routes import admin, oauth, runs, scheduler, tools, workflows
from functions.http.schemas import declare_platform_errors

log = logging.getLogger(__name__)

VERSION = "0.1.0"


def _json_error(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    return _json_error(exc.status_code, exc.message, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": ".".join(str(p) for p in e["loc"] if p not in ("query", "path", "body")) or "request",
               "message": e["msg"]} for e in exc.errors()]
    return _json_error(422, "invalid request: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = {404: f"no such endpoint: {request.method} {request.url.path} (see /docs)",
               405: f"method {request.method} not allowed on {request.url.path} (see /docs)"}.get(
        exc.status_code, str(exc.detail))
    return _json_error(exc.status_code, message, None, getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _json_error(500, f"internal error ({type(exc).__name__}); the server log has the details")


def create_app() -> FastAPI:
    app = FastAPI(
        title="Workflow Platform",
        version=VERSION,
        description="Run automation workflows by hand, by webhook or on a schedule; see every run.",
    )
    app.add_exception_handler(PlatformError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    for module in (workflows, runs, tools, admin, scheduler, oauth):
        app.include_router(module.router)

    generate = app.openapi
    app.openapi = lambda: app.openapi_schema or declare_platform_errors(generate())  # type: ignore[method-assign]
    dashboard.install(app)  # /, /dashboard/..., /login, /logout, /dashboard/static
    interfaces.mount(app, get_engine().registry)
    # Outermost last: security headers wrap everything, including the 401s of the admin token check.
    app.add_middleware(AdminAuthMiddleware)
    app.add_middleware(RequestLimitsMiddleware)  # absurd paths and query strings: a 4xx before anything
    app.add_middleware(SecurityHeadersMiddleware)
    return app


app = create_app()
