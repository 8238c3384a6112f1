"""A durable run's record during one invocation of its execution: loaded when the invocation starts,
written when something changes (a step starts, fails, succeeds; the run waits; a callback is granted or
answered), never on a replay that changes nothing.

Every write is conditional on the record being still open (``RunStore.save(open_only=True)``): a run the
sweep timed out or an operator cancelled refuses it, and the invocation stops (``RunClosed``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from functions.core import inputs
from functions.core.redaction import Redactor
from functions.core.runs import (
    CallbackGrant,
    Run,
    RunCancelled,
    RunStore,
    StepRecord,
    WaitingFor,
    utcnow,
)
from functions.durable.errors import RunClosed
from functions.settings import Settings

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, runs: RunStore, settings: Settings, run: Run, redactor: Redactor) -> None:
        self.runs, self.settings, self.run, self.redactor = runs, settings, run, redactor

    @classmethod
    def begin(cls, runs: RunStore, settings: Settings, run_id: str, execution: str,
              redactor: Redactor) -> "Recorder | None":
        """The recorder of ``execution``'s invocation, the record marked ``running``; None when the run is
        finished or carried by another execution now (a resume started a newer one): nothing to do."""
        run = runs.get(run_id, consistent=True)
        if run.finished or run.durable_execution != execution:
            log.info("durable run %s: execution %s has nothing to do (run %s, carried by %s)", run_id, execution,
                     run.status, run.durable_execution)
            return None
        recorder = cls(runs, settings, run, redactor)
        if run.status != "running" or run.waiting_for is not None:
            run.status, run.waiting_for = "running", None
            run.started_at = run.started_at or utcnow()
            recorder.save()
        return recorder

    def save(self) -> None:
        try:
            self.runs.save(self.run, open_only=True)
        except RunCancelled:
            raise RunClosed(f"run {self.run.run_id} was closed meanwhile") from None

    # ----- steps ---------------------------------------------------------------------------------------
    def _step(self, name: str, kind: str) -> StepRecord:
        step = self.run.step(name)
        if step is None:
            step = StepRecord(name=name, kind=kind)  # type: ignore[arg-type]
            self.run.steps.append(step)
        return step

    def done(self, name: str) -> bool:
        step = self.run.step(name)
        return step is not None and step.status == "success"

    def step_started(self, name: str, kind: str, attempt: int) -> None:
        step = self._step(name, kind)
        step.status, step.attempts, step.error = "running", max(attempt, step.attempts + 1), None
        step.started = step.started or utcnow()
        self.save()

    def step_failed(self, name: str, error: str, logs: list[str]) -> None:
        step = self._step(name, "step")
        step.status, step.finished, step.error = "error", utcnow(), self.redactor.text(error)[:1000]
        self._logs(step, logs)
        self.save()

    def step_succeeded(self, name: str, kind: str, value: Any, logs: list[str] | None = None) -> None:
        step = self._step(name, kind)
        step.output, step.output_truncated = inputs.bounded_json(self.redactor.value(value),
                                                                 self.settings.max_step_output_bytes)
        step.status, step.finished, step.error = "success", utcnow(), None
        step.started = step.started or step.finished
        step.attempts = max(step.attempts, 1)
        self._logs(step, logs or [])
        self.save()

    def _logs(self, step: StepRecord, lines: list[str]) -> None:
        limit = self.settings.max_step_log_lines
        step.logs = lines[:limit] + ([f"... {len(lines) - limit} more line(s) not kept"] if len(lines) > limit else [])
        self.run.logs = [*self.run.logs, *(f"[{step.name}] {line}" for line in step.logs)][-self.settings.record_log_lines:]

    # ----- waits ---------------------------------------------------------------------------------------
    def waiting(self, kind: str, name: str, until: datetime | None = None, prompt: str | None = None) -> None:
        """The invocation suspends: the run waits (written once per suspension)."""
        step = self._step(name, {"time": "sleep"}.get(kind, kind))
        step.status, step.started = "waiting", step.started or utcnow()
        self.run.status = "waiting"
        self.run.waiting_for = WaitingFor(kind=kind, name=name, until=until, prompt=prompt)  # type: ignore[arg-type]
        self.save()

    def grant(self, name: str, kind: str, callback_id: str, expires: datetime | None,
              token_hash: str | None = None) -> CallbackGrant:
        """Record the callback an approval or a callback waits on (an existing grant of this name keeps its
        token and expiry: a local restart's new execution has a new callback id for the same URL)."""
        grant = self.run.callbacks.get(name)
        if grant is not None and grant.callback_id == callback_id:
            return grant
        if grant is not None and grant.status == "waiting":
            grant.callback_id = callback_id
        else:
            grant = CallbackGrant(kind=kind, callback_id=callback_id, expires=expires,  # type: ignore[arg-type]
                                  token_hash=token_hash)
        self.run.callbacks[name] = grant
        self.save()
        return grant

    def answered(self, name: str, kind: str, value: Any) -> None:
        grant = self.run.callbacks.get(name)
        if grant is not None:
            grant.status = "answered"
        self.step_succeeded(name, kind, value)

    def timed_out(self, name: str, kind: str, message: str) -> None:
        grant = self.run.callbacks.get(name)
        if grant is not None:
            grant.status = "timed_out"
        self.step_failed(name, message, [])
