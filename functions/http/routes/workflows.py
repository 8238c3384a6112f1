"""Workflows as the API shows them: the list, one workflow, its run history, its metrics.

Starting runs (execute, trigger, webhooks) is ``functions.http.routes.triggers``: a listing does not
import the engine.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.core.metrics import Window, WorkflowMetrics, window_metrics
from functions.http import catalog, listing
from functions.http.deps import DirectRoute, PlatformDep, base_url, platform_of
from functions.http.schemas import RunHistory, WorkflowOut, error_responses

router = APIRouter(tags=["workflows"])

ERRORS = error_responses({404: "Unknown workflow", 400: "Malformed body or header"})


async def list_workflows(request: Request) -> Response:
    """Every discovered workflow, broken ones included (with their error)."""
    # The platform as the middleware finds it (the app's, else the process's): the same one PlatformDep
    # gives. A DirectRoute: the most frequent warm request skips FastAPI's per-request machinery.
    platform = platform_of(request.scope)
    return Response(listing.workflows_json(platform, base_url(request, platform)), media_type="application/json")


router.add_api_route("/api/workflows", list_workflows, methods=["GET"], response_model=list[WorkflowOut],
                     route_class_override=DirectRoute)


@router.get("/api/workflows/{name}", response_model=WorkflowOut, responses={404: ERRORS[404]})
async def get_workflow(name: str, request: Request, platform: PlatformDep) -> WorkflowOut:
    return catalog.workflow_out(platform, platform.registry.get("workflow", name), base_url(request, platform))


@router.get("/api/workflows/logs/{name}", response_model=RunHistory, responses={404: ERRORS[404], 400: ERRORS[400]})
async def workflow_logs(
    name: str,
    platform: PlatformDep,
    limit: int | None = Query(None, ge=1, le=100, description="Runs per page (default: WFP_HISTORY_PAGE_SIZE, 20)"),
    cursor: str | None = Query(None, max_length=2048, description="next_cursor of the previous page"),
) -> RunHistory:
    """Run history of a workflow, newest first."""
    platform.registry.get("workflow", name)
    runs, next_cursor = await run_in_threadpool(platform.runs.history, name,
                                                limit or platform.settings.history_page_size, cursor)
    return RunHistory(workflow=name, runs=runs, next_cursor=next_cursor)


@router.get("/api/workflows/{name}/metrics", response_model=WorkflowMetrics, responses={404: ERRORS[404]})
async def workflow_metrics(
    name: str,
    platform: PlatformDep,
    window: Window = Query("24h", description="24h and 7d: one bucket per hour; 30d: one per UTC day"),
) -> WorkflowMetrics:
    """Runs, success rate and p50/p95 duration over a window, per bucket and in total. Past hours are
    aggregated once and kept (``functions.core.metrics``): a view reads them back, and queries the run
    history only for the hours not aggregated yet; p50/p95 are approximate (``percentile_precision``)."""
    platform.registry.get("workflow", name)
    return await run_in_threadpool(window_metrics, name, window, platform.runs, platform.metrics)  # type: ignore[arg-type]
