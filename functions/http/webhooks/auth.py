"""Webhook authentication: a caller proves it knows the workflow's secret, or nothing is recorded.

Each webhook-enabled workflow has its own secret:

- locally, the variable ``WFP_WEBHOOK_SECRET_<WORKFLOW>`` (the workflow name upper-cased, from the
  environment or ``.env``);
- deployed, the Secrets Manager secret ``<prefix>/webhooks/<workflow>`` the stack generates (read
  through the platform's secret reader, cached 5 minutes; a plain string, or JSON ``{"secret": ...}``).
  For Stripe and Slack, which make their own secrets, put theirs in it. The variable wins if both exist.

How a request proves it depends on the workflow's ``"webhook_auth"`` (``PROVIDERS``). Anything else is
a 401 that says what to send, and no run is recorded. ``"none"`` opts out (for senders that cannot
sign). A workflow with no secret configured accepts unsigned calls locally, with a warning in the log
and on the dashboard; deployed (``WFP_REQUIRE_WEBHOOK_SECRETS``, set by the CDK), a secret that cannot
be read refuses the call (503) rather than letting it in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from functions.aws.secrets import SecretUnavailable, unwrap
from functions.core import redaction
from functions.http.webhooks.base import (
    Delivery,
    Provider,
    WebhookSecretUnavailable,
    WebhookUnauthorized,
    clock,
)
from functions.http.webhooks.github import GitHub
from functions.http.webhooks.platform_scheme import Hmac, Secret, Token
from functions.http.webhooks.slack import Slack
from functions.http.webhooks.stripe import Stripe
from functions.platform import Platform
from functions.registry.config import WorkflowConfig
from functions.settings import Settings

__all__ = ["PROVIDERS", "Delivery", "WebhookSecretUnavailable", "WebhookUnauthorized", "authenticate",
           "env_var", "secret_for", "verify", "warning"]

log = logging.getLogger(__name__)

#: ``"webhook_auth"`` values (``registry.config.WebhookAuth``) and their checks; ``none`` has no entry.
PROVIDERS: dict[str, Provider] = {p.name: p for p in (Secret(), Token(), Hmac(), GitHub(), Stripe(), Slack())}

_warned: set[str] = set()


def env_var(workflow: str) -> str:
    return f"WFP_WEBHOOK_SECRET_{workflow.upper()}"


def secret_for(platform: Platform, workflow: str) -> str | None:
    """The workflow's secret: the variable, else (deployed) the Secrets Manager secret; None if neither.
    A secret that exists but cannot be read refuses the call (503) rather than opening it."""
    value = os.environ.get(env_var(workflow), "").strip() or None
    if value is None and platform.settings.require_webhook_secrets:
        name = platform.settings.webhook_secret_name(workflow)
        try:
            value = unwrap(platform.secrets.text(name), "secret", "token")
        except SecretUnavailable as exc:
            raise WebhookSecretUnavailable(f"{exc}; the call is refused until it can be") from None
    if value:
        redaction.register_global(value)
    return value


def warning(workflow: str, config: WorkflowConfig, settings: Settings) -> str | None:
    """What the dashboard and ``GET /api/workflows`` say about a webhook that accepts unsigned calls.
    No AWS call: deployed, the generated secret is assumed (a missing one refuses calls with a 503)."""
    if "webhook" not in config.triggers:
        return None
    if config.webhook_auth == "none":
        return 'accepts unsigned calls ("webhook_auth": "none" in its config.json)'
    if settings.require_webhook_secrets or os.environ.get(env_var(workflow), "").strip():
        return None
    return (f"accepts unsigned calls: no secret configured (set {env_var(workflow)} in .env to require "
            f"{'a token or signature' if config.webhook_auth == 'secret' else 'its ' + config.webhook_auth + ' signature'})")


def verify(workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None,
           scheme: str = "secret") -> None:
    """Raise WebhookUnauthorized unless the headers prove knowledge of ``secret`` for this body."""
    PROVIDERS[scheme].verify(workflow, secret, headers, body, clock(now))


def authenticate(platform: Platform, workflow: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    """The webhook route's check, before its body is parsed or anything is recorded.

    Unknown and broken workflows raise their 404/409 first; so does a workflow that does not accept
    webhooks or is inactive (the engine refuses those anyway, and deployed they have no secret to ask
    for). Then the workflow's secret, when it has one, must be proven the way its provider signs.
    """
    plugin, config = platform.registry.workflow(workflow)
    if not config.active or "webhook" not in config.triggers or config.webhook_auth == "none":
        return Delivery("none")
    provider = PROVIDERS[config.webhook_auth]
    secret = secret_for(platform, workflow)
    if secret is None:
        if platform.settings.require_webhook_secrets:
            raise WebhookSecretUnavailable(
                f"webhook '{workflow}' has no secret ({platform.settings.webhook_secret_name(workflow)} does not "
                "exist): redeploy to create it, or set \"webhook_auth\": \"none\" to accept unsigned calls")
        if workflow not in _warned:
            _warned.add(workflow)
            log.warning("webhook '%s' accepts unsigned calls: set %s to require a token or signature",
                        workflow, env_var(workflow))
    else:
        provider.verify(workflow, secret, headers, body, clock(None))
    return provider.delivery(headers, body)
