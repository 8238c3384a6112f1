"""The durable Lambda handler (``functions.handlers.durable``) as the SDK's runner invokes it: with the
service's invocation event (execution ARN, checkpoint token, initial state), the same code as deployed."""

from __future__ import annotations

import json
from typing import Any

from durable_support import durable_workflow, finished

WORKFLOW = '''
def execute(data, tools, ctx):
    got = ctx.step("one", effect, data, "one")
    ctx.sleep(seconds=5)
    return {"status": "success", "got": got}
'''


def run_through_the_handler(platform: Any, event: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    from aws_durable_execution_sdk_python_testing.runner import (
        DurableFunctionTestRunner,
    )

    from functions.handlers import durable

    seen: list[dict[str, Any]] = []

    def spy(raw: dict[str, Any], context: Any) -> Any:
        seen.append(raw)
        return durable.handler(raw, context)

    with DurableFunctionTestRunner(handler=spy, poll_interval=0.02) as runner:
        result = runner.run(input=json.dumps(event), execution_name=event["execution"], execution_timeout=60)
    return result, seen


def test_the_handler_takes_the_services_invocation_events(make_platform, plugin_dir, durable_backend, tmp_path):
    from functions.core import durable as core_durable

    durable_workflow(plugin_dir, "h", WORKFLOW)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("h", {"log": str(tmp_path / "h.log")}, "manual", wait=None).run
    finished(platform, run.run_id)
    # a second, hand-started execution of the finished run does nothing (a duplicate start)
    result, seen = run_through_the_handler(platform, core_durable.event(run, {"log": str(tmp_path / "h.log")}))
    assert json.loads(result.result) == {"run_id": run.run_id, "status": "superseded"}
    # the service's invocation input (the SDK's runner hands its typed form; to_json_dict is the wire shape)
    wire = seen[0].to_json_dict()
    assert {"DurableExecutionArn", "CheckpointToken", "InitialExecutionState"} <= set(wire)
    assert run.run_id in json.dumps(wire["InitialExecutionState"])  # the execution's input: the run's event
    assert (tmp_path / "h.log").read_text().split() == ["one"]


def test_an_execution_a_resume_replaced_stops_at_once(make_platform, plugin_dir, durable_backend, tmp_path):
    from functions.core import durable as core_durable

    durable_workflow(plugin_dir, "h", WORKFLOW)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("h", {"log": str(tmp_path / "h.log")}, "manual", wait=None).run
    record = finished(platform, run.run_id)
    record.status, record.durable_execution = "running", f"{run.run_id}-3"  # carried by a newer execution
    platform.core.runs.save(record)
    stale = record.model_copy(update={"durable_execution": f"{run.run_id}-2"})
    result, _ = run_through_the_handler(platform, core_durable.event(stale, {"log": str(tmp_path / "h.log")}))
    assert json.loads(result.result)["status"] == "superseded"
    assert platform.core.runs.get(run.run_id).durable_execution == f"{run.run_id}-3"
