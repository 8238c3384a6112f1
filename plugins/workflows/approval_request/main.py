"""A durable approval: request → a person approves or rejects → act; a reminder if nobody answers in time.

``"durable": true`` in config.json: ``execute`` gets ``ctx`` (README, "Durable workflows"). Each
``ctx.step`` runs once, even though this function runs again from the top every time the run wakes up.
"""

import logging
from typing import Any, Dict

log = logging.getLogger(__name__)


def record_request(request: str, requester: str) -> Dict[str, Any]:
    log.info("approval requested by %s: %s", requester, request)
    return {"request": request, "requester": requester}


def send_reminder(request: str) -> str:
    log.warning("reminder: '%s' is still waiting for an approval", request)
    return "reminded"


def act(request: str, approver: str) -> str:
    log.info("acting on '%s' (approved by %s)", request, approver)
    return f"done: {request}"


def execute(data: Dict[str, Any], tools: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
    request = data.get("request") or "Deploy v2 to production"
    ctx.step("record request", record_request, request, data.get("requester") or "someone")
    prompt = f"Approve: {request}?"
    try:
        answer = ctx.wait_for_approval("approve", prompt=prompt, timeout=int(data.get("answer_within_seconds") or 3600))
    except ctx.TimedOut:
        ctx.step("reminder", send_reminder, request)
        answer = ctx.wait_for_approval("approve after reminder", prompt=f"(reminder) {prompt}",
                                       timeout=int(data.get("give_up_after_seconds") or 86400))
    if not answer.approved:
        return {"status": "success", "message": f"rejected by {answer.by}" + (f": {answer.comment}" if answer.comment else ""),
                "data": {"approved": False}}
    result = ctx.step("act", act, request, answer.by or "admin")
    return {"status": "success", "message": result, "data": {"approved": True, "by": answer.by, "comment": answer.comment}}
