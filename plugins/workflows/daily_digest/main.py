"""A scheduled workflow using a tool the platform builds from tools_required/tools_profiles."""

import logging
from typing import Any, Dict

logger = logging.getLogger(__name__)


def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    data = data or {}
    search = tools["mon_outil"].execute("search", {"query": data.get("topic", "automation"), "limit": 3})
    if search.get("status") != "success":
        return {"status": "error", "message": f"search failed: {search.get('error')}"}
    results = search["data"]["results"]
    logger.info("digest has %d item(s)", len(results))
    return {"status": "success", "message": f"{len(results)} item(s) for {search['data']['query']!r}",
            "data": {"items": results}}
