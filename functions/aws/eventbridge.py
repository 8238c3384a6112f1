"""Pausing a deployed schedule: the workflow's EventBridge rule or Scheduler schedule, found by the name
``functions.core.deployment`` gives it, is disabled and enabled again."""

from __future__ import annotations

import logging

from functions.aws.clients import Clients
from functions.core.deployment import SCHEDULE_GROUP, DeployedSchedule

log = logging.getLogger(__name__)


class NoopToggler:
    """Nothing deployed to toggle (the local server: its scheduler reads the pause state itself)."""

    def set_enabled(self, schedule: DeployedSchedule, enabled: bool) -> str | None:
        return None


class EventBridgeToggler:
    """Enables/disables the rule (EventBridge) or the schedule (EventBridge Scheduler)."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def set_enabled(self, schedule: DeployedSchedule, enabled: bool) -> str | None:
        from botocore.exceptions import ClientError

        try:
            if schedule.kind == "rule":
                events = self.clients.get("events")
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
        scheduler = self.clients.get("scheduler")
        current = scheduler.get_schedule(Name=schedule.name, GroupName=schedule.group or SCHEDULE_GROUP)
        keep = ("ActionAfterCompletion", "Description", "EndDate", "FlexibleTimeWindow", "GroupName", "KmsKeyArn",
                "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "Target")
        params = {key: current[key] for key in keep if current.get(key) is not None}
        scheduler.update_schedule(Name=schedule.name, State="ENABLED" if enabled else "DISABLED", **params)
