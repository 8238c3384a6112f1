"""Async runs: 202 only once the run is recorded and queued; ``?async=1``; sync calls that never hang past
their wait bound, in both overflow modes; timeouts; and what a sync run costs in DynamoDB requests."""

from __future__ import annotations

import threading
import time

import pytest
from support import drain

QUICK = {"name": "Quick", "triggers": ["manual", "webhook"], "timeout_seconds": 10,
         "inputs_schema": [{"name": "who", "type": "text", "required": False, "default": "world"}]}
QUICK_CODE = "def execute(data, tools):\n    return {'status': 'success', 'message': 'hi ' + data['who']}\n"
SLOW = {"name": "Slow", "triggers": ["manual"], "timeout_seconds": 30,
        "inputs_schema": [{"name": "seconds", "type": "number", "required": False, "default": 1.5}]}
SLOW_CODE = ("import time\n\ndef execute(data, tools):\n    time.sleep(data['seconds'])\n"
             "    return {'status': 'success', 'message': 'slept'}\n")
SLEEPER = {"name": "Sleeper", "triggers": ["manual"], "timeout_seconds": 1}
SLEEPER_CODE = "import time\n\ndef execute(data, tools):\n    time.sleep(3)\n    return {'status': 'success'}\n"


@pytest.fixture
def plugins(plugin_dir):
    plugin_dir.workflow("quick", QUICK, QUICK_CODE)
    plugin_dir.workflow("slow", SLOW, SLOW_CODE)
    plugin_dir.workflow("sleeper", SLEEPER, SLEEPER_CODE)
    return plugin_dir


def messages() -> list[dict]:
    from functions.platform import get_platform

    queue = get_platform().queue
    return queue.clients.get("sqs").receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10,
                                                    VisibilityTimeout=0).get("Messages", [])


