"""The metrics table: a workflow's final hours, aggregated once (``functions.core.metrics`` says when and why).

One item per workflow and UTC day (hash ``workflow``, range ``day``, ``2026-12-01``): ``covered``, a bit
mask of the day's hours already aggregated (bit ``h`` for ``hh:00-hh:59`` UTC; an hour without runs is
covered too, so it is never read again), and ``hours``, the aggregates of the covered hours that had runs
(counts per status, the duration histogram). A 30-day view reads its 30 items with one Query.

Writes are PutItems conditional on covering more hours than the stored item: a day only grows, and a
slower view that knew fewer hours does not overwrite a fuller one (its put is refused, nothing else
happens). No BatchWriteItem (the platform grants none: it can delete too). Items expire (TTL) a few
days after the longest window stops showing them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from functions.core.metrics import Aggregate, DayRecord
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register

#: How long a day's item is kept: the 30-day window, and a margin.
KEEP = timedelta(days=35)


@register
class MetricsModel(Model):
    class Meta:
        # days: Query (one per view); save_day: PutItem (conditional).
        table_name = TableName("metrics_table", operations=("Query", "PutItem"))
        billing_mode = "PAY_PER_REQUEST"

    workflow = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)
    covered = NumberAttribute(default=0)
    #: How many hours ``covered`` has (what the conditional put compares).
    hours_covered = NumberAttribute(default=0)
    hours = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class DynamoMetricsStore:
    """MetricsStore (``functions.core.metrics``) on the metrics table."""

    def __init__(self, settings: Settings) -> None:
        bind(settings)

    def days(self, workflow: str, first: date, last: date) -> dict[date, DayRecord]:
        """The stored days from ``first`` to ``last`` (inclusive): one Query."""
        result = {}
        for item in MetricsModel.query(workflow, MetricsModel.day.between(first.isoformat(), last.isoformat())):
            mask = int(item.covered or 0)
            hours = {int(h): Aggregate.from_json(data) for h, data in (item.hours or {}).items()}
            result[date.fromisoformat(item.day)] = DayRecord({h for h in range(24) if mask >> h & 1}, hours)
        return result

    def save_day(self, workflow: str, day: date, record: DayRecord) -> bool:
        """Store a day's aggregated hours, unless an item covering as many hours is there already."""
        count = len(record.covered)
        item = MetricsModel(
            workflow, day.isoformat(), covered=sum(1 << h for h in record.covered), hours_covered=count,
            hours={str(h): a.to_json() for h, a in sorted(record.hours.items())} or None,
            expires_at=datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + KEEP)
        return conditionally(lambda: item.save(
            condition=MetricsModel.day.does_not_exist() | (MetricsModel.hours_covered < count)))
