"""The durable backend locally: the SDK's in-process runner (``DurableFunctionTestRunner``, its scheduler
in background threads) running the same handler as deployed (``functions.handlers.durable``).

Waits really wait (the runner's real clock, ``skip_time=False``); tests pass ``skip_time=True`` (the
runner's virtual clock: a 1 h wait takes about a second, nothing sleeps).

What it cannot persist: the runner keeps its executions, checkpoints and timers in memory, so a dev
server restart loses them. The platform's side is persisted (the run record, in the local AWS: each
step with its result, what the run waits for and until when, the callbacks granted), and ``recover``,
called when the server starts, gives each open durable run a new execution carrying its completed
steps' results: they are not run again, a sleep waits until the same absolute time, an approval or a
callback waits again under the same name (a callback URL handed out before the restart still works:
its grant keeps the token's hash). Lost: a step that was running when the server stopped runs again
(at-least-once, as with the service), and a run whose inputs were masked in its record (a password)
cannot be given them again: it is closed ``interrupted``.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from functions.core import durable
from functions.errors import Conflict

if TYPE_CHECKING:
    from functions.platform import Platform

log = logging.getLogger(__name__)

FUNCTION_NAME = "wfp-durable"
#: The runner's own bound on an execution (the run's ``durable_timeout_seconds`` is the platform's).
EXECUTION_TIMEOUT = 366 * 86400


class LocalDurableBackend:
    def __init__(self, skip_time: bool = False, poll_interval: float = 0.05) -> None:
        self.skip_time = skip_time
        self.poll_interval = poll_interval
        self._runner: Any = None
        self._arns: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def runner(self) -> Any:
        with self._lock:
            if self._runner is None:
                from aws_durable_execution_sdk_python_testing.runner import (
                    DurableFunctionTestRunner,
                )

                from functions.handlers.durable import handler

                self._runner = DurableFunctionTestRunner(handler=handler, skip_time=self.skip_time,
                                                         poll_interval=self.poll_interval,
                                                         execution_timeout=EXECUTION_TIMEOUT)
            return self._runner

    # ----- DurableBackend --------------------------------------------------------------------------------
    def start(self, execution: str, event: dict[str, Any]) -> None:
        arn = self.runner.run_async(input=json.dumps(event, default=str), execution_name=execution,
                                    function_name=FUNCTION_NAME, execution_timeout=EXECUTION_TIMEOUT)
        self._arns[execution] = arn

    def send_callback(self, callback_id: str, ok: bool, payload: Any) -> None:
        try:
            if ok:
                self.runner.send_callback_success(callback_id, result=json.dumps(payload, default=str).encode())
            else:
                from aws_durable_execution_sdk_python.lambda_service import ErrorObject

                message = payload.get("error") if isinstance(payload, dict) else str(payload)
                self.runner.send_callback_failure(callback_id, error=ErrorObject(
                    message=str(message), type="Rejected", data=None, stack_trace=None))
        except Exception as exc:  # the runner answers ResourceNotFound for an answered callback too
            raise Conflict(f"the callback is not waiting any more (answered, timed out, or lost): {exc}") from None

    def state(self, execution: str) -> str | None:
        arn = self._arns.get(execution)
        if arn is None:
            return None
        try:
            status = self.runner._executor.get_execution_details(arn).status  # noqa: SLF001
        except Exception:  # noqa: BLE001
            return None
        return getattr(status, "value", status)

    # ----- local only ------------------------------------------------------------------------------------
    def skip_wait(self, execution: str) -> bool:
        """End the execution's pending time waits now (development: ``POST /api/runs/{id}/skip-wait``), as
        the runner's own timer does when they are due; False when it has none (or is not this runner's).
        Reaches into the runner's executor (the SDK's testing library has no public call for it)."""
        arn = self._arns.get(execution)
        if arn is None:
            return False
        from aws_durable_execution_sdk_python.lambda_service import (
            OperationStatus,
            OperationType,
        )
        from aws_durable_execution_sdk_python_testing.worker.checkpoint_tasks import (
            CallableTask,
        )

        executor = self.runner._executor  # noqa: SLF001

        def complete() -> bool:
            state = executor._store.load(arn)  # noqa: SLF001
            waits = [op.operation_id for op in state.operations
                     if op.operation_type is OperationType.WAIT and op.status is OperationStatus.STARTED]
            for operation_id in waits:
                state.complete_wait(operation_id)
            if waits:
                executor._store.update(state)  # noqa: SLF001
            return bool(waits)

        skipped = executor._registry.submit(arn, CallableTask(complete)).result()  # noqa: SLF001
        if skipped:
            executor._invoke_execution(arn)  # noqa: SLF001
        return bool(skipped)

    def wait(self, execution: str, timeout: int = 60) -> Any:
        """Block until the execution completes (tests): the SDK's result (``status``, ``operations``)."""
        return self.runner.wait_for_result(self._arns[execution], timeout=timeout)

    def callback_id(self, execution: str, name: str, timeout: int = 30) -> str:
        return self.runner.wait_for_callback(self._arns[execution], name=name, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def recover(self, platform: "Platform") -> list[str]:
        """Give every open durable run of the local store a new execution (a restart lost the runner's):
        its completed steps are handed over, not run again. Returns the runs recovered."""
        recovered = []
        runs = platform.runs
        for open_run in runs.open_runs():
            if not (open_run.runner or "").startswith(durable.RUNNER_PREFIX):
                continue
            try:
                run = runs.get(open_run.run_id, consistent=True)
                if run.finished or not run.durable:
                    continue
                if run.inputs_redacted:
                    message = ("interrupted: the local server restarted while this durable run was open, and its "
                               "inputs hold secrets (masked in its record): resume it with them "
                               f"(POST /api/runs/{run.run_id}/resume)")
                    runs.close(run.run_id, "interrupted", message, (run.status,))
                    continue
                _, config = platform.registry.workflow(run.workflow)
                number = durable.execution_number(run.durable_execution) + 1
                run.durable_execution = durable.execution_name(run.run_id, number)
                run.runner = durable.RUNNER_PREFIX + run.durable_execution
                runs.save(run, open_only=True)
                self.start(run.durable_execution, durable.event(run, run.inputs, durable.completed_steps(run)))
                recovered.append(run.run_id)
            except Exception:  # noqa: BLE001 - one run must not stop the others
                log.exception("local durable backend: could not recover run %s", open_run.run_id)
        if recovered:
            log.info("durable runs resumed after the restart: %s", ", ".join(recovered))
        return recovered
