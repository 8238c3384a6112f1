"""API Gateway events whose URL carries a stage (``https://id.execute-api.../prod/api/...``).

Mangum 0.22 always sets the ASGI ``root_path`` to ``""`` and can only strip one fixed prefix
(``api_gateway_base_path``). Behind API Gateway's own domain the public URL holds the stage, so the
app must know it: FastAPI builds ``/docs``' ``openapi_url``, Starlette builds redirects and
``request.base_url`` (webhook and dashboard links) from ``root_path``. These two Mangum handlers
compute it from the event instead of from configuration, so the same function answers under any
stage name and under a custom domain (where the URL has no stage):

- REST API (payload v1): ``requestContext.path`` is the path as the client sent it
  (``/prod/api/x``, or ``/v1/api/x`` behind a base path mapping) and ``path`` is the same path
  without what API Gateway consumed (``/api/x``): the difference is the root path.
- HTTP API (payload v2, or v1.0 on an HTTP API): on an ``execute-api`` domain a stage other than
  ``$default`` prefixes the URL; ``rawPath`` normally includes it, a synthetic event may not.

Following Starlette (>= 0.33), ``scope["path"]`` is the full path and ``root_path`` its prefix.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from mangum.handlers import APIGateway, HTTPGateway

EXECUTE_API_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def _with_root(scope: dict[str, Any], root: str, event: dict[str, Any]) -> dict[str, Any]:
    domain = (event.get("requestContext") or {}).get("domainName")
    if domain and not any(name == b"host" for name, _ in scope["headers"]):
        # No Host header (a hand-made or generated event): the API's domain is the public host.
        scope["server"] = (domain, 443 if scope.get("scheme") == "https" else 80)
    root = root.rstrip("/")
    if root:
        path = scope["path"]
        if path == root:
            scope["path"] = root + "/"
        elif not path.startswith(root + "/"):
            scope["path"] = root + path
        scope["root_path"] = root
    return scope


def rest_root_path(event: dict[str, Any]) -> str:
    """``/prod`` for ``requestContext.path=/prod/api/x`` and ``path=/api/x``; ``""`` when they agree."""
    full = (event.get("requestContext") or {}).get("path") or ""
    path = event.get("path") or "/"
    if not full or full == path:
        return ""
    if path == "/":
        return full.rstrip("/")
    return full[: -len(path)] if full.endswith(path) else ""


def http_root_path(event: dict[str, Any]) -> str:
    """``/prod`` when the request came through the execute-api domain on a stage other than $default."""
    context = event.get("requestContext") or {}
    stage = context.get("stage") or "$default"
    domain = context.get("domainName") or ""
    if stage == "$default" or (domain and not domain.endswith(EXECUTE_API_SUFFIXES)):
        return ""
    return f"/{stage}"


class StagedAPIGateway(APIGateway):
    """REST API proxy events (payload v1) with the stage as the ASGI root path."""

    @cached_property
    def scope(self) -> dict[str, Any]:  # type: ignore[override]
        return _with_root(super().scope, rest_root_path(self.event), self.event)


class StagedHTTPGateway(HTTPGateway):
    """HTTP API proxy events (payload v2 or v1.0) with the stage as the ASGI root path. The scope is
    built once per event: Mangum's property would build it again to read the payload version."""

    @cached_property
    def scope(self) -> dict[str, Any]:  # type: ignore[override]
        return _with_root(super().scope, http_root_path(self.event), self.event)


HANDLERS = [StagedHTTPGateway, StagedAPIGateway]
