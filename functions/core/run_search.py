"""Finding runs across workflows: the filters of ``GET /api/runs`` (and the dashboard's runs page, and
``wfp runs``), the time window they cover, the index keys a run is listed under, and the cursor.

What the API promises (the DynamoDB side is ``functions.stores.run_search``):

- **Newest first**, paginated with an opaque cursor (``next_cursor``; the same base64url JSON as a
  workflow's history cursor, refused with the same 400 when it was tampered with).
- **Window**: ``since`` and ``until`` are ISO 8601 datetimes (``2026-12-01T08:00:00Z``; without an offset,
  UTC) or dates (``2026-12-01``: UTC days; a ``since`` date starts at 00:00 of that day, an ``until`` date
  includes that whole day). Defaults: ``until`` now, ``since`` 7 days before ``until``. A ``since`` older
  than the runs' retention (``WFP_RUN_RETENTION_DAYS`` plus a day of TTL slack) is moved up to it: no run
  is kept longer, and every day of the window costs Queries. ``since`` after ``until`` is a 400.
- The window is a window on **run ids**: a run id starts with the milliseconds of its creation (12 hex
  digits, ``functions.core.runs.new_run_id``; a scheduled tick's, with the tick's), so ``since``/``until``
  become a range of the index's sort key, never a filter.
- **run_id**: an exact id is one GetItem (the other filters, when given, must match too; the default
  window does not apply: an id names one run, whenever it ran).

Index keys (written with every version of the item, ``functions.stores.runs``):

- ``day_shard`` = ``"YYYY-MM-DD#k"``: the UTC day of the run id's milliseconds and ``k`` in
  ``0..shards-1``, the run id's shard (``functions.core.shards.shard_of``: its last hex digits, random for
  ``new_run_id``, a hash for a tick) among ``WFP_RUN_DAY_SHARDS`` (default ``DAY_SHARDS``). A day's runs are
  spread over that many partitions, so the index takes shards x ~1,000 writes/s (2 to 3 per run), not one
  partition's ~1,000 for all runs of the platform: 4 carry ~1,400 runs/s, 64 carry 10,000 (SCALING.md).

There is no index by status: ``status`` is a filter on ``by_day`` (or ``by_workflow``). A second new index
could not be deployed onto an existing runs table (DynamoDB, and so CloudFormation, adds one global
secondary index per table update: a stack update adding two fails), and it would cost 3 to 5 more index
write units per run (an item moves between partitions at each status change). A rare status costs more
Queries per page instead (``functions.stores.run_search``).

The shard count is part of the stored keys: it may grow (a reader queries shards ``0..count-1``, so the
entries written under a smaller count are found; any count dividing 16 gives the shard the last hex digit
alone gave before), never shrink (the entries of the shards dropped would be missed until they expire).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from functions.core.shards import shard_of
from functions.errors import BadRequest, NotFound
from functions.settings import Settings

#: Write shards per day by default (``WFP_RUN_DAY_SHARDS``' default, see the module's docstring); part of the
#: stored keys.
DAY_SHARDS: int = Settings.model_fields["run_day_shards"].default
#: Default window: the last 7 days.
DEFAULT_DAYS = 7
#: Slack on the retention for ``since`` (DynamoDB's TTL deletes expired items within a day or two).
RETENTION_SLACK_DAYS = 1
#: At most this many Query requests per page. A page that reaches it before ``limit`` runs returns the
#: runs it found (maybe none) and a ``next_cursor`` to continue from where it stopped: a rare filter over
#: a long window takes several requests, each bounded. The unfiltered and status listings need at least
#: one Query per day shard of each day of the window they walk (28 for 7 empty days with 4 shards); a
#: workflow's, one per history shard (``WFP_HISTORY_SHARDS``) and per ~1 MB of index read. A page always
#: affords one round of its widest set of partitions and one more Query (``functions.stores.run_search``).
MAX_QUERIES_PER_PAGE = 40
RUN_ID_PATTERN = r"^[0-9a-f]{1,64}$"
#: ``since``/``until``: a date, or a date and time with an optional offset (``Z``, ``+02:00``).
MOMENT_PATTERN = (r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$")
_HEX = re.compile(r"^[0-9a-f]{12}")
INVALID_CURSOR = "invalid cursor: pass the 'next_cursor' value of the previous page unchanged"


@dataclass(frozen=True)
class RunFilter:
    """What to list: every field optional; ``since``/``until`` always set (``window``)."""

    since: datetime
    until: datetime
    status: str | None = None
    workflow: str | None = None
    trigger: str | None = None


@dataclass
class RunPage:
    runs: list[Any]  # RunSummary (functions.core.runs imports this module's types)
    next_cursor: str | None
    #: DynamoDB requests the page took (Query, or one GetItem for a run id): at most MAX_QUERIES_PER_PAGE.
    requests: int = 0
    #: Which index served it (``by_day``, ``by_workflow``, ``table`` for a run id).
    index: str = ""
    notes: list[str] = field(default_factory=list)


# ----- time window ---------------------------------------------------------------------------------------
def parse_moment(value: str, name: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime; a 400 naming the parameter otherwise."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise BadRequest(f"{name}: {value[:40]!r} is not an ISO 8601 date (2026-12-01) or datetime "
                         "(2026-12-01T08:00:00Z)") from None
    moment = moment.astimezone(timezone.utc)
    if moment.year < 1970 or moment.year > 9999:
        raise BadRequest(f"{name}: {value[:40]!r} is out of range")
    return moment


def window(since: str | None, until: str | None, now: datetime, retention_days: int) -> tuple[datetime, datetime]:
    """(since, until) of a listing: parsed, defaulted (the last ``DEFAULT_DAYS`` days), checked, and
    ``since`` no older than the retention."""
    end = parse_moment(until, "until", end_of_day=True) if until else now
    start = parse_moment(since, "since") if since else end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise BadRequest(f"since ({start.isoformat()}) is after until ({end.isoformat()})")
    oldest = now - timedelta(days=retention_days + RETENTION_SLACK_DAYS)
    return max(start, min(oldest, end)), end


def id_bound(moment: datetime, upper: bool) -> str:
    """The lowest (highest with ``upper``) run id created at ``moment``'s millisecond."""
    millis = max(0, min(int(moment.timestamp() * 1000), 16 ** 12 - 1))
    return f"{millis:012x}" + ("f" * 12 if upper else "0" * 12)


