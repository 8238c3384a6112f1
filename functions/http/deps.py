"""What a request gets from the platform: FastAPI dependencies (routes), and the same lookup for the ASGI
middleware, which FastAPI's dependency injection does not reach.

Routes declare ``platform: PlatformDep``; a test builds its own platform and sets
``app.dependency_overrides[get_platform]``, the FastAPI way, and the middleware honours that override too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from functions.platform import Platform, get_platform

PlatformDep = Annotated[Platform, Depends(get_platform)]


def platform_of(scope: dict[str, Any]) -> Platform:
    """The request's platform, for code below the routes (middleware): the app's override, if any."""
    app = scope.get("app")
    override = getattr(app, "dependency_overrides", {}).get(get_platform)
    return override() if override is not None else get_platform()


def base_url(request: Request, platform: Platform) -> str:
    """The platform's public base URL: configured, or this request's own.

    Behind API Gateway the Lambda handler sets the ASGI root path to the stage (``/prod``), which
    Starlette includes in ``request.base_url`` (``functions.handlers.gateway``).
    """
    return platform.settings.public_url or str(request.base_url).rstrip("/")


def run_url(request: Request, platform: Platform, run_id: str) -> str:
    return f"{base_url(request, platform)}/api/runs/{run_id}"
