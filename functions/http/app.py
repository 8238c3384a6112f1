"""The FastAPI application: the same app for the local server (uvicorn) and Lambda (Mangum).

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

from functions.errors import PlatformError
from functions.http import api_docs, dashboard, interfaces
from functions.http.deps import current_platform
from functions.http.errors import error_response
from functions.http.middleware.edge import EdgeMiddleware
from functions.http.routes import groups
from functions.platform import Platform, get_platform

log = logging.getLogger(__name__)

VERSION = "0.1.0"


async def _platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    return error_response(exc.status_code, exc.message, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": ".".join(str(p) for p in e["loc"] if p not in ("query", "path", "body")) or "request",
               "message": e["msg"]} for e in exc.errors()]
    return error_response(422, "invalid request: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = {404: f"no such endpoint: {request.method} {request.url.path} (see /docs)",
               405: f"method {request.method} not allowed on {request.url.path} (see /docs)"}.get(
        exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message, None, getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")


def create_app(platform: Platform | None = None) -> FastAPI:
    """The app, serving the process's platform (``get_platform()``), or the one given: the local server's
    (built with its local pieces), a test's. A given platform is installed the FastAPI way, as the
    override of the ``current_platform`` dependency every route declares (the middleware reads it too)."""
    settings = (platform or get_platform()).settings
    app = FastAPI(
        title="Workflow Platform",
        version=VERSION,
        description="Run automation workflows by hand, by webhook or on a schedule; see every run.",
        docs_url=None, redoc_url=None,  # /docs is functions.http.api_docs' (offline); no ReDoc
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.add_exception_handler(PlatformError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    groups.install(app)  # the API's route modules, each imported with the first request under its paths

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from functions.http.schemas import declare_platform_errors

            groups.load_all(app)
            app.openapi_schema = declare_platform_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    dashboard.install(app)  # /, /dashboard/..., /login, /logout, /dashboard/static
    api_docs.install(app)  # /docs (Swagger UI) and /docs/assets: no CDN, a strict CSP
    if platform is not None:
        async def given() -> Platform:
            return platform

        app.dependency_overrides[current_platform] = given
    app.state.platform = platform  # what the middleware reads (functions.http.deps.platform_of); None: the process's
    interfaces.mount(app, (platform or get_platform()).registry)
    app.add_middleware(EdgeMiddleware)  # request limits, the admin token, security headers (on 4xx too)
    return app

