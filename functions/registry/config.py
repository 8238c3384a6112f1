"""The ``config.json`` contract of tools and workflows, as pydantic models.

Keys follow the seed's README. Unknown keys are tolerated (a newer or older plugin still loads) and
reported as warnings so typos like ``"trigers"`` do not pass silently.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from functions.registry import cron
from functions.registry.on_error import OnError

NAME_RE = re.compile(r"^[a-z0-9_]+$")

InputType = Literal[
    "text", "string", "textarea", "email", "number", "integer", "boolean", "date", "select", "password"
]
Trigger = Literal["manual", "api", "webhook", "schedule"]
#: How a webhook proves its sender (``functions.http.webhooks``): the platform's token or HMAC, one of
#: them only, a service's signature, or nothing.
WebhookAuth = Literal["secret", "token", "hmac", "github", "stripe", "slack", "none"]

#: Validation context of the configs read back from the build-time manifest (``functions.registry.manifest``):
#: the build validated them in full, so a cold start skips the costly checks (parsing every cron
#: expression with croniter, looking up every time zone) instead of repeating them per plugin.
FROM_MANIFEST = {"from_manifest": True}


def _from_manifest(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("from_manifest"))


class _Tolerant(BaseModel):
    # defer_build: a model's validator is built when first used (the manifest or discovery validates
    # WorkflowConfig and ToolConfig, which include the nested ones), not at import.
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def unknown_keys(self, where: str = "") -> list[str]:
        """Warnings for keys the platform does not know, recursively."""
        prefix = f"{where}." if where else ""
        warnings = [f"unknown key '{prefix}{key}' (ignored)" for key in (self.model_extra or {})]
        for name in type(self).model_fields:
            value = getattr(self, name)
            # dict entries (tool actions) are labelled by their key: 'actions[search].paramters'
            items = (value.items() if isinstance(value, dict)
                     else enumerate(value) if isinstance(value, list) else [(0, value)])
            for key, item in items:
                if isinstance(item, _Tolerant):
                    label = f"{name}[{key}]" if isinstance(value, dict) else item_label(name, item, key)
                    warnings += item.unknown_keys(f"{prefix}{label}")
        return warnings


def item_label(field: str, item: Any, index: int) -> str:
    name = getattr(item, "name", None)
    return f"{field}[{name or index}]"


class SelectOption(_Tolerant):
    value: str
    label: str | None = None


class InputField(_Tolerant):
    name: str
    type: InputType = "text"
    label: str | None = None
    required: bool = False
    description: str = ""
    default: Any = None
    options: list[SelectOption] | None = None
    placeholder: str | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        """The seed writes options as plain strings; objects ``{value, label}`` are accepted too."""
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValueError("options must be a list of strings or {value, label} objects")
        return [{"value": str(v)} if not isinstance(v, dict) else v for v in value]

    @model_validator(mode="after")
    def _select_needs_options(self) -> "InputField":
        if self.type == "select" and not self.options:
            raise ValueError(f"input '{self.name}' has type 'select' but no 'options'")
        return self

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class WorkflowConfig(_Tolerant):
    name: str | None = None
    description: str = ""
    schedule: str | None = None
    triggers: list[Trigger] = Field(default_factory=lambda: ["manual"])
    category: str = "general"
    tools_required: list[str] = []
    inputs_schema: list[InputField] = []
    tools_profiles: dict[str, str] = {}
    active: bool = True
    timezone: str = "UTC"
    timeout_seconds: int = Field(default=60, ge=1, le=900)
    webhook_auth: WebhookAuth = "secret"
    #: Give the run the request it came from (inputs ``_request``: headers and raw body).
    webhook_request: bool = False
    concurrency: int | None = Field(default=None, ge=1)
    #: Async runs are retried on platform failures; a workflow's own error only with this set.
    retry_on_error: bool = False
    #: Attempts of an async run that keeps returning an error (with ``retry_on_error``).
    max_attempts: int = Field(default=3, ge=1, le=10)
    #: What a failed run starts or notifies (``functions.registry.on_error``); absent: the platform's
    #: default (``WFP_ON_ERROR``); ``{}``: nothing, whatever the default.
    on_error: OnError | None = None
    #: A durable workflow (``functions.durable``): ``execute(data, tools, ctx)`` gets a context of
    #: checkpointed steps and waits (``ctx.step``, ``ctx.sleep``, ``ctx.wait_for_approval``,
    #: ``ctx.wait_for_callback``); its run is a durable execution (the durable Lambda deployed, the SDK's
    #: runner locally) instead of a run in the API or the worker. ``timeout_seconds`` bounds each
    #: invocation's code; ``durable_timeout_seconds`` the whole run, waits included (the sweep closes it
    #: ``timed_out`` after that).
    durable: bool = False
    durable_timeout_seconds: int = Field(default=7 * 86400, ge=1, le=366 * 86400)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return None
        if _from_manifest(info):
            return value  # normalised by cron.validate when the manifest was written
        try:
            return cron.validate(value)
        except cron.CronError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str, info: ValidationInfo) -> str:
        if _from_manifest(info):
            return value
        try:
            cron.validate_timezone(value)
        except cron.CronError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistency(self) -> "WorkflowConfig":
        if "schedule" in self.triggers and not self.schedule:
            raise ValueError("triggers include 'schedule' but no 'schedule' cron expression is set")
        names = [f.name for f in self.inputs_schema]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"inputs_schema declares {', '.join(duplicates)} more than once")
        return self

    def allows(self, trigger: str) -> bool:
        """``api`` (the GET trigger endpoint) is allowed wherever ``manual`` is; ``rerun`` (an operator
        re-running a recorded run, ``POST /api/runs/{id}/rerun``) wherever any trigger is."""
        if trigger == "rerun":
            return bool(self.triggers)
        if trigger == "api":
            return "api" in self.triggers or "manual" in self.triggers
        return trigger in self.triggers

    @property
    def scheduled(self) -> bool:
        return bool(self.schedule) and "schedule" in self.triggers


class ActionSpec(_Tolerant):
    description: str = ""
    parameters: dict[str, Any] = {}
    example: Any = None


class ToolConfig(_Tolerant):
    tool_name: str
    display_name: str | None = None
    description: str = ""
    required_params: list[str] = []
    optional_params: dict[str, Any] = {}
    actions: dict[str, ActionSpec] = {}
    profile_examples: dict[str, dict[str, Any]] = {}
    #: Set by OAuth tools (``{"provider": "google", "service": "calendar"}``); others leave it out.
    oauth: dict[str, Any] | None = None

    @field_validator("tool_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"tool_name {value!r} must match [a-z0-9_]+")
        return value

    @property
    def params(self) -> list[str]:
        """Every parameter the tool declares, required first."""
        return list(dict.fromkeys([*self.required_params, *self.optional_params]))
