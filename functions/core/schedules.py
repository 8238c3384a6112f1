"""Scheduled runs: one tick of a workflow's schedule becomes at most one run, paused schedules none.

``Schedules.handle`` is the entry point of every tick, deployed (the scheduler Lambda, fed by an
EventBridge rule or Scheduler schedule) and local (``local_dev.scheduler`` builds the same event). It
turns the event into ``Schedules.tick``, which decides in this order, cheapest first:

1. the workflow exists, is healthy, active and scheduled (no I/O): otherwise the tick is ignored;
2. its schedule is not paused (one consistent GetItem on the schedules table): otherwise nothing
   is recorded;
3. with ``concurrency`` set, fewer than that many runs are still running (a history Query): otherwise
   the tick is recorded as a ``skipped`` run;
4. the run is accepted by the engine (``Engine.accept``, like every trigger) with a run id derived from
   workflow + scheduled time, created under the runs table's "does not exist" condition. EventBridge
   delivers at least once; a duplicate delivery of the same tick fails that condition and starts
   nothing. This is the dedup: no extra write.

A started tick then costs the run's completion write and one conditional update of the schedule
state (last run id/time/status): three writes per tick in all.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from functions.core.deployment import DeployedSchedule, deployed_schedule, schedule_name
from functions.core.engine import UNTIL_DONE, Engine
from functions.core.ports import ScheduleToggler
from functions.core.runs import Run, RunExists, RunSummary, utcnow
from functions.core.schedule_state import ScheduledJob, ScheduleState, ScheduleStore
from functions.errors import BadRequest, Conflict, PlatformError
from functions.registry import cron
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Plugin

log = logging.getLogger(__name__)

Outcome = Literal["started", "skipped", "failed", "duplicate", "paused", "ignored"]
#: A run still "running" this long after its timeout has died with its process; it does not block ticks.
STALE_GRACE = timedelta(seconds=60)
HISTORY_PAGE = 25


class UpstreamError(PlatformError):
    """AWS refused to change the EventBridge rule or schedule."""

    status_code = 502


@dataclass(frozen=True)
class Tick:
    workflow: str
    #: UTC, truncated to the minute (cron's resolution): every delivery of one tick maps to one value.
    scheduled_time: datetime
    event_id: str | None = None


@dataclass
class TickResult:
    outcome: Outcome
    run: Run | None = None
    reason: str = ""
    tick: Tick | None = field(default=None, repr=False)


def tick_run_id(workflow: str, scheduled_time: datetime) -> str:
    """The run id of a tick: like ``new_run_id`` (12 hex of milliseconds, then 12 more), but derived
    from workflow and scheduled time, so every delivery of the tick names the same run."""
    ms = int(scheduled_time.timestamp() * 1000)
    digest = hashlib.sha256(f"{workflow}\n{scheduled_time.isoformat()}".encode()).hexdigest()[:12]
    return f"{ms:012x}{digest}"


def scheduled_minute(value: Any) -> datetime:
    """An event's time (ISO 8601) as an aware UTC datetime truncated to the minute."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"scheduled event time {value!r} is not an ISO 8601 timestamp "
                             "(expected e.g. '2025-03-30T07:00:00Z')") from None
    else:
        raise BadRequest("scheduled event has no 'time': the EventBridge target must pass the event's time "
                         "(input transformer {\"time\": \"$.time\"} on rules, <aws.scheduler.scheduled-time> "
                         "on Scheduler schedules)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


# ----- the service -----------------------------------------------------------------------------------------
class Schedules:
    def __init__(self, engine: Engine, store: ScheduleStore, toggler: ScheduleToggler) -> None:
        self.engine = engine
        self.store = store
        self.toggler = toggler
        self.prefix = engine.settings.prefix

    def handle(self, event: Any) -> Run | None:
        """One scheduled event (EventBridge, Scheduler or the local scheduler) → the tick's run, or None
        when nothing ran for it (duplicate delivery, paused, unknown or inactive workflow). A skipped or
        failed-to-start tick returns its recorded run. Malformed events raise BadRequest."""
        return self.tick(self.parse_event(event)).run

    # ----- events ----------------------------------------------------------------------------------------
    def parse_event(self, event: Any) -> Tick:
        """``{"workflow", "time", "id"?}`` (our targets' input), or a raw EventBridge "Scheduled Event"
        whose rule (``resources``) is named after the workflow."""
        if not isinstance(event, dict):
            raise BadRequest(f"a scheduled event is a JSON object, got {type(event).__name__}")
        name = event.get("workflow")
        if name is None and event.get("detail-type") == "Scheduled Event":
            name = self._workflow_of_rule(event.get("resources") or [])
        if not isinstance(name, str) or not name:
            raise BadRequest("scheduled event names no workflow: pass {\"workflow\": \"<name>\", \"time\": \"<time>\"} "
                             "or a Scheduled Event from the workflow's rule", {"event_keys": sorted(event)})
        event_id = event.get("id")
        return Tick(name, scheduled_minute(event.get("time")), str(event_id) if event_id is not None else None)

    def _workflow_of_rule(self, resources: list[Any]) -> str | None:
        rule_names = {str(arn).rsplit("/", 1)[-1] for arn in resources}
        for plugin in self.engine.registry.of_kind("workflow"):
            if schedule_name(plugin.name, self.prefix) in rule_names:
                return plugin.name
        return None

    # ----- ticks -----------------------------------------------------------------------------------------
    def tick(self, tick: Tick) -> TickResult:
        name = tick.workflow
        plugin = self.engine.registry.plugins.get(("workflow", name))
        config = plugin.config if plugin is not None else None
        reason = ("no such workflow" if plugin is None else f"the workflow is broken: {plugin.error}" if plugin.error
                  else "the workflow has no schedule trigger" if not isinstance(config, WorkflowConfig)
                  or not config.scheduled else "the workflow is inactive" if not config.active else "")
        if reason:
            log.warning("tick of %s at %s ignored: %s", name, tick.scheduled_time.isoformat(), reason)
            return TickResult("ignored", reason=reason, tick=tick)
        assert plugin is not None and isinstance(config, WorkflowConfig)
        if not self.store.get(name).enabled:
            log.info("tick of %s at %s: schedule paused, nothing run", name, tick.scheduled_time.isoformat())
            return TickResult("paused", reason="the schedule is paused", tick=tick)
        run_id = tick_run_id(name, tick.scheduled_time)
        if config.concurrency:
            running = self.running_runs(name, config, exclude=run_id)
            if len(running) >= config.concurrency:
                ids = ", ".join(r.run_id for r in running)
                message = (f"skipped: {len(running)} run(s) still running ({ids}) and concurrency is "
                           f"{config.concurrency}")
                return self._record_final(plugin, config, tick, run_id, "skipped", message)
        try:
            run = self.engine.accept(name, {}, "schedule", wait=UNTIL_DONE, run_id=run_id,
                                     scheduled_time=tick.scheduled_time.isoformat()).run
        except RunExists:
            return self._duplicate(tick, run_id)
        except PlatformError as exc:  # invalid inputs, a plugin that fails to import...: a visible error run
            return self._record_final(plugin, config, tick, run_id, "error", exc.message)
        self.store.record(name, run, tick.scheduled_time)
        return TickResult("started", run, tick=tick)

    def _record_final(self, plugin: Plugin, config: WorkflowConfig, tick: Tick, run_id: str, status: str,
                      message: str) -> TickResult:
        run = self.engine.new_run(tick.workflow, "schedule", config, {}, status=status, run_id=run_id,
                                  scheduled_time=tick.scheduled_time.isoformat())
        run.finished_at, run.duration_ms, run.message = run.created_at, 0, message[:1000]
        if status == "error":
            run.error = run.message
        try:
            self.engine.record(run)
        except RunExists:
            return self._duplicate(tick, run_id)
        self.store.record(tick.workflow, run, tick.scheduled_time)
        log.info("tick of %s at %s: %s run %s (%s)", tick.workflow, tick.scheduled_time.isoformat(), status,
                 run_id, message)
        return TickResult("skipped" if status == "skipped" else "failed", run, message, tick)

    @staticmethod
    def _duplicate(tick: Tick, run_id: str) -> TickResult:
        log.info("tick of %s at %s already handled (run %s): duplicate delivery ignored", tick.workflow,
                 tick.scheduled_time.isoformat(), run_id)
        return TickResult("duplicate", reason=f"run {run_id} already exists for this tick", tick=tick)

    def running_runs(self, name: str, config: WorkflowConfig, exclude: str | None = None) -> list[RunSummary]:
        """Runs of the workflow still running and not stale (newer than its timeout plus a grace)."""
        horizon = utcnow() - timedelta(seconds=config.timeout_seconds) - STALE_GRACE
        running: list[RunSummary] = []
        cursor: str | None = None
        while True:
            page, cursor = self.engine.runs.history(name, HISTORY_PAGE, cursor)
            for run in page:
                if run.created_at < horizon:
                    return running
                started = run.started_at or run.created_at
                if run.status == "running" and run.run_id != exclude and started >= horizon:
                    running.append(run)
            if not cursor:
                return running

    # ----- listing and control ---------------------------------------------------------------------------
    def _scheduled(self, name: str) -> tuple[Plugin, WorkflowConfig, DeployedSchedule]:
        plugin, config = self.engine.registry.workflow(name)  # 404 unknown, 409 broken
        deployed = deployed_schedule(name, config, self.prefix)
        if deployed is None:
            raise Conflict(f"workflow '{name}' has no schedule to pause or resume: set \"schedule\" (a cron "
                           "expression) and add \"schedule\" to \"triggers\" in its config.json")
        return plugin, config, deployed

    def job(self, plugin: Plugin, config: WorkflowConfig, deployed: DeployedSchedule, state: ScheduleState,
            now: datetime | None = None) -> ScheduledJob:
        assert config.schedule is not None
        upcoming = (cron.next_runs(config.schedule, config.timezone, 3, now)
                    if state.enabled and config.active else [])
        last = None
        if state.last_run_id and state.last_run_status and state.last_run_at:
            last = RunSummary(run_id=state.last_run_id, workflow=plugin.name, trigger="schedule",
                              status=state.last_run_status, created_at=state.last_run_at,  # type: ignore[arg-type]
                              started_at=state.last_run_at)
        return ScheduledJob(
            workflow=plugin.name, display_name=config.name or plugin.name, cron=config.schedule,
            timezone=config.timezone, eventbridge=deployed.expression, deployed_as=deployed.kind,
            aws_name=deployed.name, enabled=state.enabled, active=config.active, next_runs=upcoming,
            last_run=last, last_scheduled_time=state.last_scheduled_time,
        )

    def jobs(self, now: datetime | None = None) -> list[ScheduledJob]:
        """Every healthy scheduled workflow, with its state read in one batch."""
        entries = []
        for plugin in self.engine.registry.of_kind("workflow"):
            config = plugin.config
            if plugin.error or not isinstance(config, WorkflowConfig):
                continue
            deployed = deployed_schedule(plugin.name, config, self.prefix)
            if deployed is not None:
                entries.append((plugin, config, deployed))
        states = self.store.get_many([p.name for p, _, _ in entries]) if entries else {}
        return [self.job(p, c, d, states[p.name], now) for p, c, d in entries]

    def get_job(self, name: str) -> ScheduledJob:
        plugin, config, deployed = self._scheduled(name)
        return self.job(plugin, config, deployed, self.store.get(name))

    def pause(self, name: str) -> ScheduledJob:
        """Paused at once in DynamoDB (ticks are dropped from now on), then the AWS resource is disabled
        so ticks stop arriving; if AWS refuses, the pause still holds and the answer says so."""
        plugin, config, deployed = self._scheduled(name)
        state = self.store.set_enabled(name, False)
        warnings: list[str] = []
        try:
            warning = self.toggler.set_enabled(deployed, False)
        except Exception as exc:  # noqa: BLE001 - the pause is effective without it; report, don't fail
            log.exception("could not disable %s %s", deployed.kind, deployed.name)
            warning = (f"the EventBridge {deployed.kind} '{deployed.name}' could not be disabled "
                       f"({type(exc).__name__}: {exc}); its ticks are still ignored while paused")
        if warning:
            warnings.append(warning)
        job = self.job(plugin, config, deployed, state)
        job.warnings = warnings
        return job

    def resume(self, name: str) -> ScheduledJob:
        """Enabled in DynamoDB, then on AWS; if AWS refuses, the schedule is paused again and 502 says why."""
        plugin, config, deployed = self._scheduled(name)
        state = self.store.set_enabled(name, True)
        try:
            warning = self.toggler.set_enabled(deployed, True)
        except Exception as exc:  # noqa: BLE001 - any failure leaves a schedule that would never fire
            self.store.set_enabled(name, False)
            raise UpstreamError(f"could not enable the EventBridge {deployed.kind} '{deployed.name}' "
                                f"({type(exc).__name__}: {exc}); the schedule stays paused, try again",
                                {"workflow": name}) from exc
        job = self.job(plugin, config, deployed, state)
        job.warnings = [warning] if warning else []
        return job
