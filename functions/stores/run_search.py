"""Finding runs across workflows on DynamoDB: the index of the runs table that lists runs by day, and
the listing that reads them (``DynamoRunStore.search``). Only Query requests, never a Scan.

Indexes (global, on the runs table, projecting the summary fields and ``workflow``, so a listing needs
no GetItem; keys and shards: ``functions.core.run_search``):

======================  =============================  ===========================================
index                   hash key / range key           serves
======================  =============================  ===========================================
``by_day``              ``day_shard`` / ``run_id``     all workflows (``status``, ``trigger`` as
                                                       filters)
``by_history``          ``history_key`` / ``run_id``   ``workflow`` (``status``, ``trigger`` as
                                                       filters); a workflow's history
``by_workflow``         ``workflow`` / ``run_id``      the same, for runs written before
(pre-sharding)                                         ``by_history``, while
                                                       ``WFP_LEGACY_HISTORY_INDEX`` is on
======================  =============================  ===========================================

Keys and shards: ``functions.core.shards``. A run is listed under one shard of its day and one of its
workflow, both read from its id; a reader merges every shard of what it reads, newest first. While the
pre-sharding ``by_workflow`` is read too, it holds the newer runs as well (its key is the ``workflow``
attribute every item has): the merge drops the second copy of a run (same run id, adjacent in the order).

``since``/``until`` are always a range of ``run_id`` (the key condition), never a filter. A FilterExpression
is used only for the secondary filters in the last column: those Queries read up to
``FILTERED_QUERY_ITEMS`` index items each and the listing keeps querying until the page has ``limit``
runs, the window is exhausted, or ``MAX_QUERIES_PER_PAGE`` Queries were made (then the page may be short,
even empty, and ``next_cursor`` continues where it stopped).

Cost per run, in index write units (items are well under 1 KB: one unit per index write; GSI updates
are not extra requests, the number of requests per run is unchanged: two for a sync run, three for a
queued one):

- ``by_day``: one per write of the item (its key never changes; the projected summary fields do):
  2 for a sync run (create, save), 3 for a queued run (create, claim, save). ``by_history`` the same.
- so 2 more write units per sync run, 3 per queued run (``by_history`` and ``open_runs`` cost theirs).
  No index by status (``functions.core.run_search`` says why): a status filter reads the day's runs
  ``FILTERED_QUERY_ITEMS`` at a time, so a page of a rare status over a busy week may take the whole
  Query budget and answer short with a cursor; 10,000 runs are read in about 34 Queries.

Cost per page, in Queries: the listing merges the day's shards (``WFP_RUN_DAY_SHARDS``) per day, newest
day first; every partition of a day is queried at least once, so a page walks at least that many Queries
per day it covers (a day with more runs than the page needs is one round). A workflow's listing, and its
history (``history``), is one round over all time: ``WFP_HISTORY_SHARDS`` Queries (plus one of
``by_workflow`` while it is read), each asking for the whole page, so an unfiltered page never needs a
second round. At most ``MAX_QUERIES_PER_PAGE``, or one round of the widest set of partitions and one more
Query when that is more (a page must be able to read every partition it merges).
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from functions.core import run_search
from functions.core.run_search import RunFilter, RunPage, days, id_bound
from functions.core.runs import SUMMARY_FIELDS, RunSummary
from functions.core.shards import Shards, history_keys

#: Index items a Query with a FilterExpression reads (DynamoDB's ``Limit`` counts items read, before
#: the filter): ~300 B each, ~90 KB, ~11 read units (eventually consistent) a Query.
FILTERED_QUERY_ITEMS = 300
#: ``usage`` for the metrics' cost sums (``usage_of_runs``), which by_workflow cannot project.
LISTED = [*SUMMARY_FIELDS, "workflow", "usage"]
#: What by_history projects: a history page's summaries (``workflow`` is not its key, unlike by_workflow's).
HISTORY = [*SUMMARY_FIELDS, "workflow"]
#: Beginning and end of time as run ids (a history is a listing over all time).
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
END_OF_TIME = datetime(9999, 12, 31, tzinfo=timezone.utc)
#: Threads reading partitions side by side (one pool per process, threads started as needed).
POOL_THREADS = 16


class DayIndex(GlobalSecondaryIndex[Any]):
    """All runs of a UTC day, ``WFP_RUN_DAY_SHARDS`` partitions a day, newest run id last."""

    class Meta:
        index_name = "by_day"
        projection = IncludeProjection(LISTED)

    day_shard = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)


class HistoryIndex(GlobalSecondaryIndex[Any]):
    """A workflow's runs, ``WFP_HISTORY_SHARDS`` partitions (``<workflow>#<k>``), newest run id last."""

    class Meta:
        index_name = "by_history"
        projection = IncludeProjection(HISTORY)

    history_key = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)


