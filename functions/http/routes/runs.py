"""One run, in full: status, inputs (redacted), output, error, traceback and log lines (also each alone,
whole, as a download); re-running it (``functions.core.rerun``) and cancelling it (``functions.core.cancel``)."""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from functions.errors import NotFound
from functions.http import run_listing
from functions.http.deps import PlatformDep, run_url
from functions.http.schemas import (
    ApprovalIn,
    RerunIn,
    ResumeIn,
    RunAccepted,
    RunOut,
    RunResult,
    error_responses,
)

router = APIRouter(tags=["runs"])
# GET /api/runs (finding runs across workflows) lives in its own module, under this group's prefix.
router.include_router(run_listing.router)

RUN_ID = r"^[0-9a-f]{1,64}$"


def _run_id(run_id: str) -> str:
    """Documented as a pattern, checked here: a mistyped id is a run that does not exist (404), not
    pydantic's pattern text."""
    if not re.match(RUN_ID, run_id):
        raise NotFound(f"no such run: {run_id[:80]!r} is not a run id (up to 64 hex digits, as a trigger "
                       "answered it)")
    return run_id


RunIdPath = Path(description="The run's id (hex digits)", json_schema_extra={"pattern": RUN_ID})


@router.get("/api/runs/{run_id}", response_model=RunOut, responses=error_responses({404: "No such run"}))
async def get_run(platform: PlatformDep,
                  run_id: str = Path(description="The run_id a trigger answered (hex digits)",
                                     json_schema_extra={"pattern": RUN_ID})) -> RunOut:
    run = await run_in_threadpool(platform.runs.get, _run_id(run_id))
    return RunOut.model_validate(run.model_dump())


# ----- a run's output and log lines, whole -------------------------------------------------------------------
@router.get("/api/runs/{run_id}/output", responses={200: {"content": {"application/json": {}},
                                                          "description": "The output, whole, as JSON"},
                                                    **error_responses({404: "No such run"})})
async def run_output(platform: PlatformDep, run_id: str = RunIdPath) -> Response:
    """What the run's execute() returned, whole (also when its record keeps a preview and the rest is in
    the run-data bucket), as a JSON download; ``null`` while the run has none."""
    run = await run_in_threadpool(platform.runs.get, _run_id(run_id))
    body = json.dumps(run.output, ensure_ascii=False, default=str, indent=2)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'inline; filename="{run.run_id}-output.json"'})


@router.get("/api/runs/{run_id}/logs", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "The log lines, whole, one per line"},
                       **error_responses({404: "No such run"})})
async def run_logs(platform: PlatformDep, run_id: str = RunIdPath) -> PlainTextResponse:
    """The run's log lines, whole, one per line (``GET /api/runs/{run_id}`` has them as a JSON list)."""
    run = await run_in_threadpool(platform.runs.get, _run_id(run_id))
    return PlainTextResponse("".join(f"{line}\n" for line in run.logs),
                             headers={"Content-Disposition": f'inline; filename="{run.run_id}-logs.txt"'})


# ----- re-run and cancel -------------------------------------------------------------------------------------
RERUN_RESPONSES = {
    202: {"model": RunAccepted, "description": "Accepted: recorded, not finished yet (poll status_url); at once "
                                               "with ?async=1"},
    **error_responses({404: "No such run", 409: "The run is still open, or its workflow is now inactive, broken "
                                                "or gone",
                       422: "A masked input (password) not supplied again, invalid inputs, or a profile for a tool "
                            "the workflow does not use",
                       503: "The run could not be queued (its record says so)"})}
CANCEL_RESPONSES = error_responses({404: "No such run", 409: "Already finished (the error names its status)"})


@router.post("/api/runs/{run_id}/rerun", response_model=RunResult, responses=RERUN_RESPONSES)
async def rerun_run(request: Request, platform: PlatformDep, run_id: str = RunIdPath, body: RerunIn | None = None,
                    run_async: bool = Query(False, alias="async", description="Answer 202 at once; the worker "
                                                                              "runs it")) -> JSONResponse:
    """Start a new run of a finished run's workflow with its inputs (trigger ``rerun``), answered like
    execute: 200 with the finished run, 202 with ``status_url`` (``?async=1``, or still running).

    Passwords are not stored (the record holds them masked): supply them again in ``inputs``, which
    override and fill the stored ones. ``profiles`` choose other tool profiles for this run only (re-run a
    PROD failure against TEST). The new run's ``rerun_of`` names the original; the original's ``reruns``
    lists its newest re-runs."""
    from functions.core.rerun import rerun

    body = body or RerunIn()
    wait = None if run_async else platform.settings.sync_wait_seconds
    submission = await run_in_threadpool(rerun, platform.engine, _run_id(run_id), body.inputs, body.profiles,
                                         wait=wait)
    run = submission.run
    url = run_url(request, platform, run.run_id)
    if not run_async and run.finished:
        return JSONResponse(RunResult.of(run, url).model_dump(mode="json"))
    return JSONResponse(RunAccepted.of(run, url).model_dump(mode="json"), status_code=202,
                        headers={"Location": url})


