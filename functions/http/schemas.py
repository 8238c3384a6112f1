"""Response models of the HTTP API: what /docs shows and what every endpoint promises to return."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.core.runs import Run, RunStatus, RunSummary
from functions.core.schedule_state import ScheduledJob  # noqa: F401 - the API's model of a scheduled job
from functions.registry.config import InputField, WebhookAuth


class _Response(BaseModel):
    """Response models are built on first use (pydantic's ``defer_build``), not at import: a cold start
    serving /docs or the dashboard's static files never validates one (~25 ms of an import)."""

    model_config = ConfigDict(defer_build=True)


class ErrorOut(_Response):
    error: str = Field(description="What went wrong and what to do about it")
    detail: Any = Field(None, description="Structured detail: per-field errors for 422, file and reason for plugins")


ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses, each answering an ``ErrorOut`` (by reference).

    Written out rather than as ``{"model": ErrorOut}``: for each status of each route FastAPI would
    build a serializer of a model it never serializes (errors are answered by ``functions.http.app``),
    ~0.3 ms each, 10-15 ms of a cold start in all. ``declare_platform_errors`` puts ``ErrorOut`` in
    the document's components, which these entries refer to.
    """
    return {code: {"description": text, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}
            for code, text in descriptions.items()}


class FieldError(_Response):
    field: str
    message: str


class ValidationErrorOut(_Response):
    """What a 422 looks like (``functions.http.app`` maps every validation error to it)."""

    error: str
    detail: list[FieldError]


REQUEST_LINE_ERRORS = {"400": "Malformed request line (percent-encoding, UTF-8, NUL) or body",
                       "414": "Path or query string too long"}


def declare_platform_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the app answers.

    - 422s: FastAPI documents its own ``HTTPValidationError`` shape (``{"detail": [{"loc", "msg",
      "type"}]}``) on every route with parameters, but ``functions.http.app`` answers
      ``{"error", "detail": [{"field", "message"}]}``.
    - 400 and 414, which ``functions.http.middleware.limits`` may answer on any path, on every operation.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "HTTPValidationError" in components:
        ours = ValidationErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(ours.pop("$defs", {}))
        components["HTTPValidationError"] = ours
        components.pop("ValidationError", None)
    components.setdefault("ErrorOut", ErrorOut.model_json_schema())
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, text in REQUEST_LINE_ERRORS.items():
                responses.setdefault(code, {"description": text, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}})
    return schema


class WorkflowOut(_Response):
    name: str = Field(description="Identifier: the folder name under plugins/workflows")
    display_name: str
    description: str = ""
    category: str = "general"
    active: bool = True
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    warnings: list[str] = []
    triggers: list[str] = []
    schedule: str | None = None
    timezone: str = "UTC"
    next_run: datetime | None = None
    webhook_url: str | None = None
    inputs: list[InputField] = []
    tools_required: list[str] = []
    tools_profiles: dict[str, str] = {}
    timeout_seconds: int = 60
    webhook_auth: WebhookAuth | None = Field(
        None, description="Webhook workflows: how a call proves its sender: 'secret' (a token or HMAC "
                          "signature), 'token', 'hmac', 'github', 'stripe', 'slack', or 'none'")
    webhook_request: bool = Field(False, description="The run receives the request it came from (input _request)")
    webhook_warning: str | None = Field(None, description="Set when the webhook accepts unsigned calls")
    retry_on_error: bool = False
    max_attempts: int = 3


class RunResult(_Response):
    """A finished (or accepted) run: what execute, trigger and webhook calls answer."""

    run_id: str
    workflow: str
    trigger: str
    status: RunStatus
    message: str | None = None
    error: str | None = None
    output: Any = Field(None, description="What the workflow's execute() returned (bounded)")
    data: Any = Field(None, description="output['data'] when the workflow returned one (the seed's shape)")
    output_truncated: bool = False
    duration_ms: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_url: str

    @classmethod
    def of(cls, run: Run, run_url: str) -> "RunResult":
        data = run.output.get("data") if isinstance(run.output, dict) else None
        return cls(**run.model_dump(include=set(cls.model_fields) - {"data", "run_url"}), data=data,
                   run_url=run_url)


class RunAccepted(_Response):
    """A run accepted but not finished yet (202): webhooks, ``?async=1``, or a sync call past its wait."""

    run_id: str
    workflow: str
    trigger: str
    status: RunStatus = Field(description="'queued' or 'running'; a replay may find it finished already")
    message: str | None = None
    created_at: datetime
    status_url: str = Field(description="GET it for the run's status, output and logs")
    replayed: bool = Field(False, description="True when an Idempotency-Key named an earlier request's run")

    @classmethod
    def of(cls, run: Run, status_url: str, replayed: bool = False) -> "RunAccepted":
        return cls(run_id=run.run_id, workflow=run.workflow, trigger=run.trigger, status=run.status,
                   message=run.message, created_at=run.created_at, status_url=status_url, replayed=replayed)


class RunHistory(_Response):
    workflow: str
    runs: list[RunSummary]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= to get the next (older) page")


class RunList(_Response):
    """A page of ``GET /api/runs``: runs of every workflow matching the filters, newest first."""

    runs: list[RunSummary]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= (with the same filters) to get the next "
                                                      "(older) page; a page may hold fewer runs than limit and "
                                                      "still have one (each page makes a bounded number of reads)")
    since: datetime = Field(description="The window the page covers: runs created at or after this...")
    until: datetime = Field(description="... and at or before this (UTC)")


class RunOut(Run):
    model_config = ConfigDict(defer_build=True)


class ActionOut(_Response):
    name: str
    description: str = ""
    parameters: dict[str, Any] = {}
    example: Any = None


class ToolOut(_Response):
    name: str
    display_name: str
    description: str = ""
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    warnings: list[str] = []
    required_params: list[str] = []
    optional_params: list[str] = []
    actions: list[ActionOut] = []
    profiles: list[str] = Field([], description="Configured profile names (values are never shown)")
    oauth: bool = False


class PluginOut(_Response):
    kind: Literal["tool", "workflow", "interface"]
    name: str
    status: Literal["ok", "error"]
    error: str | None = None
    file: str | None = None
    warnings: list[str] = []


class PluginsOut(_Response):
    plugins: list[PluginOut]
    errors: int


class OAuthStatus(_Response):
    """What a tool reports about its connection; token values are never part of it."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    tool: str
    profile: str
    requires_oauth: bool = False
    connected: bool = False
    status: str | None = Field(None, description="OAuth tools: connected, not_configured, not_connected, "
                                                 "expired or reauth_required")
    provider: str | None = None
    service: str | None = None
    scopes: list[str] = Field([], description="Scopes granted to the stored token")
    expiry: datetime | None = Field(None, description="When the stored access token expires (it is refreshed "
                                                      "automatically while a refresh token exists)")
    has_refresh_token: bool = False
    auth_url: str | None = Field(None, description="Where to (re)connect, when a connection is needed")
    message: str | None = Field(None, description="What is wrong and what to do, when not connected")


class ReloadOut(_Response):
    plugins: int
    errors: list[PluginOut]


class InterfaceOut(_Response):
    name: str
    display_name: str
    description: str = ""
    route: str | None = None
    icon: str = ""
    status: Literal["ok", "error"] = "ok"
    error: str | None = None


class BulkRerunItem(BaseModel):
    run_id: str
    workflow: str
    status: str
    rerun_id: str | None = Field(None, description="The new run (queued), or null when this one was refused")
    error: str | None = Field(None, description="Why this run was not re-run (inactive workflow, masked input...)")


class BulkRerun(_Response):
    """``POST /api/runs/rerun``: the runs the filters match (at most ``limit``, newest first) and, once
    confirmed, what became of each."""

    confirmed: bool
    count: int
    more: bool = Field(description="More runs match than limit: the newest limit were taken")
    runs: list[RunSummary] = []
    results: list[BulkRerunItem] = []
    message: str


class ResumeIn(BaseModel):
    """The body of ``POST /api/runs/{run_id}/resume`` (optional)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    inputs: dict[str, Any] = Field({}, description="Inputs over the stored ones: every masked input (passwords, "
                                                   "secret-looking keys) must be given again")


class ApprovalIn(BaseModel):
    """The body of ``POST /api/runs/{run_id}/approvals/{name}``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    approve: bool = Field(description="true approves, false rejects (the workflow decides what a rejection does)")
    comment: str | None = Field(None, max_length=2000)
    by: str | None = Field(None, max_length=200, description="Who answers (shown in the run); default 'admin'")


class CallbackAccepted(BaseModel):
    """What a callback URL answers: the callback was delivered to its run (nothing else of the run)."""

    model_config = ConfigDict(defer_build=True)

    accepted: bool = True
    run_id: str


class RerunIn(BaseModel):
    """The body of ``POST /api/runs/{run_id}/rerun`` (optional: no body re-runs with the stored inputs)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    inputs: dict[str, Any] = Field({}, description="Inputs over the stored ones: every masked input (passwords, "
                                                   "secret-looking keys) must be given again")
    profiles: dict[str, str] = Field({}, description="Tool profiles for this run only, e.g. {\"my_tool\": \"TEST\"}; "
                                                     "each a tool of the workflow's tools_required")
