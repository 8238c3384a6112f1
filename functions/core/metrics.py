"""A workflow's trend over 24 h, 7 d or 30 d: runs, success rate, p50/p95 duration, per hour or per day.

**Computed from hour aggregates, each past hour aggregated once, lazily.** A finished hour never
changes (its runs are final), so a metrics request reads the hours already aggregated from the
``metrics`` table (``functions.stores.metrics``), computes the missing ones from the run history and
writes them back; the current hour (and any hour not final yet) is computed live and never stored. No
run pays for it: a run is still two writes (``create`` and ``save``), and the metrics cost falls on the
metrics views, which are rare next to runs. A view never scans: the history is read with a Query of each
history shard (``by_history``, and ``by_workflow`` while it is kept) bounded by run ids (run ids start with
their creation epoch milliseconds, so a run-id range is a time range), per contiguous stretch of missing hours.

**When an hour is final.** An hour is aggregated (and stored) only when both hold:

* it ended more than ``FREEZE_AFTER`` ago: the longest run timeout (15 min, ``WorkflowConfig.timeout_seconds``
  ≤ 900) plus a 5-minute margin (the index is eventually consistent; a record appears a moment after
  its id was drawn);
* the Query saw no open run (``queued``, ``running``) in it. A queued run may wait longer than a
  timeout (``WFP_QUEUED_TIMEOUT_SECONDS``) and a retried one runs again: such an hour stays live, read
  again by the next view, until the worker or the sweep closes the run. Final statuses never change.

**Storage: one item per workflow and UTC day, not per hour.** Hash ``workflow``, range ``day``
(``2026-12-01``); the item holds the day's aggregated hours (a bit mask, ``covered``, and the non-empty
hours' aggregates). Per day rather than per hour because the platform grants no ``BatchWriteItem``
(it can delete as well as put, and the stack grants no delete: ``tests/functions/stores``), so each
item is one PutItem: the first 30-day view writes at most 30 items instead of up to 720, later views
0 or 1 (the day whose hours became final since), and a 30-day view reads 30 small items in one Query.
A put is conditional on covering more hours than the stored item (two views racing write the same
facts; the one that knows fewer hours loses, which only means recomputing them later).

**Cost of a view** (``tests/functions/http/test_workflow_metrics.py`` measures it): the first view of a
window: 1 Query of the metrics table + 1 Query of the index per stretch of missing hours (1 on a first
view: the whole window; a page holds ~1 MB, a few thousand runs' summaries) + one PutItem per day that
got new final hours (≤ 30, the window's days). A repeated view: 1 Query of the metrics table + 1 Query
of the index for the hours not final yet (the current hour, and the previous one for its first 20
minutes) + at most one PutItem when an hour became final meanwhile. Hours with a run still open are
read again by each view until it ends (another stretch: one more Query). Never a Scan, never a
GetItem, nothing per hour. The dashboard's workflow page makes the same requests for its section.

**Percentiles** come from a merged histogram of durations: log-spaced buckets, four per doubling
(``RATIO`` = 2^(1/4) ≈ 1.19) from 1 ms to past 15 min (84 buckets; 0 ms has its own). A percentile
is reported as its bucket's geometric middle, clamped to the smallest and largest durations seen, so it
is within ``PRECISION`` (±9.1 %, or 1 ms: it is rounded to whole ms) of the exact nearest-rank value. The histogram merges across hours
exactly (bucket counts add), which a stored p95 would not.

**Alternative considered: CloudWatch metrics** (Powertools Metrics, EMF lines the functions print as
each run finishes, read back with GetMetricData). No DynamoDB write either, and CloudWatch keeps
percentiles. Not chosen: every workflow × status would be a custom metric ($0.30 each a month, and a
dimension per workflow grows with the plugins); reading it back needs ``cloudwatch:GetMetricData``
(billed per metric read) and a CloudWatch client in the API; locally (moto, the dev server) it would
be a second source of truth that does not match the run history; and a run recorded but not
published (a crash between the save and the flush, a sweep closing a run) would be missing, while
this reads the history itself. The API's Powertools metrics stay what they are (operations, not trends).

Pure: the stores are reached through the two Protocols below (``functions.stores.metrics`` implements
``MetricsStore``, ``functions.stores.runs.DynamoRunStore`` implements ``RunRanges``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from functions.core.pricing import cost
from functions.core.runs import FAILED_STATUSES, OPEN_STATUSES, created_ms, utcnow

Window = Literal["24h", "7d", "30d"]
WINDOWS: dict[str, tuple[int, Literal["hour", "day"]]] = {"24h": (24, "hour"), "7d": (7 * 24, "hour"),
                                                            "30d": (30, "day")}
HOUR = timedelta(hours=1)
#: The longest timeout a workflow may have (900 s) plus a margin: an hour this long past is final.
LONGEST_TIMEOUT = timedelta(seconds=900)
FREEZE_AFTER = LONGEST_TIMEOUT + timedelta(minutes=5)

#: Histogram: bucket 0 is 0 ms; bucket i ≥ 1 holds [RATIO^(i-1), RATIO^i) ms; the last one everything above.
STEPS_PER_DOUBLING = 4
RATIO = 2 ** (1 / STEPS_PER_DOUBLING)
LAST_BUCKET = math.ceil(STEPS_PER_DOUBLING * math.log2(15 * 60 * 1000)) + 4  # 15 min, and a doubling more
#: Worst relative error of a reported percentile (bucket's geometric middle against any value in it).
PRECISION = math.sqrt(RATIO) - 1


def bucket_of(ms: float) -> int:
    if ms < 1:
        return 0
    return min(LAST_BUCKET, int(math.floor(STEPS_PER_DOUBLING * math.log2(ms) + 1e-9)) + 1)


def bucket_middle(index: int) -> float:
    return 0.0 if index == 0 else RATIO ** (index - 1) * math.sqrt(RATIO)


# ----- aggregates -----------------------------------------------------------------------------------------
@dataclass
class Aggregate:
    """Runs of an hour (or of any merge of hours): counts per status and their durations' histogram."""

    counts: dict[str, int] = field(default_factory=dict)
    histogram: dict[int, int] = field(default_factory=dict)
    total_ms: int = 0
    timed: int = 0
    lowest: int | None = None
    highest: int | None = None
    #: The runs' measured usage summed (``functions.core.usage``), and how many runs had one.
    usage: dict[str, float] = field(default_factory=dict)
    metered: int = 0

    def add_usage(self, usage: dict[str, float]) -> None:
        for key, amount in usage.items():
            self.usage[key] = round(self.usage.get(key, 0) + amount, 6)
        self.metered += 1

    def add(self, status: str, duration_ms: int | None) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if duration_ms is None or status in OPEN_STATUSES:
            return
        ms = max(0, int(duration_ms))
        index = bucket_of(ms)
        self.histogram[index] = self.histogram.get(index, 0) + 1
        self.total_ms += ms
        self.timed += 1
        self.lowest = ms if self.lowest is None else min(self.lowest, ms)
        self.highest = ms if self.highest is None else max(self.highest, ms)

    def merge(self, other: Aggregate) -> Aggregate:
        for key, amount in other.usage.items():
            self.usage[key] = round(self.usage.get(key, 0) + amount, 6)
        self.metered += other.metered
        for status, n in other.counts.items():
            self.counts[status] = self.counts.get(status, 0) + n
        for index, n in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0) + n
        self.total_ms += other.total_ms
        self.timed += other.timed
        for value in (other.lowest, other.highest):
            if value is not None:
                self.lowest = value if self.lowest is None else min(self.lowest, value)
                self.highest = value if self.highest is None else max(self.highest, value)
        return self

    @property
    def runs(self) -> int:
        return sum(self.counts.values())

    @property
    def success_rate(self) -> float | None:
        """Successes among the runs that ended with a result (skipped, cancelled and open runs aside)."""
        success = self.counts.get("success", 0)
        decided = success + sum(self.counts.get(s, 0) for s in FAILED_STATUSES)
        return round(success / decided, 4) if decided else None

    def percentile(self, q: float) -> int | None:
        """Nearest-rank percentile of the durations, within ``PRECISION`` (None without durations)."""
        if not self.timed:
            return None
        rank, seen = max(1, math.ceil(q * self.timed)), 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                value = bucket_middle(index)
                return int(round(min(max(value, self.lowest or 0), self.highest or 0)))
        return self.highest  # pragma: no cover - the counts add up to ``timed``

    def to_json(self) -> dict[str, Any]:
        return {"c": self.counts, "h": {str(k): v for k, v in self.histogram.items()}, "t": self.total_ms,
                "n": self.timed, "lo": self.lowest, "hi": self.highest, "u": self.usage, "m": self.metered}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Aggregate:
        return cls(counts={str(k): int(v) for k, v in (data.get("c") or {}).items()},
                   histogram={int(k): int(v) for k, v in (data.get("h") or {}).items()},
                   total_ms=int(data.get("t") or 0), timed=int(data.get("n") or 0),
                   lowest=None if data.get("lo") is None else int(data["lo"]),
                   highest=None if data.get("hi") is None else int(data["hi"]),
                   usage={str(k): float(v) for k, v in (data.get("u") or {}).items()}, metered=int(data.get("m") or 0))