class _Entry(NamedTuple):
    """An index item as read: decoded into a model only when the page returns it (a merge of many
    partitions reads more than it returns)."""

    run_id: str
    raw: dict[str, Any]


class _Stream:
    """One partition of an index, read newest first within [lo, hi], a Query at a time."""

    def __init__(self, model: Any, index: Any, hash_key: str, lo: str, hi: str, exclude: str | None,
                 condition: Any) -> None:
        self.model, self.index, self.hash_key = model, index, hash_key
        self.lo, self.hi, self.exclude, self.condition = lo, hi, exclude, condition
        self.buffer: deque[Any] = deque()
        self.started = False
        self.last_key: dict[str, Any] | None = None

    @property
    def exhausted(self) -> bool:
        return self.started and self.last_key is None

    @property
    def frontier(self) -> str:
        """Every item of the partition at or above this run id was read (unread ones are below it)."""
        return self.last_key["run_id"]["S"] if self.last_key else self.hi

    def fetch(self, page_size: int) -> None:
        result = self.index.query(
            self.hash_key, range_key_condition=self.model.run_id.between(self.lo, self.hi),
            # One more item when the cursor's run may be read (the range includes it): it is dropped.
            filter_condition=self.condition, scan_index_forward=False,
            page_size=page_size + (self.exclude is not None),
            last_evaluated_key=self.last_key)
        page = next(result.page_iter)
        self.started = True
        self.last_key = page.get("LastEvaluatedKey")
        for raw in page.get("Items", []):
            entry = _Entry(raw["run_id"]["S"], raw)
            if entry.run_id != self.exclude:
                self.buffer.append(entry)


#: The partitions (index, hash key) of one day (or of a workflow) and its run id range.
Round = tuple[list[tuple[Any, str]], str, str]


def workflow_partitions(model: Any, shards: Shards, workflow: str) -> list[tuple[Any, str]]:
    """Every partition holding a workflow's runs: its by_history shards, and by_workflow while it is read."""
    partitions = [(model.by_history, key) for key in history_keys(workflow, shards.history)]
    return partitions + ([(model.by_workflow, workflow)] if shards.legacy_history else [])


def _plan(model: Any, query: RunFilter, lo: str, hi: str, shards: Shards) -> tuple[str, list[Round], Any]:
    """(index name, rounds (newest day first), the filter condition)."""
    condition = None
    if query.trigger:
        condition = model.trigger == query.trigger
    if query.status:
        condition = (model.status == query.status) & condition if condition is not None \
            else model.status == query.status
    if query.workflow:
        return "by_history", [(workflow_partitions(model, shards, query.workflow), lo, hi)], condition
    top = datetime.fromtimestamp(int(hi[:12], 16) / 1000, timezone.utc)
    newest = min(query.until, top)
    rounds = days(query.since, newest) if newest >= query.since else []
    partitions = []
    for day in rounds:
        start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
        day_lo, day_hi = id_bound(start, upper=False), id_bound(start + timedelta(days=1, milliseconds=-1), upper=True)
        if max(lo, day_lo) <= min(hi, day_hi):
            partitions.append(([(model.by_day, f"{day}#{k}") for k in range(shards.days)],
                               max(lo, day_lo), min(hi, day_hi)))
    return "by_day", partitions, condition


