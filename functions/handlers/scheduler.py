"""Lambda ``scheduler``: an EventBridge tick for a workflow → at most one run with trigger ``schedule``.

The stack's rules send ``{"workflow": "<name>", "time": <event time>, "id": <event id>}`` (an input
transformer; Scheduler schedules send the same with ``<aws.scheduler.scheduled-time>``), so the run is
keyed on the time it was scheduled for: a duplicate delivery of the same tick starts nothing
(``functions.schedules``, which the local scheduler calls too). A refused tick (malformed event) is
logged and answered, not raised: EventBridge would retry it for nothing.
"""

from __future__ import annotations

from typing import Any

from functions import observability
from functions.errors import PlatformError
from functions.observability import logger, tracer
from functions.schedules import handle_event

observability.install()


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(workflow=event.get("workflow"), scheduled_time=event.get("time"))
    try:
        run = handle_event(event)
    except PlatformError as exc:
        logger.warning("scheduled event refused", extra={"error": exc.message, "status_code": exc.status_code})
        return {"workflow": event.get("workflow"), "status": "refused", "error": exc.message}
    if run is None:
        return {"workflow": event.get("workflow"), "status": "nothing to run"}
    return {"workflow": run.workflow, "run_id": run.run_id, "status": run.status}
