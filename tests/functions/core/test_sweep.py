"""Crashes, leases and retries: no run stays running or queued after its process died; async runs retry on
platform failures up to WFP_MAX_ATTEMPTS, then end in the dead-letter queue and show as failed; a
workflow's own error is retried only with ``retry_on_error``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from support import drain

QUICK = {"name": "Quick", "triggers": ["manual", "webhook"], "timeout_seconds": 5}
FLAKY = {"name": "Flaky", "triggers": ["webhook"], "timeout_seconds": 5, "retry_on_error": True, "max_attempts": 3,
         "inputs_schema": [{"name": "state", "type": "text", "required": True}]}
FLAKY_CODE = """
from pathlib import Path

def execute(data, tools):
    state = Path(data["state"])
    tries = int(state.read_text()) + 1 if state.exists() else 1
    state.write_text(str(tries))
    if tries < 2:
        return {"status": "error", "message": f"upstream down (try {tries})"}
    return {"status": "success", "message": f"worked on try {tries}"}
"""


@pytest.fixture
def plugins(plugin_dir):
    plugin_dir.workflow("quick", QUICK)
    plugin_dir.workflow("flaky", FLAKY, FLAKY_CODE)
    plugin_dir.workflow("stubborn", {**FLAKY, "retry_on_error": False}, FLAKY_CODE)
    return plugin_dir


def later(platform, seconds: int = 3600):
    from functions.core.runs import utcnow

    return utcnow() + timedelta(seconds=seconds)


def test_a_running_run_whose_process_died_is_interrupted_after_its_lease(make_platform, plugins):
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root)
    engine = platform.engine
    plugin, config, clean = engine.prepare("quick", {}, "manual")
    run = engine.new_run("quick", "manual", config, clean)
    engine.runs.create(run)  # ...and its process is killed here
    assert run.lease_until == int(run.created_at.timestamp()) + 5 + 60
    assert sweep(engine.runs, engine.settings).interrupted == []  # within its lease: it may still finish
    report = sweep(engine.runs, engine.settings, now=run.created_at + timedelta(seconds=66))
    assert report.interrupted == [run.run_id]
    dead = engine.runs.get(run.run_id)
    assert dead.status == "interrupted" and "stopped before it finished" in dead.error
    assert dead.lease_until is None and dead.finished_at
    assert engine.runs.open_runs() == []  # gone from the index


def test_the_sweep_leaves_runs_that_finished_or_moved_on(make_platform, plugins):
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root)
    finished = platform.run("quick")
    assert finished.status == "success" and platform.engine.runs.open_runs() == []
    assert sweep(platform.engine.runs, platform.engine.settings, now=later(platform)).interrupted == []
    assert platform.engine.runs.get(finished.run_id).status == "success"
    # a lease seen by the sweep that changed meanwhile (the run was claimed again) is left alone
    engine = platform.engine
    plugin, config, clean = engine.prepare("quick", {}, "manual")
    run = engine.new_run("quick", "manual", config, clean)
    engine.runs.create(run)
    assert not engine.runs.close(run.run_id, "interrupted", "x", ("running",), run.lease_until + 1)
    assert engine.runs.get(run.run_id).status == "running"


def test_a_queued_run_whose_message_was_lost_is_interrupted(make_platform, plugins):
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root, WFP_QUEUED_TIMEOUT_SECONDS="60")
    response = platform.client.post("/api/webhooks/quick", json={})
    run_id = response.json()["run_id"]
    boto3.client("sqs").purge_queue(QueueUrl=platform.engine.settings.queue_url)  # the message is lost
    assert sweep(platform.engine.runs, platform.engine.settings).interrupted == []
    assert sweep(platform.engine.runs, platform.engine.settings, now=later(platform, 61)).interrupted == [run_id]
    run = platform.engine.runs.get(run_id)
    assert run.status == "interrupted" and "queue message was lost" in run.error


def test_the_dead_predicate_settles_runs_of_a_gone_process_at_once(make_platform, plugins):
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root)
    engine = platform.engine
    plugin, config, clean = engine.prepare("quick", {}, "manual")
    run = engine.new_run("quick", "manual", config, clean)
    engine.runs.create(run)
    report = sweep(engine.runs, engine.settings, dead=lambda open_run: open_run.run_id == run.run_id)
    assert report.interrupted == [run.run_id]


def test_a_crashed_async_attempt_goes_back_to_the_queue_and_is_retried(make_platform, plugins):
    """A worker killed mid-run: its run stays running until its lease passes; the sweep then hands it
    back to the queue, whose redelivery the worker claims as attempt 2."""
    from functions.core.message import QueuedRun
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root)
    engine = platform.engine
    run_id = platform.client.post("/api/webhooks/quick", json={}).json()["run_id"]
    claimed = engine.runs.claim(run_id, "other-host:1", 65)  # a worker took it... and died
    assert claimed.status == "running" and claimed.attempt == 1
    assert platform.core.queued.deliver(run_id, {}, "quick") is None  # a duplicate delivery now: nothing to do
    report = sweep(engine.runs, engine.settings, now=later(platform, 66))
    assert report.released == [run_id]
    waiting = engine.runs.get(run_id)
    assert waiting.status == "queued" and "attempt 1 stopped with its process (other-host:1)" in waiting.message
    done = platform.core.queued.deliver(run_id, QueuedRun(run_id, "quick", {}).data, "quick")  # the redelivery
    assert done.status == "success" and done.attempt == 2


def test_a_platform_failure_is_retried_then_lands_in_the_dead_letter_queue_as_failed(
        make_platform, plugins, monkeypatch):
    from functions.core import batch as worker_module
    from functions.stores.runs import DynamoRunStore

    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="wfp-test-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="wfp-test-redrive", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})["QueueUrl"]  # timeout 0: no wait in a test
    platform = make_platform(plugins.root, WFP_QUEUE_URL=url, WFP_MAX_ATTEMPTS="2")
    monkeypatch.setattr(worker_module, "RETRY_BASE_SECONDS", 0)  # no backoff in a test
    run_id = platform.client.post("/api/webhooks/quick", json={}).json()["run_id"]

    real_save = DynamoRunStore.save

    def failing_save(self, run):  # DynamoDB refuses the completion write
        if run.run_id == run_id and run.finished:
            raise RuntimeError("ProvisionedThroughputExceededException (simulated)")
        return real_save(self, run)

    monkeypatch.setattr(DynamoRunStore, "save", failing_save)
    assert drain(rounds=1) == 0  # attempt 1 failed: the message stays, visible again at once
    first = platform.engine.runs.get(run_id)
    assert first.status == "queued" and first.attempt == 1 and "attempt 1 failed" in first.message
    assert drain(rounds=1) == 0  # attempt 2, the last delivery: the run is closed as failed
    failed = platform.engine.runs.get(run_id)
    assert failed.status == "error" and "failed on every delivery of this run (2)" in failed.error
    assert failed.lease_until is None
    assert drain() == 0  # SQS moved the message to the dead-letter queue
    (dead,) = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert run_id in dead["Body"]


def test_a_workflow_error_is_retried_only_with_retry_on_error(make_platform, plugins, tmp_path):
    platform = make_platform(plugins.root, WFP_RETRY_DELAY_SECONDS="0")
    flaky_state, stubborn_state = tmp_path / "flaky", tmp_path / "stubborn"
    flaky = platform.client.post("/api/webhooks/flaky", json={"state": str(flaky_state)}).json()["run_id"]
    stubborn = platform.client.post("/api/webhooks/stubborn", json={"state": str(stubborn_state)}).json()["run_id"]
    assert drain() == 3  # flaky twice (an error, then its retry), stubborn once
    retried = platform.engine.runs.get(flaky)
    assert retried.status == "success" and retried.attempt == 2 and retried.message == "worked on try 2"
    kept = platform.engine.runs.get(stubborn)
    assert kept.status == "error" and kept.attempt == 1 and kept.message == "upstream down (try 1)"
    assert Path(flaky_state).read_text() == "2" and Path(stubborn_state).read_text() == "1"


def test_the_sweep_reads_one_query_per_shard_and_never_scans(make_platform, plugins, aws_calls):
    """One Query per open-runs shard (``WFP_OPEN_RUN_SHARDS``) and one of the pre-sharding key: nothing else."""
    from functions.core.shards import open_shard_keys
    from functions.core.sweep import sweep

    platform = make_platform(plugins.root)
    for _ in range(3):
        platform.run("quick")
    aws_calls.clear()
    assert sweep(platform.engine.runs, platform.engine.settings, now=later(platform)).as_dict() == {"interrupted": [], "requeued": [],
                                                                       "released": []}
    queries = [(op, params.get("IndexName"), params["ExpressionAttributeValues"][":0"]["S"])
               for service, op, params in aws_calls if service == "dynamodb"]
    keys = open_shard_keys(platform.engine.settings.open_run_shards)
    assert len(keys) == platform.engine.settings.open_run_shards + 1 == 65  # the default: 64 shards
    assert queries == [("Query", "open_runs", key) for key in keys]


def test_the_scheduler_function_runs_the_sweep_on_the_rate_rules_event(make_platform, plugins):
    from support import _Context

    from functions.handlers import scheduler

    platform = make_platform(plugins.root)
    engine = platform.engine
    plugin, config, clean = engine.prepare("quick", {}, "manual")
    run = engine.new_run("quick", "manual", config, clean)
    run.lease_until = 1  # long gone
    engine.runs.create(run)
    result = scheduler.handler({"action": "sweep"}, type("C", (_Context,), {
        "function_name": "f", "memory_limit_in_mb": 128, "aws_request_id": "r",
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f"})())
    assert result == {"action": "sweep", "interrupted": [run.run_id], "requeued": [], "released": []}