@router.post("/api/runs/{run_id}/cancel", response_model=RunOut, responses=CANCEL_RESPONSES)
async def cancel_run(platform: PlatformDep, run_id: str = RunIdPath) -> RunOut:
    """Cancel a queued or running run; answers the cancelled record.

    A queued run never starts. A running run is recorded ``cancelled`` at once, but its code cannot be
    stopped (a thread cannot be killed safely): it keeps running in the background until it returns or
    its ``timeout_seconds`` pass, and its result is then discarded. A finished run is a 409."""
    from functions.core.cancel import cancel

    run = await run_in_threadpool(cancel, platform.runs, _run_id(run_id))
    return RunOut.model_validate(run.model_dump())



# ----- durable runs: resume, approvals ----------------------------------------------------------------------
RESUME_RESPONSES = {
    202: {"model": RunAccepted, "description": "Resumed: a new execution of the same run, not finished yet"},
    **error_responses({404: "No such run", 409: "Not a durable run, or not failed (only error, timed_out and "
                                                "interrupted durable runs are resumed)",
                       422: "A masked input (password) not supplied again, or invalid inputs",
                       503: "No durable backend here, or the execution could not be started"})}
APPROVAL_RESPONSES = error_responses({404: "No such run, no approval of that name, or it expired",
                                      409: "Already answered", 422: "Malformed body",
                                      503: "No durable backend here"})


@router.post("/api/runs/{run_id}/resume", response_model=RunResult, responses=RESUME_RESPONSES)
async def resume_run(request: Request, platform: PlatformDep, run_id: str = RunIdPath,
                     body: ResumeIn | None = None) -> JSONResponse:
    """Resume a failed durable run from its failed step: a new durable execution of the same run (same run
    id) whose completed steps return their recorded results without running again (a step whose result
    was truncated in the record runs again). Answered 200 if it finishes within the sync wait, else 202."""
    from functions.core.durable import resume

    body = body or ResumeIn()
    run = await run_in_threadpool(resume, platform.engine, _run_id(run_id), body.inputs,
                                  wait=platform.settings.sync_wait_seconds)
    url = run_url(request, platform, run.run_id)
    if run.finished:
        return JSONResponse(RunResult.of(run, url).model_dump(mode="json"))
    return JSONResponse(RunAccepted.of(run, url).model_dump(mode="json"), status_code=202, headers={"Location": url})


@router.post("/api/runs/{run_id}/approvals/{name}", status_code=202, response_model=RunOut,
             responses=APPROVAL_RESPONSES)
async def answer_approval(body: ApprovalIn, platform: PlatformDep, run_id: str = RunIdPath,
                          name: str = Path(description="The approval's name (ctx.wait_for_approval's)")) -> RunOut:
    """Approve (``approve: true``) or reject what a waiting durable run asks for; the run goes on at once.
    One answer per approval (a second is a 409); an expired one is a 404."""
    from functions.core.durable import answer_approval as answer

    run = await run_in_threadpool(answer, platform.engine, _run_id(run_id), name, body.approve, body.comment,
                                  body.by)
    return RunOut.model_validate(run.model_dump())


@router.post("/api/runs/{run_id}/skip-wait", status_code=202, response_model=RunOut,
             responses=error_responses({404: "No such run", 409: "Not sleeping, or not the local backend",
                                        503: "No durable backend here"}))
async def skip_wait(platform: PlatformDep, run_id: str = RunIdPath) -> RunOut:
    """Development only (the local durable backend): a durable run sleeping in ``ctx.sleep`` goes on now
    instead of at its time. Deployed it is a 409: waits wait."""
    from functions.core.durable import skip_wait as skip

    run = await run_in_threadpool(skip, platform.engine, _run_id(run_id))
    return RunOut.model_validate(run.model_dump())