def days(since: datetime, until: datetime) -> list[str]:
    """The UTC days of the window, newest first (``YYYY-MM-DD``)."""
    first, last = since.date(), until.date()
    return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


# ----- index keys ----------------------------------------------------------------------------------------
def day_of(run_id: str) -> str:
    """The UTC day a run is listed under: its id's milliseconds (what the window bounds compare). An id
    that does not start with 12 hex digits of milliseconds (none the platform makes) is listed under
    1970-01-01. Read from the id alone, so an UpdateItem that changes a status can name the new key
    without reading the item."""
    if _HEX.match(run_id):
        millis = int(run_id[:12], 16)
        if millis < 253402300800000:  # year 10000
            return datetime.fromtimestamp(millis / 1000, timezone.utc).date().isoformat()
    return "1970-01-01"


def day_shard(run_id: str, shards: int = DAY_SHARDS) -> str:
    return f"{day_of(run_id)}#{shard_of(run_id, shards)}"


# ----- cursor --------------------------------------------------------------------------------------------
def encode_cursor(before: str | None) -> str | None:
    """The cursor of the next page: the runs older than ``before`` (a run id, excluded)."""
    if before is None:
        return None
    raw = json.dumps({"before": before}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = (isinstance(key, dict) and set(key) == {"before"} and isinstance(key["before"], str)
              and re.match(RUN_ID_PATTERN, key["before"]) is not None)
    except (ValueError, binascii.Error, TypeError, AttributeError):
        ok = False
    if not ok:
        raise BadRequest(INVALID_CURSOR)
    return str(key["before"])


# ----- the listing -----------------------------------------------------------------------------------------
@dataclass
class Found:
    """A page of ``find``: the runs, the cursor of the next page, and the window it covers."""

    runs: list[Any]  # RunSummary (functions.core.runs imports this module's types)
    since: datetime
    until: datetime
    next_cursor: str | None = None


def find(runs: Any, retention_days: int, page_size: int, *, status: str | None = None,
         workflow: str | None = None, trigger: str | None = None, since: str | None = None,
         until: str | None = None, run_id: str | None = None, limit: int | None = None,
         cursor: str | None = None) -> Found:
    """One page of runs (``GET /api/runs``, the Runs page, ``wfp runs``). ``run_id``: that run only (one
    GetItem), if it matches the other filters given; the default window does not apply to it. ``runs``: the
    ``RunStore``."""
    from functions.core.runs import RunSummary, created_ms, utcnow

    start, end = window(since, until, utcnow(), retention_days)
    if run_id:
        if cursor:
            decode_cursor(cursor)  # checked all the same: a bad one is a 400 everywhere
        try:
            run = runs.get(run_id)
        except NotFound:
            return Found([], start, end)
        created = created_ms(run.run_id) or 0
        in_window = ((not since or created >= int(start.timestamp() * 1000))
                     and (not until or created <= int(end.timestamp() * 1000)))
        wanted: dict[str, Any] = {"status": status, "workflow": workflow, "trigger": trigger}
        ok = in_window and all(value is None or getattr(run, key) == value for key, value in wanted.items())
        summary = RunSummary.model_validate(run.model_dump(include=set(RunSummary.model_fields)))
        return Found([summary] if ok else [], start, end)
    query = RunFilter(since=start, until=end, status=status, workflow=workflow, trigger=trigger)
    page = runs.search(query, limit or page_size, cursor)
    return Found(page.runs, start, end, page.next_cursor)
