"""Workflows: list, run (execute, trigger, webhook) and history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from .. import catalog
from ..engine import get_engine
from ..payloads import request_inputs
from ..schemas import RunHistory, RunResult, WorkflowOut, error_responses
from . import base_url, run_url

router = APIRouter(tags=["workflows"])

ERRORS = error_responses({404: "Unknown workflow", 409: "Inactive, broken, or trigger not allowed",
                          422: "Invalid inputs (one error per field)", 400: "Malformed body",
                          413: "Body too large", 415: "Unsupported content type"})


async def _run(request: Request, name: str, data: dict[str, Any], trigger: str) -> RunResult:
    run = await run_in_threadpool(get_engine().run, name, data, trigger)
    return RunResult.of(run, run_url(request, run.run_id))


@router.get("/api/workflows", response_model=list[WorkflowOut])
async def list_workflows(request: Request) -> list[WorkflowOut]:
    """Every discovered workflow, broken ones included (with their error)."""
    return catalog.workflows(get_engine(), base_url(request))


@router.get("/api/workflows/{name}", response_model=WorkflowOut, responses={404: ERRORS[404]})
async def get_workflow(name: str, request: Request) -> WorkflowOut:
    return catalog.workflow_out(get_engine().registry.get("workflow", name), base_url(request))


#: Bodies are read by ``payloads`` (for clear 400/413/415 errors); this documents them in /docs.
INPUTS_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": {"type": "object", "additionalProperties": True,
                                    "description": "Inputs, as a JSON object"}},
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": True}}}}}


@router.post("/api/workflows/execute/{name}", response_model=RunResult, responses=ERRORS, openapi_extra=INPUTS_BODY)
async def execute_workflow(name: str, request: Request) -> RunResult:
    """Run a workflow with the JSON body as inputs and answer with the finished run."""
    return await _run(request, name, await request_inputs(request, with_query=False), "manual")


@router.get("/api/workflows/trigger/{name}", response_model=RunResult, responses=ERRORS)
async def trigger_workflow(name: str, request: Request) -> RunResult:
    """Run a workflow with the query parameters as inputs (``?user_email=a@b.c``)."""
    return await _run(request, name, dict(request.query_params), "api")


@router.post("/api/webhooks/{name}", response_model=RunResult, responses=ERRORS, tags=["webhooks"],
             openapi_extra=INPUTS_BODY)
async def webhook(name: str, request: Request) -> RunResult:
    """Webhook: query parameters plus a JSON or form body as inputs."""
    return await _run(request, name, await request_inputs(request), "webhook")


@router.get("/api/workflows/logs/{name}", response_model=RunHistory, responses={404: ERRORS[404], 400: ERRORS[400]})
async def workflow_logs(
    name: str,
    limit: int = Query(20, ge=1, le=100, description="Runs per page"),
    cursor: str | None = Query(None, max_length=2048, description="next_cursor of the previous page"),
) -> RunHistory:
    """Run history of a workflow, newest first."""
    engine = get_engine()
    engine.registry.get("workflow", name)
    runs, next_cursor = await run_in_threadpool(engine.store.history, name, limit, cursor)
    return RunHistory(workflow=name, runs=runs, next_cursor=next_cursor)
