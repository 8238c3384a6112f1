"""The worker handler: SQS batches of queued runs → the engine, failures reported per message."""

from __future__ import annotations

import copy
import json

import pytest
from lambda_events import LambdaContext, load_event

SECRET_WORKFLOW = {
    "name": "With secret", "triggers": ["webhook", "manual"], "timeout_seconds": 60,
    "inputs_schema": [{"name": "user", "type": "text", "required": True},
                      {"name": "password", "type": "password", "required": True}],
}
SECRET_CODE = """
def execute(data, tools):
    return {"status": "success", "data": {"user": data["user"], "password_length": len(data["password"])}}
"""


@pytest.fixture
def queued(make_platform, plugin_dir, queue_url):
    """A platform whose runs can be queued (moto SQS), with a workflow taking a password."""
    plugin_dir.workflow("with_secret", SECRET_WORKFLOW, SECRET_CODE)
    plugin_dir.workflow("slow", {"name": "Slow", "triggers": ["webhook"], "timeout_seconds": 120})
    return make_platform(plugin_dir.root)


@pytest.fixture
def worker(queued):
    from functions.handlers import worker

    return worker.handler


def sqs_event(*bodies: str) -> dict:
    """The SAM SQS event with one record per body."""
    template = load_event("sqs-receive-message.json")["Records"][0]
    records = []
    for i, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record.update(messageId=f"msg-{i}", receiptHandle=f"handle-{i}", body=body)
        records.append(record)
    return {"Records": records}


def test_a_queued_run_goes_through_sqs_and_the_worker(queued, worker, context):
    from functions.platform import get_platform

    queue = get_platform().queue

    run = queued.engine.accept("with_secret", {"user": "ada", "password": "s3cret!"}, "webhook", wait=None).run
    assert queued.engine.runs.get(run.run_id).status == "queued"

    event = queue.receive_event()
    assert len(event["Records"]) == 1 and event["Records"][0]["eventSource"] == "aws:sqs"
    response = worker(event, context)
    assert response == {"batchItemFailures": []}
    assert queue.acknowledge(event, response) == 1
    assert queue.receive_event()["Records"] == []

    done = queued.engine.runs.get(run.run_id)
    assert done.status == "success" and done.trigger == "webhook"
    assert done.output["data"] == {"user": "ada", "password_length": 7}  # the worker had the real value
    assert done.inputs["password"] != "s3cret!" and "s3cret!" not in json.dumps(done.model_dump(), default=str)


def test_the_generated_sqs_event_is_a_reported_failure_not_a_crash(worker, context):
    event = load_event("sqs-receive-message.json")  # body "Hello from SQS!": not a queued run
    response = worker(event, context)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_only_the_bad_messages_of_a_batch_fail(queued, worker, context):
    from functions.core.message import QueuedRun

    good = queued.engine.accept("with_secret", {"user": "bob", "password": "pw"}, "webhook", wait=None).run
    unknown = QueuedRun("ffffffffffffffffffffffff", "with_secret", {}).encode()  # no such run record
    event = sqs_event(QueuedRun(good.run_id, "with_secret", {"user": "bob", "password": "pw"}).encode(),
                      "not json", unknown, json.dumps({"v": 99}))
    response = worker(event, context)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["msg-1", "msg-2", "msg-3"]
    assert queued.engine.runs.get(good.run_id).status == "success"


def test_a_second_delivery_does_not_run_again(queued, worker, context):
    from functions.core.message import QueuedRun

    run = queued.engine.accept("with_secret", {"user": "eve", "password": "pw"}, "webhook", wait=None).run
    body = QueuedRun(run.run_id, "with_secret", {"user": "eve", "password": "pw"}).encode()
    assert worker(sqs_event(body), context) == {"batchItemFailures": []}
    first = queued.engine.runs.get(run.run_id)
    assert worker(sqs_event(body), context) == {"batchItemFailures": []}
    again = queued.engine.runs.get(run.run_id)
    assert again.finished_at == first.finished_at and again.status == "success"


def test_a_workflow_deactivated_after_queueing_gives_an_error_run(queued, worker, context):
    from functions.core.message import QueuedRun

    run = queued.engine.accept("with_secret", {"user": "zoe", "password": "pw"}, "webhook", wait=None).run
    config_file = queued.plugins_dir / "workflows" / "with_secret" / "config.json"
    config_file.write_text(json.dumps({**SECRET_WORKFLOW, "active": False}))
    queued.core.reload()
    body = QueuedRun(run.run_id, "with_secret", {"user": "zoe", "password": "pw"}).encode()
    assert worker(sqs_event(body), context) == {"batchItemFailures": []}  # retrying cannot help
    failed = queued.engine.runs.get(run.run_id)
    assert failed.status == "error" and "deactivated" in failed.error


def test_a_run_that_cannot_get_its_timeout_goes_back_to_the_queue(queued, worker):
    from functions.core.message import QueuedRun

    first = queued.engine.accept("with_secret", {"user": "a", "password": "pw"}, "webhook", wait=None).run
    second = queued.engine.accept("slow", {}, "webhook", wait=None).run
    event = sqs_event(QueuedRun(first.run_id, "with_secret", {"user": "a", "password": "pw"}).encode(),
                      QueuedRun(second.run_id, "slow", {}).encode())
    response = worker(event, LambdaContext(remaining_ms=60_000))  # slow needs 120 s + margin
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert queued.engine.runs.get(first.run_id).status == "success"
    assert queued.engine.runs.get(second.run_id).status == "queued"  # intact for the next delivery


def test_the_first_run_of_an_invocation_always_gets_its_chance(queued, worker):
    from functions.core.message import QueuedRun

    run = queued.engine.accept("slow", {}, "webhook", wait=None).run
    response = worker(sqs_event(QueuedRun(run.run_id, "slow", {}).encode()), LambdaContext(remaining_ms=60_000))
    assert response == {"batchItemFailures": []}
    assert queued.engine.runs.get(run.run_id).status == "success"


def test_enqueue_without_a_queue_records_why(make_platform, plugin_dir):
    plugin_dir.workflow("with_secret", SECRET_WORKFLOW, SECRET_CODE)
    platform = make_platform(plugin_dir.root, WFP_QUEUE_URL="")
    from functions.core.engine import QueueUnavailable

    with pytest.raises(QueueUnavailable, match="WFP_QUEUE_URL is not set"):
        platform.engine.accept("with_secret", {"user": "a", "password": "pw"}, "webhook", wait=None).run
    (summary,), _ = platform.engine.runs.history("with_secret", 5)
    assert summary.status == "error" and "could not queue" in summary.message


def test_invalid_inputs_are_refused_before_anything_is_queued(queued, queue_url):
    from functions.platform import get_platform

    queue = get_platform().queue
    from functions.errors import InputValidationError

    with pytest.raises(InputValidationError):
        queued.engine.accept("with_secret", {"user": "a"}, "webhook", wait=None).run  # password missing
    assert queued.engine.runs.history("with_secret", 5)[0] == []
    assert queue.receive_event()["Records"] == []
