"""A durable run's callback URL (``POST /api/callbacks/{token}``): another service completes what the run
waits for (``ctx.wait_for_callback``) with a JSON body, without the admin token: the token, single-use
and bound to one run and one callback, is the credential (``functions.core.durable``; the admin middleware
exempts the path as it does webhooks). Wrong token 401, unknown or expired 404, already used 409;
nothing changes in each case."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from functions.http.deps import PlatformDep
from functions.http.payloads import parse_body, read_body
from functions.http.schemas import CallbackAccepted, error_responses

router = APIRouter(tags=["runs"])

RESPONSES = error_responses({401: "Wrong token", 404: "Unknown or expired callback", 409: "Already used",
                             400: "Malformed body", 413: "Body too large", 415: "Unsupported content type",
                             503: "No durable backend here"})


@router.post("/api/callbacks/{token}", status_code=202, response_model=CallbackAccepted, responses=RESPONSES,
             openapi_extra={"requestBody": {"required": False, "content": {"application/json": {"schema": {}}}}})
async def callback(request: Request, platform: PlatformDep,
                   token: str = Path(description="The token of the URL the run handed out")) -> JSONResponse:
    """Deliver the JSON body to the durable run waiting on this callback; it goes on at once."""
    from functions.core.durable import answer_callback

    body = await read_body(request)
    payload = parse_body(body, request.headers.get("content-type", "")) if body else None
    run = await run_in_threadpool(answer_callback, platform.engine, token[:400], payload)
    return JSONResponse(CallbackAccepted(run_id=run.run_id).model_dump(), status_code=202)
