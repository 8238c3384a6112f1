"""Schedule state: whether a scheduled workflow is paused, and its last scheduled run.

One item per scheduled workflow in the schedules table, keyed by workflow name. A workflow nobody
ever paused or ran has no item: that reads as "enabled, never ran", so deploying a new schedule needs
no write. The config (cron, timezone) stays in the plugin's config.json; only what changes at run
time lives here.

Writes are conditional so that they are safe under concurrency without a read first: pausing an
already paused workflow fails the condition (409), and recording a run never overwrites a newer one
(ticks can complete out of order when EventBridge retries a late delivery).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from functions.core.runs import Run, utcnow
from functions.core.schedule_state import ScheduleState
from functions.errors import Conflict
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register


@register
class ScheduleModel(Model):
    class Meta:
        # get: GetItem; get_many: BatchGetItem; set_enabled/record: UpdateItem (conditional).
        table_name = TableName("schedules_table", operations=("GetItem", "BatchGetItem", "UpdateItem"))
        billing_mode = "PAY_PER_REQUEST"

    workflow = UnicodeAttribute(hash_key=True)
    #: Absent means enabled: only a pause writes ``False``.
    enabled = BooleanAttribute(null=True)
    changed_at = UTCDateTimeAttribute(null=True)
    last_run_id = UnicodeAttribute(null=True)
    last_run_status = UnicodeAttribute(null=True)
    last_run_at = UTCDateTimeAttribute(null=True)
    last_scheduled_time = UTCDateTimeAttribute(null=True)


def _state(item: ScheduleModel) -> ScheduleState:
    values = dict(item.attribute_values)
    values["enabled"] = values.get("enabled") is not False
    return ScheduleState.model_validate(values)


class DynamoScheduleStore:
    """ScheduleStore on the schedules table (moto locally and in tests, DynamoDB deployed)."""

    def __init__(self, settings: Settings) -> None:
        bind(settings)

    def get(self, workflow: str) -> ScheduleState:
        """Strongly consistent, so a tick right after a pause sees it."""
        try:
            return _state(ScheduleModel.get(workflow, consistent_read=True))
        except DoesNotExist:
            return ScheduleState(workflow=workflow)

    def get_many(self, workflows: list[str]) -> dict[str, ScheduleState]:
        """One BatchGetItem (pynamodb pages it by 100) for the scheduler jobs listing."""
        found = {item.workflow: _state(item) for item in ScheduleModel.batch_get(sorted(set(workflows)))}
        return {name: found.get(name) or ScheduleState(workflow=name) for name in workflows}

    def set_enabled(self, workflow: str, enabled: bool) -> ScheduleState:
        """Pause or resume in one conditional write; Conflict if it already was."""
        item = ScheduleModel(workflow=workflow)
        if enabled:
            condition = ScheduleModel.enabled == False  # noqa: E712 - a DynamoDB condition, not a Python test
        else:
            condition = ScheduleModel.enabled.does_not_exist() | (ScheduleModel.enabled == True)  # noqa: E712
        if not conditionally(lambda: item.update(
                actions=[ScheduleModel.enabled.set(enabled), ScheduleModel.changed_at.set(utcnow())],
                condition=condition)):
            state = "running (not paused)" if enabled else "paused"
            raise Conflict(f"the schedule of workflow '{workflow}' is already {state}",
                           {"workflow": workflow, "enabled": enabled})
        return _state(item)

    def record(self, workflow: str, run: Run, scheduled_time: datetime) -> None:
        """Remember a tick's run, unless a newer one is already recorded (run ids sort by time)."""
        item = ScheduleModel(workflow=workflow)
        conditionally(lambda: item.update(
            actions=[ScheduleModel.last_run_id.set(run.run_id), ScheduleModel.last_run_status.set(run.status),
                     ScheduleModel.last_run_at.set(run.started_at or run.created_at),
                     ScheduleModel.last_scheduled_time.set(scheduled_time)],
            condition=ScheduleModel.last_run_id.does_not_exist() | (ScheduleModel.last_run_id <= run.run_id)))
