"""Failure handling (``on_error``): notices through Slack, a signed webhook and SES email, one per workflow per
window with what was folded, a recovery notice, an error workflow given the failed run's summary, and none
of it ever changing a run. Real HTTP receivers on 127.0.0.1; SES is moto's (its backend is read)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from support import drain

FAILING = """
from pathlib import Path

def execute(data, tools):
    if data.get("fail"):
        raise RuntimeError("upstream said no")
    return {"status": "success", "message": "fine"}
"""
SENDER = "wfp@example.com"
TEAM = "ops@example.com"


class Receiver:
    """An HTTP endpoint on 127.0.0.1 recording every POST (path, headers, body); answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"broken")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [json.loads(r["body"])["text"] for r in self.requests]


@pytest.fixture
def slack():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def hook():
    receiver = Receiver()
    yield receiver
    receiver.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sent_emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


NOTIFY_ALL = {"notify": [{"type": "slack", "profile": "OPS"}, {"type": "webhook", "profile": "OPS"},
                         {"type": "email", "to": [TEAM]}]}


@pytest.fixture
def notifying(make_platform, plugin_dir, slack, hook, monkeypatch):
    """A platform whose workflow ``flaky`` notifies Slack, a webhook and an email address on failure."""
    monkeypatch.setenv("NOTIFY_SLACK_OPS_URL", f"{slack.url}/services/T000/B000/sl4ck-s3cret")
    monkeypatch.setenv("NOTIFY_WEBHOOK_OPS_URL", f"{hook.url}/api/webhooks/incoming")
    monkeypatch.setenv("NOTIFY_WEBHOOK_OPS_SECRET", "hook-signing-secret")

    def make(on_error: dict[str, Any] | None = None, **env: str) -> Any:
        plugin_dir.workflow("flaky", {"triggers": ["manual", "webhook"], "timeout_seconds": 5,
                                      **({"on_error": on_error} if on_error is not None else {})}, FAILING)
        plugin_dir.workflow("plain", {"triggers": ["manual"]}, FAILING)
        platform = make_platform(plugin_dir.root, WFP_NOTIFY_EMAIL_FROM=SENDER, **env)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        return platform

    return make


def verify(receiver: Receiver, secret: str = "hook-signing-secret") -> list[dict[str, Any]]:
    """Every request the webhook receiver got, checked as the platform checks an incoming ``hmac`` webhook."""
    from functions.http.webhooks.platform_scheme import check_signature

    bodies = []
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        check_signature("incoming", headers["x-signature-256"], secret, headers, request["body"], time.time())
        assert headers["content-type"].startswith("application/json")
        bodies.append(json.loads(request["body"]))
    return bodies


def test_one_notice_per_window_on_each_channel_then_a_recovery_counting_the_folded(notifying, slack, hook):
    platform = notifying(NOTIFY_ALL)
    first = platform.run("flaky", {"fail": True})
    assert first.status == "error"
    for _ in range(3):
        assert platform.run("flaky", {"fail": True}).status == "error"

    assert len(slack.requests) == 1 and slack.requests[0]["path"] == "/services/T000/B000/sl4ck-s3cret"
    assert "flaky" in slack.texts()[0] and first.run_id in slack.texts()[0] and "error" in slack.texts()[0]
    [notice] = verify(hook)
    assert notice["event"] == "workflow.failed" and notice["workflow"] == "flaky"
    assert notice["run"]["run_id"] == first.run_id and notice["run"]["status"] == "error"
    assert "upstream said no" in notice["run"]["error"] and notice["folded"] == 0
    [email] = sent_emails()
    assert email.source == SENDER and email.destinations["ToAddresses"] == [TEAM]
    assert "flaky" in email.subject and first.run_id in email.body

    recovered = platform.run("flaky", {})
    assert recovered.status == "success"
    assert len(slack.requests) == 2
    assert "recovered" in slack.texts()[1] and "3 more failures since the last notice" in slack.texts()[1]
    bodies = verify(hook)
    assert bodies[1]["event"] == "workflow.recovered" and bodies[1]["folded"] == 3
    assert bodies[1]["run"]["run_id"] == recovered.run_id
    assert len(sent_emails()) == 2 and "recovered" in sent_emails()[1].subject

    platform.run("flaky", {})  # still fine: nothing more to say
    assert len(slack.requests) == 2 and len(hook.requests) == 2 and len(sent_emails()) == 2
    # a new failure after the recovery is news again
    platform.run("flaky", {"fail": True})
    assert len(slack.requests) == 3 and "failed" in slack.texts()[2]


