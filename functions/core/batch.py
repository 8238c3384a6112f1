"""Queued runs, one SQS batch at a time (``QueuedRuns.deliver`` for each message): what the worker Lambda
(``functions.handlers.worker``) and the local queue worker (``local_dev.worker``) both run.

Powertools Batch reports the messages that failed (``batchItemFailures``), so only those come back;
a workflow that fails is a recorded ``error`` run, not a failed message. A message fails when it is
malformed (it ends in the dead-letter queue), when the platform fails (DynamoDB, say: the run goes
back to ``queued`` and the message is made visible again after a short backoff, so it is retried
within seconds rather than after the queue's visibility timeout), or when too little of this
invocation's time is left to give the run its whole timeout. The delivery that SQS would send to the
dead-letter queue next (``ApproximateReceiveCount`` reaching ``WFP_MAX_ATTEMPTS``, the queue's
``maxReceiveCount``) closes its run as ``error`` instead, so a run never waits for a delivery that
will not come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions.core.message import QueuedRun, QueueMessageError
from functions.core.ports import Queue
from functions.core.queued import QueuedRuns
from functions.errors import PlatformError

log = logging.getLogger(__name__)

#: Seconds kept for saving the run record after the workflow's own timeout.
MARGIN_SECONDS = 10
#: Backoff before a message that met a platform failure is delivered again: 2, 4, 8... seconds.
RETRY_BASE_SECONDS = 2


class NotEnoughTime(RuntimeError):
    """The invocation cannot give this run its whole timeout; the message goes back to the queue."""


def receive_count(record: SQSRecord) -> int:
    try:
        return max(1, int(record.attributes.approximate_receive_count or 1))
    except (TypeError, ValueError):
        return 1


def run_message(record: SQSRecord, context: Any, started: list[str], queued: QueuedRuns, queue: Queue,
                on_message: Callable[[QueuedRun], None] | None = None) -> None:
    """Execute one message's run. ``started`` lists the runs this invocation already ran: the first
    one always gets its chance (the function's timeout covers the longest workflow timeout)."""
    message = QueuedRun.decode(record.body)
    if on_message is not None:
        on_message(message)
    engine = queued.engine
    count = receive_count(record)
    try:
        if started and context is not None:
            try:
                timeout = engine.registry.workflow(message.workflow)[1].timeout_seconds
            except PlatformError:
                timeout = 0  # a broken workflow's run fails at once (QueuedRuns.deliver records why)
            needed = (timeout + MARGIN_SECONDS) * 1000
            left = context.get_remaining_time_in_millis()
            if left < needed:
                raise NotEnoughTime(f"{left} ms left, run {message.run_id} may need {needed} ms: back to the queue")
        started.append(message.run_id)
        queued.deliver(message.run_id, message.data, message.workflow,
                       last_delivery=count >= engine.settings.max_attempts, profiles=message.profiles)
    except QueueMessageError:
        raise
    except Exception:
        if count < engine.settings.max_attempts:
            try:
                queue.retry_later(record.receipt_handle, RETRY_BASE_SECONDS ** count)
            except Exception as exc:  # noqa: BLE001 - it then returns after the visibility timeout
                log.warning("could not shorten the retry delay of message %s: %s", record.message_id, exc)
        raise


def process(event: dict[str, Any], context: Any, queued: QueuedRuns, queue: Queue,
            on_message: Callable[[QueuedRun], None] | None = None) -> dict[str, Any]:
    """One SQS batch → ``{"batchItemFailures": [...]}``. A processor per call: Powertools' keeps the
    batch's state on itself, and the local worker runs several batches at once."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    started: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        try:
            run_message(record, context, started, queued, queue, on_message)
        except Exception:
            log.exception("message %s failed: it returns to the queue", record.message_id)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
