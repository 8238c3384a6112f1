"""``GET /api/runs``: find runs across workflows (by status, workflow, trigger, time window, run id), newest
first, paginated with a cursor. The dashboard's runs page and ``wfp runs`` read the same ``find``.

Included in the ``runs`` route module's router (``functions.http.routes.runs``, the group of ``/api/runs``).
What each filter costs in DynamoDB requests: ``functions.stores.run_search``; the window, the cursor and
the index keys: ``functions.core.run_search``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from functions.core import run_search
from functions.core.run_search import MOMENT_PATTERN, RUN_ID_PATTERN, RunFilter
from functions.core.runs import RunStatus, RunSummary, utcnow
from functions.errors import NotFound
from functions.http.deps import PlatformDep
from functions.http.schemas import RunList, error_responses
from functions.platform import Platform

router = APIRouter(tags=["runs"])

NAME_PATTERN = r"^[a-z0-9_]{1,100}$"
TRIGGER_PATTERN = r"^[a-z_]{1,32}$"


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