def test_the_next_notice_after_the_window_says_how_many_were_folded(notifying, slack):
    from functions.core.runs import utcnow

    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}], "window_seconds": 600})
    for _ in range(3):
        platform.run("flaky", {"fail": True})
    assert len(slack.requests) == 1
    start = utcnow()
    platform.core.failures.clock = lambda: start + timedelta(seconds=601)
    platform.run("flaky", {"fail": True})
    assert len(slack.requests) == 2
    assert "2 more failures since the last notice" in slack.texts()[1]
    state = platform.core.notices.get("flaky")
    assert state.failing and state.folded == 0


def test_concurrent_failures_send_one_notice(notifying, slack, monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    # DynamoDB applies each UpdateItem atomically (its condition and its actions); moto in-process does not
    # serialize concurrent requests, so it is given the same guarantee here.
    atomic, update_item = threading.Lock(), DynamoDBBackend.update_item

    def serialized(self, *args, **kwargs):
        with atomic:
            return update_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", serialized)
    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}]})
    threads = [threading.Thread(target=platform.run, args=("flaky", {"fail": True})) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slack.requests) == 1
    assert platform.core.notices.get("flaky").folded == 4


def test_the_platform_default_applies_to_workflows_without_their_own(notifying, slack):
    platform = notifying(None, WFP_ON_ERROR=json.dumps({"notify": [{"type": "slack", "profile": "OPS"}]}))
    platform.run("plain", {"fail": True})
    assert len(slack.requests) == 1 and "plain" in slack.texts()[0]


def test_an_empty_on_error_opts_out_of_the_default(notifying, slack, aws_calls):
    platform = notifying({}, WFP_ON_ERROR=json.dumps({"notify": [{"type": "slack", "profile": "OPS"}]}))
    aws_calls.clear()
    platform.run("flaky", {"fail": True})
    assert slack.requests == []
    assert [op for service, op, _ in aws_calls if service == "dynamodb"] == ["PutItem", "PutItem"]


ERROR_WORKFLOW = """
def execute(data, tools):
    if data.get("always_fail", True):
        raise RuntimeError("the error workflow broke too")
    return {"status": "success"}
"""


def test_the_error_workflow_receives_the_summary_and_never_loops(notifying, plugin_dir, slack):
    plugin_dir.workflow("notify_team", {"triggers": ["manual"]}, ERROR_WORKFLOW)
    # the default names the error workflow: notify_team's own failures would start notify_team
    platform = notifying(None, WFP_ON_ERROR=json.dumps({"workflow": "notify_team",
                                                        "notify": [{"type": "slack", "profile": "OPS"}]}))
    failed = platform.run("flaky", {"fail": True})
    assert drain(platform) == 1  # the error workflow, queued
    history, _ = platform.engine.runs.history("notify_team", 10)
    assert len(history) == 1
    run = platform.engine.runs.get(history[0].run_id)
    assert run.trigger == "manual" and run.status == "error"
    summary = run.inputs["on_error"]
    assert summary["event"] == "workflow.failed" and summary["folded"] == 0
    assert summary["run"]["run_id"] == failed.run_id and summary["run"]["workflow"] == "flaky"
    assert "upstream said no" in summary["run"]["error"]
    assert drain(platform) == 0  # its failure started nothing
    assert len(platform.engine.runs.history("notify_team", 10)[0]) == 1
    # ...but it was noticed, like any failure
    assert any("notify_team" in text for text in slack.texts())


