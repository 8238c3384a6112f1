"""Lambda ``worker``: SQS batches of queued runs → the engine, one run per message.

The batch logic (partial failures, retries, the last delivery before the dead-letter queue) is
``functions.core.batch.process`` over the process's platform, which the local queue worker calls too;
this adapter adds what only Lambda has: the Powertools logger context (correlation id = the run id),
X-Ray and run metrics.
"""

from __future__ import annotations

from typing import Any

from functions.core.batch import process
from functions.core.message import QueuedRun
from functions.handlers import observability, snapstart
from functions.handlers.observability import logger, tracer
from functions.platform import get_platform


def _tag(message: QueuedRun) -> None:
    logger.set_correlation_id(message.run_id)
    logger.append_keys(workflow=message.workflow)


snapstart.register()  # with SnapStart: plugins, stores and service models in the snapshot

@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    platform = observability.install(get_platform())
    return process(event, context, platform.queued, platform.queue, on_message=_tag)
