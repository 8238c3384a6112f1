"""What a request gets from the platform: FastAPI dependencies (routes), and the same lookup for the ASGI
middleware, which FastAPI's dependency injection does not reach.

Routes declare ``platform: PlatformDep``; ``create_app(platform)`` (the local server, a test) overrides
the ``current_platform`` dependency with its own, the FastAPI way, and the middleware sees the same one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from functions.platform import Platform, get_platform
from functions.registry.profile import PROFILE_RE


async def current_platform() -> Platform:
    """The request's platform: the process's, unless the app was given one (``create_app(platform)``
    overrides this dependency). Async on purpose: FastAPI runs a plain ``def`` dependency in its thread
    pool, a hop that cost ~0.6 ms of every warm request."""
    return get_platform()


PlatformDep = Annotated[Platform, Depends(current_platform)]

#: A tool profile in a query string. Its pattern is documented, and checked by the platform (a clear 400:
#: FastAPI's own check would answer 422 with pydantic's pattern text).
ProfileQuery = Query("DEFAULT", max_length=64, json_schema_extra={"pattern": PROFILE_RE.pattern},
                     description="A profile name: letters, digits and _ (TEST, PROD)")


def platform_of(scope: dict[str, Any]) -> Platform:
    """The request's platform, for code below the routes (the middleware): the one the app was given, if
    any, else the process's."""
    app = scope.get("app")
    given = getattr(app.state, "platform", None) if app is not None else None  # create_app sets it (None: not given)
    return given if given is not None else get_platform()


def base_url(request: Request, platform: Platform) -> str:
    """The platform's public base URL: configured, or this request's own.

    Behind API Gateway the Lambda handler sets the ASGI root path to the stage (``/prod``), which
    Starlette includes in ``request.base_url`` (``functions.handlers.gateway``).
    """
    return platform.settings.public_url or str(request.base_url).rstrip("/")


def run_url(request: Request, platform: Platform, run_id: str) -> str:
    return f"{base_url(request, platform)}/api/runs/{run_id}"


class DirectRoute(APIRoute):
    """A route whose endpoint takes the request alone and returns its own ``Response``.

    FastAPI's documented extension point (a custom ``APIRoute`` class overriding ``get_route_handler``):
    the route is declared, documented and listed in the OpenAPI document like any other (its
    ``response_model`` included), but a request skips what such an endpoint does not use: dependency
    solving, parameter validation and response serialization (about a tenth of a warm ``GET
    /api/workflows``). Only for endpoints with the signature ``(request) -> Response``.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request)
            return response
        return handler