def test_an_error_workflow_that_refuses_manual_runs_is_reported_not_started(notifying, plugin_dir, caplog):
    plugin_dir.workflow("webhook_only", {"triggers": ["webhook"]}, ERROR_WORKFLOW)
    platform = notifying({"workflow": "webhook_only"})
    with caplog.at_level(logging.WARNING):
        run = platform.run("flaky", {"fail": True})
    assert run.status == "error"
    assert drain(platform) == 0
    assert "does not accept 'manual'" in caplog.text
    assert "does not accept 'manual'" in platform.core.notices.get("flaky").last_error


@pytest.mark.parametrize("broken", ["500", "refused"])
def test_a_failing_notifier_never_changes_the_run_and_is_logged(notifying, slack, monkeypatch, caplog, broken):
    if broken == "500":
        slack.status = 500
    else:
        monkeypatch.setenv("NOTIFY_SLACK_OPS_URL", f"http://127.0.0.1:{free_port()}/services/sl4ck-s3cret")
    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}, {"type": "email", "to": [TEAM]}]})
    with caplog.at_level(logging.WARNING):
        run = platform.run("flaky", {"fail": True})
    assert run.status == "error" and "upstream said no" in run.error
    stored = platform.engine.runs.get(run.run_id)
    assert stored.status == "error" and stored.message == run.message
    assert len(sent_emails()) == 1  # the other notifier still sent
    assert "slack" in caplog.text and "flaky" in caplog.text
    assert "sl4ck-s3cret" not in caplog.text  # the hook URL is a secret
    state = platform.core.notices.get("flaky")
    assert state.last_error and "slack" in state.last_error and "sl4ck-s3cret" not in state.last_error
    if broken == "500":
        assert "500" in state.last_error


def test_a_missing_profile_is_reported(notifying, caplog):
    platform = notifying({"notify": [{"type": "slack", "profile": "NOPE"}]})
    with caplog.at_level(logging.WARNING):
        assert platform.run("flaky", {"fail": True}).status == "error"
    assert "NOTIFY_SLACK_NOPE_URL" in platform.core.notices.get("flaky").last_error


def test_runs_the_sweep_interrupts_notify(notifying, slack):
    from functions.core.sweep import sweep

    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}]})
    engine = platform.engine
    _, config, clean = engine.prepare("flaky", {}, "manual")
    run = engine.new_run("flaky", "manual", config, clean)
    engine.runs.create(run)  # ...and its process dies
    report = sweep(engine.runs, engine.settings, now=run.created_at + timedelta(seconds=120),
                   closed=platform.core.failures.closed)
    assert report.interrupted == [run.run_id]
    assert len(slack.requests) == 1 and "interrupted" in slack.texts()[0] and run.run_id in slack.texts()[0]


def test_the_scheduler_handler_sweep_notifies(notifying, slack, monkeypatch):
    from functions.core import sweep as sweep_module
    from functions.handlers.scheduler import handler

    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}]},
                         WFP_QUEUED_TIMEOUT_SECONDS="1")
    response = platform.client.post("/api/webhooks/flaky", json={})
    run_id = response.json()["run_id"]
    boto3.client("sqs").purge_queue(QueueUrl=platform.engine.settings.queue_url)  # its message is lost
    later = sweep_module.utcnow() + timedelta(seconds=5)
    monkeypatch.setattr(sweep_module, "utcnow", lambda: later)

    class Context:
        function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "s", 128, "arn", "id"

    assert handler({"action": "sweep"}, Context())["interrupted"] == [run_id]
    assert len(slack.requests) == 1 and "interrupted" in slack.texts()[0]


RETRIED = """
from pathlib import Path

def execute(data, tools):
    state = Path(data["state"])
    tries = int(state.read_text()) + 1 if state.exists() else 1
    state.write_text(str(tries))
    if tries <= data.get("failures", 1):
        return {"status": "error", "message": f"upstream down (try {tries})"}
    return {"status": "success"}
"""


