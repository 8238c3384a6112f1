"""The limits a deployer sets (``infrastructure.limits``, SCALING.md): the API stage's throttle, the worker's
event source (batch size, batching window, maximum concurrency), from CDK context or ``WFP_<KEY>``, today's
values by default, refused when AWS would refuse them; and the pre-sharding history index, left out of the
template once ``WFP_LEGACY_HISTORY_INDEX`` is off."""

from __future__ import annotations

from typing import Any

import pytest
from synth_support import synthesize_with

from infrastructure.limits import Limits, limits_of

SCALED = {"api_rate": "2000", "api_burst": "4000", "worker_batch_size": "50", "worker_batching_window": "2",
          "worker_max_concurrency": "400"}


def of(context: dict[str, Any], reserved: dict[str, int] | None = None, environ: dict[str, str] | None = None):
    return limits_of(context.get, reserved, environ or {})


def test_todays_values_by_default():
    assert of({}) == Limits(api_rate=50, api_burst=100, worker_batch_size=5, worker_batching_window=0,
                            worker_max_concurrency=None)
    assert of({}, {"worker": 10}).worker_max_concurrency == 10  # bounded by the reservation, as before


def test_context_then_environment():
    assert of(SCALED) == Limits(2000, 4000, 50, 2, 400)
    assert of({}, environ={"WFP_API_RATE": "300.5", "WFP_WORKER_MAX_CONCURRENCY": "20"}) == Limits(
        api_rate=300.5, worker_max_concurrency=20)
    assert of({"api_rate": 7}, environ={"WFP_API_RATE": "300"}).api_rate == 7  # the context wins


@pytest.mark.parametrize("context, reserved, message", [
    ({"api_rate": "fast"}, None, "api_rate='fast' must be a number"),
    ({"api_burst": "0"}, None, "api_burst='0' must be a whole number of at least 1"),
    ({"worker_batch_size": "50"}, None, "batching window of at least 1 s"),
    ({"worker_batch_size": "20000", "worker_batching_window": "1"}, None, "at most 10000"),
    ({"worker_batching_window": "301"}, None, "at most 300 s"),
    ({"worker_max_concurrency": "1"}, None, "at least 2"),
    ({"worker_max_concurrency": "1001"}, None, "at most 1000"),
    ({"worker_max_concurrency": "50"}, {"worker": 10}, "above the worker's reserved concurrency (10)"),
])
def test_values_aws_would_refuse_stop_the_synthesis(context, reserved, message):
    with pytest.raises(SystemExit, match=message.replace("(", r"\(").replace(")", r"\)")):
        of(context, reserved)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory):
    """Stage dev synthesized with every limit set and the pre-sharding history index retired."""
    with pytest.MonkeyPatch.context() as monkeypatch:  # for this synthesis only (the others are the defaults)
        monkeypatch.setenv("WFP_LEGACY_HISTORY_INDEX", "false")
        return synthesize_with(tmp_path_factory.mktemp("synth-scaled"), "dev", **SCALED)


def test_the_template_has_the_limits_asked(scaled):
    (stage,) = scaled.resources("AWS::ApiGateway::Stage").values()
    (method,) = stage["Properties"]["MethodSettings"]
    assert (method["ThrottlingRateLimit"], method["ThrottlingBurstLimit"]) == (2000, 4000)
    (mapping,) = scaled.resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["BatchSize"] == 50 and properties["MaximumBatchingWindowInSeconds"] == 2
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 400}
    queue = next(q["Properties"] for q in scaled.resources("AWS::SQS::Queue").values()
                 if "RedrivePolicy" in q["Properties"])
    worker = next(f["Properties"] for f in scaled.resources("AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] == "functions.handlers.worker.handler")
    # AWS's advice: six times the function's timeout plus the batching window.
    assert queue["VisibilityTimeout"] == 6 * worker["Timeout"] + 2


def test_the_default_template_keeps_todays_limits(dev):
    (mapping,) = dev.resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] == 5
    assert not {"MaximumBatchingWindowInSeconds", "ScalingConfig"} & set(mapping["Properties"])


def runs_indexes(synth) -> set[str]:
    runs = next(t["Properties"] for t in synth.resources("AWS::DynamoDB::Table").values()
                if t["Properties"]["KeySchema"] == [{"AttributeName": "run_id", "KeyType": "HASH"}])
    return {index["IndexName"] for index in runs["GlobalSecondaryIndexes"]}


def test_the_runs_table_keeps_by_workflow_until_it_is_retired(dev, scaled):
    """This release adds by_history (one index: an existing stack can be updated) and keeps by_workflow;
    ``WFP_LEGACY_HISTORY_INDEX=false`` drops it, a deploy later (one index change per table update), and
    the functions are told to stop reading it."""
    assert runs_indexes(dev) == {"by_workflow", "by_history", "by_day", "open_runs"}
    assert runs_indexes(scaled) == {"by_history", "by_day", "open_runs"}
    for function in scaled.resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["WFP_LEGACY_HISTORY_INDEX"] == "False"
