"""How a scheduled workflow exists on AWS: names, expressions, target input, and enabling/disabling it.

The CDK app builds one EventBridge resource per scheduled workflow from ``deployed_schedule()``, and
pausing through the API disables that same resource by name, so the naming convention lives here once:

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
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from functions.core import cron
from functions.registry.config import WorkflowConfig
from functions.settings import get_settings

log = logging.getLogger(__name__)

MAX_NAME = 64
SCHEDULE_GROUP = "default"
RULE_INPUT_PATHS = {"time": "$.time", "id": "$.id"}
Kind = Literal["rule", "schedule"]


def schedule_name(workflow: str, prefix: str | None = None) -> str:
    """``<prefix>-<workflow>``, the name of the workflow's rule or schedule (at most 64 characters)."""
    name = f"{prefix or get_settings().prefix}-{workflow}"
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


def deployed_schedule(workflow: str, config: WorkflowConfig, prefix: str | None = None) -> DeployedSchedule | None:
    """The EventBridge resource of a scheduled workflow (None when the workflow has no schedule)."""
    if not config.scheduled or not config.schedule:
        return None
    name = schedule_name(workflow, prefix)
    if cron.is_utc(config.timezone):
        return DeployedSchedule(workflow, "rule", name, cron.to_eventbridge(config.schedule), "UTC")
    expression, tz = cron.to_scheduler(config.schedule, config.timezone)
    return DeployedSchedule(workflow, "schedule", name, expression, tz, SCHEDULE_GROUP)


# ----- enabling and disabling ----------------------------------------------------------------------------
class ScheduleToggler(Protocol):
    """Turns a workflow's EventBridge resource on or off; returns a warning to show, or None."""

    def set_enabled(self, schedule: DeployedSchedule, enabled: bool) -> str | None: ...


class NoopToggler:
    """Nothing deployed to toggle (the local server: its scheduler reads the pause state itself)."""

    def set_enabled(self, schedule: DeployedSchedule, enabled: bool) -> str | None:
        return None


class AwsScheduleToggler:
    """Enables/disables the rule or Scheduler schedule with boto3 (clients created on first use)."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                import boto3

                self._clients[service] = boto3.client(service)
            return self._clients[service]

    def set_enabled(self, schedule: DeployedSchedule, enabled: bool) -> str | None:
        from botocore.exceptions import ClientError

        try:
            if schedule.kind == "rule":
                events = self.client("events")
                (events.enable_rule if enabled else events.disable_rule)(Name=schedule.name)
            else:
                self._set_schedule_state(schedule, enabled)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                log.info("no EventBridge %s %s to %s", schedule.kind, schedule.name, "enable" if enabled else "disable")
                return (f"no EventBridge {schedule.kind} named '{schedule.name}' was found (not deployed?): "
                        "only the platform's pause state changed")
            raise
        return None

    def _set_schedule_state(self, schedule: DeployedSchedule, enabled: bool) -> None:
        """UpdateSchedule replaces the whole definition: read it, change State, write it back."""
        scheduler = self.client("scheduler")
        current = scheduler.get_schedule(Name=schedule.name, GroupName=schedule.group or SCHEDULE_GROUP)
        keep = ("ActionAfterCompletion", "Description", "EndDate", "FlexibleTimeWindow", "GroupName", "KmsKeyArn",
                "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "Target")
        params = {key: current[key] for key in keep if current.get(key) is not None}
        scheduler.update_schedule(Name=schedule.name, State="ENABLED" if enabled else "DISABLED", **params)


_toggler: ScheduleToggler | None = None


def get_toggler() -> ScheduleToggler:
    """The process's toggler: AWS by default (Lambda); the local server installs a NoopToggler."""
    global _toggler
    if _toggler is None:
        _toggler = AwsScheduleToggler()
    return _toggler


def set_toggler(toggler: ScheduleToggler | None) -> None:
    global _toggler
    _toggler = toggler
