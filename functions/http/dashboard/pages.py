"""Dashboard pages: thin routes that gather a page's data in the thread pool and render a template.

An unknown workflow or run answers an HTML page with the same message and status code the API would
give (404...), not a JSON body: these URLs are opened in a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse

from functions.errors import PlatformError
from functions.http.dashboard import views
from functions.http.dashboard.render import render
from functions.http.deps import PlatformDep, base_url
from functions.http.middleware.auth import root_path
from functions.platform import Platform

router = APIRouter(include_in_schema=False)


async def page(request: Request, platform: Platform, template: str, build: Callable[..., dict[str, Any]],
               *args: Any, page_name: str = "") -> HTMLResponse:
    try:
        context = await run_in_threadpool(build, platform, *args)
    except PlatformError as exc:
        return render(request, "error.html", exc.status_code, page=page_name, status=exc.status_code,
                      message=exc.message)
    return render(request, template, page=page_name, **context)


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard/", response_class=HTMLResponse)
async def home(request: Request, platform: PlatformDep) -> HTMLResponse:
    return await page(request, platform, "home.html", views.home, base_url(request, platform),
                      page_name="workflows")


@router.get("/dashboard/recent", response_class=HTMLResponse)
async def recent(request: Request, platform: PlatformDep) -> HTMLResponse:
    """The home page's runs (last run, chart per card), which its script fetches once the page is shown."""
    return await page(request, platform, "_recent.html", views.recent, base_url(request, platform),
                      page_name="workflows")


@router.get("/dashboard", response_class=RedirectResponse)
async def dashboard_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{root_path(request.scope)}/dashboard/", status_code=308)


@router.get("/dashboard/workflows/{name}", response_class=HTMLResponse)
async def workflow(request: Request, platform: PlatformDep, name: str = Path(max_length=100),
                   cursor: str | None = Query(None, max_length=2048),
                   window: str | None = Query(None, max_length=8)) -> HTMLResponse:
    return await page(request, platform, "workflow.html", views.workflow_page, name, base_url(request, platform),
                      cursor, window, page_name="workflows")


@router.get("/dashboard/runs", response_class=HTMLResponse)
async def runs(request: Request, platform: PlatformDep, cursor: str | None = Query(None, max_length=2048),
               run_id: str | None = Query(None, max_length=200)) -> HTMLResponse:
    """Runs of every workflow (``functions.http.dashboard.run_list``); ``?run_id=`` opens that run."""
    from functions.http.dashboard import run_list

    if run_id is not None:
        found = run_list.run_id_of(run_id)
        if found:
            return RedirectResponse(f"{root_path(request.scope)}/dashboard/runs/{found}", status_code=303)
        return render(request, "error.html", 404, page="runs", status=404,
                      message=f"{run_id[:80]!r} is not a run id: run ids are hexadecimal (24 digits)")
    params = {k: v for k, v in request.query_params.items() if k in run_list.FILTERS}
    return await page(request, platform, "runs.html", run_list.runs_page, params, cursor, page_name="runs")


@router.get("/dashboard/runs/{run_id}", response_class=HTMLResponse)
async def run(request: Request, platform: PlatformDep, run_id: str = Path(max_length=64)) -> HTMLResponse:
    if not run_id.isalnum() or run_id.lower() != run_id:
        return render(request, "error.html", 404, page="workflows", status=404,
                      message=f"no run with id {run_id!r}: run ids are lower-case hexadecimal")
    return await page(request, platform, "run.html", views.run_page, run_id, page_name="workflows")


@router.get("/dashboard/schedules", response_class=HTMLResponse)
async def schedules(request: Request, platform: PlatformDep) -> HTMLResponse:
    return await page(request, platform, "schedules.html", views.schedules, page_name="schedules")


@router.get("/dashboard/tools", response_class=HTMLResponse)
async def tools(request: Request, platform: PlatformDep) -> HTMLResponse:
    return await page(request, platform, "tools.html", views.tools, root_path(request.scope), page_name="tools")


@router.get("/dashboard/plugins", response_class=HTMLResponse)
async def plugins(request: Request, platform: PlatformDep) -> HTMLResponse:
    return await page(request, platform, "plugins.html", views.plugins, page_name="plugins")
