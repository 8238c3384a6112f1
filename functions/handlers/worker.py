"""Lambda ``worker``: SQS batches of queued runs → the engine, one run per message.

Powertools Batch reports the messages that failed (``batchItemFailures``), so only those come back;
a workflow that fails is a recorded ``error`` run, not a failed message. A message fails when it is
malformed (it ends in the dead-letter queue), when AWS fails (DynamoDB, say), or when too little of
this invocation's time is left to give the run its whole timeout: it returns to the queue instead of
being cut off by the Lambda timeout.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions import observability
from functions.engine import get_engine
from functions.errors import PlatformError
from functions.observability import logger, tracer
from functions.queue import QueuedRun

observability.install()
#: Failures are reported per message even when all fail (no exception): SQS redelivers exactly those,
#: and a message that keeps failing ends in the dead-letter queue.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

#: Seconds kept for saving the run record after the workflow's own timeout.
MARGIN_SECONDS = 10


class NotEnoughTime(RuntimeError):
    """The invocation cannot give this run its whole timeout; the message goes back to the queue."""


def run_message(record: SQSRecord, context: Any, started: list[str]) -> None:
    """Execute one message's run. ``started`` lists the runs this invocation already ran: the first
    one always gets its chance (the function's timeout covers the longest workflow timeout)."""
    message = QueuedRun.decode(record.body)
    logger.set_correlation_id(message.run_id)
    logger.append_keys(workflow=message.workflow)
    engine = get_engine()
    if started and context is not None:
        try:
            timeout = engine.registry.workflow(message.workflow)[1].timeout_seconds
        except PlatformError:
            timeout = 0  # a broken workflow's run fails at once (execute_queued records why)
        needed = (timeout + MARGIN_SECONDS) * 1000
        left = context.get_remaining_time_in_millis()
        if left < needed:
            raise NotEnoughTime(f"{left} ms left, run {message.run_id} may need {needed} ms: back to the queue")
    started.append(message.run_id)
    engine.execute_queued(message.run_id, message.data)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        try:
            run_message(record, context, started)
        except Exception:
            logger.exception("message %s failed: it returns to the queue", record.message_id)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
