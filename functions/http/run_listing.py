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
from functions.core.run_search import MOMENT_PATTERN, RUN_ID_PATTERN, RunFilter
from functions.core.runs import TRIGGERS, RunStatus, RunSummary, utcnow
from functions.errors import NotFound, PlatformError
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


def find(platform: Platform, *, status: str | None = None, workflow: str | None = None, trigger: str | None = None,
         since: str | None = None, until: str | None = None, run_id: str | None = None, limit: int | None = None,
         cursor: str | None = None) -> RunList:
    """One page of runs (blocking: DynamoDB). ``run_id``: that run only (one GetItem), if it matches the
    other filters given; the default window does not apply to it."""
    now = utcnow()
    start, end = run_search.window(since, until, now, platform.settings.run_retention_days)
    if run_id:
        if cursor:
            run_search.decode_cursor(cursor)  # checked all the same: a bad one is a 400 everywhere
        try:
            run: RunSummary = platform.runs.get(run_id)
        except NotFound:
            return RunList(runs=[], since=start, until=end)
        created = int(run.run_id[:12], 16) if len(run.run_id) >= 12 else 0
        in_window = ((not since or created >= int(start.timestamp() * 1000))
                     and (not until or created <= int(end.timestamp() * 1000)))
        wanted: dict[str, Any] = {"status": status, "workflow": workflow, "trigger": trigger}
        ok = in_window and all(value is None or getattr(run, key) == value for key, value in wanted.items())
        summary = RunSummary.model_validate(run.model_dump(include=set(RunSummary.model_fields)))
        return RunList(runs=[summary] if ok else [], since=start, until=end)
    query = RunFilter(since=start, until=end, status=status, workflow=workflow, trigger=trigger)
    page = platform.runs.search(query, limit or platform.settings.history_page_size, cursor)
    return RunList(runs=page.runs, next_cursor=page.next_cursor, since=start, until=end)


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
BULK_MAX = 50


def bulk_rerun(platform: Platform, *, confirm: bool, limit: int, profiles: dict[str, str] | None = None,
               **filters: Any) -> BulkRerun:
    """The newest ``limit`` runs matching ``filters``; with ``confirm``, each re-run through the queue (as
    ``POST /api/runs/{id}/rerun?async=1``), one refusal not stopping the others."""
    from functions.core.rerun import rerun

    runs: list[RunSummary] = []
    cursor: str | None = None
    for _ in range(10):  # pages: a rare filter may answer short pages (functions.stores.run_search)
        page = find(platform, limit=limit - len(runs) + 1, cursor=cursor, **filters)
        runs += page.runs
        cursor = page.next_cursor
        if len(runs) > limit or cursor is None:
            break
    more = len(runs) > limit or cursor is not None
    runs = runs[:limit]
    if not confirm:
        return BulkRerun(confirmed=False, count=len(runs), more=more, runs=runs,
                         message=f"{len(runs)} run(s) match{' (and more: the newest are taken)' if more else ''}; "
                                 "repeat the request with confirm=true to re-run them")
    results = []
    for run in runs:
        item = BulkRerunItem(run_id=run.run_id, workflow=run.workflow, status=run.status)
        try:
            item.rerun_id = rerun(platform.engine, run.run_id, None, profiles, wait=None).run.run_id
        except PlatformError as exc:
            item.error = exc.message
        results.append(item)
    started = sum(1 for r in results if r.rerun_id)
    return BulkRerun(confirmed=True, count=len(runs), more=more, runs=runs, results=results,
                     message=f"{started} of {len(runs)} run(s) re-run (queued)")


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
