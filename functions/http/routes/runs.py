"""One run, in full: status, inputs (redacted), output, error, traceback and log lines."""

from __future__ import annotations

import re

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from functions.errors import NotFound
from functions.http.deps import PlatformDep
from functions.http.schemas import RunOut, error_responses

router = APIRouter(tags=["runs"])

RUN_ID = r"^[0-9a-f]{1,64}$"


@router.get("/api/runs/{run_id}", response_model=RunOut, responses=error_responses({404: "No such run"}))
async def get_run(platform: PlatformDep,
                  run_id: str = Path(description="The run_id a trigger answered (hex digits)",
                                     json_schema_extra={"pattern": RUN_ID})) -> RunOut:
    # Documented as a pattern, checked here: a mistyped id is a run that does not exist (404), not
    # pydantic's pattern text.
    if not re.match(RUN_ID, run_id):
        raise NotFound(f"no such run: {run_id[:80]!r} is not a run id (up to 64 hex digits, as a trigger "
                       "answered it)")
    run = await run_in_threadpool(platform.runs.get, run_id)
    return RunOut.model_validate(run.model_dump())
