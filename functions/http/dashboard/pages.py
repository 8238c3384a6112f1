"""Dashboard pages: thin routes that gather a page's data and render a template.

Plain Starlette routes rather than FastAPI's: the pages are not in the OpenAPI document and take a
few text parameters, while FastAPI builds a dependency graph and validation models for every route
when the module is imported, about 80 ms of the dashboard's cold start. The platform is the request's
(``platform_of``: the app's, else the process's, as ``PlatformDep`` gives it); a parameter over its
length is refused with FastAPI's own 422 body (``RequestValidationError``).

An unknown workflow or run answers an HTML page with the same message and status code the API would
give (404...), not a JSON body: these URLs are opened in a browser. A page whose data needs a store is
gathered in the thread pool; the home page needs none (its runs come from ``/dashboard/recent``), so
it is built on the event loop unless a plugin's code must be imported first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from functions.errors import PlatformError
from functions.http.dashboard import views
from functions.http.dashboard.render import render
from functions.http.deps import base_url, platform_of
from functions.http.middleware.auth import root_path


def limited(request: Request, name: str, max_length: int, *, path: bool = False) -> str | None:
    """A query (or path) parameter, refused over ``max_length`` characters as FastAPI would."""
    value = request.path_params.get(name) if path else request.query_params.get(name)
    if value is not None and len(value) > max_length:
        raise RequestValidationError([{"loc": ("path" if path else "query", name), "type": "string_too_long",
                                       "msg": f"String should have at most {max_length} characters"}])
    return value


async def page(request: Request, template: str, build: Callable[..., dict[str, Any]], *args: Any,
               page_name: str = "", blocking: bool = True) -> HTMLResponse:
    platform = platform_of(request.scope)
    try:
        context = await run_in_threadpool(build, platform, *args) if blocking else build(platform, *args)
    except PlatformError as exc:
        return render(request, "error.html", exc.status_code, page=page_name, status=exc.status_code,
                      message=exc.message)
    return render(request, template, page=page_name, **context)


async def home(request: Request) -> HTMLResponse:
    platform = platform_of(request.scope)
    return await page(request, "home.html", views.home, base_url(request, platform), page_name="workflows",
                      blocking=views.imports_pending(platform))


async def recent(request: Request) -> HTMLResponse:
    """The home page's runs (last run, chart per card), which its script fetches once the page is shown."""
    return await page(request, "_recent.html", views.recent, base_url(request, platform_of(request.scope)),
                      page_name="workflows")


async def dashboard_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{root_path(request.scope)}/dashboard/", status_code=308)


async def workflow(request: Request) -> HTMLResponse:
    name, cursor = limited(request, "name", 100, path=True), limited(request, "cursor", 2048)
    window = limited(request, "window", 8)
    return await page(request, "workflow.html", views.workflow_page, name,
                      base_url(request, platform_of(request.scope)), cursor, window, page_name="workflows")


async def runs(request: Request) -> Response:
    """Runs of every workflow (``functions.http.dashboard.run_list``); ``?run_id=`` opens that run."""
    from functions.http.dashboard import run_list

    cursor, run_id = limited(request, "cursor", 2048), limited(request, "run_id", 200)
    if run_id is not None:
        found = run_list.run_id_of(run_id)
        if found:
            return RedirectResponse(f"{root_path(request.scope)}/dashboard/runs/{found}", status_code=303)
        return render(request, "error.html", 404, page="runs", status=404,
                      message=f"{run_id[:80]!r} is not a run id: run ids are hexadecimal (24 digits)")
    params = {k: v for k, v in request.query_params.items() if k in run_list.FILTERS}
    return await page(request, "runs.html", run_list.runs_page, params, cursor, page_name="runs")


async def run(request: Request) -> HTMLResponse:
    run_id = limited(request, "run_id", 64, path=True) or ""
    if not run_id.isalnum() or run_id.lower() != run_id:
        return render(request, "error.html", 404, page="workflows", status=404,
                      message=f"no run with id {run_id!r}: run ids are lower-case hexadecimal")
    return await page(request, "run.html", views.run_page, run_id, page_name="workflows")


async def schedules(request: Request) -> HTMLResponse:
    return await page(request, "schedules.html", views.schedules, page_name="schedules")


async def tools(request: Request) -> HTMLResponse:
    return await page(request, "tools.html", views.tools, root_path(request.scope), page_name="tools")


async def plugins(request: Request) -> HTMLResponse:
    return await page(request, "plugins.html", views.plugins, page_name="plugins")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/dashboard/", home, methods=["GET"]),
    Route("/dashboard/recent", recent, methods=["GET"]),
    Route("/dashboard", dashboard_slash, methods=["GET"]),
    Route("/dashboard/workflows/{name}", workflow, methods=["GET"]),
    Route("/dashboard/runs", runs, methods=["GET"]),
    Route("/dashboard/runs/{run_id}", run, methods=["GET"]),
    Route("/dashboard/schedules", schedules, methods=["GET"]),
    Route("/dashboard/tools", tools, methods=["GET"]),
    Route("/dashboard/plugins", plugins, methods=["GET"]),
]
