"""The local queue worker: Lambda's SQS event source on a laptop, and the stale-run sweep.

``ensure_queue`` creates the runs queue and its dead-letter queue in the local AWS as the stack does
(same redrive: ``WFP_MAX_ATTEMPTS`` deliveries, then the dead-letter queue), and the dev server points
``WFP_QUEUE_URL`` at it. ``LocalWorker`` polls the queue, hands each message to the worker's entry point
(``functions.core.batch.process``, the code the worker Lambda runs) as the SQS event Lambda would build,
and deletes what it did not report as failed, as the event source mapping does.

The sweep (``functions.core.sweep``) runs at start and every ``sweep_every`` seconds. The local queue lives
in moto's memory (the journal keeps DynamoDB and Secrets Manager only), so after a restart every
``queued`` run has lost its message: at start they are sent again from their records, and runs left
``running`` by a process that no longer exists are settled at once instead of waiting for their lease.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from functions.core.runs import OpenRun

log = logging.getLogger(__name__)

#: The worker Lambda's longest timeout (900 s) plus margin, times six (AWS's advice, as the stack does).
VISIBILITY_TIMEOUT = 6 * (900 + 30)
PROCESS_STARTED = time.time()


def ensure_queue() -> str:
    """Create (or find) ``<prefix>-runs`` with its dead-letter queue ``<prefix>-runs-dlq``; its URL."""
    import boto3

    from functions.settings import get_settings

    settings = get_settings()
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{settings.prefix}-runs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"VisibilityTimeout": str(VISIBILITY_TIMEOUT), "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_attempts})}
    try:
        return str(sqs.create_queue(QueueName=f"{settings.prefix}-runs", Attributes=attributes)["QueueUrl"])
    except sqs.exceptions.QueueNameExists:  # made earlier with other settings: use it as it is
        return str(sqs.get_queue_url(QueueName=f"{settings.prefix}-runs")["QueueUrl"])


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


class _Context:
    """What ``functions.core.batch.process`` asks of a Lambda context: the time left (none is imposed)."""

    def get_remaining_time_in_millis(self) -> int:
        return 15 * 60 * 1000


class LocalWorker:
    """``threads`` pollers, each like one concurrent invocation of the worker Lambda: it receives a batch
    (up to ``batch_size`` messages, the stack's batch size), runs it through the worker and deletes what
    succeeded. The queue is short-polled, with a backoff while it is empty (moto's long polling spins on
    the CPU while messages are in flight, which would slow the server it shares its process with), and
    a message sent by this process wakes the pollers at once (``functions.aws.queue.sent_hooks``).
    """

    def __init__(self, threads: int = 4, batch_size: int = 5, sweep_every: float = 30.0,
                 requeue_at_start: bool = True, idle_backoff: tuple[float, float] = (0.05, 2.0)) -> None:
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
        from functions.aws import queue
        from functions.core.batch import process

        event = queue.receive_event(self.batch_size, 0)
        if not event["Records"]:
            return 0
        queue.acknowledge(event, process(event, _Context()))
        with self._lock:
            self.processed += len(event["Records"])
        return len(event["Records"])

    def sweep(self, at_start: bool = False) -> Any:
        from functions.core.engine import get_engine
        from functions.core.sweep import sweep

        return sweep(get_engine(), requeue_queued=at_start and self.requeue_at_start,
                     dead=dead_runner if at_start else None)

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
        from functions.aws import queue

        self._stop.clear()
        if self._sent not in queue.sent_hooks:
            queue.sent_hooks.append(self._sent)
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
        from functions.aws import queue

        self._stop.set()
        self._wake.set()
        if self._sent in queue.sent_hooks:
            queue.sent_hooks.remove(self._sent)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        still = [t.name for t in self._threads if t.is_alive()]
        if still:
            log.warning("local worker stopped with batches still running: %s", ", ".join(still))
        self._threads = []
        log.info("local queue worker stopped")
