"""``DynamoRunStore.search`` on moto: every filter and combination returns exactly the runs written (a Python
filter of them), newest first, across pages, with Query requests only (never a Scan), at most
``MAX_QUERIES_PER_PAGE`` a page, and the page filled when the window holds enough runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
from run_seed import DAYS, expected, seed

from functions.core import run_search
from functions.core.run_search import DAY_SHARDS, RunFilter, day_shard
from functions.errors import BadRequest
from functions.settings import Settings
from functions.stores import run_search as store_search


@pytest.fixture
def store(aws_calls):
    from functions.stores import create_tables
    from functions.stores.runs import DynamoRunStore

    settings = Settings()
    create_tables(settings)
    return DynamoRunStore(settings)


@pytest.fixture
def seeded(store, aws_calls):
    now = datetime.now(timezone.utc)
    written = seed(store, now=now)
    aws_calls.clear()
    return store, written, now, aws_calls


def walk(store, calls, query, limit):
    """Every page of a listing: (run ids in order, pages); checks the requests of each page."""
    ids, pages, cursor = [], [], None
    for _ in range(200):
        start = len(calls)
        page = store.search(query, limit, cursor)
        made = calls[start:]
        assert {op for _, op, _ in made} <= {"Query"}, [op for _, op, _ in made]
        assert len(made) == page.requests <= run_search.MAX_QUERIES_PER_PAGE
        # A workflow's listing reads by_history's shards, and by_workflow while it is kept (the runs before it).
        allowed = {page.index, "by_workflow"} if page.index == "by_history" else {page.index}
        assert {p.get("IndexName") for _, _, p in made} <= allowed
        assert len(page.runs) <= limit
        if page.next_cursor and len(page.runs) < limit:  # a short page only when the Query budget ran out
            assert page.requests > run_search.MAX_QUERIES_PER_PAGE - DAY_SHARDS * 2, page.requests
        ids += [r.run_id for r in page.runs]
        pages.append(page)
        cursor = page.next_cursor
        if not cursor:
            return ids, pages
    raise AssertionError("the listing never ended")


def test_keys_are_derived_from_the_run_id():
    run_id = f"{int(datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc).timestamp() * 1000):012x}00000000000b"
    assert day_shard(run_id) == f"2026-12-01#{11 % DAY_SHARDS}"
    assert day_shard("missing") == "1970-01-01#0"


WINDOWS = {
    "default (7 days)": lambda now: (None, None),
    "explicit datetimes": lambda now: (now - timedelta(days=6, hours=5), now - timedelta(days=2, hours=3)),
    "whole seed": lambda now: (now - timedelta(days=DAYS + 1), now),
}


COMBINATIONS = [
    (None, None, None), ("error", None, None), ("success", None, None), (None, "beta", None),
    (None, None, "webhook"), ("error", "alpha", None), ("success", None, "schedule"),
    (None, "gamma", "manual"), ("timed_out", "beta", "api"), ("running", None, None), ("queued", "alpha", None),
    ("skipped", "gamma", "webhook"),
]


def test_every_filter_returns_exactly_the_matching_runs_newest_first(seeded):
    """One seed (300 runs), every combination in every window (a loop: seeding is the slow part)."""
    store, written, now, calls = seeded
    for window, (status, workflow, trigger) in product(WINDOWS, COMBINATIONS):
        since, until = WINDOWS[window](now)
        start, end = run_search.window(since and since.isoformat(), until and until.isoformat(), now, 90)
        query = RunFilter(since=start, until=end, status=status, workflow=workflow, trigger=trigger)
        want = expected(written, start, end, status, workflow, trigger)
        ids, pages = walk(store, calls, query, 25)
        assert ids == want, (window, status, workflow, trigger)
        assert pages[0].index == ("by_history" if workflow else "by_day")
    assert len(expected(written, now - timedelta(days=DAYS + 1), now, "error")) > 25  # pages were walked


def test_pages_fill_when_a_filter_is_rare_and_queries_are_small(seeded, monkeypatch):
    """A secondary filter (a FilterExpression) that matches few of the items each Query reads: the
    listing queries again until the page is full."""
    store, written, now, calls = seeded
    monkeypatch.setattr(store_search, "FILTERED_QUERY_ITEMS", 3)
    start, end = now - timedelta(days=DAYS + 1), now
    for status, workflow, trigger in product(("error", None), ("alpha", None), ("manual", None)):
        if not (trigger or (workflow and status)):
            continue  # no FilterExpression
        query = RunFilter(since=start, until=end, status=status, workflow=workflow, trigger=trigger)
        ids, pages = walk(store, calls, query, 5)
        assert ids == expected(written, start, end, status, workflow, trigger)
        assert any(p.requests > 1 for p in pages)


def test_the_query_budget_ends_a_page_early_with_a_cursor_that_loses_nothing(seeded, monkeypatch):
    store, written, now, calls = seeded
    monkeypatch.setattr(run_search, "MAX_QUERIES_PER_PAGE", DAY_SHARDS + 1)
    start, end = now - timedelta(days=DAYS + 1), now
    for status in (None, "interrupted"):
        query = RunFilter(since=start, until=end, status=status)
        ids, pages = walk(store, calls, query, 100)
        assert ids == expected(written, start, end, status)
        assert len(pages) > 3 and all(p.requests <= DAY_SHARDS + 1 for p in pages)


def test_queries_per_page_of_the_unfiltered_listing(seeded):
    """The newest 20 runs of ~30 a day: one round of the day's partitions (the newest day may not hold
    20: then the day before too)."""
    store, written, now, calls = seeded
    start, end = run_search.window(None, None, now, 90)
    page = store.search(RunFilter(since=start, until=end), 20)
    assert [r.run_id for r in page.runs] == expected(written, start, end)[:20]
    assert DAY_SHARDS <= page.requests <= 3 * DAY_SHARDS
    assert page.next_cursor


def test_a_status_change_is_seen_by_the_status_filter(seeded):
    store, written, now, calls = seeded
    run = next(r for r in written if r.status == "running")
    assert store.close(run.run_id, "interrupted", "lost", ("running",))
    start, end = run_search.window(None, None, now, 90)
    running = store.search(RunFilter(since=start, until=end, status="running"), 100)
    interrupted = store.search(RunFilter(since=start, until=end, status="interrupted"), 100)
    assert run.run_id not in [r.run_id for r in running.runs]
    assert run.run_id == interrupted.runs[0].run_id and interrupted.runs[0].workflow == run.workflow


@pytest.mark.parametrize("cursor", ["x", "eyJ9", "eyJiZWZvcmUiOiAiWlpaIn0", "eyJydW5faWQiOnsiUyI6ImEifX0"])
def test_a_tampered_cursor_is_a_400(store, cursor):
    now = datetime.now(timezone.utc)
    with pytest.raises(BadRequest, match="invalid cursor"):
        store.search(RunFilter(since=now - timedelta(days=1), until=now), 10, cursor)


def test_the_window_parses_dates_and_datetimes_and_refuses_nonsense():
    now = datetime(2026, 12, 10, 12, tzinfo=timezone.utc)
    assert run_search.window(None, None, now, 90) == (now - timedelta(days=7), now)
    since, until = run_search.window("2026-12-01", "2026-12-02", now, 90)
    assert since == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert until.date().isoformat() == "2026-12-02" and until.hour == 23
    since, until = run_search.window("2026-12-01T08:00:00+02:00", "2026-12-01T09:00Z", now, 90)
    assert since == datetime(2026, 12, 1, 6, tzinfo=timezone.utc) and until.hour == 9
    assert run_search.window("2020-01-01", None, now, 90)[0] == now - timedelta(days=91)  # the retention
    for since, until, message in (("2026-12-05", "2026-12-01", "is after until"), ("2026-02-30", None, "since"),
                                  (None, "2026-13-01T00:00", "until")):
        with pytest.raises(BadRequest, match=message):
            run_search.window(since, until, now, 90)


def test_an_older_local_runs_table_gets_the_new_index_at_start(aws):
    """Local state kept from a release before ``by_day`` (``.wfp/``): the dev server's table creation adds
    the index instead of leaving GET /api/runs to fail on it."""
    import boto3

    from functions.settings import Settings
    from functions.stores import add_missing_indexes, create_tables
    from functions.stores.runs import RunModel

    settings = Settings(stage="old", prefix="wfp-old")
    create_tables(settings)
    client = boto3.client("dynamodb")
    table = RunModel.Meta.table_name
    client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_day"}}])
    names = {i["IndexName"] for i in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]}
    assert "by_day" not in names  # as an older release left it
    create_tables(settings)
    names = {i["IndexName"] for i in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]}
    assert {"by_day", "by_workflow", "open_runs"} <= names
    assert add_missing_indexes(RunModel) == []  # nothing left to add


def test_an_older_local_by_day_index_gets_the_usage_projection(aws):
    """A local state made before by_day projected ``usage`` (the metrics' cost sums read it there): the dev
    server's table creation re-creates the index with the model's projection."""
    import boto3

    from functions.settings import Settings
    from functions.stores import add_missing_indexes, create_tables
    from functions.stores.runs import RunModel

    settings = Settings(stage="old", prefix="wfp-old")
    create_tables(settings)
    client = boto3.client("dynamodb")
    table = RunModel.Meta.table_name
    [by_day] = [i for i in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
                if i["IndexName"] == "by_day"]
    client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_day"}}])
    older = [a for a in by_day["Projection"]["NonKeyAttributes"] if a != "usage"]
    client.update_table(TableName=table, AttributeDefinitions=[{"AttributeName": "day_shard", "AttributeType": "S"},
                                                               {"AttributeName": "run_id", "AttributeType": "S"}],
                        GlobalSecondaryIndexUpdates=[{"Create": {
                            "IndexName": "by_day", "KeySchema": by_day["KeySchema"],
                            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": older}}}])
    assert add_missing_indexes(RunModel) == ["by_day"]
    [now] = [i for i in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
             if i["IndexName"] == "by_day"]
    assert "usage" in now["Projection"]["NonKeyAttributes"]
    assert add_missing_indexes(RunModel) == []
