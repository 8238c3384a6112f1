"""Custom interfaces: each ``plugins/interfaces/<name>/main.py`` router, mounted at its ROUTE.

Each interface becomes one ``InterfaceRoute`` on the app: every request under its ROUTE goes to the
interface's own router, then to the files of its ``src/`` folder. One route per interface makes
reloading exact (the old ones are removed, the new ones appended) and keeps a broken interface from
touching anything else: it is reported (``GET /api/plugins``, the dashboard) and simply not mounted.

Static files are served by ``functions.http.static.SafeStaticFiles`` (no ``..``, no symlink out of
``src/``, no hidden files such as ``.env`` or ``.git/``; content types fixed), and ``X-Content-Type-Options: nosniff`` (``functions.http.middleware.security_headers``) stops
browsers from guessing types.

Behind API Gateway the app lives under a stage prefix (``/prod``) but the seed's interfaces call the
API with absolute paths (``fetch('/api/workflows/trigger/...')``), which would miss the prefix. So
when the app has a root path, the interface's HTML pages get one ``<script>`` injected at the top of
``<head>`` (``base-path.js``, served from the dashboard's static files) that prefixes root-relative
URLs given to ``fetch``, ``XMLHttpRequest``, links and forms. Locally nothing is injected.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, FastAPI
from markupsafe import escape
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.errors import PluginError
from functions.http.middleware.auth import root_path, route_path
from functions.http.static import SafeStaticFiles
from functions.platform import Platform
from functions.registry.discovery import Plugin, Registry
from functions.registry.rules import route_problem

log = logging.getLogger(__name__)

# Which ROUTEs an interface may not have (the paths the platform serves, another interface's) is
# functions.registry.rules, the rule set `wfp plugins check` and GET /api/plugins apply too.
SHIM_PATH = "/dashboard/static/base-path.js"
MAX_INJECT_BYTES = 2 * 1024 * 1024
HEAD_RE = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)


class BasePathShim:
    """Inject ``base-path.js`` into the interface's HTML pages when the app runs under a prefix."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = root_path(scope)
        if scope["type"] != "http" or not root or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, size, passthrough
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                if message["status"] == 200 and html and "content-encoding" not in headers:
                    start = message
                else:
                    passthrough = True
                    await send(message)
                return
            if passthrough or start is None:
                await send(message)
                return
            if message["type"] != "http.response.body":  # e.g. http.response.pathsend: leave it alone
                passthrough = True
                await send(start)
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_INJECT_BYTES:  # too big to rewrite: send what we have unchanged
                passthrough = True
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks),
                            "more_body": message.get("more_body", False)})
                return
            if not message.get("more_body", False):
                body = inject(b"".join(chunks), root)
                headers = MutableHeaders(scope=start)
                headers["content-length"] = str(len(body))
                for stale in ("etag", "last-modified"):
                    if stale in headers:
                        del headers[stale]
                await send(start)
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def inject(html: bytes, root: str) -> bytes:
    root_attr = str(escape(root))
    tag = (f'<script src="{root_attr}{SHIM_PATH}" data-base="{root_attr}"></script>').encode()
    match = HEAD_RE.search(html)
    if match:
        return html[: match.end()] + tag + html[match.end():]
    return tag + html


class InterfaceRoute(BaseRoute):
    """Everything at or under one interface's ROUTE, handed to that interface's own app."""

    def __init__(self, name: str, route: str, app: ASGIApp) -> None:
        self.name, self.route, self.app = name, route, app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = route_path(scope)
        if path == self.route or path.startswith(self.route + "/"):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"InterfaceRoute(name={self.name!r}, route={self.route!r})"


def interface_app(plugin: Plugin, router: Any, route: str) -> ASGIApp:
    """The interface's router (with its ROUTE as prefix unless it has one), then its ``src/`` files."""
    if not isinstance(router, APIRouter):
        raise TypeError(f"get_router() must return a fastapi.APIRouter, not {type(router).__name__}")
    holder = APIRouter()
    holder.include_router(router, prefix="" if router.prefix else route)
    routes: list[BaseRoute] = list(holder.routes)
    static = plugin.path / "src"
    if static.is_dir():
        routes.append(Mount(route, app=SafeStaticFiles(directory=static, html=True)))
    return BasePathShim(Router(routes=routes))


def mount(app: FastAPI, registry: Registry) -> None:
    """(Re)mount every working interface; report the others. Safe to call again after a reload."""
    previous: list[BaseRoute] = getattr(app.state, "interface_routes", [])
    app.router.routes[:] = [r for r in app.router.routes if not any(r is p for p in previous)]
    mounted: list[BaseRoute] = []
    taken: dict[str, str] = {}
    for plugin in registry.of_kind("interface"):
        main = f"plugins/interfaces/{plugin.name}/main.py"
        try:
            module = registry.module(plugin)
            router = module.get_router()
        except PluginError as exc:
            log.warning("interface not mounted: %s", exc.message)
            continue
        except Exception as exc:  # noqa: BLE001 - get_router() is plugin code
            plugin.fail(f"get_router() raised {type(exc).__name__}: {exc}", main)
            log.warning("interface %s not mounted: %s", plugin.name, plugin.error)
            continue
        route = plugin.meta["route"]
        problem = route_problem(route, taken)
        if problem is None:
            try:
                mounted.append(InterfaceRoute(plugin.name, route, interface_app(plugin, router, route)))
            except Exception as exc:  # noqa: BLE001 - a bad router object is the plugin's problem
                problem = f"{type(exc).__name__}: {exc}"
        if problem is not None:
            plugin.fail(problem, main)
            log.warning("interface %s not mounted: %s", plugin.name, problem)
            continue
        taken[route] = plugin.name
    app.router.routes.extend(mounted)
    app.state.interface_routes = mounted
    app.openapi_schema = None  # regenerate /openapi.json with the new routes


def reload_platform(app: FastAPI, platform: Platform) -> Registry:
    """Re-discover plugins, re-import their code and remount interfaces (POST /api/reload, the watcher)."""
    registry = platform.reload()
    mount(app, registry)
    return registry