_shared_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process's threads for reading a day's partitions side by side: made once, not per request."""
    global _shared_pool
    with _pool_lock:
        if _shared_pool is None:
            _shared_pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="run-search")
        return _shared_pool


def _fetch(streams: list[_Stream], page_size: int, pool: ThreadPoolExecutor | None) -> None:
    if pool is None or len(streams) == 1:
        for stream in streams:
            stream.fetch(page_size)
    else:
        list(pool.map(lambda s: s.fetch(page_size), streams))


def search(model: Any, to_summary: Any, query: RunFilter, limit: int, cursor: str | None,
           shards: Shards) -> RunPage:
    """One page of ``query``, newest first (see the module's docstring for the plan and its cost)."""
    lo, hi = id_bound(query.since, upper=False), id_bound(query.until, upper=True)
    before = run_search.decode_cursor(cursor) if cursor else None
    if before is not None:
        hi = min(hi, before)
    index_name, rounds, condition = _plan(model, query, lo, hi, shards)
    widest = max((len(partitions) for partitions, _, _ in rounds), default=1)
    max_queries = max(run_search.MAX_QUERIES_PER_PAGE, widest + 1)  # a round, and a refill
    filtered = condition is not None
    out: list[RunSummary] = []
    queries = 0
    stopped: str | None = None  # the cursor position when the Query budget ran out
    pool = _pool() if widest > 1 else None  # one partition: no thread needed
    remaining_rounds = deque(rounds) if lo <= hi else deque()
    streams: list[_Stream] = []
    while len(out) < limit and stopped is None:
        if not streams or all(s.exhausted and not s.buffer for s in streams):
            if not remaining_rounds:
                break
            partitions, round_lo, round_hi = remaining_rounds.popleft()
            streams = [_Stream(model, index, key, round_lo, round_hi, before, condition)
                       for index, key in partitions]
        heads = [s.buffer[0].run_id for s in streams if s.buffer]
        best = max(heads) if heads else None
        # A partition whose buffer is empty may still hold a run newer than the best one buffered.
        pending = [s for s in streams if not s.buffer and not s.exhausted and (best is None or s.frontier > best)]
        if pending:
            if queries + len(pending) > max_queries:
                stopped = max(s.frontier for s in pending)
                break
            need = limit - len(out)
            _fetch(pending, max(need, FILTERED_QUERY_ITEMS) if filtered else need, pool)
            queries += len(pending)
            continue
        if best is None:
            continue  # every partition of this round is read: the next round
        stream = next(s for s in streams if s.buffer and s.buffer[0].run_id == best)
        entry = stream.buffer.popleft()
        if not out or out[-1].run_id != entry.run_id:  # a run in by_history and by_workflow: listed once
            out.append(to_summary(model.from_raw_data(entry.raw)))
    if stopped is not None:  # below every run returned (a round not started begins below the previous)
        next_before: str | None = min([stopped, *(r.run_id for r in out[-1:])])
    elif len(out) >= limit and (remaining_rounds or any(s.buffer or not s.exhausted for s in streams)):
        next_before = out[-1].run_id
    else:
        next_before = None
    return RunPage(out, run_search.encode_cursor(next_before), queries, index_name)


def history(model: Any, to_summary: Any, shards: Shards, workflow: str, limit: int,
            before: str | None) -> tuple[list[RunSummary], str | None]:
    """A workflow's runs older than ``before`` (a run id; None: the newest), newest first, and the run id to
    continue before (None: no more). One round of ``workflow_partitions``: ``WFP_HISTORY_SHARDS`` Queries (+1
    while by_workflow is read), side by side, whatever the number of runs stored."""
    query = RunFilter(since=EPOCH, until=END_OF_TIME, workflow=workflow)
    page = search(model, to_summary, query, limit, run_search.encode_cursor(before), shards=shards)
    return page.runs, run_search.decode_cursor(page.next_cursor) if page.next_cursor else None


def between(model: Any, shards: Shards, workflow: str, lo: str, hi: str) -> list[Any]:
    """A workflow's index items with run ids in [lo, hi], each once, oldest first: every partition of
    ``workflow_partitions``, side by side, each Query paginated by pynamodb (the metrics' outcomes)."""
    def read(partition: tuple[Any, str]) -> list[Any]:
        index, key = partition
        return list(index.query(key, model.run_id.between(lo, hi)))

    found = {item.run_id: item for items in _pool().map(read, workflow_partitions(model, shards, workflow))
             for item in items}
    return [found[run_id] for run_id in sorted(found)]


def usage_of_runs(model: Any, workflow: str, start: datetime, end: datetime,
                  shards: Shards) -> list[tuple[str, dict[str, float]]]:
    """(run id, usage) of ``workflow``'s runs created in [start, end) with a usage: every partition of each
    day, its run-id range, filtered on the workflow and on having a usage (``DynamoRunStore.usage_between``)."""
    count = shards.days
    lo, hi = id_bound(start, upper=False), id_bound(end - timedelta(milliseconds=1), upper=True)
    condition = (model.workflow == workflow) & model.usage.exists()
    keys = [f"{day}#{k}" for day in days(start, end - timedelta(milliseconds=1)) for k in range(count)]

    def read(key: str) -> list[tuple[str, dict[str, float]]]:
        return [(item.run_id, {str(k): float(v) for k, v in (item.usage or {}).items()})
                for item in model.by_day.query(key, range_key_condition=model.run_id.between(lo, hi),
                                               filter_condition=condition)]

    return [pair for found in _pool().map(read, keys) for pair in found]
