"""Write shards of the runs table's indexes (``functions.core.shards``, SCALING.md) on moto: runs spread
evenly, every write of a run names one shard, the sweep finds open runs in every shard (and under the
pre-sharding key), a history page merges every shard newest first with a fixed number of Queries (never
a Scan), runs written before ``by_history`` are still listed (once) while ``by_workflow`` is kept, and the
shard counts may grow without losing what was written under the smaller ones."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from functions.core.runs import Run, new_run_id, utcnow
from functions.core.schedules import tick_run_id
from functions.core.shards import (
    OPEN_SHARD,
    history_key,
    open_shard,
    open_shard_keys,
    shard_of,
)
from functions.settings import Settings


def make_store(**settings: object):
    from functions.stores import create_tables
    from functions.stores.runs import DynamoRunStore

    chosen = Settings(**settings)
    create_tables(chosen)
    return DynamoRunStore(chosen)


def random_id() -> str:
    """A run id as ``new_run_id`` makes them, without moving its clock (it never repeats a millisecond, so
    thousands of ids in a loop would date the next runs of the process in the future)."""
    return f"{int(utcnow().timestamp() * 1000):012x}{secrets.token_hex(6)}"


def a_run(workflow: str = "busy", status: str = "success", lease: int | None = None, run_id: str | None = None) -> Run:
    now = utcnow()
    return Run(run_id=run_id or new_run_id(), workflow=workflow, trigger="webhook", status=status, created_at=now,
               started_at=now, lease_until=lease, queued=lease is not None)


def write(store, runs: list[Run]) -> None:
    """Many finished runs at once (a batch write of what ``create`` would put)."""
    from functions.stores.runs import RunModel

    with RunModel.batch_write() as batch:
        for run in runs:
            batch.save(store._item(run))


def queries(calls) -> list[dict]:
    made = [(op, params) for service, op, params in calls if service == "dynamodb"]
    assert {op for op, _ in made} <= {"Query"}, [op for op, _ in made]
    return [params for _, params in made]


# ----- the spread ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shards", [4, 32, 64])
def test_run_ids_spread_evenly_over_the_shards(shards):
    """20,000 run ids (new ones and scheduled ticks'): every shard within 25 % of its fair share."""
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    ids = [random_id() for _ in range(10_000)]
    ids += [tick_run_id(f"w{n % 50}", start + timedelta(minutes=n)) for n in range(10_000)]
    counts = Counter(shard_of(run_id, shards) for run_id in ids)
    fair = len(ids) / shards
    assert set(counts) == set(range(shards))
    assert all(0.75 * fair <= n <= 1.25 * fair for n in counts.values()), counts


def test_a_shard_count_that_grows_keeps_what_the_smaller_one_wrote():
    """A count dividing 16 gives the shard the last hex digit gave (by_day's rule before the setting); any
    entry written under a smaller count has a shard number a larger count still reads."""
    for run_id in (random_id() for _ in range(500)):
        assert shard_of(run_id, 4) == int(run_id[-1], 16) % 4
        assert shard_of(run_id, 4) < 4 <= 64 and shard_of(run_id, 64) < 64
    assert shard_of("missing", 8) == 0 and shard_of("abc", 1) == 0


def test_every_write_of_a_run_names_the_same_shards(aws):
    from functions.stores.runs import RunModel

    store = make_store(open_run_shards=8, history_shards=8, run_day_shards=16)
    run = a_run(status="queued", lease=int(utcnow().timestamp()) + 600)
    store.create(run)
    seen = []
    item = RunModel.get(run.run_id, consistent_read=True)
    seen.append((item.lease_shard, item.history_key, item.day_shard))
    claimed = store.claim(run.run_id, "host:1", 60)
    assert claimed is not None
    item = RunModel.get(run.run_id, consistent_read=True)
    seen.append((item.lease_shard, item.history_key, item.day_shard))
    assert store.release(run.run_id, claimed.attempt, int(utcnow().timestamp()) + 60, "again")
    item = RunModel.get(run.run_id, consistent_read=True)
    seen.append((item.lease_shard, item.history_key, item.day_shard))
    k = shard_of(run.run_id, 8)
    assert seen == [(f"open-{k}", f"busy#{k}", f"{utcnow().date().isoformat()}#{shard_of(run.run_id, 16)}")] * 3
    assert open_shard(run.run_id, 8) == f"open-{k}" and history_key("busy", run.run_id, 8) == f"busy#{k}"


# ----- the sweep -------------------------------------------------------------------------------------------
def test_the_sweep_finds_open_runs_in_every_shard_and_under_the_old_key(aws, aws_calls):
    """80 runs left open with an expired lease, in each of 16 shards, and one written by a release before
    sharding (``lease_shard = "open"``): the sweep closes them all, one Query per key."""
    from functions.core.sweep import sweep
    from functions.stores.runs import RunModel

    store = make_store(open_run_shards=16)
    expired = int(utcnow().timestamp()) - 10
    stamp = f"{int(utcnow().timestamp() * 1000):012x}"
    runs = [a_run(status="queued", lease=expired, run_id=f"{stamp}{secrets.token_hex(5)}{k:02x}")
            for k in range(80)]  # 5 in each shard (ids ending 00..4f: 80 % 16 shards), the rest random
    for run in runs:
        store.create(run)
    assert {shard_of(r.run_id, 16) for r in runs} == set(range(16))
    legacy = a_run(status="queued", lease=expired)
    item = store._item(legacy)
    item.lease_shard = OPEN_SHARD  # as the previous release wrote it
    item.save()
    aws_calls.clear()
    found = store.open_runs(expired_before=expired + 1)
    assert sorted(r.run_id for r in found) == sorted([r.run_id for r in runs] + [legacy.run_id])
    assert [r.lease_until for r in found] == sorted(r.lease_until for r in found)  # oldest lease first
    made = queries(aws_calls)
    assert [p["ExpressionAttributeValues"][":0"]["S"] for p in made] == open_shard_keys(16)
    assert {p["IndexName"] for p in made} == {"open_runs"}

    report = sweep(store, store_settings(store), now=utcnow())
    assert sorted(report.interrupted) == sorted([r.run_id for r in runs] + [legacy.run_id])
    assert store.open_runs() == []
    assert RunModel.get(legacy.run_id).status == "interrupted"


def store_settings(store) -> Settings:
    from functions.stores.base import bound_settings

    return bound_settings()


# ----- history ---------------------------------------------------------------------------------------------
def walk_history(store, workflow: str, limit: int, calls) -> tuple[list[str], list[int]]:
    ids, per_page, cursor = [], [], None
    while True:
        start = len(calls)
        page, cursor = store.history(workflow, limit, cursor)
        made = queries(calls[start:])
        assert all(p["ScanIndexForward"] is False for p in made)
        per_page.append(len(made))
        ids += [r.run_id for r in page]
        assert len(page) <= limit
        if not cursor:
            return ids, per_page


@pytest.mark.parametrize("shards", [1, 8, 64])
def test_history_pages_merge_every_shard_newest_first(aws, aws_calls, shards):
    store = make_store(history_shards=shards, legacy_history_index=False)
    runs = [a_run("busy") for _ in range(150)]
    write(store, runs + [a_run("other") for _ in range(20)])
    aws_calls.clear()
    ids, per_page = walk_history(store, "busy", 20, aws_calls)
    assert ids == sorted((r.run_id for r in runs), reverse=True)
    # Exactly one Query per shard and page, however many runs are stored (8 pages of 20 for 150 runs).
    assert per_page == [shards] * len(per_page) and len(per_page) == 8
    made = queries(aws_calls)
    assert {p["IndexName"] for p in made} == {"by_history"}
    assert {p["ExpressionAttributeValues"][":0"]["S"] for p in made} == {f"busy#{k}" for k in range(shards)}


def test_runs_written_before_by_history_are_listed_once_while_by_workflow_is_kept(aws, aws_calls):
    """Runs without ``history_key`` (written by the previous release) are only in by_workflow, which also
    holds the new runs: the history merges both and lists each run once, in order; off, by_history only."""
    from functions.stores.runs import RunModel

    store = make_store(history_shards=8)
    old = [a_run("busy") for _ in range(25)]
    with RunModel.batch_write() as batch:
        for run in old:
            item = store._item(run)
            item.history_key = None  # as the previous release wrote it
            batch.save(item)
    new = [a_run("busy") for _ in range(25)]
    write(store, new)
    aws_calls.clear()
    ids, per_page = walk_history(store, "busy", 10, aws_calls)
    assert ids == sorted((r.run_id for r in old + new), reverse=True)
    assert per_page[0] == 9  # 8 shards + by_workflow
    assert sum(p["IndexName"] == "by_workflow" for p in queries(aws_calls)) == len(per_page)

    without = make_store(history_shards=8, legacy_history_index=False)
    aws_calls.clear()
    ids, per_page = walk_history(without, "busy", 10, aws_calls)
    assert ids == sorted((r.run_id for r in new), reverse=True)
    assert {p["IndexName"] for p in queries(aws_calls)} == {"by_history"}


def test_a_history_cursor_of_the_previous_release_still_pages(aws):
    """The cursor has the shape by_workflow's LastEvaluatedKey had ({run_id, workflow}): one handed out before
    the change (a dashboard link) continues below its run."""
    from functions.stores.runs import _encode_cursor

    store = make_store(history_shards=8)
    runs = sorted((a_run("busy") for _ in range(12)), key=lambda r: r.run_id, reverse=True)
    write(store, runs)
    old_cursor = _encode_cursor({"run_id": {"S": runs[4].run_id}, "workflow": {"S": "busy"}})
    page, _ = store.history("busy", 5, old_cursor)
    assert [r.run_id for r in page] == [r.run_id for r in runs[5:10]]


def test_metrics_outcomes_read_every_shard_once(aws):
    store = make_store(history_shards=8)
    start = utcnow() - timedelta(minutes=1)
    runs = [a_run("busy") for _ in range(40)]
    write(store, runs)
    outcomes = store.outcomes_between("busy", start, utcnow() + timedelta(minutes=1))
    assert [run_id for run_id, _, _ in outcomes] == sorted(r.run_id for r in runs)  # once each, oldest first


# ----- the runs listing by day -----------------------------------------------------------------------------
def test_more_day_shards_still_list_the_runs_written_with_fewer(aws):
    from functions.core.run_search import RunFilter

    before = make_store(run_day_shards=4)
    old = [a_run("busy") for _ in range(30)]
    write(before, old)
    after = make_store(run_day_shards=64)
    new = [a_run("busy") for _ in range(30)]
    write(after, new)
    query = RunFilter(since=utcnow() - timedelta(hours=1), until=utcnow() + timedelta(minutes=1))
    page = after.search(query, 100)
    assert [r.run_id for r in page.runs] == sorted((r.run_id for r in old + new), reverse=True)
    assert page.requests == 64 and page.index == "by_day"
