"""The API's route modules, each imported with the first request under its paths.

Importing a route module is where FastAPI does its work: every decorator builds the route, its
parameters and its response models (2-8 ms a module; ~60 ms for all of them with the models and the
core they share). A cold start answers one request: ``/docs`` needs none of the modules, ``GET
/api/workflows`` one. So the app holds one ``RouteGroup`` per module, claiming the module's path
prefixes; the first request under one of them imports the module, includes its router where the group
stood (FastAPI's ``include_router``: dependency overrides and the OpenAPI order stay what they would
be), and goes through the router again. Listing workflows and starting runs are two modules
(``workflows``, ``triggers``): a cold ``GET /api/workflows`` does not import the engine. ``load_all`` includes every group: the OpenAPI document,
SnapStart's priming and the tests that walk the routes call it. The dashboard's pages are built on
first use the same way (``functions.http.dashboard``).

A new route goes in the module of its group, under one of the group's prefixes below, or in a new
module with a line of its own here (``tests/functions/http/test_route_groups.py`` checks both).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from functions.http.middleware.auth import route_path

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

#: Route module (``functions.http.routes.<name>``) → the path prefixes its routes live under. A path
#: belongs to the module with the longest prefix of it: ``/api/workflows/execute/x`` to ``triggers``.
GROUPS: dict[str, tuple[str, ...]] = {
    "workflows": ("/api/workflows",),
    "triggers": ("/api/workflows/execute", "/api/workflows/trigger", "/api/webhooks"),
    "runs": ("/api/runs",),
    "callbacks": ("/api/callbacks",),
    "tools": ("/api/tools", "/api/oauth/status"),
    "admin": ("/api/health", "/api/plugins", "/api/interfaces", "/api/reload"),
    "scheduler": ("/api/scheduler",),
    "oauth": ("/oauth/google",),
}
_BY_LENGTH = sorted(((prefix, module) for module, prefixes in GROUPS.items() for prefix in prefixes),
                    key=lambda item: -len(item[0]))


def owner(path: str) -> str | None:
    """The module whose routes ``path`` is for, if any."""
    return next((module for prefix, module in _BY_LENGTH
                 if path == prefix or path.startswith(prefix + "/")), None)


class RouteGroup(BaseRoute):
    """Stands for one route module in the app until a request needs it."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.prefixes = GROUPS[module]
        self._lock = threading.Lock()

    def router(self) -> "APIRouter":
        router: APIRouter = importlib.import_module(f"functions.http.routes.{self.module}").router
        return router

    def load(self, app: "FastAPI") -> None:
        """Put the module's router where this group stands (once; a second call finds it gone)."""
        with self._lock:
            routes = app.router.routes
            if self not in routes:
                return
            app.include_router(self.router())
            routes[routes.index(self)] = routes.pop()
            app.openapi_schema = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Every request tries each group not loaded yet: a prefix test first (C speed), the longest-prefix
        # rule only for paths under one of this group's prefixes.
        if scope["type"] == "http":
            path = route_path(scope)
            if path.startswith(self.prefixes) and owner(path) == self.module:
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        self.load(app)
        await app.router.app(scope, receive, send)  # the router again, now with the group's own routes

    def url_path_for(self, name: str, /, **path_params: object) -> object:
        from starlette.routing import NoMatchFound

        raise NoMatchFound(name, path_params)  # names of routes not loaded yet are not known

    def __repr__(self) -> str:
        return f"RouteGroup({self.module!r})"


def install(app: "FastAPI") -> None:
    app.router.routes.extend(RouteGroup(module) for module in GROUPS)


def load_all(app: "FastAPI") -> None:
    for route in list(app.router.routes):
        if isinstance(route, RouteGroup):
            route.load(app)
