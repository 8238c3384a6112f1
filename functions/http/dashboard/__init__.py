"""The dashboard: server-rendered pages (Jinja2), one stylesheet and one small script, no build step.

Pages read what the API reads (``functions.http.catalog``, the run store) and the script calls the public
API (run forms, live run pages, pause/resume), so the dashboard can never show something the API does
not. ``install(app)`` adds the pages, the login routes and the static files (``/dashboard/static``).

They are added as one route, ``DashboardRoutes``, that matches every dashboard path and builds the
pages' routes on the first such request: a cold start that serves the API (or /docs) does not import
the pages, their views or Jinja2. The pages are Starlette routes (``pages.py``: not in the OpenAPI
document, so nothing for FastAPI to build).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Mount, Router
from starlette.types import Receive, Scope, Send

from functions.http.middleware.auth import route_path
from functions.http.static import SafeStaticFiles

STATIC = Path(__file__).resolve().parent / "static"
#: The paths the dashboard serves (with everything under ``/dashboard/``).
PATHS = frozenset({"/", "/dashboard", "/login", "/logout"})


class DashboardRoutes(BaseRoute):
    """Every dashboard path, handed to the dashboard's own routes, built on first use."""

    def __init__(self) -> None:
        self._router: Router | None = None
        self._lock = threading.Lock()

    @property
    def routes(self) -> list[BaseRoute]:
        """The pages, login and static routes (built now if they were not yet)."""
        if self._router is None:
            with self._lock:
                if self._router is None:
                    from functions.http.dashboard import login, pages

                    static = Mount("/dashboard/static", app=SafeStaticFiles(directory=STATIC), name="dashboard-static")
                    self._router = Router(routes=[*pages.routes, *login.routes, static])
        return self._router.routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = route_path(scope)
        if path in PATHS or path.startswith("/dashboard/"):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.routes  # noqa: B018 - built on first use
        assert self._router is not None
        await self._router(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        self.routes  # noqa: B018
        assert self._router is not None
        return self._router.url_path_for(name, **path_params)

    def __repr__(self) -> str:
        return f"DashboardRoutes(built={self._router is not None})"


def install(app: FastAPI) -> None:
    app.router.routes.append(DashboardRoutes())
