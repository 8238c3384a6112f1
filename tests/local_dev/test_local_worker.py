"""Async runs on the dev server: webhooks and ?async=1 go through the local SQS queue and the local worker,
as on AWS; the access log keeps query strings (inputs, maybe secrets) out."""

from __future__ import annotations

import time

import boto3
from local_platform import DevServer, dev_server, local  # noqa: F401 - fixtures
from support import drain


def finished(server: DevServer, run_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, run = server.request("GET", f"/api/runs/{run_id}")
        if run.get("status") not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_webhooks_and_async_calls_are_run_by_the_local_worker(dev_server: DevServer):
    server = dev_server.start()
    status, accepted = server.request("POST", "/api/webhooks/incoming_webhook?token=q-secret-81ab&event=push",
                                      {"repository": "demo"})
    assert status == 202 and accepted["status"] == "queued", accepted
    run = finished(server, accepted["run_id"])
    assert run["status"] == "success" and run["trigger"] == "webhook", run
    assert run["inputs"] == {"token": "***", "event": "push", "repository": "demo"}
    status, later = server.request("POST", "/api/workflows/execute/hello_world?async=1", {"name": "Ada"})
    assert status == 202
    assert finished(server, later["run_id"])["message"] == "Hello, Ada!"
    output = server.output()
    assert "webhook 'incoming_webhook' accepts unsigned calls: set WFP_WEBHOOK_SECRET_INCOMING_WEBHOOK" in output
    assert "local queue worker started" in output
    assert "POST /api/webhooks/incoming_webhook?..." in output and "q-secret-81ab" not in output
    assert server.stop() == 0


# ----- after a restart: the local queue is new and empty -------------------------------------------------
def test_requeue_sends_lost_queued_runs_again_when_their_record_holds_every_input(make_platform, plugin_dir):
    from functions.core.sweep import SweepReport
    from local_dev.worker import requeue_lost

    plugin_dir.workflow("echo", {"name": "Echo", "triggers": ["webhook"],
                                 "inputs_schema": [{"name": "pw", "type": "password", "required": False}]},
                        "def execute(data, tools):\n    return {'status': 'success', 'data': sorted(data)}\n")
    platform = make_platform(plugin_dir.root)
    plain = platform.client.post("/api/webhooks/echo", json={"n": 1}).json()["run_id"]
    secret = platform.client.post("/api/webhooks/echo", json={"n": 2, "pw": "hunter2!"}).json()["run_id"]
    boto3.client("sqs").purge_queue(QueueUrl=platform.engine.settings.queue_url)  # a restarted local queue
    report = SweepReport()
    requeue_lost(platform.core, report)
    assert report.requeued == [plain] and report.interrupted == [secret]
    assert drain() == 1
    assert platform.engine.runs.get(plain).status == "success"
    assert platform.engine.runs.get(plain).output["data"] == ["n"]
    assert "inputs hold secrets" in platform.engine.runs.get(secret).error
