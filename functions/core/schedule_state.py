"""What is known and shown about a schedule: its run-time state, the store that keeps it, the API's view.

Plain data, apart from the service in ``functions.core.schedules``: the API's schemas and the
schedules store import these without importing the engine (a cold start of ``GET /api/workflows``
does not pay for the scheduling service it does not use).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from functions.core.runs import Run, RunSummary


class ScheduleState(BaseModel):
    """What changes at run time about a schedule (``functions.stores.schedules`` keeps it)."""

    workflow: str
    enabled: bool = True
    changed_at: datetime | None = None
    last_run_id: str | None = None
    last_run_status: str | None = None
    last_run_at: datetime | None = None
    last_scheduled_time: datetime | None = None


class ScheduleStore(Protocol):
    def get(self, workflow: str) -> ScheduleState: ...
    def get_many(self, workflows: list[str]) -> dict[str, ScheduleState]: ...
    def set_enabled(self, workflow: str, enabled: bool) -> ScheduleState: ...
    def record(self, workflow: str, run: Run, scheduled_time: datetime) -> None: ...


class ScheduledJob(BaseModel):
    """A scheduled workflow as the API and the dashboard show it."""

    model_config = ConfigDict(defer_build=True)

    workflow: str
    display_name: str
    cron: str = Field(description="The workflow's 5-field Unix cron expression")
    timezone: str = "UTC"
    eventbridge: str = Field(description="The same schedule as an EventBridge cron(...) expression")
    deployed_as: Literal["rule", "schedule"] = Field(
        description="'rule': an EventBridge rule (UTC); 'schedule': an EventBridge Scheduler schedule (timezone)")
    aws_name: str = Field(description="Name of the EventBridge rule or Scheduler schedule")
    enabled: bool = Field(True, description="False while paused (POST /api/scheduler/jobs/{name}/pause)")
    active: bool = True
    next_runs: list[datetime] = Field([], description="The next three fire times (none while paused or inactive)")
    last_run: RunSummary | None = Field(None, description="The last scheduled run (skipped ones included)")
    last_scheduled_time: datetime | None = None
    warnings: list[str] = []