@dataclass
class DayRecord:
    """A stored day: the hours (0-23, UTC) aggregated so far, and the aggregates of those with runs."""

    covered: set[int] = field(default_factory=set)
    hours: dict[int, Aggregate] = field(default_factory=dict)


class MetricsStore(Protocol):
    def days(self, workflow: str, first: date, last: date) -> dict[date, DayRecord]: ...
    def save_day(self, workflow: str, day: date, record: DayRecord) -> bool: ...


class RunRanges(Protocol):
    def outcomes_between(self, workflow: str, start: datetime, end: datetime) -> list[tuple[str, str, int | None]]:
        """(run id, status, duration ms) of the runs created in [start, end)."""
        ...

    def usage_between(self, workflow: str, start: datetime, end: datetime) -> list[tuple[str, dict[str, float]]]:
        """(run id, usage) of the runs created in [start, end) that have one."""
        ...


# ----- the response ---------------------------------------------------------------------------------------
class MetricsBucket(BaseModel):
    model_config = ConfigDict(defer_build=True)

    start: datetime = Field(description="Start of the hour or UTC day")
    runs: int
    by_status: dict[str, int] = Field(description="Runs per status (queued/running only in live hours)")
    success_rate: float | None = Field(None, description="success / (success + error + timed_out + interrupted)")
    p50_ms: int | None = None
    p95_ms: int | None = None
    cost_usd: float | None = Field(None, description="What its measured runs cost at AWS list prices")
    final: bool = Field(description="Every hour of it is final (aggregated and stored); false: computed live")


