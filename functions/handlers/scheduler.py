"""Lambda ``scheduler``: an EventBridge schedule fired for a workflow → one run with trigger ``schedule``.

The stack's rules send ``{"workflow": "<name>", "time": <event time>, "id": <event id>}`` (an input
transformer), so the run knows the time it was scheduled for, not just when it started. A raw
"Scheduled Event" is accepted too: the workflow is ``detail.workflow``, or read from the rule's name
(``<prefix>-cron-<workflow>``, the name the stack gives its rules).

A refused run (inactive workflow, schedule trigger removed) is logged and answered, not raised:
EventBridge would retry it for nothing. Anything else raises, so the asynchronous invocation is
retried (the engine records one run per workflow and scheduled time).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from functions import observability
from functions.engine import get_engine
from functions.errors import PlatformError
from functions.observability import logger, tracer
from functions.runs import Run
from functions.settings import get_settings

observability.install()

RULE_INFIX = "-cron-"


class SchedulerEventError(ValueError):
    """The event does not say which workflow to run."""


def fire(workflow: str, scheduled_time: datetime) -> Run | None:
    """Start the workflow's run for this scheduled time (``None`` would mean: deliberately skipped).

    The single call the handler makes: ``functions.schedules.fire`` (de-duplication, pause,
    overlap control) takes its place with the same signature.
    """
    return get_engine().run(workflow, {}, "schedule", scheduled_time=scheduled_time.isoformat())


def rule_name(prefix: str, workflow: str) -> str:
    return f"{prefix}{RULE_INFIX}{workflow}"


def parse_event(event: dict[str, Any]) -> tuple[str, datetime]:
    """The workflow and the scheduled time (UTC) an event asks for."""
    workflow = event.get("workflow") or (event.get("detail") or {}).get("workflow")
    if not workflow:
        prefix = get_settings().prefix + RULE_INFIX
        for arn in event.get("resources") or []:
            name = str(arn).rsplit("/", 1)[-1]
            if name.startswith(prefix):
                workflow = name[len(prefix):]
    if not isinstance(workflow, str) or not workflow:
        raise SchedulerEventError(
            "the event names no workflow: expected {\"workflow\": NAME, \"time\": ISO-8601} (what the stack's "
            f"rules send), or a Scheduled Event with detail.workflow or from a rule named '{prefix}NAME'")
    raw = event.get("time")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else datetime.now(timezone.utc)
    except ValueError:
        raise SchedulerEventError(f"the event's time {raw!r} is not an ISO-8601 timestamp") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return workflow, when.astimezone(timezone.utc)


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    workflow, scheduled_time = parse_event(event)
    logger.append_keys(workflow=workflow, scheduled_time=scheduled_time.isoformat())
    try:
        run = fire(workflow, scheduled_time)
    except PlatformError as exc:
        logger.warning("scheduled run refused", extra={"error": exc.message, "status_code": exc.status_code})
        return {"workflow": workflow, "status": "refused", "error": exc.message}
    if run is None:
        return {"workflow": workflow, "status": "skipped"}
    return {"workflow": workflow, "run_id": run.run_id, "status": run.status}
