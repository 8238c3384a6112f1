"""The pure half of the metrics view (``functions.core.metrics``): histogram precision, windows, merging."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from functions.core.metrics import (
    FREEZE_AFTER,
    LAST_BUCKET,
    PRECISION,
    Aggregate,
    bucket_of,
    is_past_freeze,
    stretches,
    window_hours,
)

NOW = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)


def nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def close(estimate: int | None, exact: int) -> bool:
    """Within the documented precision, or 1 ms (the estimate is rounded to whole milliseconds)."""
    return estimate is not None and abs(estimate - exact) <= max(PRECISION * exact, 1)


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_are_within_the_histograms_precision(seed):
    rng = random.Random(seed)
    values = [int(rng.lognormvariate(6, 2)) % 900_000 for _ in range(rng.randint(1, 400))]
    aggregate = Aggregate()
    for v in values:
        aggregate.add("success", v)
    for q in (0.5, 0.95):
        assert close(aggregate.percentile(q), nearest_rank(values, q)), (q, aggregate.percentile(q))
    assert PRECISION < 0.1


def test_merging_hours_equals_aggregating_their_runs_together():
    rng = random.Random(7)
    runs = [(rng.choice(["success", "error", "skipped"]), rng.randint(0, 50_000)) for _ in range(300)]
    whole, parts = Aggregate(), [Aggregate() for _ in range(5)]
    for i, (status, ms) in enumerate(runs):
        whole.add(status, ms)
        parts[i % 5].add(status, ms)
    merged = Aggregate()
    for part in parts:
        merged.merge(Aggregate.from_json(part.to_json()))  # through what the table stores
    assert merged == whole


def test_buckets_cover_zero_to_past_fifteen_minutes():
    assert bucket_of(0) == 0 and bucket_of(1) == 1
    assert bucket_of(15 * 60 * 1000) < LAST_BUCKET == bucket_of(10**12)
    assert all(bucket_of(ms) <= bucket_of(ms + 1) for ms in range(0, 5000))


def test_success_rate_counts_runs_that_ended_with_a_result():
    aggregate = Aggregate()
    for status in ["success"] * 3 + ["error", "timed_out", "skipped", "cancelled", "running"]:
        aggregate.add(status, None if status in ("running", "skipped") else 10)
    assert aggregate.success_rate == 0.6
    assert aggregate.runs == 8
    assert aggregate.timed == 6  # open and skipped runs have no duration to count
    assert Aggregate().success_rate is None and Aggregate().percentile(0.5) is None


def test_windows_are_hour_aligned_and_thirty_days_start_at_midnight():
    day = window_hours("24h", NOW)
    assert len(day) == 24 and day[-1] == datetime(2026, 12, 1, 13, tzinfo=timezone.utc)
    assert len(window_hours("7d", NOW)) == 168
    month = window_hours("30d", NOW)
    assert month[0] == datetime(2026, 11, 2, tzinfo=timezone.utc) and month[-1] == day[-1]


def test_an_hour_is_final_only_after_the_longest_timeout_and_a_margin():
    hour = datetime(2026, 12, 1, 11, tzinfo=timezone.utc)
    assert FREEZE_AFTER >= timedelta(minutes=15)
    assert not is_past_freeze(hour, hour + timedelta(hours=1) + timedelta(minutes=15))
    assert is_past_freeze(hour, hour + timedelta(hours=1) + FREEZE_AFTER)


def test_missing_hours_are_read_in_contiguous_stretches():
    h = [datetime(2026, 12, 1, i, tzinfo=timezone.utc) for i in (1, 2, 3, 7, 8)]
    assert stretches(h) == [(h[0], h[2] + timedelta(hours=1)), (h[3], h[4] + timedelta(hours=1))]
