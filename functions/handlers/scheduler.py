"""Lambda ``scheduler``: an EventBridge tick for a workflow → at most one run with trigger ``schedule``.

The stack's rules send ``{"workflow": "<name>", "time": <event time>, "id": <event id>}`` (an input
transformer; Scheduler schedules send the same with ``<aws.scheduler.scheduled-time>``), so the run is
keyed on the time it was scheduled for: a duplicate delivery of the same tick starts nothing
(``functions.core.schedules``, which the local scheduler calls too). A refused tick (malformed event) is
logged and answered, not raised: EventBridge would retry it for nothing.

The stack's sweep rule invokes the same function every few minutes with ``{"action": "sweep"}``:
open runs whose process died are closed (``functions.core.sweep``).
"""

from __future__ import annotations

from typing import Any

from functions.errors import PlatformError
from functions.handlers import observability, snapstart
from functions.handlers.observability import logger, tracer
from functions.platform import get_platform

SWEEP_ACTION = "sweep"


snapstart.register()  # with SnapStart: plugins, stores and service models in the snapshot

@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def handler(event: Any, context: Any) -> dict[str, Any]:
    platform = observability.install(get_platform())
    if isinstance(event, dict) and event.get("action") == SWEEP_ACTION:
        from functions.core.sweep import sweep

        return {"action": SWEEP_ACTION, **sweep(platform.runs, platform.settings,
                                            closed=platform.failures.closed).as_dict()}
    fields = event if isinstance(event, dict) else {}
    logger.append_keys(workflow=fields.get("workflow"), scheduled_time=fields.get("time"))
    try:
        run = platform.schedules.handle(event)
    except PlatformError as exc:
        logger.warning("scheduled event refused", extra={"error": exc.message, "status_code": exc.status_code})
        return {"workflow": fields.get("workflow"), "status": "refused", "error": exc.message}
    if run is None:
        return {"workflow": fields.get("workflow"), "status": "nothing to run"}
    return {"workflow": run.workflow, "run_id": run.run_id, "status": run.status}
