"""One EventBridge rule per scheduled workflow, targeting the scheduler function.

The rule's target input is an input transformer: ``{"workflow": "<name>", "time": <time>, "id": <id>}``
(the event's scheduled time and id), so the run is recorded for the time it was scheduled for.
EventBridge rules only know UTC: a workflow with another ``timezone`` is reported (synth warning)
and not scheduled here; EventBridge Scheduler, which has time zones, is the place for it
(``schedule_workflow`` is the one function to extend).
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.cron import CronError, to_eventbridge
from functions.handlers.scheduler import rule_name
from functions.plugin_config import WorkflowConfig

MAX_RULE_NAME = 64


def schedule_input(workflow: str) -> events.RuleTargetInput:
    return events.RuleTargetInput.from_object(
        {"workflow": workflow, "time": events.EventField.time, "id": events.EventField.event_id})


def schedule_workflow(scope: Construct, workflow: str, config: WorkflowConfig, target: lambda_.IFunction,
                      prefix: str) -> events.Rule | None:
    """The rule that fires ``workflow`` on its cron schedule, or None (with a synth message) if it cannot."""
    assert config.schedule
    if config.timezone not in ("UTC", "Etc/UTC"):
        Annotations.of(scope).add_warning_v2(
            f"wfp:schedule-timezone:{workflow}",
            f"workflow '{workflow}' is scheduled in {config.timezone}; EventBridge rules run in UTC, so it is "
            "not scheduled by this stack (set \"timezone\": \"UTC\" and adjust the cron expression)")
        return None
    try:
        expression = to_eventbridge(config.schedule)
    except CronError as exc:
        Annotations.of(scope).add_error(f"workflow '{workflow}': {exc}")
        return None
    name = rule_name(prefix, workflow)
    rule = events.Rule(
        scope, f"Schedule-{workflow}",
        rule_name=name if len(name) <= MAX_RULE_NAME else None,
        description=f"{prefix}: run workflow {workflow} at '{config.schedule}' (UTC)",
        schedule=events.Schedule.expression(expression),
        enabled=config.active,
    )
    rule.add_target(targets.LambdaFunction(target, event=schedule_input(workflow), retry_attempts=4,
                                           max_event_age=Duration.hours(2)))
    return rule
