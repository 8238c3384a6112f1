"""Starting runs over HTTP: execute (JSON body), trigger (query string), webhooks (signed body).

Runs are accepted by ``Engine.accept``: execute and trigger answer 200 with the finished run, or 202
with its ``status_url`` when it is still going after ``WFP_SYNC_WAIT_SECONDS`` (and at once with
``?async=1``); webhooks always answer 202 once the run is recorded and queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from functions.core.engine import Submission
from functions.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from functions.core.idempotency import KEY_RE, check_key
from functions.core.inputs import REQUEST_KEY
from functions.http.deps import PlatformDep, run_url
from functions.http.payloads import parse_body, read_body, request_inputs
from functions.http.schemas import RunAccepted, RunResult, error_responses
from functions.http.webhooks import auth as webhook_auth
from functions.http.webhooks import request_view

router = APIRouter(tags=["workflows"])

ERRORS = error_responses({
    404: "Unknown workflow", 409: "Inactive, broken, or trigger not allowed; or an Idempotency-Key already used "
                                  "with other inputs",
    422: "Invalid inputs (one error per field)", 400: "Malformed body or header",
    413: "Body too large", 415: "Unsupported content type",
    401: "Missing or wrong webhook token or signature",
    503: "The webhook's secret cannot be read (deployed: nothing was recorded), or the run could not be queued "
         "(its record says so)"})
ACCEPTED = {"model": RunAccepted, "description": "Accepted: recorded, not finished yet (poll status_url)"}
RUN_RESPONSES = {202: ACCEPTED, **{c: ERRORS[c] for c in (400, 404, 409, 413, 415, 422, 503)}}
WEBHOOK_RESPONSES = {
    200: {"description": "A handshake answered without a run (Slack's url_verification: {\"challenge\"}; GitHub's "
                         "ping), or a Slack delivery accepted (empty body; the run id in Location and X-Run-Id)",
          "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}},
    **{c: ERRORS[c] for c in (400, 401, 404, 409, 413, 415, 422, 503)}}

#: Checked by ``check_key`` (a malformed key is the documented 400), not by FastAPI's constraints, which
#: would answer 422 first.
IdempotencyKey = Header(None, alias=IDEMPOTENCY_HEADER, json_schema_extra={"pattern": KEY_RE.pattern},
                        description="1 to 255 printable ASCII characters (a UUID), else 400. Same key and inputs "
                                    "within 24 h: the same run, which runs once; same key with other inputs: 409")
RunAsync = Query(False, alias="async", description="Answer 202 at once; the worker runs it")


def _answer(request: Request, platform: PlatformDep, submission: Submission, sync: bool) -> JSONResponse:
    run = submission.run
    url = run_url(request, platform, run.run_id)
    headers = {"Idempotent-Replayed": "true"} if submission.replay else {}
    if sync and run.finished:
        return JSONResponse(RunResult.of(run, url).model_dump(mode="json"), headers=headers)
    headers["Location"] = url
    return JSONResponse(RunAccepted.of(run, url, submission.replay).model_dump(mode="json"), status_code=202,
                        headers=headers)


async def _accept(platform: PlatformDep, name: str, data: dict[str, Any], trigger: str, run_async: bool,
                  key: str | None) -> Submission:
    wait = None if run_async else platform.settings.sync_wait_seconds
    return await run_in_threadpool(platform.engine.accept, name, data, trigger, wait=wait, idempotency_key=key)


async def _submit(request: Request, platform: PlatformDep, name: str, data: dict[str, Any], trigger: str,
                  run_async: bool, key: str | None) -> JSONResponse:
    submission = await _accept(platform, name, data, trigger, run_async, check_key(key))
    return _answer(request, platform, submission, sync=not run_async)


#: Bodies are read by ``payloads`` (for clear 400/413/415 errors); this documents them in /docs.
INPUTS_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": {"type": "object", "additionalProperties": True,
                                    "description": "Inputs, as a JSON object"}},
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": True}}}}}


@router.post("/api/workflows/execute/{name}", response_model=RunResult, responses=RUN_RESPONSES,
             openapi_extra=INPUTS_BODY)
async def execute_workflow(name: str, request: Request, platform: PlatformDep, run_async: bool = RunAsync,
                           idempotency_key: str | None = IdempotencyKey) -> JSONResponse:
    """Run a workflow with the JSON body as inputs and answer with the finished run (202 if it is still
    running after the wait bound, or with ``?async=1``)."""
    data = await request_inputs(request, with_query=False, text_as_json=False)
    return await _submit(request, platform, name, data, "manual", run_async, idempotency_key)


@router.get("/api/workflows/trigger/{name}", response_model=RunResult, responses=RUN_RESPONSES)
async def trigger_workflow(name: str, request: Request, platform: PlatformDep, run_async: bool = RunAsync,
                           idempotency_key: str | None = IdempotencyKey) -> JSONResponse:
    """Run a workflow with the query parameters as inputs (``?user_email=a@b.c``); ``async`` is not one."""
    data = {k: v for k, v in request.query_params.items() if k != "async"}
    return await _submit(request, platform, name, data, "api", run_async, idempotency_key)


@router.post("/api/webhooks/{name}", status_code=202, response_model=RunAccepted, responses=WEBHOOK_RESPONSES,
             tags=["webhooks"], openapi_extra=INPUTS_BODY)
async def webhook(
    name: str, request: Request, platform: PlatformDep, idempotency_key: str | None = IdempotencyKey,
    x_webhook_token: str | None = Header(None, alias="X-Webhook-Token", description="The workflow's secret"),
    x_signature_256: str | None = Header(None, alias="X-Signature-256",
                                         description="sha256=<hex HMAC-SHA256 of the raw body (or of "
                                                     "'<timestamp>.<body>'), keyed by the secret>"),
    x_signature_timestamp: str | None = Header(None, alias="X-Signature-Timestamp",
                                               description="Unix seconds, within 5 minutes; signed with the body"),
) -> JSONResponse:
    """Webhook: query parameters plus a JSON or form body as inputs. Answers 202 once the run is recorded
    and queued; authenticated as the workflow's ``"webhook_auth"`` says (its secret, as a token, an HMAC,
    or GitHub's, Stripe's or Slack's signature; ``"none"``: not at all). A sender's redelivery (same
    delivery id within 24 h) answers with the first run."""
    body = await read_body(request)
    delivery = await run_in_threadpool(webhook_auth.authenticate, platform, name, request.headers, body)
    if delivery.reply is not None:
        return JSONResponse(delivery.reply)
    data: dict[str, Any] = dict(request.query_params)
    data.update(parse_body(body, request.headers.get("content-type", "")))
    if platform.registry.workflow(name)[1].webhook_request:
        data[REQUEST_KEY] = request_view.view(request.method, request.url.path, request.query_params,
                                              request.headers, body)
    key = check_key(idempotency_key) or delivery.idempotency_key
    submission = await _accept(platform, name, data, "webhook", True, key)
    if delivery.empty_answer:
        url = run_url(request, platform, submission.run.run_id)
        return Response(status_code=200, headers={"Location": url, "X-Run-Id": submission.run.run_id})
    return _answer(request, platform, submission, sync=False)