def test_a_webhook_answers_202_after_recording_and_queueing_the_run(make_platform, plugins):
    platform = make_platform(plugins.root, WFP_WEBHOOK_SECRET_QUICK="s3cr3t-token")
    response = platform.client.post("/api/webhooks/quick?who=Ada", headers={"X-Webhook-Token": "s3cr3t-token"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"run_id", "workflow", "trigger", "status", "message", "created_at", "status_url",
                         "replayed"}
    assert body["status"] == "queued" and body["trigger"] == "webhook"
    assert response.headers["location"] == body["status_url"]
    record = platform.engine.runs.get(body["run_id"])  # durable before the answer...
    assert record.status == "queued" and record.queued and record.lease_until
    (message,) = messages()  # ...and on the queue
    assert body["run_id"] in message["Body"]
    assert platform.client.get(body["status_url"]).json()["status"] == "queued"
    assert drain() == 1
    done = platform.client.get(body["status_url"]).json()
    assert done["status"] == "success" and done["message"] == "hi Ada" and done["attempt"] == 1
    assert done["lease_until"] is None


def test_async_execute_and_trigger_answer_at_once(make_platform, plugins):
    platform = make_platform(plugins.root)
    started = time.monotonic()
    execute = platform.client.post("/api/workflows/execute/slow?async=1", json={"seconds": 0.2})
    trigger = platform.client.get("/api/workflows/trigger/quick?who=Bob&async=true")
    assert time.monotonic() - started < 1.0
    assert execute.status_code == 202 and trigger.status_code == 202
    assert execute.json()["trigger"] == "manual" and trigger.json()["trigger"] == "api"
    assert drain() == 2
    run = platform.client.get(trigger.json()["status_url"]).json()
    assert run["status"] == "success" and run["inputs"] == {"who": "Bob"}  # 'async' is not an input
    assert platform.client.get(execute.json()["status_url"]).json()["message"] == "slept"
    bad = platform.client.get("/api/workflows/trigger/quick?async=perhaps")
    assert bad.status_code == 422 and "async" in bad.json()["error"]


def test_a_sync_call_past_its_wait_answers_202_and_the_run_finishes_in_the_background(make_platform, plugins):
    platform = make_platform(plugins.root, WFP_SYNC_WAIT_SECONDS="0.5")  # "thread" overflow: a long-lived server
    started = time.monotonic()
    response = platform.client.post("/api/workflows/execute/slow", json={"seconds": 1.5})
    waited = time.monotonic() - started
    assert response.status_code == 202 and 0.4 < waited < 1.4, (response.text, waited)
    body = response.json()
    assert body["status"] == "running"
    deadline = time.monotonic() + 10
    while platform.engine.runs.get(body["run_id"]).status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert platform.engine.runs.get(body["run_id"]).status == "success"
    quick = platform.client.post("/api/workflows/execute/slow", json={"seconds": 0.1})
    assert quick.status_code == 200 and quick.json()["status"] == "success"


def test_deployed_a_long_sync_run_goes_to_the_worker_and_is_waited_for(make_platform, plugins):
    """WFP_SYNC_OVERFLOW=worker (the CDK's): a Lambda cannot keep working after it answers, so a run that may
    outlast the wait is queued from the start; the API polls its record up to the wait bound."""
    platform = make_platform(plugins.root, WFP_SYNC_OVERFLOW="worker", WFP_SYNC_WAIT_SECONDS="3")
    stop = threading.Event()

    def worker() -> None:  # the worker Lambda, fed by the queue
        while not stop.is_set():
            if not drain():
                time.sleep(0.05)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        response = platform.client.post("/api/workflows/execute/slow", json={"seconds": 0.3})
    finally:
        stop.set()
        thread.join(5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["message"] == "slept"
    assert platform.engine.runs.get(body["run_id"]).queued  # it went through the queue

    started = time.monotonic()  # no worker now: the wait bound answers 202, the run stays queued for it
    late = platform.client.post("/api/workflows/execute/slow", json={"seconds": 0.3})
    assert late.status_code == 202 and 2.5 < time.monotonic() - started < 4.5
    assert late.json()["status"] == "queued" and len(messages()) == 1

    quick = platform.client.post("/api/workflows/execute/quick", json={})  # timeout 10 > 3: also queued
    assert quick.status_code == 202
    fits = make_platform(plugins.root, WFP_SYNC_OVERFLOW="worker", WFP_SYNC_WAIT_SECONDS="20")
    inline = fits.client.post("/api/workflows/execute/quick", json={})  # timeout 10 <= 20: runs in the API
    assert inline.status_code == 200 and not fits.engine.runs.get(inline.json()["run_id"]).queued


def test_a_workflow_past_its_timeout_is_timed_out_without_waiting_for_it(make_platform, plugins):
    platform = make_platform(plugins.root)
    started = time.monotonic()
    response = platform.client.post("/api/workflows/execute/sleeper", json={})
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "timed_out" and "timeout of 1 s" in body["error"]


# ----- cost ---------------------------------------------------------------------------------------------------
def dynamodb(calls, operations: set[str] | None = None) -> list[tuple[str, str]]:
    return [(op, params.get("TableName", "")) for service, op, params in calls
            if service == "dynamodb" and (operations is None or op in operations)]


def test_a_sync_run_without_tools_makes_two_writes_and_no_read(make_platform, plugins, aws_calls):
    platform = make_platform(plugins.root)
    platform.client.get("/api/workflows")  # warm: plugins discovered, nothing cached per request
    aws_calls.clear()
    response = platform.client.post("/api/workflows/execute/quick", json={"who": "Ada"})
    assert response.status_code == 200 and response.json()["status"] == "success"
    calls = dynamodb(aws_calls)
    assert [op for op, _ in calls] == ["PutItem", "PutItem"], calls  # create, complete: no GetItem, no Query
    assert not [c for c in aws_calls if c[0] != "dynamodb"]


def test_a_webhook_costs_one_write_and_one_message_then_the_worker_two_writes(make_platform, plugins, aws_calls):
    platform = make_platform(plugins.root)
    platform.client.get("/api/workflows")
    aws_calls.clear()
    assert platform.client.post("/api/webhooks/quick", json={}).status_code == 202
    assert [(s, op) for s, op, _ in aws_calls] == [("dynamodb", "PutItem"), ("sqs", "SendMessage")]
    aws_calls.clear()
    assert drain() == 1
    writes = [op for op, _ in dynamodb(aws_calls, {"PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan"})]
    assert writes == ["UpdateItem", "PutItem"]  # the claim (conditional, returns the record), the completion