class MetricsTotals(BaseModel):
    model_config = ConfigDict(defer_build=True)

    runs: int
    by_status: dict[str, int]
    success_rate: float | None = None
    p50_ms: int | None = None
    p95_ms: int | None = None
    mean_ms: int | None = None
    usage: dict[str, float] = Field({}, description="The measured runs' usage summed: AWS requests by kind, "
                                                     "Lambda GB-seconds and invocations")
    cost_usd: float | None = Field(None, description="``usage`` at AWS list prices (functions.core.pricing)")
    metered_runs: int = Field(0, description="Runs with a measured usage (runs recorded before it was measured "
                                             "have none)")


class WorkflowMetrics(BaseModel):
    model_config = ConfigDict(defer_build=True)

    workflow: str
    window: Window
    bucket: Literal["hour", "day"]
    start: datetime = Field(description="Start of the first bucket (hour-aligned; UTC midnight for 30d)")
    end: datetime = Field(description="When the metrics were computed (the last bucket is partial)")
    totals: MetricsTotals
    buckets: list[MetricsBucket]
    percentile_precision: float = Field(PRECISION, description="p50/p95 are within this relative error")


# ----- planning -------------------------------------------------------------------------------------------
def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def window_hours(window: str, now: datetime) -> list[datetime]:
    """The hour starts a window covers, oldest first, the current hour last."""
    size, unit = WINDOWS[window]
    current = hour_floor(now)
    first = current - (size - 1) * HOUR if unit == "hour" else \
        current.replace(hour=0) - timedelta(days=size - 1)
    return [first + i * HOUR for i in range(int((current - first) / HOUR) + 1)]


def is_past_freeze(hour: datetime, now: datetime) -> bool:
    return hour + HOUR + FREEZE_AFTER <= now


