"""The tables' global secondary indexes against the last release's, as its template deployed them.

CloudFormation cannot change an existing index (its keys or its projection: "Cannot update GSI's properties
other than Provisioned Throughput and Contributor Insights Specification") and creates or deletes one index
per table update. So a release may add one index to a table, or drop one, and must leave every other index
exactly as deployed. ``RELEASED`` is the last landed release's (stop 21, main 15b628e): update it when a
release lands, never to make this test pass on a change of a released index.
"""

from __future__ import annotations

from typing import Any

import pytest

from functions.settings import Settings
from functions.stores import all_models
from infrastructure.tables import spec_of

_SUMMARY = ["attempt", "created_at", "duration_ms", "finished_at", "message", "started_at", "status", "trigger"]
#: table setting -> index name -> (partition key, sort key, projection, sorted non-key attributes).
RELEASED: dict[str, dict[str, tuple[Any, ...]]] = {
    "runs_table": {
        "by_day": (("day_shard", "S"), ("run_id", "S"), "INCLUDE", sorted([*_SUMMARY, "workflow", "usage"])),
        "by_workflow": (("workflow", "S"), ("run_id", "S"), "INCLUDE", _SUMMARY),
        "open_runs": (("lease_shard", "S"), ("lease_until", "N"), "INCLUDE",
                      sorted(["status", "workflow", "runner", "started_at", "attempt", "inputs_redacted", "queued"])),
    },
}


def indexes(model: Any, settings: Settings | None = None) -> dict[str, tuple[Any, ...]]:
    spec = spec_of(model, settings)
    return {i["name"]: (i["partition_key"], i["sort_key"], i["projection"], sorted(i.get("non_key_attributes") or []))
            for i in spec.global_indexes}


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_a_release_changes_at_most_one_index_and_no_released_one(model):
    """The default deployment of this release onto a stack of the last one: every released index as it was,
    at most one index added or dropped."""
    released = RELEASED.get(model.Meta.__dict__["table_name"].setting, {})
    now = indexes(model, Settings())
    for name in released.keys() & now.keys():
        assert now[name] == released[name], f"{name}: a deployed index cannot change (add a new index instead)"
    assert len(released.keys() ^ now.keys()) <= 1, sorted(released.keys() ^ now.keys())


def test_this_release_adds_by_history_and_retiring_by_workflow_is_a_later_single_change():
    """The runs table gains ``by_history``; ``WFP_LEGACY_HISTORY_INDEX=false`` (once the older runs are gone)
    drops ``by_workflow``: from this release's indexes, one change again."""
    from functions.stores.runs import RunModel

    kept, retired = indexes(RunModel, Settings()), indexes(RunModel, Settings(legacy_history_index=False))
    assert kept.keys() - RELEASED["runs_table"].keys() == {"by_history"}
    assert kept.keys() - retired.keys() == {"by_workflow"} and retired.keys() < kept.keys()
    assert all(retired[name] == kept[name] for name in retired)
