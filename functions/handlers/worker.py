"""Lambda ``worker``: SQS batches of queued runs → the engine, one run per message.

The batch logic (partial failures, retries, the last delivery before the dead-letter queue) is
``functions.core.batch.process``, which the local queue worker calls too; this adapter adds what only
Lambda has: the Powertools logger context (correlation id = the run id), X-Ray and run metrics.
"""

from __future__ import annotations

from typing import Any

from functions.aws.queue import QueuedRun
from functions.core.batch import MARGIN_SECONDS, NotEnoughTime, process, run_message  # noqa: F401 - re-exported
from functions.handlers import observability
from functions.handlers.observability import logger, tracer

observability.install()


def _tag(message: QueuedRun) -> None:
    logger.set_correlation_id(message.run_id)
    logger.append_keys(workflow=message.workflow)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, context, on_message=_tag)
