"""The stale-run sweep: no run stays ``queued`` or ``running`` after the process meant to finish it died.

Every open run has a lease (``functions.core.runs``): a running run's is its start + timeout + a grace
(the engine records the outcome long before, even for a run that times out), a queued run's is its
creation + ``WFP_QUEUED_TIMEOUT_SECONDS``. The sweep reads the open runs whose lease passed (one Query
per shard of the sparse ``open_runs`` index, ``WFP_OPEN_RUN_SHARDS`` and the pre-sharding key: 65 by
default, each empty and cheap when nothing is open) and closes each with a conditional
update that only applies if the run still holds the lease it saw, so a run finishing or being claimed
at that moment is left alone:

- a running run that went through the queue and has attempts left goes back to ``queued``: SQS
  delivers its message again (the platform-failure retry), and the worker's claim takes it;
- any other running run becomes ``interrupted`` (its process was killed, ran out of memory, hit a
  Lambda or API timeout), with the attempt it was on;
- a queued run nobody started becomes ``interrupted``: its message was lost;
- a durable run (``runner`` ``durable:<execution>``, running or ``waiting``) whose lease, its
  ``durable_timeout_seconds``, passed becomes ``timed_out``: no durable run stays open past its declared
  timeout, whatever its execution does (its later record writes fail: ``RunStore.save`` refuses a
  finished durable run). It is never presumed dead by ``dead``: no local process owns it.

Who sweeps: deployed, an EventBridge rate rule invokes the scheduler function with
``{"action": "sweep"}`` every few minutes; locally, the dev server at start and then periodically
(``local_dev.worker``, which also knows which local processes are gone: ``dead``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from functions.core.durable import RUNNER_PREFIX
from functions.core.runs import OpenRun, RunStore, utcnow
from functions.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    interrupted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    #: Runs sent to the queue again from their records (the local server's start: ``local_dev.requeue``).
    requeued: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"interrupted": self.interrupted, "requeued": self.requeued, "released": self.released}


def sweep(runs: RunStore, settings: Settings, now: datetime | None = None,
          dead: Callable[[OpenRun], bool] | None = None,
          closed: Callable[[str, str], None] | None = None) -> SweepReport:
    """Close the open runs whose lease passed; with ``dead``, also the running runs whose process that
    predicate knows is gone, without waiting for their lease. ``closed(run_id, workflow)`` is told of each
    run it interrupts (the platform's ``failures.closed``: the workflow's ``on_error``)."""
    now = now or utcnow()
    epoch = int(now.timestamp())
    report = SweepReport()
    for run in runs.open_runs(None if dead is not None else epoch):
        expired = run.lease_until < epoch
        try:
            if (run.runner or "").startswith(RUNNER_PREFIX):
                if not expired:
                    continue
                message = (f"timed out: the durable run was still {run.status} when its durable_timeout_seconds "
                           "passed (raise durable_timeout_seconds in config.json; resume it to go on from its "
                           "completed steps)")
                if runs.close(run.run_id, "timed_out", message, ("running", "waiting"), run.lease_until):
                    report.interrupted.append(run.run_id)
                    if closed is not None:
                        closed(run.run_id, run.workflow)
            elif run.status == "running":
                if not (expired or (dead is not None and dead(run))):
                    continue
                if run.queued and run.attempt < settings.max_attempts:
                    message = (f"attempt {run.attempt} stopped with its process ({run.runner}); "
                               "waiting for the queue to deliver it again")
                    if runs.release(run.run_id, run.attempt, epoch + settings.queued_timeout_seconds, message):
                        report.released.append(run.run_id)
                    continue
                message = (f"interrupted: the process running it ({run.runner or 'unknown'}) stopped before it "
                           f"finished (killed, crashed, or cut off by a Lambda or API timeout) on attempt "
                           f"{max(run.attempt, 1)}; run it again if it should have completed")
                if runs.close(run.run_id, "interrupted", message, ("running",), run.lease_until):
                    report.interrupted.append(run.run_id)
                    if closed is not None:
                        closed(run.run_id, run.workflow)
            elif run.status == "queued" and expired:
                message = (f"interrupted: it was queued but no worker started it within "
                           f"{settings.queued_timeout_seconds} s (its queue message was lost); trigger it again")
                if runs.close(run.run_id, "interrupted", message, ("queued",), run.lease_until):
                    report.interrupted.append(run.run_id)
                    if closed is not None:
                        closed(run.run_id, run.workflow)
        except Exception:  # noqa: BLE001 - one run that cannot be closed must not stop the others
            log.exception("sweep: could not handle run %s", run.run_id)
    if report.interrupted or report.released:
        log.warning("sweep: %d interrupted, %d released for another attempt", len(report.interrupted),
                    len(report.released))
    return report