def stretches(hours: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous [start, end) ranges of sorted hour starts."""
    result: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if result and result[-1][1] == hour:
            result[-1] = (result[-1][0], hour + HOUR)
        else:
            result.append((hour, hour + HOUR))
    return result


def _hour_of(run_id: str) -> datetime | None:
    """None for an id that is not time-ordered (it fell in the range by its first characters only)."""
    millis = created_ms(run_id)
    return None if millis is None else hour_floor(datetime.fromtimestamp(millis / 1000, timezone.utc))


def aggregate_by_hour(outcomes: Iterable[tuple[str, str, int | None]],
                      usages: Iterable[tuple[str, dict[str, float]]] = ()) -> tuple[dict[datetime, Aggregate], set[datetime]]:
    """Per hour of creation (from the run id): the aggregate, and the hours with an open run."""
    hours: dict[datetime, Aggregate] = {}
    open_hours: set[datetime] = set()
    for run_id, status, duration_ms in outcomes:
        hour = _hour_of(run_id)
        if hour is None:
            continue
        hours.setdefault(hour, Aggregate()).add(status, duration_ms)
        if status in OPEN_STATUSES:
            open_hours.add(hour)
    for run_id, usage in usages:
        hour = _hour_of(run_id)
        if hour is not None and usage:
            hours.setdefault(hour, Aggregate()).add_usage(usage)
    return hours, open_hours


def _cost(aggregate: Aggregate) -> float | None:
    return round(cost(aggregate.usage), 13) if aggregate.metered else None


def _bucket(start: datetime, aggregate: Aggregate, final: bool) -> MetricsBucket:
    return MetricsBucket(start=start, runs=aggregate.runs, by_status=dict(sorted(aggregate.counts.items())),
                         success_rate=aggregate.success_rate, p50_ms=aggregate.percentile(0.5),
                         p95_ms=aggregate.percentile(0.95), cost_usd=_cost(aggregate), final=final)


# ----- the view -------------------------------------------------------------------------------------------
def window_metrics(workflow: str, window: str, runs: RunRanges, store: MetricsStore,
                   now: datetime | None = None) -> WorkflowMetrics:
    """The metrics of ``workflow`` over ``window`` as of ``now``, storing the hours that became final."""
    now = now or utcnow()
    hours = window_hours(window, now)
    stored = store.days(workflow, hours[0].date(), hours[-1].date())
    known: dict[datetime, Aggregate] = {}
    for day, record in stored.items():
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        for h in record.covered:
            known[midnight + h * HOUR] = record.hours.get(h) or Aggregate()
    missing = [h for h in hours if h not in known]

    computed: dict[datetime, Aggregate] = {}
    open_hours: set[datetime] = set()
    for start, end in stretches(missing):
        found, still_open = aggregate_by_hour(runs.outcomes_between(workflow, start, end),
                                              runs.usage_between(workflow, start, end))
        computed.update(found)
        open_hours |= still_open

    final = set(known)
    freezing: dict[date, list[datetime]] = {}
    for hour in missing:
        if is_past_freeze(hour, now) and hour not in open_hours:
            freezing.setdefault(hour.date(), []).append(hour)
            final.add(hour)
    for day, new_hours in sorted(freezing.items()):
        record = stored.get(day) or DayRecord()
        record = DayRecord(covered=set(record.covered), hours=dict(record.hours))
        for hour in new_hours:
            record.covered.add(hour.hour)
            if hour in computed:
                record.hours[hour.hour] = computed[hour]
        store.save_day(workflow, day, record)

    per_hour = {h: known.get(h) or computed.get(h) or Aggregate() for h in hours}
    _size, unit = WINDOWS[window]
    buckets: list[MetricsBucket] = []
    if unit == "hour":
        buckets = [_bucket(h, per_hour[h], h in final) for h in hours]
    else:
        for day in sorted({h.date() for h in hours}):
            in_day = [h for h in hours if h.date() == day]
            merged = Aggregate()
            for h in in_day:
                merged.merge(per_hour[h])
            buckets.append(_bucket(in_day[0], merged, all(h in final for h in in_day) and len(in_day) == 24))
    total = Aggregate()
    for aggregate in per_hour.values():
        total.merge(aggregate)
    totals = MetricsTotals(runs=total.runs, by_status=dict(sorted(total.counts.items())),
                           success_rate=total.success_rate, p50_ms=total.percentile(0.5),
                           p95_ms=total.percentile(0.95),
                           mean_ms=round(total.total_ms / total.timed) if total.timed else None,
                           usage=dict(sorted(total.usage.items())), cost_usd=_cost(total), metered_runs=total.metered)
    return WorkflowMetrics(workflow=workflow, window=window,  # type: ignore[arg-type]
                           bucket=unit, start=hours[0], end=now, totals=totals, buckets=buckets)
