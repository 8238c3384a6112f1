"""Custom interfaces: each ``plugins/interfaces/<name>/main.py`` router, mounted at its ROUTE.

Static files in the interface's ``src/`` are served under the same ROUTE by Starlette's StaticFiles,
which refuses paths that escape the folder and sets content types. A broken interface is reported
(``GET /api/plugins``) and skipped; the others mount. Reloading swaps the mounted routes in place.
"""

from __future__ import annotations

import logging
from types import ModuleType

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from .errors import PluginError
from .registry import Registry

log = logging.getLogger(__name__)


def mount(app: FastAPI, registry: Registry) -> None:
    previous: list[BaseRoute] = getattr(app.state, "interface_routes", [])
    app.router.routes[:] = [r for r in app.router.routes if r not in previous]
    before = list(app.router.routes)
    for plugin in registry.of_kind("interface"):
        try:
            module = registry.module(plugin)
        except PluginError as exc:
            log.warning("interface not mounted: %s", exc.message)
            continue
        route = plugin.meta["route"]
        problem = _include(app, module, route)  # plugin code: its failure is this interface's error only
        if problem:
            plugin.fail(problem, registry._rel(plugin.path / "main.py"))
            log.warning("interface %s not mounted: %s", plugin.name, problem)
            continue
        static = plugin.path / "src"
        if static.is_dir():
            app.router.routes.append(Mount(route, app=StaticFiles(directory=static, html=True),
                                           name=f"interface-{plugin.name}"))
    app.state.interface_routes = [r for r in app.router.routes if r not in before]
    app.openapi_schema = None  # regenerate /openapi.json with the new routes


def _include(app: FastAPI, module: ModuleType, route: str) -> str | None:
    """Add the interface's router at its ROUTE; the reason it could not be, if it could not."""
    try:
        router = module.get_router()
    except Exception as exc:  # noqa: BLE001
        return f"get_router() raised {type(exc).__name__}: {exc}"
    if not isinstance(router, APIRouter):
        return f"get_router() must return a fastapi APIRouter, not {type(router).__name__}"
    try:
        app.include_router(router, prefix="" if router.prefix or route == "/" else route)
    except Exception as exc:  # noqa: BLE001 - e.g. a route path FastAPI refuses
        return f"its router could not be mounted at {route!r}: {type(exc).__name__}: {exc}"
    return None


def reload_platform(app: FastAPI) -> Registry:
    """Re-discover plugins, re-import their code and remount interfaces (POST /api/reload, the watcher)."""
    from .engine import get_engine

    registry = get_engine().reload()
    mount(app, registry)
    return registry
