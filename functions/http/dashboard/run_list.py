"""The runs page (``/dashboard/runs``): runs of every workflow, filtered by status, workflow, trigger and
days, newest first, a page at a time; a run id typed in the search box opens that run's page.

It reads ``functions.http.run_listing.find``, what ``GET /api/runs`` answers (same filters, same cursor,
same bounded number of DynamoDB Queries a page).
"""

from __future__ import annotations

import re
from typing import Any, get_args
from urllib.parse import urlencode

from functions.core.run_search import RUN_ID_PATTERN
from functions.core.runs import RunStatus
from functions.errors import BadRequest
from functions.http.run_listing import NAME_PATTERN, TRIGGER_PATTERN, find
from functions.platform import Platform

STATUSES: tuple[str, ...] = get_args(RunStatus)
FILTERS = ("status", "workflow", "trigger", "since", "until")
#: What a filter may be (as the API declares it); anything else is dropped with a message, not a 422 page.
PATTERNS = {"workflow": NAME_PATTERN, "trigger": TRIGGER_PATTERN,
            "since": r"^\d{4}-\d{2}-\d{2}", "until": r"^\d{4}-\d{2}-\d{2}"}


def triggers() -> tuple[str, ...]:
    from functions.core.runs import TRIGGERS

    return tuple(TRIGGERS)


def run_id_of(text: str) -> str | None:
    """The run id a search box holds (spaces and case forgiven), or None."""
    value = text.strip().lower()
    return value if re.match(RUN_ID_PATTERN, value) else None


def runs_page(platform: Platform, params: dict[str, str], cursor: str | None) -> dict[str, Any]:
    filters = {k: v.strip() for k, v in params.items() if k in FILTERS and v and v.strip()}
    error = None
    for key, value in list(filters.items()):
        valid = value in STATUSES if key == "status" else re.match(PATTERNS[key], value) and len(value) <= 100
        if not valid:
            error = f"{key}: {value[:60]!r} is not a valid value; ignored"
            del filters[key]
    try:
        page = find(platform, cursor=cursor, **filters)
    except BadRequest as exc:
        error = exc.message
        filters = {k: v for k, v in filters.items() if k not in ("since", "until")}
        page = find(platform, **filters)
    return {
        "runs": page.runs,
        "next_url": f"?{urlencode({**filters, 'cursor': page.next_cursor})}" if page.next_cursor else None,
        "first_url": f"?{urlencode(filters)}" if cursor else None,
        "filters": filters,
        "since": page.since, "until": page.until,
        "error": error,
        "statuses": STATUSES, "triggers": triggers(),
        "workflows": sorted(p.name for p in platform.registry.of_kind("workflow")),
    }
