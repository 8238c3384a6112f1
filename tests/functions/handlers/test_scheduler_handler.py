"""The scheduler handler: EventBridge events for a workflow → one run with trigger ``schedule``."""

from __future__ import annotations

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
    run = platform.engine.runs.get(result["run_id"])
    assert run.trigger == "schedule" and run.workflow == "daily_digest"
    assert run.scheduled_time.startswith("2026-11-25T09:00:00")
    history, _ = platform.engine.runs.history("daily_digest", 10)
    assert [r.run_id for r in history] == [run.run_id]


def test_a_duplicate_delivery_of_the_same_tick_runs_nothing(scheduler, context, platform):
    first = scheduler.handler(transformed("daily_digest", event_id="a"), context)
    again = scheduler.handler(transformed("daily_digest", event_id="b"), context)
    assert first["status"] == "success" and again["status"] == "nothing to run"
    assert len(platform.engine.runs.history("daily_digest", 10)[0]) == 1


def test_generated_scheduled_event_from_a_platform_rule(scheduler, context, platform):
    event = load_event("scheduled-event-rule.json")  # rule/wfp-test-daily_digest
    result = scheduler.handler(event, context)
    assert result["workflow"] == "daily_digest" and result["status"] == "success"
    assert platform.engine.runs.get(result["run_id"]).scheduled_time.startswith("1970-01-01T00:00:00")


def test_an_event_naming_no_workflow_is_refused_with_what_to_send(scheduler, context, platform):
    result = scheduler.handler(load_event("scheduled-event.json"), context)  # rule/ExampleRule
    assert result["status"] == "refused" and "names no workflow" in result["error"]


@pytest.mark.parametrize("event", [[{"workflow": "daily_digest"}], "daily_digest", None, 42])
def test_an_event_that_is_not_an_object_is_refused_not_raised(scheduler, context, platform, event):
    """EventBridge would retry a raised error for nothing: a refused tick is answered."""
    result = scheduler.handler(event, context)
    assert result["status"] == "refused" and "a scheduled event is a JSON object" in result["error"]
    assert platform.engine.runs.history("daily_digest", 10)[0] == []


def test_a_bad_time_is_refused(scheduler, context):
    result = scheduler.handler(transformed("daily_digest", time="yesterday"), context)
    assert result["status"] == "refused" and "ISO 8601" in result["error"]


@pytest.mark.parametrize("workflow", ["hello_world", "no_such_workflow"])  # not scheduled / unknown
def test_a_tick_for_a_workflow_that_is_not_scheduled_runs_nothing(scheduler, context, platform, workflow):
    assert scheduler.handler(transformed(workflow), context)["status"] == "nothing to run"
    assert platform.engine.runs.history("hello_world", 10)[0] == []


def test_a_failing_scheduled_run_is_recorded_and_counted(make_platform, plugin_dir, context, capsys):
    plugin_dir.workflow("nightly", {"name": "Nightly", "schedule": "0 2 * * *", "triggers": ["schedule"]},
                        "def execute(data, tools):\n    raise RuntimeError('disk full')\n")
    platform = make_platform(plugin_dir.root)
    from functions.handlers import scheduler

    result = scheduler.handler(transformed("nightly", time="2026-11-25T02:00:00Z"), context)
    assert result["status"] == "error"
    run = platform.engine.runs.get(result["run_id"])
    assert "disk full" in run.error and run.scheduled_time.startswith("2026-11-25T02:00:00")
    emf = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any('"workflow":"nightly"' in line and '"Errors":[1.0]' in line for line in emf)
