"""Cancelling an open run (``POST /api/runs/{id}/cancel``, ``wfp cancel``).

A ``queued`` run is closed ``cancelled`` before it starts: the worker's claim only takes a ``queued``
run (or a running one whose lease passed), so its message, when delivered, runs nothing. A ``running``
run is closed ``cancelled`` at once, but its code cannot be stopped (a thread cannot be killed safely):
it goes on in the background until it returns or its ``timeout_seconds`` pass, and then the engine's
final save, conditional on the record not being cancelled (``RunStore.save``), fails and the result is
dropped (``Engine.finish``). Either way the close is one conditional UpdateItem that also takes the run
off the ``open_runs`` index (no lease left for the sweep). A finished run is a 409.
"""

from __future__ import annotations

from functions.core.runs import Run, RunStore
from functions.errors import Conflict

STATUS = "cancelled"
QUEUED_MESSAGE = "cancelled by request before it started: it will not run"
RUNNING_MESSAGE = ("cancelled by request; the code was still running and its result was discarded (a running "
                   "thread cannot be killed: it goes on in the background until it returns or its "
                   "timeout_seconds pass)")


def cancel(runs: RunStore, run_id: str) -> Run:
    """Cancel ``run_id`` (NotFound: 404; already finished: 409); the cancelled record."""
    for _ in range(3):
        run = runs.get(run_id, consistent=True)
        if run.finished:
            raise Conflict(f"already finished: {run.status} (run {run_id} cannot be cancelled)",
                           {"status": run.status})
        message = QUEUED_MESSAGE if run.status == "queued" else RUNNING_MESSAGE
        if runs.close(run_id, STATUS, message, (run.status,)):
            return runs.get(run_id, consistent=True)
        # it changed between the read and the close (claimed, finished): look again
    raise Conflict(f"run {run_id} kept changing while being cancelled: try again")
