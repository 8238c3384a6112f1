"""Scheduled ticks: one run per tick (duplicates too, concurrently), pause/resume, overlap, state, AWS toggling."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

UTC = timezone.utc
TICK = "2025-03-31T09:00:00Z"
GATE_WORKFLOW = """
import os, time

def execute(data, tools):
    deadline = time.time() + 10
    while not os.path.exists(data["gate"]) and time.time() < deadline:
        time.sleep(0.02)
    return {"status": "success", "message": "gate opened"}
"""


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically; moto checks the condition and then writes without
    a lock, so two threads can both pass. Serialising moto's writes restores DynamoDB's guarantee (the
    code under test is unchanged)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("put_item", "update_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def sched_plugins(plugin_dir, tmp_path) -> Any:
    gate = tmp_path / "gate"
    plugin_dir.workflow("every_minute", {"name": "Every minute", "schedule": "* * * * *",
                                         "triggers": ["schedule", "manual"]},
                        "def execute(data, tools):\n    print('tick')\n    return {'status': 'success'}\n")
    plugin_dir.workflow("paris", {"schedule": "0 9 * * *", "timezone": "Europe/Paris", "triggers": ["schedule"]})
    plugin_dir.workflow("single", {"schedule": "* * * * *", "triggers": ["schedule", "manual"], "concurrency": 1,
                                   "inputs_schema": [{"name": "gate", "default": str(gate)}]}, GATE_WORKFLOW)
    plugin_dir.workflow("overlapping", {"schedule": "* * * * *", "triggers": ["schedule"],
                                        "inputs_schema": [{"name": "gate", "default": str(gate)}]}, GATE_WORKFLOW)
    plugin_dir.workflow("needs_input", {"schedule": "0 * * * *", "triggers": ["schedule"],
                                        "inputs_schema": [{"name": "email", "type": "email", "required": True}]})
    plugin_dir.workflow("inactive", {"schedule": "* * * * *", "triggers": ["schedule"], "active": False})
    plugin_dir.workflow("manual_only", {"triggers": ["manual"]})
    plugin_dir.gate = gate
    return plugin_dir


@pytest.fixture
def sched(make_platform, sched_plugins) -> Any:
    platform = make_platform(sched_plugins.root)
    platform.gate = sched_plugins.gate
    return platform


def history(platform: Any, workflow: str) -> list[Any]:
    runs, _ = platform.engine.runs.history(workflow, 100)
    return runs


def event(workflow: str, time: str = TICK, event_id: str = "e-1") -> dict[str, str]:
    return {"workflow": workflow, "time": time, "id": event_id}


# ----- one run per tick ------------------------------------------------------------------------------------
def test_a_tick_runs_the_workflow_once_with_its_scheduled_time(sched) -> None:
    from functions.core.schedules import tick_run_id

    handle_event = sched.core.schedules.handle

    run = handle_event(event("every_minute"))
    assert run is not None and run.status == "success" and run.trigger == "schedule"
    assert run.scheduled_time == "2025-03-31T09:00:00+00:00"
    assert run.run_id == tick_run_id("every_minute", datetime(2025, 3, 31, 9, tzinfo=UTC))
    assert len(run.logs) == 1 and run.logs[0].endswith("tick")
    stored = sched.engine.runs.get(run.run_id)
    assert stored.status == "success" and stored.scheduled_time == run.scheduled_time


def test_a_duplicate_delivery_of_a_tick_produces_no_second_run(sched) -> None:
    handle_event = sched.core.schedules.handle

    first = handle_event(event("every_minute", "2025-03-31T09:00:00Z", "a"))
    # EventBridge retries with another id; the time may carry seconds: still the 09:00 tick.
    assert handle_event(event("every_minute", "2025-03-31T09:00:41Z", "b")) is None
    assert handle_event(event("every_minute", "2025-03-31T11:00:00+02:00", "c")) is None
    assert [r.run_id for r in history(sched, "every_minute")] == [first.run_id]
    second_tick = handle_event(event("every_minute", "2025-03-31T09:01:00Z", "d"))
    assert second_tick is not None and second_tick.run_id != first.run_id
    assert len(history(sched, "every_minute")) == 2


def test_concurrent_duplicate_deliveries_produce_exactly_one_run(sched, atomic_moto) -> None:
    get_schedules = lambda: sched.core.schedules  # noqa: E731

    sched.gate.write_text("open")
    workers, barrier = 8, threading.Barrier(8)
    results: list[Any] = []

    def deliver(i: int) -> None:
        schedules = get_schedules()
        tick = schedules.parse_event(event("single", TICK, f"delivery-{i}"))
        barrier.wait()
        results.append(schedules.tick(tick))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["duplicate"] * (workers - 1) + ["started"]
    runs = history(sched, "single")
    assert len(runs) == 1 and runs[0].status == "success"


def test_a_raw_eventbridge_scheduled_event_is_accepted(sched) -> None:
    from functions.core.deployment import schedule_name
    handle_event = sched.core.schedules.handle

    raw = {"version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
           "source": "aws.events", "account": "123456789012", "time": "2025-03-31T09:00:00Z",
           "region": "us-east-1", "detail": {},
           "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{schedule_name('every_minute', 'wfp-test')}"]}
    run = handle_event(raw)
    assert run is not None and run.workflow == "every_minute" and run.status == "success"


@pytest.mark.parametrize(("bad", "message"), [
    ({"workflow": "every_minute"}, "has no 'time'"),
    ({"workflow": "every_minute", "time": "<aws.scheduler.scheduled-time>"}, "not an ISO 8601 timestamp"),
    ({"time": TICK}, "names no workflow"),
    ({"detail-type": "Scheduled Event", "time": TICK, "resources": ["arn:aws:events:r:1:rule/other"]}, "names no workflow"),
    ("not an object", "JSON object"),
])
def test_malformed_events_are_rejected_clearly(sched, bad: Any, message: str) -> None:
    handle_event = sched.core.schedules.handle
    from functions.errors import BadRequest

    with pytest.raises(BadRequest, match=message):
        handle_event(bad)


@pytest.mark.parametrize("workflow", ["no_such_workflow", "inactive", "manual_only"])
def test_ticks_of_unknown_inactive_or_unscheduled_workflows_record_nothing(sched, workflow: str) -> None:
    get_schedules = lambda: sched.core.schedules  # noqa: E731

    schedules = get_schedules()
    result = schedules.tick(schedules.parse_event(event(workflow)))
    assert result.outcome == "ignored" and result.run is None
    if workflow != "no_such_workflow":
        assert history(sched, workflow) == []


def test_a_scheduled_workflow_whose_inputs_cannot_be_satisfied_records_an_error_run(sched) -> None:
    handle_event = sched.core.schedules.handle

    run = handle_event(event("needs_input", "2025-03-31T09:00:00Z"))
    assert run is not None and run.status == "error" and "email" in run.error
    assert handle_event(event("needs_input", "2025-03-31T09:00:00Z", "again")) is None  # still one per tick
    assert [r.status for r in history(sched, "needs_input")] == ["error"]


# ----- overlap ---------------------------------------------------------------------------------------------
def _wait_running(platform: Any, workflow: str) -> None:
    for _ in range(500):
        if any(r.status == "running" for r in history(platform, workflow)):
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{workflow} never started")


def test_concurrency_1_records_a_skipped_run_while_the_previous_one_runs(sched) -> None:
    handle_event = sched.core.schedules.handle

    first: list[Any] = []
    runner = threading.Thread(target=lambda: first.append(handle_event(event("single", "2025-03-31T09:00:00Z"))))
    runner.start()
    _wait_running(sched, "single")
    skipped = handle_event(event("single", "2025-03-31T09:01:00Z"))
    assert skipped is not None and skipped.status == "skipped"
    assert first_run_id(sched, "single", "running") in skipped.message and "concurrency is 1" in skipped.message
    assert handle_event(event("single", "2025-03-31T09:01:00Z", "dup")) is None  # a duplicate of a skipped tick
    sched.gate.write_text("open")
    runner.join(15)
    assert first[0].status == "success"
    after = handle_event(event("single", "2025-03-31T09:02:00Z"))
    assert after is not None and after.status == "success"
    assert [r.status for r in history(sched, "single")] == ["success", "skipped", "success"]


def first_run_id(platform: Any, workflow: str, status: str) -> str:
    return next(r.run_id for r in history(platform, workflow) if r.status == status)


def test_without_concurrency_ticks_overlap(sched) -> None:
    handle_event = sched.core.schedules.handle

    runner = threading.Thread(target=handle_event, args=(event("overlapping", "2025-03-31T09:00:00Z"),))
    runner.start()
    _wait_running(sched, "overlapping")
    second = threading.Thread(target=handle_event, args=(event("overlapping", "2025-03-31T09:01:00Z"),))
    second.start()
    for _ in range(500):
        if sum(r.status == "running" for r in history(sched, "overlapping")) == 2:
            break
        threading.Event().wait(0.01)
    assert sum(r.status == "running" for r in history(sched, "overlapping")) == 2
    sched.gate.write_text("open")
    runner.join(15)
    second.join(15)
    assert [r.status for r in history(sched, "overlapping")] == ["success", "success"]


def test_a_stale_running_record_does_not_block_ticks_forever(sched) -> None:
    from functions.core.runs import Run, new_run_id
    handle_event = sched.core.schedules.handle

    long_ago = datetime.now(UTC) - timedelta(hours=2)  # its process died: never completed
    sched.engine.runs.create(Run(run_id=f"{int(long_ago.timestamp() * 1000):012x}" + new_run_id()[12:],
                                  workflow="single", trigger="schedule", status="running", created_at=long_ago,
                                  started_at=long_ago))
    sched.gate.write_text("open")
    run = handle_event(event("single", "2025-03-31T09:05:00Z"))
    assert run is not None and run.status == "success"


# ----- pause / resume and listing through the API ----------------------------------------------------------
def test_jobs_list_cron_timezone_eventbridge_next_runs_last_run_and_enabled(sched) -> None:
    handle_event = sched.core.schedules.handle

    handle_event(event("paris", "2025-03-31T07:00:00Z"))
    jobs = {j["workflow"]: j for j in sched.client.get("/api/scheduler/jobs").json()}
    assert set(jobs) == {"every_minute", "paris", "single", "overlapping", "needs_input", "inactive"}
    paris = jobs["paris"]
    assert paris["cron"] == "0 9 * * *" and paris["timezone"] == "Europe/Paris"
    assert paris["eventbridge"] == "cron(0 9 * * ? *)" and paris["deployed_as"] == "schedule"
    assert paris["aws_name"] == "wfp-test-paris" and paris["enabled"] is True
    upcoming = [datetime.fromisoformat(t) for t in paris["next_runs"]]
    assert len(upcoming) == 3 and upcoming == sorted(upcoming) and upcoming[0] > datetime.now(UTC)
    assert all(t.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).hour == 9 for t in upcoming)
    assert paris["last_run"]["status"] == "success" and paris["last_run"]["trigger"] == "schedule"
    assert paris["last_scheduled_time"].startswith("2025-03-31T07:00:00")
    assert jobs["every_minute"]["deployed_as"] == "rule" and jobs["every_minute"]["last_run"] is None
    assert jobs["inactive"]["next_runs"] == [] and jobs["inactive"]["active"] is False
    one = sched.client.get("/api/scheduler/jobs/paris").json()
    assert one["workflow"] == "paris" and one["last_run"]["run_id"] == paris["last_run"]["run_id"]


def test_pause_and_resume_through_the_api(sched) -> None:
    handle_event = sched.core.schedules.handle

    client = sched.client
    paused = client.post("/api/scheduler/jobs/every_minute/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["enabled"] is False and paused.json()["next_runs"] == []
    listed = {j["workflow"]: j for j in client.get("/api/scheduler/jobs").json()}
    assert listed["every_minute"]["enabled"] is False and listed["paris"]["enabled"] is True

    assert handle_event(event("every_minute", "2025-03-31T09:00:00Z")) is None
    assert history(sched, "every_minute") == []  # a paused tick is recorded as nothing

    again = client.post("/api/scheduler/jobs/every_minute/pause")
    assert again.status_code == 409 and "already paused" in again.json()["error"]

    resumed = client.post("/api/scheduler/jobs/every_minute/resume")
    assert resumed.status_code == 200 and resumed.json()["enabled"] is True
    assert len(resumed.json()["next_runs"]) == 3
    assert client.post("/api/scheduler/jobs/every_minute/resume").status_code == 409

    run = handle_event(event("every_minute", "2025-03-31T09:01:00Z"))
    assert run is not None and run.status == "success"
    # The paused tick was not replayed on resume.
    assert [r.run_id for r in history(sched, "every_minute")] == [run.run_id]


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/api/scheduler/jobs/nope/pause", 404, "no workflow named 'nope'"),
    ("/api/scheduler/jobs/manual_only/pause", 409, "has no schedule to pause or resume"),
    ("/api/scheduler/jobs/manual_only/resume", 409, "add \"schedule\" to \"triggers\""),
])
def test_pause_errors(sched, path: str, status: int, message: str) -> None:
    response = sched.client.post(path)
    assert response.status_code == status and message in response.json()["error"]


def test_scheduler_jobs_route_is_served_by_its_own_module(sched) -> None:
    spec = sched.client.get("/openapi.json").json()
    assert {"/api/scheduler/jobs", "/api/scheduler/jobs/{name}/pause",
            "/api/scheduler/jobs/{name}/resume"} <= set(spec["paths"])
    from functions.http import catalog

    assert [j.workflow for j in catalog.scheduled_jobs(sched.core)] == [
        j["workflow"] for j in sched.client.get("/api/scheduler/jobs").json()]


# ----- EventBridge rules and schedules are disabled with the pause -----------------------------------------
def _lambda_target() -> dict[str, str]:
    return {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:wfp-test-scheduler",
            "RoleArn": "arn:aws:iam::123456789012:role/wfp-test-scheduler"}


def test_pausing_disables_the_rule_of_a_utc_workflow(sched) -> None:
    import boto3

    events = boto3.client("events")
    events.put_rule(Name="wfp-test-every_minute", ScheduleExpression="cron(* * * * ? *)", State="ENABLED")
    assert sched.client.post("/api/scheduler/jobs/every_minute/pause").json()["warnings"] == []
    assert events.describe_rule(Name="wfp-test-every_minute")["State"] == "DISABLED"
    assert sched.client.post("/api/scheduler/jobs/every_minute/resume").status_code == 200
    assert events.describe_rule(Name="wfp-test-every_minute")["State"] == "ENABLED"


def test_pausing_disables_the_scheduler_schedule_of_a_timezone_workflow(sched) -> None:
    import boto3

    from functions.core.deployment import scheduler_input

    scheduler = boto3.client("scheduler")
    scheduler.create_schedule(Name="wfp-test-paris", ScheduleExpression="cron(0 9 * * ? *)",
                              ScheduleExpressionTimezone="Europe/Paris", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={**_lambda_target(), "Input": scheduler_input("paris")})
    assert sched.client.post("/api/scheduler/jobs/paris/pause").status_code == 200
    disabled = scheduler.get_schedule(Name="wfp-test-paris")
    assert disabled["State"] == "DISABLED"
    assert disabled["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert disabled["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert json.loads(disabled["Target"]["Input"])["workflow"] == "paris"
    sched.client.post("/api/scheduler/jobs/paris/resume")
    assert scheduler.get_schedule(Name="wfp-test-paris")["State"] == "ENABLED"


def test_pause_without_a_deployed_rule_warns_and_still_pauses(sched) -> None:
    body = sched.client.post("/api/scheduler/jobs/every_minute/pause").json()
    assert body["enabled"] is False and "no EventBridge rule named 'wfp-test-every_minute'" in body["warnings"][0]


class FailingToggler:
    def set_enabled(self, schedule: Any, enabled: bool) -> str | None:
        raise RuntimeError("AccessDenied")


@pytest.fixture
def failing_toggler(make_platform, sched_plugins) -> Any:
    """The scheduled workflows on a platform whose AWS refuses to toggle anything."""
    return make_platform(sched_plugins.root, parts={"toggler": FailingToggler()})


def test_resume_that_aws_refuses_keeps_the_schedule_paused(failing_toggler) -> None:
    sched = failing_toggler
    paused = sched.client.post("/api/scheduler/jobs/every_minute/pause")
    assert paused.status_code == 200 and "could not be disabled" in paused.json()["warnings"][0]
    refused = sched.client.post("/api/scheduler/jobs/every_minute/resume")
    assert refused.status_code == 502 and "stays paused" in refused.json()["error"]
    jobs = {j["workflow"]: j for j in sched.client.get("/api/scheduler/jobs").json()}
    assert jobs["every_minute"]["enabled"] is False


# ----- naming and target input for the CDK -----------------------------------------------------------------
def test_deployed_schedule_names_expressions_and_inputs(sched) -> None:
    from functions.core.deployment import (
        deployed_schedule,
        rule_input_template,
        schedule_name,
    )

    registry = sched.engine.registry
    rule = deployed_schedule("every_minute", registry.workflow("every_minute")[1], "wfp-test")
    assert (rule.kind, rule.name, rule.expression, rule.timezone) == (
        "rule", "wfp-test-every_minute", "cron(* * * * ? *)", "UTC")
    paris = deployed_schedule("paris", registry.workflow("paris")[1], "wfp-test")
    assert (paris.kind, paris.expression, paris.timezone, paris.group) == (
        "schedule", "cron(0 9 * * ? *)", "Europe/Paris", "default")
    assert json.loads(paris.target_input["input"])["time"] == "<aws.scheduler.scheduled-time>"
    assert deployed_schedule("manual_only", registry.workflow("manual_only")[1], "wfp-test") is None
    # What EventBridge delivers after substituting the placeholders is what handle_event parses.
    delivered = rule_input_template("every_minute").replace("<time>", TICK).replace("<id>", "abc")
    assert json.loads(delivered) == {"workflow": "every_minute", "time": TICK, "id": "abc"}
    assert rule.target_input["input_paths_map"] == {"time": "$.time", "id": "$.id"}
    long = schedule_name("w" * 80, "wfp-production")
    assert len(long) == 64 and long == schedule_name("w" * 80, "wfp-production")
    assert long != schedule_name("w" * 79 + "x", "wfp-production")


# ----- cost ------------------------------------------------------------------------------------------------
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def test_writes_per_tick(sched, monkeypatch: pytest.MonkeyPatch) -> None:
    """A started tick: create run + complete run + schedule state = 3 writes; a duplicate: 1 failed
    conditional write; a paused tick: none (one consistent read)."""
    from pynamodb.connection.base import Connection

    handle_event = sched.core.schedules.handle

    calls: list[str] = []
    original = Connection._make_api_call

    def counting(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(self, operation, kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)

    def writes_of(delivery: dict[str, str]) -> tuple[int, list[str]]:
        calls.clear()
        handle_event(delivery)
        return sum(c in WRITES for c in calls), list(calls)

    assert writes_of(event("every_minute", "2025-03-31T09:00:00Z"))[0] == 3
    assert writes_of(event("every_minute", "2025-03-31T09:00:00Z", "dup"))[0] == 1
    sched.client.post("/api/scheduler/jobs/every_minute/pause")
    assert writes_of(event("every_minute", "2025-03-31T09:01:00Z")) == (0, ["GetItem"])
