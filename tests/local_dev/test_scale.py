"""The scale simulation (``wfp bench --only scale``, ``local_dev.bench.scale``), small: 2,000 synthetic runs
through the real engine, worker and stores on moto, every write costed as DynamoDB counts it, placed at
10,000 runs a second. The sharded layout keeps every partition key under DynamoDB's 1,000 write units a
second in both traffic shapes; the layout before this change does not (its one open-runs key, and the busy
workflow's by_workflow key); the requests per run are the platform's (a sync run: two writes)."""

from __future__ import annotations

import pytest

from local_dev.bench.capacity import IndexSpec, Sizes, item_size, table_units, units
from local_dev.bench.scale import PARTITION_LIMIT, RATE, simulate

RUNS = 2_000


# ----- the write accounting ----------------------------------------------------------------------------------
def test_item_sizes_as_dynamodb_counts_them():
    assert item_size({"a": {"S": "abc"}}) == 1 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 bytes + 1
    assert item_size({"ok": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 1 + 1 + 1
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert units(1) == 1 and units(1024) == 1 and units(1025) == 2
    big = {"run_id": {"S": "r"}, "output": {"S": "x" * 3000}}
    assert table_units(big, {"run_id": {"S": "r"}}, applied=True) == 3  # the larger of before and after
    assert table_units(big, None, applied=False) == 3  # a failed condition still costs the item's units
    assert Sizes().of(big) == item_size(big)


def test_index_writes_follow_the_key_and_projection_rules():
    index = IndexSpec("open_runs", "lease_shard", "lease_until", frozenset({"status"}))
    base = {"run_id": {"S": "r1"}, "status": {"S": "queued"}, "output": {"S": "big" * 500}}
    opened = {**base, "lease_shard": {"S": "open-3"}, "lease_until": {"N": "100"}}
    keys = ("run_id",)
    assert index.writes(None, opened, keys) == [("open-3", 1)]  # put: the entry leaves out the output
    assert index.writes(opened, {**opened, "status": {"S": "running"}}, keys) == [("open-3", 1)]  # projected
    assert index.writes(opened, {**opened, "output": {"S": "other"}}, keys) == []  # not projected: free
    moved = {**opened, "lease_until": {"N": "200"}}
    assert index.writes(opened, moved, keys) == [("open-3", 1), ("open-3", 1)]  # a key change: delete + put
    assert index.writes(opened, base, keys) == [("open-3", 1)]  # key removed: delete
    assert index.writes(base, base, keys) == []  # not in this sparse index


# ----- the simulation --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    return simulate(RUNS, processes=0, workdir=tmp_path_factory.mktemp("scale"))


def test_every_path_ran_through_the_platform(small):
    assert sum(small.partial.runs.values()) == RUNS
    assert set(small.partial.runs) == {"sync", "sync_error", "webhook", "webhook_retry", "platform_retry",
                                       "scheduled"}


@pytest.mark.parametrize("shape", ["uniform", "hot"])
def test_the_sharded_layout_keeps_every_key_under_the_partition_limit(small, shape):
    """Scaled to 10,000 runs a second (the run's write units per key over the time its runs took to arrive)."""
    sharded = small.hottest(shape, "sharded", "mean")
    assert sharded.units < PARTITION_LIMIT, sharded
    before = small.hottest(shape, "before", "mean")
    assert before.units > 10 * PARTITION_LIMIT and (before.label, before.key) == ("runs/open_runs", "open"), before
    if shape == "hot":  # the busy workflow's history partition, before, and with by_workflow still kept
        hot_history = next(h for h in small.means[(shape, "defaults")] if h.label == "runs/by_workflow")
        assert (hot_history.key, hot_history.units > PARTITION_LIMIT) == ("hot", True), hot_history


def test_the_sharded_layout_spreads_over_every_shard(small):
    keys = {(h.label, h.key) for h in small.means[("hot", "sharded")]}
    assert {k for label, k in keys if label == "runs/open_runs"} == {f"open-{n}" for n in range(64)}
    assert {k for label, k in keys if label == "runs/by_history" and k.startswith("hot#")} == {
        f"hot#{n}" for n in range(32)}
    assert not any(label == "runs/by_workflow" for label, _ in keys)  # retired in that layout


def test_the_requests_per_run_are_the_platforms(small):
    """A sync run is two writes (create, save) and nothing else; a webhook adds the claim (and, with a
    delivery id, its Idempotency-Key); no path reads with a Query or a Scan."""
    per_run = small.requests_per_run()
    assert per_run["sync"] == {"dynamodb:PutItem": 2.0}
    webhook = per_run["webhook"]
    assert webhook["dynamodb:UpdateItem"] == 1.0 and webhook["sqs:SendMessage"] == 1.0
    assert 2.0 < webhook["dynamodb:PutItem"] < 3.0  # create, save, and the Idempotency-Key of some
    assert per_run["webhook_retry"] == {"dynamodb:PutItem": 3.0, "dynamodb:UpdateItem": 2.0, "sqs:SendMessage": 2.0}
    assert not any(op.endswith((":Query", ":Scan")) for ops in per_run.values() for op in ops)
    assert RATE == 10_000
