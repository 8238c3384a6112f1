"""How a scheduled workflow exists on AWS: names, expressions and target input (pure: no AWS call).

The CDK app builds one EventBridge resource per scheduled workflow from ``deployed_schedule()``, and
pausing through the API disables that same resource by name (``functions.aws.eventbridge``), so the
naming convention lives here once:

* UTC workflows: an EventBridge **rule** named ``<prefix>-<workflow>`` with ``cron(...)`` (rules only
  know UTC); its target gets ``RULE_INPUT_PATHS``/``rule_input_template()`` as input transformer, so the
  scheduler handler receives ``{"workflow", "time", "id"}`` with the tick's time kept.
* other timezones: an EventBridge **Scheduler** schedule with the same name in the ``default`` group,
  ``ScheduleExpressionTimezone`` set, and ``scheduler_input()`` as target input (Scheduler fills in
  ``<aws.scheduler.scheduled-time>``).

Names longer than AWS's 64 characters are cut and suffixed with a hash, deterministically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from functions.registry import cron
from functions.registry.config import WorkflowConfig

MAX_NAME = 64
SCHEDULE_GROUP = "default"
RULE_INPUT_PATHS = {"time": "$.time", "id": "$.id"}
Kind = Literal["rule", "schedule"]


def schedule_name(workflow: str, prefix: str) -> str:
    """``<prefix>-<workflow>``, the name of the workflow's rule or schedule (at most 64 characters)."""
    name = f"{prefix}-{workflow}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}-{digest}"


def rule_input_template(workflow: str) -> str:
    """InputTemplate of a rule's target: the workflow name, plus the event's time and id."""
    return '{"workflow": %s, "time": "<time>", "id": "<id>"}' % json.dumps(workflow)


def scheduler_input(workflow: str) -> str:
    """Input of a Scheduler schedule's target, with Scheduler's context attributes."""
    return json.dumps({"workflow": workflow, "time": "<aws.scheduler.scheduled-time>",
                       "id": "<aws.scheduler.execution-id>"})


@dataclass(frozen=True)
class DeployedSchedule:
    workflow: str
    kind: Kind
    name: str
    expression: str
    timezone: str
    group: str | None = None

    @property
    def target_input(self) -> dict[str, Any]:
        """What the CDK passes to the target (an input transformer for rules, a fixed input for schedules)."""
        if self.kind == "rule":
            return {"input_paths_map": RULE_INPUT_PATHS, "input_template": rule_input_template(self.workflow)}
        return {"input": scheduler_input(self.workflow)}


def deployed_schedule(workflow: str, config: WorkflowConfig, prefix: str) -> DeployedSchedule | None:
    """The EventBridge resource of a scheduled workflow (None when the workflow has no schedule)."""
    if not config.scheduled or not config.schedule:
        return None
    name = schedule_name(workflow, prefix)
    if cron.is_utc(config.timezone):
        return DeployedSchedule(workflow, "rule", name, cron.to_eventbridge(config.schedule), "UTC")
    expression, tz = cron.to_scheduler(config.schedule, config.timezone)
    return DeployedSchedule(workflow, "schedule", name, expression, tz, SCHEDULE_GROUP)
