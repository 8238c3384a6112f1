"""The cold-start section's background functions: the worker and the scheduler against their floors.

One start of each (``local_dev.bench.coldstart``, real child processes over a moto server): they answer
(the worker's queued run ends ``success``, the tick records a run), the floors make exactly the AWS
requests the handlers make, and the "no byte code" children compile what a layer without ``.pyc``
files would (the platform, not the standard library or boto3) while the cached ones compile nothing of
the platform. Timings are the benchmark's business, not asserted here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from support import reset_platform_state

from local_dev.bench import coldstart
from local_dev.bench.context import Bench

PAIRS = (("worker", "bare_worker"), ("scheduler", "bare_scheduler"))
EXPECTED = {"worker": Counter({"dynamodb:UpdateItem": 1, "dynamodb:PutItem": 1}),
            "scheduler": Counter({"dynamodb:GetItem": 1, "dynamodb:PutItem": 2, "dynamodb:UpdateItem": 1})}
RUNTIME = {"boto3", "botocore", "s3transfer", "json", "email", "http", "logging", "concurrent", "asyncio", "os"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    saved = dict(os.environ)
    bench = Bench.create(tmp_path_factory.mktemp("bench-cold"), quick=True)
    try:
        yield bench
    finally:
        bench.cleanup()
        os.environ.clear()
        os.environ.update(saved)
        reset_platform_state()


@pytest.fixture(scope="module")
def candidates(bench: Bench) -> dict[str, coldstart.Candidate]:
    found = coldstart.background(bench, bench.plugins("examples"))
    return {**found, **coldstart.without_bytecode(found, tuple(found))}


def start(bench: Bench, name: str, candidate: coldstart.Candidate) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One cold start with fixed events (so the test knows its run), the AWS requests recorded."""
    events = candidate.make_events()
    sample = coldstart.run_child(bench, name, dataclasses.replace(candidate, events=events), record_aws=True)
    return sample.child, events


def run_status(bench: Bench, run_id: str) -> str:
    platform = coldstart.parent_platform(bench, bench.plugins("examples"))
    return platform.runs.get(run_id, consistent=True).status


def run_id_of(name: str, child: dict[str, Any], events: list[dict[str, Any]]) -> str:
    if "worker" in name:
        return json.loads(events[0]["Records"][0]["body"])["run_id"]
    return child["outputs"][0]["run_id"]


def requests(child: dict[str, Any]) -> Counter[str]:
    return Counter(f"{service}:{operation}" for service, operation in child["aws_calls"])


@pytest.fixture(scope="module")
def starts(bench: Bench, candidates: dict[str, coldstart.Candidate]) -> dict[str, tuple[dict[str, Any], list]]:
    for name, candidate in candidates.items():  # the warm-up: byte code cached for the cached children
        if candidate.bytecode:
            coldstart.run_child(bench, name, candidate)
    return {name: start(bench, name, candidate) for name, candidate in candidates.items()}


@pytest.mark.parametrize("name", ["worker", "bare_worker", "scheduler", "bare_scheduler", "worker_nobc",
                                  "bare_worker_nobc", "scheduler_nobc", "bare_scheduler_nobc"])
def test_each_start_answers_and_its_run_succeeds(bench: Bench, starts: dict[str, Any], name: str) -> None:
    child, events = starts[name]
    if "worker" in name:
        assert child["outputs"] == [{"batchItemFailures": []}]
    else:
        assert child["outputs"][0]["status"] == "success"
    assert run_status(bench, run_id_of(name, child, events)) == "success"


@pytest.mark.parametrize(("handler", "floor"), PAIRS)
def test_the_floors_make_the_handlers_requests(starts: dict[str, Any], handler: str, floor: str) -> None:
    assert requests(starts[handler][0]) == EXPECTED[handler]
    assert requests(starts[floor][0]) == requests(starts[handler][0])
    assert requests(starts[f"{floor}_nobc"][0]) == requests(starts[f"{handler}_nobc"][0]) == EXPECTED[handler]


@pytest.mark.parametrize("name", ["worker", "scheduler", "bare_worker", "bare_scheduler"])
def test_without_byte_code_the_layer_is_compiled_not_the_runtime(starts: dict[str, Any], name: str) -> None:
    cold = starts[f"{name}_nobc"][0]
    assert cold["compiled"] > 0 and cold["compile_ms"] > 0
    packages = cold["compiled_by_package"]
    assert not RUNTIME & set(packages), packages  # the runtime's byte code is there
    if not name.startswith("bare"):
        assert packages.get("functions", 0) > 0 and packages.get("pynamodb", 0) > 0
    cached = starts[name][0]
    assert cached["compiled_by_package"].get("functions", 0) == 0, cached["compiled_by_package"]
    assert cached["compiled"] == 0, cached["compiled_by_package"]
