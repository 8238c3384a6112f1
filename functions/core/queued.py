"""The worker's half of an async run: a delivered message claims its recorded ``queued`` run, executes it
and completes it (``Engine.accept`` recorded and sent it).

SQS delivers at least once, so the claim is one conditional update that only one delivery wins. A
workflow that broke or was deactivated since it was queued gives an ``error`` run, as a refused start
would have, rather than a message retried for nothing. A workflow's own failure is retried only with
``retry_on_error`` (a new, delayed message). A platform failure (DynamoDB, a bug) raises, so the message
is delivered again; the claimed run goes back to ``queued`` for that delivery, or, on the last delivery
(the next stop is the dead-letter queue), is closed as ``error`` saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from functions.core import execution, usage
from functions.core.engine import Engine, runner_id
from functions.core.runs import Run, RunCancelled, utcnow
from functions.errors import Conflict, PlatformError
from functions.registry.config import WorkflowConfig

log = logging.getLogger(__name__)


class QueuedRuns:
    def __init__(self, engine: Engine, closed: Callable[[str, str], None] | None = None) -> None:
        """``closed(run_id, workflow)``: told of a run this closes as failed without finishing it (the last
        delivery of a platform failure), as ``Engine.finish``'s hooks are of the others (``on_error``)."""
        self.engine = engine
        self.settings = engine.settings
        self.closed = closed

    def deliver(self, run_id: str, data: dict[str, Any], workflow: str, last_delivery: bool = False,
                profiles: dict[str, str] | None = None) -> Run | None:
        """One delivery of a queued run: its finished (or re-queued) record, ``None`` when an earlier
        delivery already ran it or runs it now, or it was cancelled (the claim refuses it). ``profiles``:
        the message's tool profile overrides (a re-run's; its record holds them too). Metered from here
        (``functions.core.usage``): the record adds this attempt's cost to the api's."""
        with usage.metering("worker"):
            return self._deliver(run_id, data, workflow, last_delivery, profiles)

    def _deliver(self, run_id: str, data: dict[str, Any], workflow: str, last_delivery: bool,
                 profiles: dict[str, str] | None) -> Run | None:
        engine = self.engine
        try:
            plugin, config = engine.registry.workflow(workflow)
            problem: PlatformError | None = None if config.active else Conflict(
                f"workflow '{workflow}' was deactivated after this run was queued")
        except PlatformError as exc:
            plugin, config, problem = None, None, exc  # type: ignore[assignment]
        try:
            run = engine.runs.claim(run_id, runner_id(), engine.lease_seconds(config))
        except Exception as exc:
            if last_delivery:
                self._give_up(run_id, workflow, exc, ("queued", "running"))
            raise
        if run is None:
            current = engine.runs.get(run_id, consistent=True)  # NotFound: a stray message, fails to the DLQ
            log.info("run %s is %s: nothing to do for this delivery", run_id, current.status)
            return None
        if profiles:
            run.profiles = dict(profiles)
        try:
            if problem is not None:
                run.status, run.finished_at = "error", utcnow()
                run.error = run.message = problem.message
                return engine.finish(run)
            assert plugin is not None and config is not None
            run = execution.execute(run, plugin, data, engine.registry, self.settings)
            if run.status in ("error", "timed_out") and config.retry_on_error and run.attempt < config.max_attempts:
                return self._retry(run, config, data)
            return engine.finish(run)
        except Exception as exc:
            if last_delivery:
                self._give_up(run_id, workflow, exc, ("running",))
            else:
                self._release(run, exc)
            raise

    def _retry(self, run: Run, config: WorkflowConfig, data: dict[str, Any]) -> Run:
        """Queue another attempt of a run whose workflow failed, after a delay doubling each attempt."""
        delay = min(900, self.settings.retry_delay_seconds * 2 ** (run.attempt - 1))
        outcome = f"attempt {run.attempt} of {config.max_attempts} ended {run.status}: {run.error or run.message}"
        run.status, run.finished_at = "queued", None
        run.message = f"{outcome}; retrying in {delay} s"[:1000]
        run.lease_until = int(utcnow().timestamp()) + delay + self.settings.queued_timeout_seconds
        run.usage = usage.charge(run.usage, sqs__requests=1)  # the send that follows the save
        try:
            self.engine.runs.save(run)
        except RunCancelled:  # cancelled during this attempt: no other attempt
            log.warning("run %s was cancelled during attempt %d: not retried", run.run_id, run.attempt)
            return self.engine.runs.get(run.run_id, consistent=True)
        self.engine.send(run, data, delay)
        return run

    def _release(self, run: Run, exc: Exception) -> None:
        """Put a claimed run back to ``queued`` for the next delivery (best effort: its lease covers it)."""
        until = int(utcnow().timestamp()) + self.settings.queued_timeout_seconds
        try:
            self.engine.runs.release(run.run_id, run.attempt, until,
                                     f"attempt {run.attempt} failed ({type(exc).__name__}); the queue delivers it again")
        except Exception:  # noqa: BLE001 - the original failure is what gets reported
            log.exception("could not put run %s back in the queue", run.run_id)

    def _give_up(self, run_id: str, workflow: str, exc: Exception, expect: tuple[str, ...]) -> None:
        message = (f"the platform failed on every delivery of this run ({self.settings.max_attempts}): "
                   f"{type(exc).__name__}; its message went to the dead-letter queue")
        try:
            closed = self.engine.runs.close(run_id, "error", message, expect)
        except Exception:  # noqa: BLE001 - the lease and the sweep cover a run that cannot be closed now
            log.exception("could not mark run %s as failed", run_id)
            return
        if closed and self.closed is not None:
            self.closed(run_id, workflow)
