"""The engine: the one place where a workflow runs.

HTTP routes, the scheduler, the queue worker and the CLI all end here, in ``Engine.run``. A run is
checked (exists, not broken, active, trigger allowed, inputs valid) before anything is written, so a
refused request leaves no trace; once accepted it is recorded as ``running`` before the workflow's
code starts and completed afterwards, whatever the code does: return an error, raise, or hang past
its ``timeout_seconds``.

Open runs carry a lease (``lease_until``: timeout plus a grace for a running run): a run whose
process died is found by the sweep (``functions.core.sweep``) and never stays ``running``. What the run
stores is scrubbed of the secrets it was given (``functions.core.redaction``).
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from functions.core import inputs as inputs_mod
from functions.core import redaction
from functions.core.redaction import Redactor
from functions.core.runlog import RunLog, capture
from functions.core.runs import Run, RunStore, new_run_id, utcnow
from functions.errors import Conflict, NotFound, PlatformError
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Plugin, Registry, purge_plugin_modules
from functions.settings import Settings, get_settings

log = logging.getLogger(__name__)

TRIGGERS = ("manual", "api", "webhook", "schedule")

#: Called with every finished run, after it is saved. The Lambda handlers publish metrics from here
#: (``functions.handlers.observability``); a failing hook is logged and never changes the run.
run_hooks: list[Callable[[Run], None]] = []


#: How long a request that meets an Idempotency-Key reserved by another request waits for that
#: request's run record to appear before deciding the other request died.
RESERVATION_GRACE = timedelta(seconds=10)


class ToolNotReady(PlatformError):
    status_code = 424


class QueueUnavailable(PlatformError):
    """The run was recorded but could not be sent to the queue: its record says so (``error``)."""

    status_code = 503


def runner_id() -> str:
    """``host:pid`` of this process, kept on the runs it executes (see ``functions.core.sweep``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Submission:
    """What ``Engine.submit`` accepted: the run as it is now, and whether an Idempotency-Key named an
    earlier request's run instead of starting a new one."""

    run: Run
    replay: bool = False


class Engine:
    def __init__(self, registry: Registry, store: RunStore | None, settings: Settings,
                 idempotency: Any = None) -> None:
        self.registry = registry
        self._store = store
        self.settings = settings
        self._idempotency = idempotency
        self._reload_lock = threading.Lock()

    @property
    def store(self) -> RunStore:
        """The run store; by default the runs table, imported on first use (pynamodb brings botocore:
        requests that touch no run, like /docs or the workflow list, never import it)."""
        if self._store is None:
            from functions.stores.runs import DynamoRunStore

            self._store = DynamoRunStore()
        return self._store

    @store.setter
    def store(self, store: RunStore) -> None:
        self._store = store

    @property
    def idempotency(self) -> Any:
        if self._idempotency is None:
            from functions.stores.idempotency import DynamoIdempotencyStore

            self._idempotency = DynamoIdempotencyStore()
        return self._idempotency

    # ----- plugins ---------------------------------------------------------------------------------------
    def reload(self) -> Registry:
        """Re-discover plugins and forget imported plugin code, so edits take effect on the next use."""
        with self._reload_lock:
            purge_plugin_modules(self.settings.plugins_dir)
            registry = Registry.discover(self.settings.plugins_dir)
            registry.check_all()
            self.registry = registry
            return registry

    # ----- running ---------------------------------------------------------------------------------------
    def prepare(self, name: str, data: dict[str, Any], trigger: str) -> tuple[Plugin, WorkflowConfig, dict[str, Any]]:
        """Everything that can refuse a run, before anything is recorded."""
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
        return plugin, config, inputs_mod.validate(name, config, data)

    def new_run(self, name: str, trigger: str, config: WorkflowConfig, data: dict[str, Any],
                status: str = "running", **extra: Any) -> Run:
        """The record of a run about to be created: inputs with secrets masked (by key and by value) and
        bounded; open runs with their lease."""
        stored, truncated = inputs_mod.bounded_json(self.masked_inputs(config, data), self.settings.max_inputs_bytes)
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
        sensitive = inputs_mod.sensitive_fields(config)
        return Redactor(inputs_mod.secret_values(data, sensitive)).value(inputs_mod.redact(data, sensitive))

    def lease_seconds(self, config: WorkflowConfig | None) -> int:
        """How long a running run may stay open: its timeout, then the time to record it, then a grace."""
        return (config.timeout_seconds if config else 0) + self.settings.lease_grace_seconds

    def run(self, name: str, data: dict[str, Any] | None = None, trigger: str = "manual", **extra: Any) -> Run:
        """Run a workflow synchronously and return its finished run record."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        plugin, config, clean = self.prepare(name, data or {}, trigger)
        run = self.new_run(name, trigger, config, clean, **extra)
        self.store.create(run)
        return self.execute(run, plugin, clean)

    # ----- what the HTTP API calls -----------------------------------------------------------------------
    def submit(self, name: str, data: dict[str, Any] | None, trigger: str, *, wait: float | None,
               idempotency_key: str | None = None) -> Submission:
        """Accept a run for an HTTP caller and answer within ``wait`` seconds (``None``: asynchronously).

        An accepted run is durably recorded before this returns. Where it executes:

        - ``wait is None`` (webhooks, ``?async=1``): recorded ``queued`` and sent to the queue; the
          worker runs it. The caller answers 202 with the run id.
        - a sync call whose workflow's ``timeout_seconds`` fits in ``wait``: executed here and now,
          answered with the finished run. This is the common path and the cheapest: two DynamoDB
          writes (create, complete), no read.
        - a sync call whose workflow may take longer than ``wait`` (the API Gateway limit is 29 s):
          with ``sync_overflow = "worker"`` (deployed: a Lambda cannot keep working once it has
          answered) it is queued from the start and this call polls its record until it finishes or
          ``wait`` passes; with ``"thread"`` (a long-lived local server) it runs in a background thread
          of this process and this call waits for it up to ``wait``. Either way an unfinished run is
          answered 202 and completes on its own; its record says how it ended.

        With an ``idempotency_key`` the same key and payload return the first request's run
        (``replay``), waited for like a new one; the same key with another payload is a 409.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        plugin, config, clean = self.prepare(name, data or {}, trigger)
        to_worker = wait is None or (self.settings.sync_overflow == "worker" and config.timeout_seconds > wait)
        run = self.new_run(name, trigger, config, clean, status="queued" if to_worker else "running")
        if idempotency_key:
            earlier = self._reserve(name, idempotency_key, trigger, run, self.masked_inputs(config, clean))
            if earlier is not None:
                return Submission(self.wait_for(earlier, wait) if wait else earlier, replay=True)
        self.store.create(run)
        if to_worker:
            self._send(run, clean)
            return Submission(self.wait_for(run, wait) if wait else run)
        if config.timeout_seconds <= wait:  # type: ignore[operator]
            return Submission(self.execute(run, plugin, clean))
        accepted = run.model_copy(deep=True)  # execute() changes `run` while this call answers
        thread = threading.Thread(target=self._execute_quietly, args=(run, plugin, clean),
                                  name=f"sync-{run.run_id}", daemon=True)
        thread.start()
        thread.join(wait)
        return Submission(run if not thread.is_alive() else accepted)

    def _execute_quietly(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> None:
        try:
            self.execute(run, plugin, data)
        except Exception:  # noqa: BLE001 - nobody waits for this thread; the lease covers a lost save
            log.exception("run %s could not be completed", run.run_id)

    def wait_for(self, run: Run, wait: float) -> Run:
        """Poll a run's record (consistent reads, backing off) until it finishes or ``wait`` passes."""
        deadline = time.monotonic() + wait
        delay = 0.05
        while not run.finished:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(delay, left))
            delay = min(delay * 1.5, 1.0)
            try:
                run = self.store.get(run.run_id, consistent=True)
            except NotFound:  # an idempotent replay of a run whose record is being written
                continue
        return run

    def _reserve(self, name: str, key: str, trigger: str, run: Run, masked: dict[str, Any]) -> Run | None:
        """Reserve an Idempotency-Key for ``run``; the earlier run when the key is already taken."""
        from functions.core.idempotency import fingerprint, refuse_other_payload

        print_ = fingerprint(trigger, masked)
        for _ in range(3):
            held = self.idempotency.reserve(name, key, print_, run.run_id)
            if held is None:
                return None
            if held.fingerprint != print_:
                raise refuse_other_payload(key, name)
            deadline = held.created_at + RESERVATION_GRACE
            while True:
                try:
                    return self.store.get(held.run_id, consistent=True)
                except NotFound:
                    if utcnow() >= deadline:
                        break
                    time.sleep(0.05)
            # The request that reserved the key died before recording its run: this one takes over.
            if self.idempotency.take_over(name, key, held, run.run_id):
                return None
        raise Conflict(f"Idempotency-Key {key!r} is being used by concurrent requests for workflow '{name}': "
                       "retry in a moment")

    def execute(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> Run:
        """Run the workflow's code for an already recorded run, then complete the record."""
        return self._finish(self._execute(run, plugin, data))

    def _finish(self, run: Run) -> Run:
        run.lease_until = None
        self.store.save(run)
        _notify(run)
        return run

    def _execute(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> Run:
        """Run the workflow's code and fill in the outcome; the record is not written."""
        config = plugin.config
        assert isinstance(config, WorkflowConfig)
        redactor = Redactor([*inputs_mod.secret_values(data, inputs_mod.sensitive_fields(config)),
                             *redaction.environment_secrets()])
        run_log = RunLog(self.settings.max_log_lines, self.settings.max_log_line_chars,
                         self.settings.max_log_bytes)
        run_log.redactor = redactor
        outcome: dict[str, Any] = {}
        started = time.perf_counter()
        run.status, run.started_at = "running", run.started_at or utcnow()

        def target() -> None:
            with capture(run_log), redaction.active(redactor):
                try:
                    module = self.registry.module(plugin)
                    tools = self.build_tools(plugin.config)  # type: ignore[arg-type]
                    outcome["result"] = call_execute(module.execute, data, tools)
                except BaseException as exc:  # noqa: BLE001 - whatever the workflow raises is its run's error
                    outcome["exc"] = exc
                    if not isinstance(exc, PlatformError):
                        log.exception("workflow %s raised", run.workflow)

        worker = threading.Thread(target=target, name=f"run-{run.run_id}", daemon=True)
        worker.start()
        worker.join(config.timeout_seconds)
        run.finished_at = utcnow()
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        if worker.is_alive():
            run.status = "timed_out"
            run.error = run.message = (f"workflow exceeded its timeout of {config.timeout_seconds} s "
                                       "(raise timeout_seconds in config.json, at most 900)")
        elif "exc" in outcome:
            self._fail(run, outcome["exc"], redactor)
        else:
            self._complete(run, outcome.get("result"), redactor)
        run.logs = [redactor.text(line) for line in run_log.result()] if redactor else run_log.result()
        return run

    # ----- async runs (SQS) ------------------------------------------------------------------------------
    def enqueue(self, name: str, data: dict[str, Any] | None = None, trigger: str = "webhook",
                **extra: Any) -> Run:
        """Accept a run now, execute it later on the worker: checked, recorded as ``queued``, then sent.

        The message carries the validated inputs (the record only holds redacted ones, and the worker
        needs the real values); if it cannot be sent the record says so instead of staying queued.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        _, config, clean = self.prepare(name, data or {}, trigger)
        run = self.new_run(name, trigger, config, clean, status="queued", **extra)
        self.store.create(run)
        self._send(run, clean)
        return run

    def _send(self, run: Run, data: dict[str, Any], delay: int = 0) -> None:
        from functions.aws import queue

        try:
            queue.enqueue(run, data, delay)
        except Exception as exc:
            run.status, run.finished_at, run.lease_until = "error", utcnow(), None
            run.error = run.message = f"could not queue the run: {type(exc).__name__}: {exc}"[:1000]
            self.store.save(run)
            raise QueueUnavailable(f"{run.message}; nothing will run it (run {run.run_id} records this)",
                                   {"run_id": run.run_id}) from exc

    def execute_queued(self, run_id: str, data: dict[str, Any], workflow: str | None = None,
                       last_delivery: bool = False) -> Run | None:
        """The worker's half of ``enqueue``: claim a recorded ``queued`` run, execute it, complete it.

        ``None`` when there is nothing to do (SQS delivers at least once: an earlier delivery already
        ran it, or runs it now). A workflow that broke or was deactivated since it was queued gives an
        ``error`` run, like any refused start would have, rather than a message retried for nothing.
        A workflow's own failure is retried only with ``retry_on_error`` (a new, delayed message).

        A platform failure (DynamoDB, a bug) raises, so the message is delivered again; the claimed run
        goes back to ``queued`` for that delivery, or, on the ``last_delivery`` (the next stop is the
        dead-letter queue), is closed as ``error`` saying so.
        """
        workflow = workflow or ""
        try:
            plugin, config = self.registry.workflow(workflow)
            problem: PlatformError | None = None if config.active else Conflict(
                f"workflow '{workflow}' was deactivated after this run was queued")
        except PlatformError as exc:
            plugin, config, problem = None, None, exc  # type: ignore[assignment]
        try:
            run = self.store.claim(run_id, runner_id(), self.lease_seconds(config))
        except Exception as exc:
            if last_delivery:
                self._give_up(run_id, exc, ("queued", "running"))
            raise
        if run is None:
            current = self.store.get(run_id, consistent=True)  # NotFound: a stray message, fails to the DLQ
            log.info("run %s is %s: nothing to do for this delivery", run_id, current.status)
            return None
        try:
            if problem is not None:
                run.status, run.finished_at = "error", utcnow()
                run.error = run.message = problem.message
                return self._finish(run)
            assert plugin is not None and config is not None
            run = self._execute(run, plugin, data)
            if run.status in ("error", "timed_out") and config.retry_on_error and run.attempt < config.max_attempts:
                return self._retry(run, config, data)
            return self._finish(run)
        except Exception as exc:
            if last_delivery:
                self._give_up(run_id, exc, ("running",))
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
        self.store.save(run)
        self._send(run, data, delay)
        return run

    def _release(self, run: Run, exc: Exception) -> None:
        """Put a claimed run back to ``queued`` for the next delivery (best effort: its lease covers it)."""
        until = int(utcnow().timestamp()) + self.settings.queued_timeout_seconds
        try:
            self.store.release(run.run_id, run.attempt, until,
                               f"attempt {run.attempt} failed ({type(exc).__name__}); the queue delivers it again")
        except Exception:  # noqa: BLE001 - the original failure is what gets reported
            log.exception("could not put run %s back in the queue", run.run_id)

    def _give_up(self, run_id: str, exc: Exception, expect: tuple[str, ...]) -> None:
        message = (f"the platform failed on every delivery of this run ({self.settings.max_attempts}): "
                   f"{type(exc).__name__}; its message went to the dead-letter queue")
        try:
            self.store.close(run_id, "error", message, expect)
        except Exception:  # noqa: BLE001 - the lease and the sweep cover a run that cannot be closed now
            log.exception("could not mark run %s as failed", run_id)

    def _complete(self, run: Run, result: Any, redactor: Redactor | None = None) -> None:
        if redactor:
            result = redactor.value(result)
        run.output, run.output_truncated = inputs_mod.bounded_json(result, self.settings.max_output_bytes)
        status = result.get("status") if isinstance(result, dict) else None
        message = result.get("message") if isinstance(result, dict) else None
        run.message = str(message)[:1000] if message is not None else None
        if status in (None, "success", "ok"):
            run.status = "success"
        elif status == "error":
            run.status = "error"
            run.error = run.message or str(result.get("error") or "workflow returned status 'error'")[:1000]
        else:
            run.status = "error"
            run.error = f"workflow returned an unknown status {status!r}: return 'success' or 'error'"

    def _fail(self, run: Run, exc: BaseException, redactor: Redactor | None = None) -> None:
        scrub = redactor.text if redactor else (lambda text: text)
        run.status = "error"
        if isinstance(exc, PlatformError):
            run.error = run.message = scrub(exc.message)
            return
        run.error = run.message = scrub(f"{type(exc).__name__}: {exc}")[:1000]
        text = scrub("".join(traceback.format_exception(exc)))
        run.traceback = text[-self.settings.max_traceback_chars:]

    def build_tools(self, config: WorkflowConfig) -> dict[str, Any]:
        """Ready instances of the workflow's tools_required, with the profiles it asks for."""
        tools: dict[str, Any] = {}
        for name in config.tools_required:
            profile = config.tools_profiles.get(name, "DEFAULT")
            tool = self.registry.tool_class(name)(profile=profile)
            tool.require_config()
            if not tool.authenticate():
                reason = tool.last_error or "authenticate() returned False"
                raise ToolNotReady(f"tool '{name}' (profile {tool.profile}) is not ready: {reason}")
            tools[name] = tool
        return tools


def _notify(run: Run) -> None:
    for hook in run_hooks:
        try:
            hook(run)
        except Exception:  # noqa: BLE001 - observability must never fail a run
            log.exception("run hook %r failed", hook)


def call_execute(execute: Any, data: dict[str, Any], tools: dict[str, Any]) -> Any:
    """Call ``execute(data, tools)``, or ``execute(data)`` for workflows written with one parameter."""
    try:
        params = inspect.signature(execute).parameters.values()
    except (TypeError, ValueError):
        return execute(data, tools)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params):
        return execute(data, tools)
    if len(positional) == 1:
        return execute(data)
    return execute()


_engine: Engine | None = None
_engine_lock = threading.Lock()


def load_registry(settings: Settings) -> Registry:
    if settings.manifest_path and settings.manifest_path.is_file():
        from functions.registry.manifest import registry_from_manifest

        return registry_from_manifest(settings.manifest_path, settings.plugins_dir)
    return Registry.discover(settings.plugins_dir)


def get_engine() -> Engine:
    """The process-wide engine, built on first use (a cold start pays only for what it touches)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                settings = get_settings()
                _engine = Engine(load_registry(settings), None, settings)
    return _engine


def reset_engine() -> None:
    """Forget the engine (tests, or the local server after changing settings)."""
    global _engine
    _engine = None
