"""One invocation of a durable run's execution: the same code deployed (the durable Lambda) and locally
(the SDK's runner), called by ``functions.handlers.durable``.

The event is ``functions.core.durable.event``'s: the run, its inputs, its execution's name and the steps a
resume does not run again. The invocation loads the record (nothing to do if the run is finished or a
newer execution carries it), builds the workflow's tools, calls ``execute(data, tools, ctx)`` and, when
the code returns or raises, records the outcome as a plain run's (``functions.core.execution``: status,
bounded output, redaction) and runs the hooks (``on_error``). While the code waits the SDK suspends the
invocation (``SuspendExecution``, passed through); the record says ``waiting`` and on what.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.exceptions import SuspendExecution

from functions.core import execution, inputs, redaction
from functions.core.redaction import Redactor
from functions.core.runlog import RunLog, capture
from functions.core.runs import utcnow
from functions.durable.context import DurableRun
from functions.durable.errors import RunClosed
from functions.durable.recorder import Recorder
from functions.errors import PlatformError
from functions.registry.config import WorkflowConfig

if TYPE_CHECKING:
    from functions.core.engine import Engine

log = logging.getLogger(__name__)


class DurableRuns:
    def __init__(self, engine: "Engine") -> None:
        self.engine = engine

    def handle(self, event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        engine = self.engine
        settings, registry = engine.settings, engine.registry
        run_id, execution_name = str(event["run_id"]), str(event.get("execution") or "")
        data = dict(event.get("input") or {})
        plugin, config = registry.workflow(str(event["workflow"]))
        redactor = Redactor([*inputs.secret_values(data, inputs.sensitive_fields(config)),
                             *redaction.environment_secrets()])
        recorder = Recorder.begin(engine.runs, settings, run_id, execution_name, redactor)
        if recorder is None:
            return {"run_id": run_id, "status": "superseded"}
        run = recorder.run
        run_log = RunLog(settings.max_log_lines, settings.max_log_line_chars, settings.max_log_bytes, redactor)
        ctx = DurableRun(context, recorder, event.get("completed") or {}, settings.public_url)
        outcome: dict[str, Any] = {}
        with capture(run_log), redaction.active(redactor):
            try:
                module = registry.module(plugin)
                assert isinstance(config, WorkflowConfig)
                tools = execution.build_tools(registry, config, run.profiles)
                outcome["result"] = module.execute(data, tools, ctx)
            except SuspendExecution:
                raise  # the SDK suspends the invocation: the record already says what the run waits for
            except RunClosed:
                log.info("durable run %s was closed meanwhile: its execution stops", run_id)
                return {"run_id": run_id, "status": "closed"}
            except Exception as exc:  # noqa: BLE001 - whatever the workflow raises is its run's error
                outcome["exc"] = exc
                if not isinstance(exc, PlatformError):
                    log.exception("durable workflow %s raised", run.workflow)
        run.finished_at = utcnow()
        started = run.started_at or run.created_at
        run.duration_ms = int((run.finished_at - started).total_seconds() * 1000)
        run.waiting_for = None
        if "exc" in outcome:
            execution.record_failure(run, outcome["exc"], redactor, settings)
        else:
            execution.record_result(run, outcome.get("result"), redactor, settings)
        top = run_log.result()
        run.logs = [*run.logs, *top][-settings.record_log_lines:] if top else run.logs
        finished = engine.finish(run, open_only=True)
        return {"run_id": run_id, "status": finished.status, "finished_at": time.time()}
