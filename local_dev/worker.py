"""The local queue worker: Lambda's SQS event source on a laptop, and the stale-run sweep.

``LocalWorker`` polls the local runs queue (``local_dev.queue``), hands each batch to the worker's entry
point (``functions.core.batch.process``, the code the worker Lambda runs) as the SQS event Lambda would
build, and deletes what it did not report as failed, as the event source mapping does.

The sweep (``functions.core.sweep``) runs at start and every ``sweep_every`` seconds. The local queue lives
in moto's memory (the journal keeps DynamoDB and Secrets Manager only), so after a restart every
``queued`` run has lost its message: at start they are sent again from their records when the record
holds every input (``requeue_lost``), and runs left ``running`` by a process that no longer exists are
settled at once instead of waiting for their lease (``dead_runner``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from functions.core.runs import OpenRun
from functions.core.sweep import SweepReport, sweep
from functions.platform import Platform

log = logging.getLogger(__name__)

PROCESS_STARTED = time.time()


def dead_runner(run: OpenRun) -> bool:
    """Is the process that was running ``run`` known to be gone? Only processes of this host can be
    checked; a pid that exists (even reused by another program) is presumed alive: the lease decides."""
    host, _, pid_text = (run.runner or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():  # this process, before it started (a reused pid)
        return run.started_at is not None and run.started_at.timestamp() < PROCESS_STARTED
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_lost(platform: Platform, report: SweepReport) -> None:
    """After a restart of the local AWS (a new, empty queue): send every queued run again from its record
    when the record holds every input (nothing masked or truncated), else close it as interrupted."""
    runs, settings = platform.runs, platform.settings
    lost = [r for r in runs.open_runs() if r.status == "queued"]
    for run in lost:
        try:
            if run.inputs_redacted:
                message = ("interrupted: it was queued but its queue message was lost with the local server "
                           "(its inputs hold secrets or were truncated, so it cannot be sent again from its "
                           "record); trigger it again")
                if runs.close(run.run_id, "interrupted", message, ("queued",), run.lease_until):
                    report.interrupted.append(run.run_id)
                continue
            record = runs.get(run.run_id, consistent=True)
            if record.status != "queued" or record.lease_until is None:
                continue
            platform.engine.send(record, record.inputs)
            runs.extend(run.run_id, "queued", record.lease_until,
                        int(time.time()) + settings.queued_timeout_seconds)
            report.requeued.append(run.run_id)
        except Exception:  # noqa: BLE001 - one run must not stop the others
            log.exception("local worker: could not send run %s again", run.run_id)


class _Context:
    """What ``functions.core.batch.process`` asks of a Lambda context: the time left (none is imposed)."""

    def get_remaining_time_in_millis(self) -> int:
        return 15 * 60 * 1000


class LocalWorker:
    """``threads`` pollers, each like one concurrent invocation of the worker Lambda: it receives a batch
    (up to ``batch_size`` messages, the stack's batch size), runs it through the worker and deletes what
    succeeded. The queue is short-polled, with a backoff while it is empty (moto's long polling spins on
    the CPU while messages are in flight, which would slow the server it shares its process with), and
    a message sent by this process wakes the pollers at once (``LocalQueue.on_send``).
    """

    def __init__(self, platform: Platform, threads: int = 4, batch_size: int = 5, sweep_every: float = 30.0,
                 requeue_at_start: bool = True, idle_backoff: tuple[float, float] = (0.05, 2.0)) -> None:
        self.platform = platform
        self.threads = max(1, threads)
        self.batch_size = batch_size
        self.sweep_every = sweep_every
        self.requeue_at_start = requeue_at_start
        self.idle_backoff = idle_backoff
        self.processed = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ----- one step of each loop (tests call them directly) ---------------------------------------------
    def poll_once(self) -> int:
        """Receive one batch, run it through the worker, delete what succeeded; messages handled."""
        from functions.core.batch import process

        queue = self.platform.queue
        event = queue.receive_event(self.batch_size, 0)
        if not event["Records"]:
            return 0
        queue.acknowledge(event, process(event, _Context(), self.platform.queued, queue))
        with self._lock:
            self.processed += len(event["Records"])
        return len(event["Records"])

    def sweep(self, at_start: bool = False) -> SweepReport:
        """The stale-run sweep; at start also the runs of dead local processes, and the lost messages."""
        report = sweep(self.platform.runs, self.platform.settings, dead=dead_runner if at_start else None,
                       closed=self.platform.failures.closed)
        if at_start and self.requeue_at_start:
            requeue_lost(self.platform, report)
        return report

    # ----- the threads -----------------------------------------------------------------------------------
    def _poll_loop(self) -> None:
        delay = self.idle_backoff[0]
        while not self._stop.is_set():
            try:
                handled = self.poll_once()
            except Exception:  # noqa: BLE001 - the local AWS restarting, a reload: try again shortly
                log.exception("local worker: polling the queue failed")
                self._stop.wait(1.0)
                continue
            if handled:
                delay = self.idle_backoff[0]
            else:
                if self._wake.wait(delay):
                    self._wake.clear()
                    delay = self.idle_backoff[0]
                else:
                    delay = min(delay * 2, self.idle_backoff[1])

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.sweep_every):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001
                log.exception("local worker: sweep failed")

    def _sent(self, delay: int) -> None:
        if delay == 0:
            self._wake.set()

    def start(self) -> "LocalWorker":
        self._stop.clear()
        hooks = self.platform.queue.on_send
        if self._sent not in hooks:
            hooks.append(self._sent)
        try:
            report = self.sweep(at_start=True)
            log.info("local worker: start sweep %s", report.as_dict())
        except Exception:  # noqa: BLE001 - the server still starts; the periodic sweep retries
            log.exception("local worker: start sweep failed")
        self._threads = [threading.Thread(target=self._poll_loop, name=f"local-worker-{i}", daemon=True)
                         for i in range(self.threads)]
        self._threads.append(threading.Thread(target=self._sweep_loop, name="local-sweep", daemon=True))
        for thread in self._threads:
            thread.start()
        log.info("local queue worker started (%d threads)", self.threads)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; runs still executing are left to finish or, if the process exits first, to
        the next start's sweep."""
        self._stop.set()
        self._wake.set()
        if self._sent in self.platform.queue.on_send:
            self.platform.queue.on_send.remove(self._sent)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        still = [t.name for t in self._threads if t.is_alive()]
        if still:
            log.warning("local worker stopped with batches still running: %s", ", ".join(still))
        self._threads = []
        log.info("local queue worker stopped")
