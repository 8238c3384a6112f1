"""Platform settings, read once from the environment.

Everything configurable is an environment variable so the same code runs on Lambda (the CDK sets the
variables) and locally (``local_dev`` sets them, ``.env`` can override them). Read lazily and cached:
importing this module costs nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_plugins_dir() -> Path:
    """The repo's ``plugins/`` locally; ``/opt/python/plugins`` (the shared layer) on Lambda."""
    local = REPO_ROOT / "plugins"
    if local.is_dir():
        return local
    return Path("/opt/python/plugins")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name, "").strip().lower() or default
    if raw not in allowed:
        raise ValueError(f"environment variable {name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    #: Names every AWS resource of one deployment: tables ``<prefix>-runs``, secrets ``<prefix>/...``.
    prefix: str = "wfp-dev"
    plugins_dir: Path = field(default_factory=_default_plugins_dir)
    #: Build-time plugin manifest; when present, cold starts read it instead of scanning plugins/.
    manifest_path: Path | None = None
    runs_table: str = "wfp-dev-runs"
    schedules_table: str = "wfp-dev-schedules"
    tokens_table: str = "wfp-dev-tokens"
    #: Pending OAuth sign-ins (``state`` records, single use, expiring through DynamoDB TTL).
    oauth_states_table: str = "wfp-dev-oauth-states"
    oauth_state_ttl_seconds: int = 600
    queue_url: str | None = None
    #: Public base URL (e.g. a custom domain); otherwise derived from each request.
    public_url: str | None = None
    #: Bounds that keep a run record well under DynamoDB's 400 KB item limit.
    max_output_bytes: int = 64 * 1024
    max_inputs_bytes: int = 32 * 1024
    max_log_lines: int = 200
    max_log_line_chars: int = 500
    max_log_bytes: int = 64 * 1024
    max_traceback_chars: int = 16 * 1024
    run_retention_days: int = 90
    history_page_size: int = 20
    #: Idempotency-Key records (``functions.core.idempotency``), expiring through DynamoDB TTL.
    idempotency_table: str = "wfp-dev-idempotency"
    idempotency_ttl_seconds: int = 24 * 3600
    #: Deployed (the CDK sets WFP_REQUIRE_WEBHOOK_SECRETS=1): a webhook whose secret cannot be found is
    #: refused (503) instead of accepting unsigned calls as the local platform does.
    require_webhook_secrets: bool = False
    #: How long a synchronous execute/trigger waits for its run before answering 202 (API Gateway gives
    #: up at 29 s, so the default leaves room to record and answer).
    sync_wait_seconds: float = 25.0
    #: Where a sync run that may outlast ``sync_wait_seconds`` executes (``functions.core.engine.Engine.submit``):
    #: "thread" keeps it in this process (a long-lived server), "worker" sends it to the queue from the
    #: start (Lambda, whose process cannot keep working after it answers; the CDK sets it).
    sync_overflow: str = "thread"
    #: Attempts of an async run on platform failures (the queue's maxReceiveCount, the CDK reads it).
    max_attempts: int = 3
    #: First delay before retrying a run whose workflow failed (``retry_on_error``); doubles each attempt.
    retry_delay_seconds: int = 5
    #: A running run whose process died is marked interrupted this long after its timeout.
    lease_grace_seconds: int = 60
    #: A queued run that no worker started within this time is marked interrupted (its message was lost).
    queued_timeout_seconds: int = 3600

    @property
    def secrets_prefix(self) -> str:
        return self.prefix

    def profile_secret_name(self, tool: str, profile: str) -> str:
        return f"{self.prefix}/profiles/{tool}/{profile}"

    @property
    def admin_token_secret_name(self) -> str:
        """The generated admin token (the stack creates it; deployed, the API asks for it)."""
        return f"{self.prefix}/admin-token"

    def webhook_secret_name(self, workflow: str) -> str:
        """The secret a webhook caller presents (token header or HMAC key) for one workflow."""
        return f"{self.prefix}/webhooks/{workflow}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("WFP_STAGE", "dev")
    prefix = os.environ.get("WFP_PREFIX", f"wfp-{stage}")
    manifest = os.environ.get("WFP_MANIFEST")
    return Settings(
        stage=stage,
        prefix=prefix,
        plugins_dir=Path(os.environ["WFP_PLUGINS_DIR"]).resolve()
        if os.environ.get("WFP_PLUGINS_DIR")
        else _default_plugins_dir(),
        manifest_path=Path(manifest) if manifest else None,
        runs_table=os.environ.get("WFP_RUNS_TABLE", f"{prefix}-runs"),
        schedules_table=os.environ.get("WFP_SCHEDULES_TABLE", f"{prefix}-schedules"),
        tokens_table=os.environ.get("WFP_TOKENS_TABLE", f"{prefix}-tokens"),
        oauth_states_table=os.environ.get("WFP_OAUTH_STATES_TABLE", f"{prefix}-oauth-states"),
        oauth_state_ttl_seconds=_int("WFP_OAUTH_STATE_TTL_SECONDS", 600),
        queue_url=os.environ.get("WFP_QUEUE_URL") or None,
        public_url=(os.environ.get("WFP_PUBLIC_URL") or "").rstrip("/") or None,
        max_output_bytes=_int("WFP_MAX_OUTPUT_BYTES", 64 * 1024),
        max_log_lines=_int("WFP_MAX_LOG_LINES", 200),
        run_retention_days=_int("WFP_RUN_RETENTION_DAYS", 90),
        idempotency_table=os.environ.get("WFP_IDEMPOTENCY_TABLE", f"{prefix}-idempotency"),
        require_webhook_secrets=_flag("WFP_REQUIRE_WEBHOOK_SECRETS"),
        sync_wait_seconds=_float("WFP_SYNC_WAIT_SECONDS", 25.0),
        sync_overflow=_choice("WFP_SYNC_OVERFLOW", ("thread", "worker"), "thread"),
        max_attempts=max(1, _int("WFP_MAX_ATTEMPTS", 3)),
        retry_delay_seconds=max(0, _int("WFP_RETRY_DELAY_SECONDS", 5)),
        lease_grace_seconds=_int("WFP_LEASE_GRACE_SECONDS", 60),
        queued_timeout_seconds=_int("WFP_QUEUED_TIMEOUT_SECONDS", 3600),
    )


def reset_settings() -> None:
    """Forget the cached settings (tests and the local server change the environment)."""
    get_settings.cache_clear()
