"""The scheduler handler: EventBridge events for a workflow → one run with trigger ``schedule``."""

from __future__ import annotations

import copy

import pytest
from lambda_events import load_event


@pytest.fixture
def scheduler(platform):
    from functions.handlers import scheduler

    return scheduler


def transformed(workflow: str, time: str = "2026-11-25T09:00:00Z", event_id: str = "evt-1") -> dict[str, str]:
    """What the stack's input transformer delivers: {"workflow": ..., "time": <time>, "id": <id>}."""
    return {"workflow": workflow, "time": time, "id": event_id}


def test_rule_input_runs_the_workflow_for_its_scheduled_time(scheduler, context, platform):
    result = scheduler.handler(transformed("daily_digest"), context)
    assert result["status"] == "success", result
    run = platform.engine.store.get(result["run_id"])
    assert run.trigger == "schedule" and run.workflow == "daily_digest"
    assert run.scheduled_time == "2026-11-25T09:00:00+00:00"
    history, _ = platform.engine.store.history("daily_digest", 10)
    assert [r.run_id for r in history] == [run.run_id]


def test_generated_scheduled_event_from_a_platform_rule(scheduler, context, platform):
    event = load_event("scheduled-event-rule.json")  # rule/wfp-test-cron-daily_digest
    result = scheduler.handler(event, context)
    assert result["workflow"] == "daily_digest" and result["status"] == "success"
    assert platform.engine.store.get(result["run_id"]).scheduled_time == "1970-01-01T00:00:00+00:00"


def test_generated_scheduled_event_with_the_workflow_in_detail(scheduler, context, platform):
    event = copy.deepcopy(load_event("scheduled-event.json"))
    event["detail"] = {"workflow": "daily_digest"}
    result = scheduler.handler(event, context)
    assert result["status"] == "success"


def test_an_event_naming_no_workflow_is_an_error_that_says_what_to_send(scheduler, context, platform):
    with pytest.raises(scheduler.SchedulerEventError, match="names no workflow"):
        scheduler.handler(load_event("scheduled-event.json"), context)  # rule/ExampleRule


def test_a_bad_time_is_an_error(scheduler, context):
    with pytest.raises(scheduler.SchedulerEventError, match="not an ISO-8601"):
        scheduler.handler(transformed("daily_digest", time="yesterday"), context)


def test_a_workflow_without_the_schedule_trigger_is_refused_without_a_run(scheduler, context, platform):
    result = scheduler.handler(transformed("hello_world"), context)
    assert result["status"] == "refused"
    assert "does not accept 'schedule'" in result["error"]
    assert platform.engine.store.history("hello_world", 10)[0] == []


def test_unknown_workflow_is_refused(scheduler, context):
    result = scheduler.handler(transformed("no_such_workflow"), context)
    assert result["status"] == "refused" and "no workflow named" in result["error"]


def test_a_failing_scheduled_run_is_recorded_and_counted(make_platform, plugin_dir, context, capsys):
    plugin_dir.workflow("nightly", {"name": "Nightly", "schedule": "0 2 * * *", "triggers": ["schedule"]},
                        "def execute(data, tools):\n    raise RuntimeError('disk full')\n")
    platform = make_platform(plugin_dir.root)
    from functions.handlers import scheduler

    result = scheduler.handler(transformed("nightly", time="2026-11-25T02:00:00Z"), context)
    assert result["status"] == "error"
    run = platform.engine.store.get(result["run_id"])
    assert "disk full" in run.error and run.scheduled_time == "2026-11-25T02:00:00+00:00"
    emf = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any('"workflow":"nightly"' in line and '"Errors":[1.0]' in line for line in emf)


def test_fire_is_the_single_call_the_handler_makes(scheduler, context, monkeypatch):
    """The schedules module's fire(workflow, scheduled_time) replaces it; the handler passes both through."""
    calls = []
    monkeypatch.setattr(scheduler, "fire", lambda workflow, when: calls.append((workflow, when)) or None)
    result = scheduler.handler(transformed("daily_digest", time="2026-11-25T10:15:00+01:00"), context)
    assert result == {"workflow": "daily_digest", "status": "skipped"}
    (workflow, when), = calls
    assert workflow == "daily_digest" and when.isoformat() == "2026-11-25T09:15:00+00:00"
