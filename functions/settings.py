"""Platform settings: one ``pydantic-settings`` model, every field readable from ``WFP_<FIELD>``.

The same code runs on Lambda (the CDK sets the variables) and locally (``local_dev`` sets them, ``.env``
can override them). The composition root (``functions.platform``) reads them once and hands the same
object to everything it builds; nothing else reads the environment for a setting.

Names that follow the stage are derived when not set: ``prefix`` is ``wfp-<stage>`` and each table
``<prefix>-<table>``, so ``WFP_STAGE=prod`` alone names a whole deployment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, TypeAdapter, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
#: ``<field>: <suffix>``: the tables, named ``<prefix>-<suffix>`` unless their variable says otherwise.
TABLES = {"runs_table": "runs", "schedules_table": "schedules", "tokens_table": "tokens",
          "oauth_states_table": "oauth-states", "idempotency_table": "idempotency",
          "notices_table": "notices", "metrics_table": "metrics"}

_BOOL = TypeAdapter(bool)


def as_bool(value: Any) -> bool:
    """The platform's one string-to-bool rule (pydantic's): true/false, yes/no, on/off, 1/0, t/f, y/n,
    in any case; anything else is a ValueError naming the value."""
    try:
        return _BOOL.validate_python(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(f"{value!r} is not a yes/no value (use true or false)") from None


#: Where the Lambda layer puts the plugins (the stack also sets ``WFP_PLUGINS_DIR`` to it).
LAYER_PLUGINS_DIR = Path("/opt/python/plugins")


def _default_plugins_dir() -> Path:
    """``./plugins`` (the folder the command runs in), as the README says; on Lambda, when there is none
    there, the layer's ``/opt/python/plugins``. A ``./plugins`` that does not exist is still the answer
    off Lambda: ``wfp plugins check`` then says it looked there, instead of checking another folder."""
    local = Path.cwd() / "plugins"
    if not local.is_dir() and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return LAYER_PLUGINS_DIR
    return local


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WFP_", frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment; nothing else. Lambda has no .env and no secrets folder, and
        locally ``local_dev`` loads ``.env`` into the environment itself (it also holds the profiles'
        variables, which are no setting). Two sources instead of four halve each ``Settings()``."""
        return init_settings, env_settings

    stage: str = "dev"
    #: Names every AWS resource of one deployment: tables ``<prefix>-runs``, secrets ``<prefix>/...``.
    prefix: str = ""
    plugins_dir: Path = Field(default_factory=_default_plugins_dir)
    #: Build-time plugin manifest; when present, cold starts read it instead of scanning plugins/.
    manifest: Path | None = None
    runs_table: str = ""
    schedules_table: str = ""
    tokens_table: str = ""
    #: Pending OAuth sign-ins (``state`` records, single use, expiring through DynamoDB TTL).
    oauth_states_table: str = ""
    oauth_state_ttl_seconds: int = Field(600, ge=1)
    #: Idempotency-Key records (``functions.core.idempotency``), expiring through DynamoDB TTL.
    idempotency_table: str = ""
    idempotency_ttl_seconds: int = Field(24 * 3600, ge=1)
    #: A workflow's final hours, aggregated once for its metrics view (``functions.core.metrics``).
    metrics_table: str = ""
    #: Failure notices' state (``functions.stores.notices``): per workflow, the last notice and what was folded.
    notices_table: str = ""
    #: The default ``on_error`` of workflows that set none (JSON, ``functions.registry.on_error``), e.g.
    #: ``{"notify": [{"type": "slack", "profile": "OPS"}]}``; unset: a workflow without one notifies nothing.
    on_error: str | None = None
    #: One failure notice per workflow per this many seconds (a workflow's ``on_error.window_seconds`` wins).
    notice_window_seconds: int = Field(3600, ge=0)
    #: The SES identity email notices are sent from (deployed, the stack grants ses:SendEmail on it only).
    notify_email_from: str | None = None
    #: How long a notifier's HTTP request may take (it runs after the run is saved, before its caller hears).
    notify_timeout_seconds: float = Field(5.0, gt=0, le=30)
    #: The SQS queue of async runs (the stack's; locally, a queue of the local AWS).
    queue_url: str | None = None
    #: Public base URL (e.g. a custom domain); otherwise derived from each request.
    public_url: str | None = None
    #: What a run keeps of its output and log lines (``functions.stores.run_data``): the record holds
    #: what fits its budget (``record_*``, well under DynamoDB's 400 KB item limit), the rest goes whole
    #: to the run-data bucket. The ``max_*`` bounds keep a run's answer under Lambda's 6 MB response.
    max_output_bytes: int = Field(4 * 1024 * 1024, ge=1)
    max_inputs_bytes: int = Field(32 * 1024, ge=1)
    max_log_lines: int = Field(5000, ge=1)
    max_log_line_chars: int = Field(500, ge=4)
    max_log_bytes: int = Field(1024 * 1024, ge=1)
    max_traceback_chars: int = Field(16 * 1024, ge=1)
    record_output_bytes: int = Field(64 * 1024, ge=1)
    record_log_lines: int = Field(200, ge=1)
    record_log_bytes: int = Field(64 * 1024, ge=1)
    #: The S3 bucket of outputs and logs too large for their record (the stack names it; locally and in
    #: tests ``<prefix>-run-data`` in moto). Without it (no such bucket) a run keeps its record's part.
    run_data_bucket: str = ""
    run_retention_days: int = Field(90, ge=1)
    #: Runs per page of a workflow's history (API default, dashboard).
    history_page_size: int = Field(20, ge=1, le=100)
    #: The admin token (local use), or the Secrets Manager secret holding it (deployed: the CDK sets it).
    admin_token: SecretStr | None = None
    admin_token_secret: str | None = None
    #: Deployed (the CDK sets it): a webhook whose secret cannot be found is refused (503) instead of
    #: accepting unsigned calls as the local platform does.
    require_webhook_secrets: bool = False
    #: How long a synchronous execute/trigger waits for its run before answering 202 (API Gateway gives
    #: up at 29 s, so the default leaves room to record and answer).
    sync_wait_seconds: float = Field(25.0, gt=0)
    #: FastAPI's OpenTelemetry spans and metrics, for a function with an OTel SDK (e.g. the ADOT layer).
    #: Off, the app skips FastAPI's check for a configured provider on every request (~8 µs); the
    #: platform's own tracing is X-Ray, through Powertools, either way.
    opentelemetry: bool = False
    #: Where a sync run that may outlast ``sync_wait_seconds`` executes (``functions.core.engine``):
    #: "thread" keeps it in this process (a long-lived server), "worker" sends it to the queue from the
    #: start (Lambda, whose process cannot keep working after it answers; the CDK sets it).
    sync_overflow: Literal["thread", "worker"] = "thread"
    #: Deliveries of an async run on platform failures (the queue's maxReceiveCount: the CDK reads it).
    max_attempts: int = Field(3, ge=1, le=1000)
    #: First delay before retrying a run whose workflow failed (``retry_on_error``); doubles each attempt.
    retry_delay_seconds: int = Field(5, ge=0, le=900)
    #: A running run whose process died is marked interrupted this long after its timeout.
    lease_grace_seconds: int = Field(60, ge=1)
    #: A queued run that no worker started within this time is marked interrupted (its message was lost).
    queued_timeout_seconds: int = Field(3600, ge=1)
    #: Write shards of the runs table's indexes (``functions.core.shards``, SCALING.md): each takes ~1,000
    #: index writes a second. Part of the stored keys: raise them, never lower them. ``open_run_shards``:
    #: the open runs (the sweep makes one Query per shard, plus one for the pre-sharding key).
    open_run_shards: int = Field(64, ge=1, le=1000)
    #: A workflow's history (``by_history``): a history page is one Query per shard, side by side (the
    #: dashboard's home page one page per workflow), so the default stays small; 32 for one workflow taking
    #: 5,000 runs a second (SCALING.md).
    history_shards: int = Field(8, ge=1, le=256)
    #: Runs of every workflow by day (``by_day``): the runs listing queries every shard of each day it walks,
    #: so the default stays small; 64 for 10,000 runs a second (SCALING.md).
    run_day_shards: int = Field(4, ge=1, le=256)
    #: Keep the pre-sharding ``by_workflow`` index (in the template, and read with the history) for the runs
    #: written before ``by_history`` existed; false once they expired or were backfilled: the next deploy
    #: drops it (one index change per deploy: SCALING.md, "Upgrading").
    legacy_history_index: bool = True
    #: Durable workflows (``"durable": true``, ``functions.durable``): the durable Lambda function the engine
    #: starts their executions on, qualified (``name:alias`` or a qualified ARN; the CDK sets it). Unset:
    #: a durable workflow's run is refused with a 503 (locally the dev server gives its own backend).
    durable_function: str | None = None
    #: What a durable run's record keeps of each step's result (a truncated one runs again on resume) and
    #: of its log lines.
    max_step_output_bytes: int = Field(16 * 1024, ge=64)
    max_step_log_lines: int = Field(50, ge=1)

    @field_validator("queue_url", "public_url", "admin_token_secret", "durable_function", "on_error", "notify_email_from",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else (value.strip() if isinstance(value, str) else value)

    @field_validator("sync_overflow", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _derived_names(self) -> "Settings":
        # Frozen: the derived defaults are written once, here.
        prefix = self.prefix or f"wfp-{self.stage}"
        object.__setattr__(self, "prefix", prefix)
        for field, suffix in TABLES.items():
            if not getattr(self, field):
                object.__setattr__(self, field, f"{prefix}-{suffix}")
        if not self.run_data_bucket:
            object.__setattr__(self, "run_data_bucket", f"{prefix}-run-data")
        if self.public_url:
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        return self

    @classmethod
    def of_stage(cls, stage: str) -> "Settings":
        """A deployed stage's settings (the CDK app, ``wfp`` commands): its names are the stage's whatever
        ``WFP_PREFIX`` or a table variable says here; other settings still come from the environment."""
        return cls(stage=stage, prefix=f"wfp-{stage}", **{field: "" for field in TABLES})

    def profile_secret_name(self, tool: str, profile: str) -> str:
        return f"{self.prefix}/profiles/{tool}/{profile}"

    @property
    def admin_token_secret_name(self) -> str:
        """The generated admin token (the stack creates it; deployed, the API asks for it)."""
        return f"{self.prefix}/admin-token"

    def webhook_secret_name(self, workflow: str) -> str:
        """The secret a webhook caller presents (token header or HMAC key) for one workflow."""
        return f"{self.prefix}/webhooks/{workflow}"
