"""Scheduler: list scheduled workflows, pause and resume their schedules."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from functions.http.deps import PlatformDep
from functions.http.schemas import ScheduledJob, error_responses

router = APIRouter(tags=["scheduler"])

ERRORS = error_responses({404: "Unknown workflow",
                          409: "Broken workflow, no schedule, or already paused/resumed",
                          502: "AWS refused to enable the EventBridge rule or schedule"})


@router.get("/api/scheduler/jobs", response_model=list[ScheduledJob])
async def scheduler_jobs(platform: PlatformDep) -> list[ScheduledJob]:
    """Scheduled workflows: cron, timezone, EventBridge expression, next three runs, last run, enabled."""
    return await run_in_threadpool(platform.schedules.jobs)


@router.get("/api/scheduler/jobs/{name}", response_model=ScheduledJob, responses=ERRORS)
async def scheduler_job(name: str, platform: PlatformDep) -> ScheduledJob:
    return await run_in_threadpool(platform.schedules.get_job, name)


@router.post("/api/scheduler/jobs/{name}/pause", response_model=ScheduledJob, responses=ERRORS)
async def pause_job(name: str, platform: PlatformDep) -> ScheduledJob:
    """Pause a workflow's schedule: its ticks run nothing (and record nothing) until resumed."""
    return await run_in_threadpool(platform.schedules.pause, name)


@router.post("/api/scheduler/jobs/{name}/resume", response_model=ScheduledJob, responses=ERRORS)
async def resume_job(name: str, platform: PlatformDep) -> ScheduledJob:
    """Resume a paused schedule: the next tick runs (missed ticks are not replayed)."""
    return await run_in_threadpool(platform.schedules.resume, name)
