"""``GET /api/runs``: find runs across workflows (by status, workflow, trigger, time window, run id), newest
first, paginated with a cursor. The dashboard's runs page and ``wfp runs`` read the same ``find``.

Included in the ``runs`` route module's router (``functions.http.routes.runs``, the group of ``/api/runs``).
What each filter costs in DynamoDB requests: ``functions.stores.run_search``; the window, the cursor and
the index keys: ``functions.core.run_search``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from functions.core import run_search
from functions.core.rerun import BULK_MAX
from functions.core.run_search import MOMENT_PATTERN, RUN_ID_PATTERN
from functions.core.runs import TRIGGERS, RunStatus
from functions.http.deps import PlatformDep
from functions.http.schemas import (
    BulkRerun,
    BulkRerunItem,
    RerunIn,
    RunList,
    error_responses,
)
from functions.platform import Platform

router = APIRouter(tags=["runs"])

NAME_PATTERN = r"^[a-z0-9_]{1,100}$"
#: The triggers a run can have (``core.runs.TRIGGERS``): another one is a 422 naming them, not an empty page.
TRIGGER_PATTERN = "^(" + "|".join(TRIGGERS) + ")$"


def find(platform: Platform, **filters: Any) -> RunList:
    """One page of runs as ``GET /api/runs`` answers it (``functions.core.run_search.find``; blocking)."""
    found = run_search.find(platform.runs, platform.settings.run_retention_days, platform.settings.history_page_size,
                            **filters)
    return RunList(runs=found.runs, next_cursor=found.next_cursor, since=found.since, until=found.until)


@router.get("/api/runs", response_model=RunList, responses=error_responses({
    400: "Malformed cursor, or a window that is not one (since after until, a date that does not exist)"}))
async def find_runs(
    platform: PlatformDep,
    status: RunStatus | None = Query(None, description="Only runs in this status (now)"),
    workflow: str | None = Query(None, max_length=100, pattern=NAME_PATTERN, description="Only this workflow's runs"),
    trigger: str | None = Query(None, max_length=32, pattern=TRIGGER_PATTERN,
                                description="Only runs started by this trigger: manual, api, webhook, schedule, rerun"),
    since: str | None = Query(None, max_length=40, pattern=MOMENT_PATTERN,
                              description="Runs created at or after: an ISO 8601 datetime (UTC without an "
                                          "offset) or date (its 00:00 UTC). Default: 7 days before until; "
                                          "never older than the runs' retention"),
    until: str | None = Query(None, max_length=40, pattern=MOMENT_PATTERN,
                              description="Runs created at or before: a datetime, or a date (that whole UTC "
                                          "day). Default: now"),
    run_id: str | None = Query(None, max_length=64, pattern=RUN_ID_PATTERN,
                               description="Exactly this run (if it matches the other filters given; the "
                                           "default window does not apply)"),
    limit: int | None = Query(None, ge=1, le=100, description="Runs per page (default: WFP_HISTORY_PAGE_SIZE, 20)"),
    cursor: str | None = Query(None, max_length=2048, description="next_cursor of the previous page"),
) -> RunList:
    """Runs of every workflow, newest first. Each page is a bounded number of DynamoDB Queries (never a
    Scan): a rare filter over a long window may answer fewer runs than ``limit`` with a ``next_cursor``."""
    return await run_in_threadpool(find, platform, status=status, workflow=workflow, trigger=trigger, since=since,
                                   until=until, run_id=run_id, limit=limit, cursor=cursor)


#: The most runs one bulk re-run starts: each is a queued run (one write, one message) and a link write.


def bulk_rerun(platform: Platform, **options: Any) -> BulkRerun:
    """``functions.core.rerun.bulk_rerun`` as ``POST /api/runs/rerun`` answers it (blocking)."""
    from functions.core.rerun import bulk_rerun as rerun_all

    done = rerun_all(platform.engine, **options)
    return BulkRerun(confirmed=done.confirmed, count=len(done.runs), more=done.more, runs=done.runs,
                     results=[BulkRerunItem(**vars(item)) for item in done.results], message=done.message)


@router.post("/api/runs/rerun", response_model=BulkRerun, responses={
    202: {"model": BulkRerun, "description": "Confirmed: each matching run re-run through the queue"},
    **error_responses({400: "Malformed window", 422: "Invalid filters, limit or profiles"})})
async def rerun_runs(
    platform: PlatformDep,
    status: RunStatus | None = Query(None, description="Only runs in this status (e.g. error)"),
    workflow: str | None = Query(None, max_length=100, pattern=NAME_PATTERN),
    trigger: str | None = Query(None, max_length=32, pattern=TRIGGER_PATTERN),
    since: str | None = Query(None, max_length=40, pattern=MOMENT_PATTERN, description="As GET /api/runs"),
    until: str | None = Query(None, max_length=40, pattern=MOMENT_PATTERN, description="As GET /api/runs"),
    limit: int = Query(20, ge=1, le=BULK_MAX, description=f"At most this many runs, the newest (1 to {BULK_MAX})"),
    confirm: bool = Query(False, description="Without it, the answer only lists the runs it would re-run"),
    body: RerunIn | None = None,
) -> JSONResponse:
    """Re-run every run the filters match (at most ``limit``, newest first) with its stored inputs and the
    body's ``profiles``: first without ``confirm`` to see them, then with ``confirm=true``. A run that
    cannot be re-run (still open, workflow inactive, a masked input) is reported and the others go on."""
    answer = await run_in_threadpool(bulk_rerun, platform, confirm=confirm, limit=limit,
                                     profiles=body.profiles if body else None, status=status, workflow=workflow,
                                     trigger=trigger, since=since, until=until)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202 if confirm else 200)
