"""The engine: the one way a run starts, ``Engine.accept``, from every trigger.

HTTP routes, the CLI and the scheduler all call ``accept``; the queue worker delivers what it queued
(``functions.core.queued``). A run is checked (exists, not broken, active, trigger allowed, inputs valid)
before anything is written, so a refused request leaves no trace; once accepted it is recorded before
the workflow's code starts and completed afterwards, whatever the code does: return an error, raise, or
hang past its ``timeout_seconds`` (``functions.core.execution``).

Open runs carry a lease (``lease_until``: timeout plus a grace for a running run): a run whose
process died is found by the sweep (``functions.core.sweep``) and never stays ``running``. What the run
stores is scrubbed of the secrets it was given (``functions.core.redaction``).
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from functions.core import durable, execution, inputs, usage
from functions.core.durable import DurableBackend
from functions.core.idempotency import (
    IdempotencyStore,
    fingerprint,
    refuse_other_payload,
)
from functions.core.message import QueuedRun
from functions.core.ports import Queue
from functions.core.redaction import Redactor
from functions.core.runs import (
    TRIGGERS,
    Run,
    RunCancelled,
    RunStore,
    new_run_id,
    utcnow,
)
from functions.errors import Conflict, NotFound, PlatformError, Unavailable
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Plugin, Registry
from functions.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

#: ``wait`` for a caller that waits for the run whatever its timeout (the CLI, a scheduled tick).
UNTIL_DONE = math.inf
#: How long a request that meets an Idempotency-Key reserved by another request waits for that
#: request's run record to appear before deciding the other request died.
RESERVATION_GRACE = timedelta(seconds=10)


class QueueUnavailable(PlatformError):
    """The run was recorded but could not be sent to the queue: its record says so (``error``)."""

    status_code = 503


class Parts(Protocol):
    """What the engine is built from (``functions.platform.Platform`` has all of it, built lazily)."""

    settings: Settings
    registry: Registry
    runs: RunStore
    queue: Queue
    idempotency: IdempotencyStore
    #: Where durable workflows' runs execute (``functions.core.durable``); built on first use.
    durable: DurableBackend
    run_hooks: "list[Callable[[Run], None]]"


def runner_id() -> str:
    """``host:pid`` of this process, kept on the runs it executes (see ``functions.core.sweep``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Submission:
    """What ``accept`` did: the run as it is now, and whether an Idempotency-Key named an earlier
    request's run instead of starting a new one."""

    run: Run
    replay: bool = False


class Engine:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.settings = parts.settings

    @property
    def registry(self) -> Registry:
        return self.parts.registry

    @property
    def runs(self) -> RunStore:
        return self.parts.runs

    # ----- what can refuse a run, and its record ------------------------------------------------------------
    def prepare(self, name: str, data: dict[str, Any], trigger: str) -> tuple[Plugin, WorkflowConfig, dict[str, Any]]:
        """Everything that can refuse a run, before anything is recorded."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        plugin, config = self.registry.workflow(name)
        if not config.active:
            raise Conflict(f"workflow '{name}' is inactive: set \"active\": true in "
                           f"plugins/workflows/{name}/config.json to run it")
        if not config.allows(trigger):
            allowed = ", ".join(config.triggers) or "none"
            needed = "manual" if trigger == "api" else trigger
            raise Conflict(f"workflow '{name}' does not accept '{trigger}' triggers (it accepts: {allowed}); "
                           f"add \"{needed}\" to \"triggers\" in its config.json")
        # Import now (once per process): a workflow whose code is broken is refused (409) like one whose
        # config is, instead of being recorded as a run; and a seed workflow's get_required_inputs()
        # must be known before its inputs are validated.
        self.registry.module(plugin)
        config = plugin.config
        assert isinstance(config, WorkflowConfig)
        return plugin, config, inputs.validate(name, config, data)

    def new_run(self, name: str, trigger: str, config: WorkflowConfig, data: dict[str, Any],
                status: str = "running", **extra: Any) -> Run:
        """The record of a run about to be created: inputs with secrets masked (by key and by value) and
        bounded; open runs with their lease."""
        stored, truncated = inputs.bounded_json(self.masked_inputs(config, data), self.settings.max_inputs_bytes)
        now = utcnow()
        run = Run(run_id=extra.pop("run_id", None) or new_run_id(), workflow=name, trigger=trigger,
                  status=status, created_at=now, started_at=now if status == "running" else None,
                  inputs=stored if isinstance(stored, dict) else {"_truncated": stored},
                  inputs_redacted=truncated or stored != data, **extra)
        epoch = int(now.timestamp())
        if status == "running":
            run.lease_until, run.runner = epoch + self.lease_seconds(config), runner_id()
        elif status == "queued":
            run.queued, run.attempt = True, 0  # the worker's claim counts the attempts
            run.lease_until = epoch + self.settings.queued_timeout_seconds
        return run

    @staticmethod
    def masked_inputs(config: WorkflowConfig, data: dict[str, Any]) -> Any:
        """The inputs with secrets masked by key (password fields, ``token``...) and by value."""
        sensitive = inputs.sensitive_fields(config)
        return Redactor(inputs.secret_values(data, sensitive)).value(inputs.redact(data, sensitive))

    def lease_seconds(self, config: WorkflowConfig | None) -> int:
        """How long a running run may stay open: its timeout, then the time to record it, then a grace."""
        return (config.timeout_seconds if config else 0) + self.settings.lease_grace_seconds

    # ----- the one way in --------------------------------------------------------------------------------
    def accept(self, name: str, data: dict[str, Any] | None, trigger: str, *, wait: float | None,
               idempotency_key: str | None = None, run_id: str | None = None, **extra: Any) -> Submission:
        """Accept a run and answer within ``wait`` seconds (``None``: at once, the worker runs it).

        An accepted run is durably recorded before this returns; a ``run_id`` given (a scheduled tick's,
        derived from its time) that already exists is a ``Conflict``: a duplicate delivery, nothing runs.
        Where it executes:

        - ``wait is None`` (webhooks, ``?async=1``): recorded ``queued`` and sent to the queue; the
          worker runs it; the caller answers 202 with the run id.
        - a workflow whose ``timeout_seconds`` fits in ``wait``: executed here and now and answered
          finished. The common path and the cheapest: two DynamoDB writes (create, complete), no read.
        - one that may take longer than ``wait`` (the API Gateway limit is 29 s): with ``sync_overflow =
          "worker"`` (deployed: a Lambda cannot keep working once it has answered) it is queued from the
          start and this call polls its record until it finishes or ``wait`` passes; with ``"thread"``
          (a long-lived local server) it runs in a background thread and this call waits up to ``wait``.
          An unfinished run is answered 202 and completes on its own; its record says how it ended.

        With an ``idempotency_key`` the same key and payload return the first request's run (``replay``),
        waited for like a new one; the same key with another payload is a 409.

        What the run costs in this process is metered from here (``functions.core.usage``).
        """
        with usage.metering("scheduler" if trigger == "schedule" else "api"):
            return self._accept(name, data, trigger, wait, idempotency_key, run_id, extra)

    def _accept(self, name: str, data: dict[str, Any] | None, trigger: str, wait: float | None,
                idempotency_key: str | None, run_id: str | None, extra: dict[str, Any]) -> Submission:
        plugin, config, clean = self.prepare(name, data or {}, trigger)
        if config.durable:
            return self._accept_durable(name, config, clean, trigger, wait, idempotency_key, run_id, extra)
        to_worker = wait is None or (self.settings.sync_overflow == "worker" and config.timeout_seconds > wait)
        run = self.new_run(name, trigger, config, clean, status="queued" if to_worker else "running",
                           run_id=run_id, **extra)
        if idempotency_key:
            earlier = self._reserve(name, idempotency_key, trigger, run, self.masked_inputs(config, clean))
            if earlier is not None:
                return Submission(self.wait_for(earlier, wait) if wait else earlier, replay=True)
        if to_worker:  # the record carries the send that follows it
            run.usage = usage.charge(run.usage, sqs__requests=1)
        self.runs.create(run)
        if to_worker:
            self.send(run, clean)
            return Submission(self.wait_for(run, wait) if wait else run)
        assert wait is not None
        if config.timeout_seconds <= wait:
            return Submission(self.execute(run, plugin, clean))
        accepted = run.model_copy(deep=True)  # execute() changes `run` while this call answers
        thread = threading.Thread(target=contextvars.copy_context().run, args=(self._execute_quietly, run, plugin, clean),
                                  name=f"sync-{run.run_id}", daemon=True)
        thread.start()
        thread.join(wait)
        return Submission(run if not thread.is_alive() else accepted)

    # ----- durable workflows ------------------------------------------------------------------------------
    def _accept_durable(self, name: str, config: WorkflowConfig, clean: dict[str, Any], trigger: str,
                        wait: float | None, idempotency_key: str | None, run_id: str | None,
                        extra: dict[str, Any]) -> Submission:
        """A durable workflow's run, from any trigger: recorded, then started as a durable execution
        (``functions.core.durable``); the caller waits at most ``WFP_SYNC_WAIT_SECONDS`` and never past the
        run's first wait (a schedule's tick or the CLI would otherwise wait for days)."""
        backend = self.durable_backend()  # not configured: 503 before anything is written
        run = self.new_run(name, trigger, config, clean, run_id=run_id, **extra)
        self._durable_lease(run, config, durable.execution_name(run.run_id))
        if idempotency_key:
            earlier = self._reserve(name, idempotency_key, trigger, run, self.masked_inputs(config, clean))
            if earlier is not None:
                wait = self._durable_wait(wait, trigger)
                return Submission(self.wait_for(earlier, wait, settled=True) if wait else earlier, replay=True)
        self.runs.create(run)
        self.start_durable(backend, run, clean)
        wait = self._durable_wait(wait, trigger)
        return Submission(self.wait_for(run, wait, settled=True) if wait else run)

    def _durable_wait(self, wait: float | None, trigger: str = "manual") -> float | None:
        """How long a caller waits for a durable run: until it finishes or waits for the CLI
        (``UNTIL_DONE``: its process runs the local backend), at most ``WFP_SYNC_WAIT_SECONDS`` for the
        others (a scheduled tick's Lambda among them)."""
        if wait is None:
            return None
        if wait == UNTIL_DONE and trigger != "schedule":
            return wait
        return min(wait, self.settings.sync_wait_seconds)

    def durable_backend(self) -> DurableBackend:
        try:
            return self.parts.durable
        except Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a backend that cannot be built: say why, refuse the run
            raise Unavailable(f"durable workflows cannot run here: {type(exc).__name__}: {exc}") from exc

    def _durable_lease(self, run: Run, config: WorkflowConfig, execution_name: str) -> None:
        """A durable run is open for its whole ``durable_timeout_seconds`` (waits included): past it the
        sweep closes it ``timed_out``."""
        run.durable_execution = execution_name
        run.runner = durable.RUNNER_PREFIX + execution_name
        run.lease_until = int(utcnow().timestamp()) + config.durable_timeout_seconds + self.settings.lease_grace_seconds

    def start_durable(self, backend: DurableBackend, run: Run, data: dict[str, Any],
                      completed: dict[str, Any] | None = None) -> None:
        """Start the run's durable execution; if it cannot be started the record says so (never open)."""
        assert run.durable_execution
        try:
            backend.start(run.durable_execution, durable.event(run, data, completed))
        except Exception as exc:
            run.status, run.finished_at, run.lease_until = "error", utcnow(), None
            run.error = run.message = f"could not start the durable execution: {type(exc).__name__}: {exc}"[:1000]
            self.runs.save(run)
            raise Unavailable(f"{run.message}; nothing will run it (run {run.run_id} records this)",
                              {"run_id": run.run_id}) from exc

    def resume_durable(self, run: Run, config: WorkflowConfig, data: dict[str, Any], *,
                       wait: float | None) -> Run:
        """A new execution of a failed durable run; its completed steps are handed to it, not run again."""
        backend = self.durable_backend()
        completed = durable.completed_steps(run)
        number = durable.execution_number(run.durable_execution) + 1
        run.status, run.finished_at, run.duration_ms = "running", None, None
        run.error = run.message = run.traceback = None
        run.waiting_for, run.attempt = None, run.attempt + 1
        run.steps = [step for step in run.steps if step.name in completed]
        run.callbacks = {}
        self._durable_lease(run, config, durable.execution_name(run.run_id, number))
        self.runs.save(run)
        self.start_durable(backend, run, data, completed)
        wait = self._durable_wait(wait)
        return self.wait_for(run, wait, settled=True) if wait else run

    def record(self, run: Run) -> Run:
        """Record a run that ends without executing (a skipped or refused tick): created, never run."""
        self.runs.create(run)
        return run

    # ----- executing -------------------------------------------------------------------------------------
    def execute(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> Run:
        """Run the workflow's code for an already recorded run, then complete the record."""
        return self.finish(execution.execute(run, plugin, data, self.registry, self.settings))

    def finish(self, run: Run, open_only: bool = False) -> Run:
        """Save a run's outcome, unless it was cancelled while its code ran: then the result is dropped
        (logged) and the cancelled record returned; the run hooks see only outcomes that were saved.
        ``open_only`` (a durable run): also dropped if the record was closed meanwhile (timed out)."""
        run.lease_until = None
        try:
            self.runs.save(run, open_only=True) if open_only else self.runs.save(run)
        except RunCancelled:
            log.warning("run %s was cancelled while its code ran: its result (%s) is discarded", run.run_id,
                        run.status)
            return self.runs.get(run.run_id, consistent=True)
        for hook in self.parts.run_hooks:
            try:
                hook(run)
            except Exception:  # noqa: BLE001 - observability must never fail a run
                log.exception("run hook %r failed", hook)
        return run

    def _execute_quietly(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> None:
        try:
            self.execute(run, plugin, data)
        except Exception:  # noqa: BLE001 - nobody waits for this thread; the lease covers a lost save
            log.exception("run %s could not be completed", run.run_id)

    def send(self, run: Run, data: dict[str, Any], delay: int = 0) -> None:
        """Send a recorded run to the worker; if it cannot be sent, the record says so (never stuck queued).

        The message carries the validated inputs: the record only holds redacted ones."""
        try:
            self.parts.queue.send(QueuedRun(run.run_id, run.workflow, data, run.profiles).encode(), delay)
        except Exception as exc:
            run.status, run.finished_at, run.lease_until = "error", utcnow(), None
            run.error = run.message = f"could not queue the run: {type(exc).__name__}: {exc}"[:1000]
            self.runs.save(run)
            raise QueueUnavailable(f"{run.message}; nothing will run it (run {run.run_id} records this)",
                                   {"run_id": run.run_id}) from exc

    def wait_for(self, run: Run, wait: float, settled: bool = False) -> Run:
        """Poll a run's record (consistent reads, backing off) until it finishes or ``wait`` passes (with
        ``settled``, also when a durable run waits)."""
        deadline = time.monotonic() + wait
        delay = 0.05
        while not run.finished and not (settled and run.status == "waiting"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(delay, left))
            delay = min(delay * 1.5, 1.0)
            try:
                run = self.runs.get(run.run_id, consistent=True)
            except NotFound:  # an idempotent replay of a run whose record is being written
                continue
        return run

    def _reserve(self, name: str, key: str, trigger: str, run: Run, masked: dict[str, Any]) -> Run | None:
        """Reserve an Idempotency-Key for ``run``; the earlier run when the key is already taken."""
        print_ = fingerprint(trigger, masked)
        store = self.parts.idempotency
        for _ in range(3):
            held = store.reserve(name, key, print_, run.run_id)
            if held is None:
                return None
            if held.fingerprint != print_:
                raise refuse_other_payload(key, name)
            deadline = held.created_at + RESERVATION_GRACE
            while True:
                try:
                    return self.runs.get(held.run_id, consistent=True)
                except NotFound:
                    if utcnow() >= deadline:
                        break
                    time.sleep(0.05)
            # The request that reserved the key died before recording its run: this one takes over.
            if store.take_over(name, key, held, run.run_id):
                return None
        raise Conflict(f"Idempotency-Key {key!r} is being used by concurrent requests for workflow '{name}': "
                       "retry in a moment")
