"""One run, in full: status, inputs (redacted), output, error, traceback and log lines."""

from __future__ import annotations

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from functions.http.deps import PlatformDep
from functions.http.schemas import RunOut, error_responses

router = APIRouter(tags=["runs"])


@router.get("/api/runs/{run_id}", response_model=RunOut, responses=error_responses({404: "No such run"}))
async def get_run(platform: PlatformDep,
                  run_id: str = Path(pattern=r"^[0-9a-f]{1,64}$", description="The run_id a trigger answered")) -> RunOut:
    run = await run_in_threadpool(platform.runs.get, run_id)
    return RunOut.model_validate(run.model_dump())
