"""``GET /api/workflows/{name}/metrics``: a workflow's trend over 24h / 7d / 30d, on moto.

Runs are written through the store across 40 days, with run ids built for past times (the 12 hex digits
of their creation epoch ms), statuses and durations known; the counts, success rate and p50/p95 of each
window are checked against the runs themselves, and the DynamoDB requests of each view are counted
(``aws_calls``): past hours are aggregated once, a repeated view queries only the hours not final yet.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from functions.core.metrics import FREEZE_AFTER, PRECISION, hour_floor, window_metrics
from functions.core.run_search import DAY_SHARDS
from functions.core.runs import Run, utcnow

WORKFLOW = "trend"
CODE = "def execute(data, tools):\n    return {'status': 'success', 'message': 'done'}\n"
FAILED = {"error", "timed_out", "interrupted"}
#: Hours-ago ranges no seeded run falls in: the edges of the windows, so a clock ticking between the
#: seeding and the request cannot move a run in or out of one.
EDGES = [(22.5, 25.5), (165.5, 169.5), (28.5 * 24, 31 * 24)]
WINDOW_HOURS = {"24h": 24, "7d": 168, "30d": 30 * 24}


def run_at(when: datetime, status: str, duration_ms: int | None, workflow: str = WORKFLOW) -> Run:
    ms = int(when.timestamp() * 1000)
    finished = None if status in ("queued", "running") else when + timedelta(milliseconds=duration_ms or 0)
    return Run(run_id=f"{ms:012x}{secrets.token_hex(6)}", workflow=workflow, trigger="manual", status=status,
               created_at=when, started_at=when, finished_at=finished, duration_ms=duration_ms)


def seed(store: Any, now: datetime, count: int = 150) -> list[tuple[float, Run]]:
    """``count`` final runs over the last 40 days (and one of another workflow), as (hours ago, run)."""
    rng = random.Random(20261201)
    seeded = []
    while len(seeded) < count:
        ago = rng.uniform(0.05, 40 * 24 if len(seeded) % 3 else 22)  # a third in the last day
        if any(low <= ago <= high for low, high in EDGES):
            continue
        status = rng.choices(["success", "error", "timed_out", "skipped"], [70, 15, 5, 10])[0]
        duration = None if status == "skipped" else int(rng.lognormvariate(7, 1.5)) % 900_000
        run = run_at(now - timedelta(hours=ago), status, duration)
        store.save(run)
        seeded.append((ago, run))
    store.save(run_at(now - timedelta(hours=3), "error", 5, workflow="other"))
    return seeded


def nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def expected(seeded: list[tuple[float, Run]], window: str) -> dict[str, Any]:
    runs = [run for ago, run in seeded if ago < WINDOW_HOURS[window] - 1]
    counts = Counter(r.status for r in runs)
    decided = counts["success"] + sum(counts[s] for s in FAILED)
    durations = [r.duration_ms for r in runs if r.duration_ms is not None]
    return {"runs": len(runs), "by_status": dict(counts), "success_rate": round(counts["success"] / decided, 4),
            "p50": nearest_rank(durations, 0.5), "p95": nearest_rank(durations, 0.95)}


def close(estimate: int | None, exact: int) -> bool:
    return estimate is not None and abs(estimate - exact) <= max(PRECISION * exact, 1)


def dynamodb(calls: list[tuple[str, str, dict[str, Any]]]) -> Counter[tuple[str, str]]:
    """(operation, table[/index]) of each DynamoDB request."""
    seen: Counter[tuple[str, str]] = Counter()
    for service, operation, params in calls:
        if service == "dynamodb":
            table = params.get("TableName") or ",".join(params.get("RequestItems", {}))
            seen[(operation, table + (f"/{params['IndexName']}" if params.get("IndexName") else ""))] += 1
    return seen


def run_id_bounds(calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[datetime, datetime]]:
    """The time range of each Query of the runs index (its run-id bounds, read back as epoch ms)."""
    ranges = []
    for service, operation, params in calls:
        if service == "dynamodb" and operation == "Query" and params.get("IndexName") == "by_workflow":
            # the pre-sharding index, queried once per read next to each by_history shard
            values = sorted(v["S"] for v in params["ExpressionAttributeValues"].values() if len(v["S"]) == 12)
            ranges.append(tuple(datetime.fromtimestamp(int(v, 16) / 1000, timezone.utc) for v in values))
    return ranges  # type: ignore[return-value]


@pytest.fixture
def trend(make_platform, plugin_dir):
    plugin_dir.workflow(WORKFLOW, {"name": "Trend", "category": "testing", "triggers": ["manual"]}, CODE)
    plugin_dir.workflow("other", {"name": "Other", "triggers": ["manual"]}, CODE)
    return make_platform(plugin_dir.root)


def test_each_window_counts_the_runs_and_repeated_views_read_the_stored_hours(aws_calls, trend):
    now = utcnow()
    seeded = seed(trend.core.runs, now)
    settings = trend.core.settings
    metrics_table, runs_index = settings.metrics_table, f"{settings.runs_table}/by_workflow"
    history_index = f"{settings.runs_table}/by_history"  # the outcomes: one Query per shard, and by_workflow's
    day_index = f"{settings.runs_table}/by_day"  # the runs' usage, for the cost sums: 4 shards a day

    aws_calls.clear()
    first = trend.client.get(f"/api/workflows/{WORKFLOW}/metrics?window=30d")
    assert first.status_code == 200, first.text
    cost = dynamodb(aws_calls)
    # The first 30-day view: one Query of the metrics table, one of each partition of the workflow's runs
    # (the whole window, one page here: a Query per history shard and one of by_workflow), one of each
    # by_day partition of the window's 30 days (usage), one PutItem per day that got final hours (30 days
    # at most). Nothing else.
    assert cost[("Query", metrics_table)] == 1
    assert cost[("Query", runs_index)] == 1
    assert cost[("Query", history_index)] == settings.history_shards
    assert cost[("Query", day_index)] == 30 * DAY_SHARDS
    assert 29 <= cost[("PutItem", metrics_table)] <= 30
    assert set(cost) == {("Query", metrics_table), ("Query", runs_index), ("Query", history_index),
                         ("Query", day_index), ("PutItem", metrics_table)}

    for window in ("30d", "7d", "24h"):
        aws_calls.clear()
        body = trend.client.get(f"/api/workflows/{WORKFLOW}/metrics", params={"window": window}).json()
        cost = dynamodb(aws_calls)
        # Every hour but the last one or two is stored: one Query of the metrics table, and one of the
        # runs index over the hours not final yet (the current one, the previous one for 20 minutes).
        assert cost[("Query", metrics_table)] == 1, (window, cost)
        assert cost[("Query", runs_index)] == 1, (window, cost)
        assert cost[("Query", history_index)] == settings.history_shards, (window, cost)
        assert cost[("Query", day_index)] in (DAY_SHARDS, 2 * DAY_SHARDS), (window, cost)  # 2 across midnight
        assert cost[("PutItem", metrics_table)] <= 1, (window, cost)  # an hour that became final meanwhile
        assert sum(cost.values()) <= 3 + settings.history_shards + 2 * DAY_SHARDS
        assert not any(op in ("Scan", "GetItem") for op, _ in cost)
        (low, _high), = run_id_bounds(aws_calls)
        assert low >= hour_floor(utcnow()) - timedelta(hours=1), (window, low)

        want = expected(seeded, window)
        totals = body["totals"]
        assert totals["runs"] == want["runs"], window
        assert totals["by_status"] == want["by_status"], window
        assert totals["success_rate"] == want["success_rate"], window
        assert close(totals["p50_ms"], want["p50"]), (window, totals["p50_ms"], want["p50"])
        assert close(totals["p95_ms"], want["p95"]), (window, totals["p95_ms"], want["p95"])
        assert body["bucket"] == ("day" if window == "30d" else "hour")
        assert len(body["buckets"]) == {"24h": 24, "7d": 168, "30d": 30}[window]
        assert sum(b["runs"] for b in body["buckets"]) == want["runs"]
        assert body["buckets"][0]["final"] and not body["buckets"][-1]["final"]
        assert body["percentile_precision"] == pytest.approx(PRECISION)
    assert first.json()["totals"] == trend.client.get(f"/api/workflows/{WORKFLOW}/metrics?window=30d").json()["totals"]


def test_the_current_hour_shows_a_run_that_just_finished(trend):
    before = trend.client.get(f"/api/workflows/{WORKFLOW}/metrics").json()
    assert before["window"] == "24h" and before["totals"]["runs"] == 0
    assert trend.client.post(f"/api/workflows/execute/{WORKFLOW}", json={}).json()["status"] == "success"
    after = trend.client.get(f"/api/workflows/{WORKFLOW}/metrics?window=24h").json()
    assert after["totals"]["runs"] == 1 and after["totals"]["success_rate"] == 1.0
    assert after["buckets"][-1]["by_status"] == {"success": 1} and not after["buckets"][-1]["final"]


def test_an_hour_with_an_open_run_is_not_frozen_until_the_run_ends(trend):
    runs, store = trend.core.runs, trend.core.metrics
    now = utcnow()
    hour = hour_floor(now) - timedelta(hours=3)  # long past the freeze delay
    running = run_at(hour + timedelta(minutes=5), "running", None)
    runs.save(running)
    runs.save(run_at(hour + timedelta(minutes=6), "success", 40))

    view = window_metrics(WORKFLOW, "24h", runs, store, now=now)
    bucket = next(b for b in view.buckets if b.start == hour)
    assert bucket.by_status == {"running": 1, "success": 1} and not bucket.final
    assert hour.hour not in store.days(WORKFLOW, hour.date(), hour.date()).get(hour.date()).covered
    assert next(b for b in view.buckets if b.start == hour - timedelta(hours=1)).final  # its neighbours are

    runs.save(running.model_copy(update={"status": "error", "duration_ms": 900, "finished_at": now}))
    view = window_metrics(WORKFLOW, "24h", runs, store, now=now)
    bucket = next(b for b in view.buckets if b.start == hour)
    assert bucket.by_status == {"error": 1, "success": 1} and bucket.final and bucket.success_rate == 0.5
    assert hour.hour in store.days(WORKFLOW, hour.date(), hour.date())[hour.date()].covered


def test_a_past_hour_is_frozen_only_after_the_longest_timeout_and_a_margin(trend):
    runs, store = trend.core.runs, trend.core.metrics
    previous = hour_floor(utcnow()) - timedelta(hours=1)
    runs.save(run_at(previous + timedelta(minutes=50), "success", 1200))
    early = previous + timedelta(hours=1, minutes=10)  # a 15-minute run started in that hour may still be going
    view = window_metrics(WORKFLOW, "24h", runs, store, now=early)
    assert [b.final for b in view.buckets if b.start == previous] == [False]
    assert store.days(WORKFLOW, previous.date(), previous.date()).get(previous.date()) is None or \
        previous.hour not in store.days(WORKFLOW, previous.date(), previous.date())[previous.date()].covered

    later = previous + timedelta(hours=1) + FREEZE_AFTER
    view = window_metrics(WORKFLOW, "24h", runs, store, now=later)
    (bucket,) = [b for b in view.buckets if b.start == previous]
    assert bucket.final and bucket.runs == 1 and close(bucket.p50_ms, 1200)
    assert previous.hour in store.days(WORKFLOW, previous.date(), previous.date())[previous.date()].covered


def test_unknown_workflow_and_window(trend):
    missing = trend.client.get("/api/workflows/no_such_workflow/metrics")
    assert missing.status_code == 404 and "no_such_workflow" in missing.json()["error"]
    assert trend.client.get(f"/api/workflows/{WORKFLOW}/metrics?window=1y").status_code == 422
    schema = trend.client.get("/openapi.json").json()
    (window,) = [p for p in schema["paths"]["/api/workflows/{name}/metrics"]["get"]["parameters"]
                 if p["name"] == "window"]
    assert window["schema"]["enum"] == ["24h", "7d", "30d"]


def test_the_workflow_page_shows_the_metrics_of_the_chosen_window(trend):
    now = utcnow()
    trend.core.runs.save(run_at(now - timedelta(hours=30), "success", 250))
    trend.core.runs.save(run_at(now - timedelta(hours=2), "error", 80))
    day = trend.client.get(f"/dashboard/workflows/{WORKFLOW}").text
    assert 'id="metrics"' in day and 'data-metrics-window="24h"' in day
    assert '<dd data-metric="runs">1</dd>' in day and "<svg" in day.split('id="metrics"')[1]
    week = trend.client.get(f"/dashboard/workflows/{WORKFLOW}?window=7d").text
    assert 'data-metrics-window="7d"' in week and '<dd data-metric="runs">2</dd>' in week
    assert f'href="/dashboard/workflows/{WORKFLOW}?window=30d#metrics"' in week
    assert 'data-window="7d" aria-current="true"' in week
    assert 'data-metrics-window="24h"' in trend.client.get(f"/dashboard/workflows/{WORKFLOW}?window=bogus").text
    assert "style=" not in week.split('id="metrics"')[1].split("</section>")[0]  # CSP: no inline style
