"""HTTP routes: thin adapters from requests to the engine and the catalog."""

from __future__ import annotations

from starlette.requests import Request

from functions.settings import get_settings


def base_url(request: Request) -> str:
    """The platform's public base URL: configured, or this request's own.

    Behind API Gateway the Lambda handler sets the ASGI root path to the stage (``/prod``), which
    Starlette includes in ``request.base_url`` (``functions.handlers.gateway``).
    """
    configured = get_settings().public_url
    return configured or str(request.base_url).rstrip("/")


def run_url(request: Request, run_id: str) -> str:
    return f"{base_url(request)}/api/runs/{run_id}"
