"""Plugins, reload, health: the platform looking at itself (scheduler jobs: ``routes.scheduler``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from functions.http import catalog
from functions.http.deps import PlatformDep
from functions.http.interfaces import reload_platform
from functions.http.schemas import InterfaceOut, PluginsOut, ReloadOut
from functions.platform import Platform
from functions.registry.discovery import Registry

router = APIRouter()


@router.get("/api/health", tags=["admin"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/plugins", response_model=PluginsOut, tags=["admin"])
async def list_plugins(platform: PlatformDep) -> PluginsOut:
    """Every discovered plugin; broken ones with the file and the reason. Imports every plugin."""
    registry = await run_in_threadpool(platform.registry.check_all)
    items = [catalog.plugin_out(p) for p in registry.plugins.values()]
    return PluginsOut(plugins=items, errors=sum(p.status == "error" for p in items))


@router.get("/api/interfaces", response_model=list[InterfaceOut], tags=["admin"])
async def list_interfaces(platform: PlatformDep) -> list[InterfaceOut]:
    return catalog.interfaces(platform)


def _reload(app: FastAPI, platform: Platform) -> Registry:
    # What the app's host asked to refresh first (the local server: re-read .env, drop cached secrets)
    for hook in getattr(app.state, "reload_hooks", ()):
        hook(platform)
    return reload_platform(app, platform)


@router.post("/api/reload", response_model=ReloadOut, tags=["admin"])
async def reload_plugins(request: Request, platform: PlatformDep) -> ReloadOut:
    """Re-discover plugins and re-import their code, without a restart; locally, re-read ``.env`` first
    (its profiles, webhook secrets)."""
    registry = await run_in_threadpool(_reload, request.app, platform)
    return ReloadOut(plugins=len(registry.plugins), errors=[catalog.plugin_out(p) for p in registry.errors()])

