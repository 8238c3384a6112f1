"""A webhook workflow: whatever the sender posts arrives in ``data``."""

import logging
from typing import Any, Dict

logger = logging.getLogger(__name__)


def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    data = data or {}
    event = data.get("event") or data.get("type") or data.get("action") or "unknown"
    logger.info("received event %s with %d field(s)", event, len(data))
    return {"status": "success", "message": f"event {event!r} received",
            "data": {"event": event, "fields": sorted(data)}}
