"""A durable multi-step workflow: collect → publish (a flaky upstream: retried with backoff) → wait → summarize.

The publish step fails its first ``upstream_failures`` attempts (a stand-in for a flaky service) and is
declared with ``retries``: with fewer retries than failures the run fails at that step, and
``POST /api/runs/{id}/resume`` (or ``wfp runs resume ID``) goes on from it without collecting again.
"""

import logging
from typing import Any, Dict

log = logging.getLogger(__name__)

#: Attempts of the publish step per run, in this process (the stand-in upstream's memory).
_ATTEMPTS: Dict[str, int] = {}


def collect(days: int) -> list:
    figures = [{"day": d + 1, "orders": 10 + (d * 7) % 5} for d in range(days)]
    log.info("collected %d day(s) of figures", len(figures))
    return figures


def publish(run_id: str, figures: list, failures: int) -> Dict[str, Any]:
    _ATTEMPTS[run_id] = _ATTEMPTS.get(run_id, 0) + 1
    if _ATTEMPTS[run_id] <= failures:
        raise ConnectionError(f"upstream unavailable (attempt {_ATTEMPTS[run_id]})")
    log.info("published %d figure(s) on attempt %d", len(figures), _ATTEMPTS[run_id])
    return {"published": len(figures), "attempt": _ATTEMPTS[run_id]}


def execute(data: Dict[str, Any], tools: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
    figures = ctx.step("collect", collect, int(data.get("days") or 7))
    receipt = ctx.step("publish", publish, ctx.run_id, figures, int(data.get("upstream_failures") or 0),
                       retries=int(data.get("retries") if data.get("retries") is not None else 2), backoff=2)
    settle = int(data.get("settle_seconds") or 0)
    if settle > 0:
        ctx.sleep(seconds=settle, name="settle")
    total = ctx.step("summarize", lambda: sum(f["orders"] for f in figures))
    return {"status": "success", "message": f"{total} orders over {len(figures)} day(s), published on attempt "
                                            f"{receipt['attempt']}", "data": {"total": total, **receipt}}