def test_a_retried_run_notifies_only_after_its_last_attempt(make_platform, plugin_dir, slack, monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFY_SLACK_OPS_URL", f"{slack.url}/hook")
    plugin_dir.workflow("retried", {"triggers": ["webhook"], "retry_on_error": True, "max_attempts": 2,
                                    "on_error": {"notify": [{"type": "slack", "profile": "OPS"}]}}, RETRIED)
    platform = make_platform(plugin_dir.root, WFP_RETRY_DELAY_SECONDS="0")
    # fails once, succeeds on the retry: nothing to say
    platform.client.post("/api/webhooks/retried", json={"state": str(tmp_path / "a"), "failures": 1})
    assert drain(platform) == 2
    assert slack.requests == []
    # fails on every attempt: one notice, after the last
    response = platform.client.post("/api/webhooks/retried", json={"state": str(tmp_path / "b"), "failures": 5})
    assert drain(platform) == 2
    assert platform.engine.runs.get(response.json()["run_id"]).status == "error"
    assert len(slack.requests) == 1 and "attempt 2" in slack.texts()[0]


def dynamodb_writes(calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(op, params.get("TableName", "")) for service, op, params in calls
            if service == "dynamodb" and op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")]


def test_without_on_error_a_sync_run_costs_what_it_did(notifying, aws_calls):
    platform = notifying(None)
    platform.run("plain", {})  # the first run of a process may read what it then caches
    for data in ({}, {"fail": True}):
        aws_calls.clear()
        platform.run("plain", data)
        assert len(dynamodb_writes(aws_calls)) == 2
        assert not any("notices" in str(params) for _, _, params in aws_calls)
        assert [s for s, _, _ in aws_calls] == ["dynamodb", "dynamodb"]


def test_what_on_error_costs(notifying, aws_calls, slack):
    platform = notifying({"notify": [{"type": "slack", "profile": "OPS"}, {"type": "email", "to": [TEAM]}]})
    platform.run("flaky", {})
    aws_calls.clear()
    platform.run("flaky", {})  # a success while nothing failed: one read of the notice state
    ops = [(s, op) for s, op, _ in aws_calls]
    assert ops == [("dynamodb", "PutItem"), ("dynamodb", "PutItem"), ("dynamodb", "GetItem")]
    aws_calls.clear()
    platform.run("flaky", {"fail": True})  # a failure notice: one conditional update, then the channels
    ops = [(s, op) for s, op, _ in aws_calls]
    assert ops == [("dynamodb", "PutItem"), ("dynamodb", "PutItem"), ("dynamodb", "UpdateItem"),
                   ("sesv2", "SendEmail")]
    aws_calls.clear()
    platform.run("flaky", {"fail": True})  # folded: the failed claim and the count
    assert [(s, op) for s, op, _ in aws_calls][2:] == [("dynamodb", "UpdateItem"), ("dynamodb", "UpdateItem")]
    aws_calls.clear()
    platform.run("flaky", {})  # the recovery: a read, the conditional update, the channels
    assert [(s, op) for s, op, _ in aws_calls][2:] == [("dynamodb", "GetItem"), ("dynamodb", "UpdateItem"),
                                                       ("sesv2", "SendEmail")]


def test_on_error_is_checked_in_config():
    from pydantic import ValidationError

    from functions.registry.config import WorkflowConfig

    config = WorkflowConfig.model_validate({"on_error": {"workflow": "notify_team",
                                                         "notify": [{"type": "slack", "profile": "ops"}]}})
    assert config.on_error.workflow == "notify_team" and config.on_error.notify[0].profile == "OPS"
    for bad in ({"notify": [{"type": "slack"}]}, {"notify": [{"type": "email"}]}, {"notify": [{"type": "sms"}]},
                {"workflow": "Bad Name"}, {"windw_seconds": 5}):
        with pytest.raises(ValidationError):
            WorkflowConfig.model_validate({"on_error": bad})
