"""The engine: the one place where a workflow runs.

HTTP routes, the scheduler, the queue worker and the CLI all end here, in ``Engine.run``. A run is
checked (exists, not broken, active, trigger allowed, inputs valid) before anything is written, so a
refused request leaves no trace; once accepted it is recorded as ``running`` before the workflow's
code starts and completed afterwards, whatever the code does: return an error, raise, or hang past
its ``timeout_seconds``.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import inputs as inputs_mod
from .errors import Conflict, PlatformError
from .plugin_config import WorkflowConfig
from .registry import Plugin, Registry, purge_plugin_modules
from .runlog import RunLog, capture
from .runs import Run, RunStore, new_run_id, utcnow
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

TRIGGERS = ("manual", "api", "webhook", "schedule")

#: Called with every finished run, after it is saved. The Lambda handlers publish metrics from here
#: (``functions.observability``); a failing hook is logged and never changes the run.
run_hooks: list[Callable[[Run], None]] = []


class ToolNotReady(PlatformError):
    status_code = 424


class Engine:
    def __init__(self, registry: Registry, store: RunStore | None, settings: Settings) -> None:
        self.registry = registry
        self._store = store
        self.settings = settings
        self._reload_lock = threading.Lock()

    @property
    def store(self) -> RunStore:
        """The run store; by default the runs table, imported on first use (pynamodb brings botocore:
        requests that touch no run, like /docs or the workflow list, never import it)."""
        if self._store is None:
            from .run_table import DynamoRunStore

            self._store = DynamoRunStore()
        return self._store

    @store.setter
    def store(self, store: RunStore) -> None:
        self._store = store

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
        stored, _ = inputs_mod.bounded_json(inputs_mod.redact(data, inputs_mod.sensitive_fields(config)),
                                            self.settings.max_inputs_bytes)
        now = utcnow()
        return Run(run_id=extra.pop("run_id", None) or new_run_id(), workflow=name, trigger=trigger,
                   status=status, created_at=now, started_at=now if status == "running" else None,
                   inputs=stored if isinstance(stored, dict) else {"_truncated": stored}, **extra)

    def run(self, name: str, data: dict[str, Any] | None = None, trigger: str = "manual", **extra: Any) -> Run:
        """Run a workflow synchronously and return its finished run record."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        plugin, config, clean = self.prepare(name, data or {}, trigger)
        run = self.new_run(name, trigger, config, clean, **extra)
        self.store.create(run)
        return self.execute(run, plugin, clean)

    def execute(self, run: Run, plugin: Plugin, data: dict[str, Any]) -> Run:
        """Run the workflow's code for an already recorded run, then complete the record."""
        config = plugin.config
        assert isinstance(config, WorkflowConfig)
        run_log = RunLog(self.settings.max_log_lines, self.settings.max_log_line_chars,
                         self.settings.max_log_bytes)
        outcome: dict[str, Any] = {}
        started = time.perf_counter()
        run.status, run.started_at = "running", run.started_at or utcnow()

        def target() -> None:
            with capture(run_log):
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
            self._fail(run, outcome["exc"])
        else:
            self._complete(run, outcome.get("result"))
        run.logs = run_log.result()
        self.store.save(run)
        _notify(run)
        return run

    # ----- async runs (SQS) ------------------------------------------------------------------------------
    def enqueue(self, name: str, data: dict[str, Any] | None = None, trigger: str = "webhook",
                **extra: Any) -> Run:
        """Accept a run now, execute it later on the worker: checked, recorded as ``queued``, then sent.

        The message carries the validated inputs (the record only holds redacted ones, and the worker
        needs the real values); if it cannot be sent the record says so instead of staying queued.
        """
        from . import queue

        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        _, config, clean = self.prepare(name, data or {}, trigger)
        run = self.new_run(name, trigger, config, clean, status="queued", **extra)
        self.store.create(run)
        try:
            queue.enqueue(run, clean)
        except Exception as exc:
            run.status, run.finished_at = "error", utcnow()
            run.error = run.message = f"could not queue the run: {type(exc).__name__}: {exc}"[:1000]
            self.store.save(run)
            raise
        return run

    def execute_queued(self, run_id: str, data: dict[str, Any]) -> Run | None:
        """The worker's half of ``enqueue``: execute a recorded ``queued`` run.

        ``None`` when the run is no longer queued (SQS delivers at least once: an earlier delivery
        already ran it). A workflow that broke or was deactivated since it was queued gives an
        ``error`` run, like any refused start would have, rather than a message retried for nothing.
        """
        run = self.store.get(run_id)
        if run.status != "queued":
            log.info("run %s is %s, not queued: nothing to do", run_id, run.status)
            return None
        try:
            plugin, config = self.registry.workflow(run.workflow)
            if not config.active:
                raise Conflict(f"workflow '{run.workflow}' was deactivated after this run was queued")
        except PlatformError as exc:
            run.status, run.finished_at = "error", utcnow()
            run.error = run.message = exc.message
            self.store.save(run)
            _notify(run)
            return run
        return self.execute(run, plugin, data)

    def _complete(self, run: Run, result: Any) -> None:
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

    def _fail(self, run: Run, exc: BaseException) -> None:
        run.status = "error"
        if isinstance(exc, PlatformError):
            run.error = run.message = exc.message
            return
        run.error = run.message = f"{type(exc).__name__}: {exc}"[:1000]
        text = "".join(traceback.format_exception(exc))
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
        from .manifest import registry_from_manifest

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
