"""Custom interfaces: each ``plugins/interfaces/<name>/main.py`` router, mounted at its ROUTE.

Static files in the interface's ``src/`` are served under the same ROUTE by Starlette's StaticFiles,
which refuses paths that escape the folder and sets content types. A broken interface is reported
(``GET /api/plugins``) and skipped; the others mount. Reloading swaps the mounted routes in place.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
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
            router = module.get_router()
        except PluginError as exc:
            log.warning("interface not mounted: %s", exc.message)
            continue
        except Exception as exc:  # noqa: BLE001 - get_router() is plugin code
            plugin.fail(f"get_router() raised {type(exc).__name__}: {exc}", f"plugins/interfaces/{plugin.name}/main.py")
            log.warning("interface %s not mounted: %s", plugin.name, plugin.error)
            continue
        route = plugin.meta["route"]
        app.include_router(router, prefix="" if getattr(router, "prefix", "") else route)
        static = plugin.path / "src"
        if static.is_dir():
            app.router.routes.append(Mount(route, app=StaticFiles(directory=static, html=True),
                                           name=f"interface-{plugin.name}"))
    app.state.interface_routes = [r for r in app.router.routes if r not in before]
    app.openapi_schema = None  # regenerate /openapi.json with the new routes


def reload_platform(app: FastAPI) -> Registry:
    """Re-discover plugins, re-import their code and remount interfaces (POST /api/reload, the watcher)."""
    from .engine import get_engine

    registry = get_engine().reload()
    mount(app, registry)
    return registry
