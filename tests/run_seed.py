"""Runs written through the run store for the listing tests (``GET /api/runs``, the runs page, ``wfp runs``):
spread over workflows, statuses, triggers and the last ``DAYS`` days, with run ids built for those past
times (``new_run_id`` would stamp them now), and the Python filter to compare a listing with."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

WORKFLOWS = ("alpha", "beta", "gamma")
STATUSES = ("success", "success", "success", "error", "timed_out", "interrupted", "skipped")
TRIGGERS = ("manual", "api", "webhook", "schedule")
DAYS = 10


def run_id_at(moment: datetime, rng: random.Random) -> str:
    return f"{int(moment.timestamp() * 1000):012x}{rng.getrandbits(48):012x}"


def seed(store: Any, count: int = 300, now: datetime | None = None, seed_value: int = 7) -> list[Any]:
    """``count`` finished runs over the last ``DAYS`` days (every 20th queued, claimed and saved on the
    way, as the worker does, so its index keys moved), plus two still open; returns what was written."""
    from functions.core.runs import Run

    rng = random.Random(seed_value)
    now = now or datetime.now(timezone.utc)
    written = []
    for n in range(count):
        created = now - timedelta(seconds=rng.uniform(60, DAYS * 86400))
        run = Run(run_id=run_id_at(created, rng), workflow=rng.choice(WORKFLOWS), trigger=rng.choice(TRIGGERS),
                  status="running", created_at=created, started_at=created, message=f"seeded {n}")
        if n % 20 == 0:
            queued = run.model_copy(update={"status": "queued", "lease_until": int(created.timestamp()) + 60})
            store.create(queued)
            assert store.claim(run.run_id, "test:1", 60) is not None
        else:
            store.create(run)
        final = run.model_copy(update={"status": rng.choice(STATUSES), "finished_at": created,
                                       "duration_ms": rng.randint(1, 5000)})
        store.save(final)
        written.append(final)
    for status in ("queued", "running"):
        created = now - timedelta(minutes=5)
        run = Run(run_id=run_id_at(created, rng), workflow="alpha", trigger="webhook", status=status,
                  created_at=created, lease_until=int(now.timestamp()) + 600)
        store.create(run)
        written.append(run)
    return written


def expected(written: list[Any], since: datetime, until: datetime, status: str | None = None,
             workflow: str | None = None, trigger: str | None = None) -> list[str]:
    """The run ids a listing must return, newest first."""
    def ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)

    return sorted((r.run_id for r in written
                   if ms(since) <= int(r.run_id[:12], 16) <= ms(until)
                   and (status is None or r.status == status) and (workflow is None or r.workflow == workflow)
                   and (trigger is None or r.trigger == trigger)), reverse=True)
