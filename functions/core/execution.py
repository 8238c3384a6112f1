"""Running a workflow's code for a recorded run: its tools built, its output and log lines captured, its
secrets scrubbed, its timeout enforced; the run record filled in with the outcome, not written.

The code runs in a thread of its own so its ``timeout_seconds`` can be enforced: a thread cannot be
killed, so a run past its timeout is recorded ``timed_out`` and nothing waits for the code any more
(it finishes or not in the background; its result is discarded).
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import threading
import time
import traceback
from typing import Any

from functions.core import inputs, redaction
from functions.core.redaction import Redactor
from functions.core.runlog import RunLog, capture
from functions.core.runs import Run, utcnow
from functions.errors import PlatformError
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Plugin, Registry
from functions.settings import Settings

log = logging.getLogger(__name__)


class ToolNotReady(PlatformError):
    status_code = 424


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


def build_tools(registry: Registry, config: WorkflowConfig,
                overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Ready instances of the workflow's tools_required, with the profiles it asks for (``overrides``,
    a run's own ``profiles``, e.g. a re-run against TEST, win for that run only)."""
    tools: dict[str, Any] = {}
    for name in config.tools_required:
        profile = (overrides or {}).get(name) or config.tools_profiles.get(name, "DEFAULT")
        tool = registry.tool_class(name)(profile=profile)
        tool.require_config()
        if not tool.authenticate():
            reason = tool.last_error or "authenticate() returned False"
            raise ToolNotReady(f"tool '{name}' (profile {tool.profile}) is not ready: {reason}")
        tools[name] = tool
    return tools


def execute(run: Run, plugin: Plugin, data: dict[str, Any], registry: Registry, settings: Settings) -> Run:
    """Run the workflow's code and fill in ``run``'s outcome, timings and log lines."""
    config = plugin.config
    assert isinstance(config, WorkflowConfig)
    redactor = Redactor([*inputs.secret_values(data, inputs.sensitive_fields(config)),
                         *redaction.environment_secrets()])
    run_log = RunLog(settings.max_log_lines, settings.max_log_line_chars, settings.max_log_bytes, redactor)
    outcome: dict[str, Any] = {}
    started = time.perf_counter()
    run.status, run.started_at = "running", run.started_at or utcnow()

    def target() -> None:
        with capture(run_log), redaction.active(redactor):
            try:
                module = registry.module(plugin)
                outcome["result"] = call_execute(module.execute, data, build_tools(registry, config, run.profiles))
            except BaseException as exc:  # noqa: BLE001 - whatever the workflow raises is its run's error
                outcome["exc"] = exc
                if not isinstance(exc, PlatformError):
                    log.exception("workflow %s raised", run.workflow)

    # In a copy of this context: the run's meter (functions.core.usage) counts its tools' requests too.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(target,), name=f"run-{run.run_id}",
                              daemon=True)
    worker.start()
    worker.join(config.timeout_seconds)
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    if worker.is_alive():
        run.status = "timed_out"
        run.error = run.message = (f"workflow exceeded its timeout of {config.timeout_seconds} s "
                                   "(raise timeout_seconds in config.json, at most 900)")
    elif "exc" in outcome:
        _fail(run, outcome["exc"], redactor, settings)
    else:
        _complete(run, outcome.get("result"), redactor, settings)
    run.logs = run_log.result()  # scrubbed line by line as they were captured
    return run


def record_result(run: Run, result: Any, redactor: Redactor, settings: Settings) -> None:
    """Fill in a run's outcome from what its code returned (``status``, ``message``, bounded output)."""
    _complete(run, result, redactor, settings)


def record_failure(run: Run, exc: BaseException, redactor: Redactor, settings: Settings) -> None:
    """Fill in a run's outcome from what its code raised (a platform error's message as is)."""
    _fail(run, exc, redactor, settings)


def _complete(run: Run, result: Any, redactor: Redactor, settings: Settings) -> None:
    result = redactor.value(result)
    run.output, run.output_truncated = inputs.bounded_json(result, settings.max_output_bytes)
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


def _fail(run: Run, exc: BaseException, redactor: Redactor, settings: Settings) -> None:
    run.status = "error"
    if isinstance(exc, PlatformError):
        run.error = run.message = redactor.text(exc.message)
        return
    run.error = run.message = redactor.text(f"{type(exc).__name__}: {exc}")[:1000]
    run.traceback = redactor.text("".join(traceback.format_exception(exc)))[-settings.max_traceback_chars:]
