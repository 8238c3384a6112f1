"""HTTP routes: thin adapters from requests to the engine and the catalog."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..settings import get_settings


def _gateway_prefix(scope: dict[str, Any]) -> str:
    """The part of the public path API Gateway consumed before the app's own path.

    A REST API serves ``https://<id>.execute-api.<region>.amazonaws.com/<stage>/api/...`` but hands the
    app ``/api/...`` (and Mangum leaves ``root_path`` empty); a custom domain's base path mapping and a
    named HTTP API stage do the same. The path API Gateway saw is in the event's request context: what
    precedes the app's path there is the prefix links must carry.
    """
    event = scope.get("aws.event")
    if not isinstance(event, dict) or scope.get("root_path"):
        return ""
    context = event.get("requestContext") or {}
    seen = context.get("path") if "httpMethod" in event else (context.get("http") or {}).get("path")
    app_path = str(scope.get("path") or "")
    if isinstance(seen, str) and app_path and seen != app_path and seen.endswith(app_path):
        return seen[: len(seen) - len(app_path)].rstrip("/")
    return ""


def base_url(request: Request) -> str:
    """The platform's public base URL: configured, or this request's own (with any stage prefix)."""
    configured = get_settings().public_url
    return configured or str(request.base_url).rstrip("/") + _gateway_prefix(request.scope)


def run_url(request: Request, run_id: str) -> str:
    return f"{base_url(request)}/api/runs/{run_id}"
