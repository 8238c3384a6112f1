"""Webhook authentication: a caller proves it knows the workflow's secret, or nothing is recorded.

Each webhook-enabled workflow has its own secret:

- locally, the variable ``WFP_WEBHOOK_SECRET_<WORKFLOW>`` (the workflow name upper-cased, from the
  environment or ``.env``);
- deployed, the Secrets Manager secret ``<prefix>/webhooks/<workflow>`` the stack generates (read
  through the platform's secret reader, cached 5 minutes; a plain string, or JSON ``{"secret": ...}``).
  The variable wins if both exist.

A request proves it in one of two ways:

- ``X-Webhook-Token: <secret>`` (the secret itself, over HTTPS), compared in constant time;
- ``X-Signature-256: sha256=<hex>``: the HMAC-SHA256, keyed by the secret, of the raw request body
  (GitHub's scheme; ``X-Hub-Signature-256`` is accepted as the same header). With
  ``X-Signature-Timestamp: <unix seconds>`` the signed content is ``f"{timestamp}.{body}"`` and the
  timestamp must be within ``TOLERANCE_SECONDS`` (5 minutes) of the platform's clock, so a captured
  request cannot be replayed later, and its timestamp cannot be refreshed without the secret. Without
  the timestamp header a signature is valid for as long as the secret is (use an Idempotency-Key to
  make such replays harmless).

Anything else is a 401 that says what to send, and no run is recorded. ``"webhook_auth": "none"``
in the workflow's config.json opts out (for senders that cannot sign). A workflow with no secret
configured accepts unsigned calls locally, with a warning in the log and on the dashboard; deployed
(``WFP_REQUIRE_WEBHOOK_SECRETS``, set by the CDK), a secret that cannot be read refuses the call (503)
rather than letting it in.

Hand-written: HMAC verification is ten lines of the standard library (``hmac.compare_digest``), and
the libraries that do it are tied to one sender's header names and formats.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Mapping

from functions.aws.secrets import SecretUnavailable, unwrap
from functions.core import redaction
from functions.errors import PlatformError
from functions.platform import Platform
from functions.registry.config import WorkflowConfig
from functions.settings import Settings

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-webhook-token"
SIGNATURE_HEADERS = ("x-signature-256", "x-hub-signature-256")
TIMESTAMP_HEADER = "x-signature-timestamp"
TOLERANCE_SECONDS = 300
SIGNATURE_RE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")

_warned: set[str] = set()


class WebhookUnauthorized(PlatformError):
    status_code = 401


class WebhookSecretUnavailable(PlatformError):
    status_code = 503


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
            "a token or signature)")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value is not None else None


def verify(workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Raise WebhookUnauthorized unless the headers prove knowledge of ``secret`` for this body."""
    token = _header(headers, TOKEN_HEADER)
    signature = next((v for v in (_header(headers, h) for h in SIGNATURE_HEADERS) if v is not None), None)
    if token is None and signature is None:
        raise WebhookUnauthorized(
            f"webhook '{workflow}' requires authentication: send the header 'X-Webhook-Token: <secret>', or "
            "'X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>' (optionally with "
            "'X-Signature-Timestamp: <unix seconds>', signing '<timestamp>.<body>')")
    if token is not None:
        if hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8")):
            return
        if signature is None:
            raise WebhookUnauthorized(f"webhook '{workflow}': the X-Webhook-Token is not this workflow's secret")
    match = SIGNATURE_RE.match(signature or "")
    if match is None:
        raise WebhookUnauthorized(f"webhook '{workflow}': X-Signature-256 must be 'sha256=' followed by 64 hex "
                                  "digits (the HMAC-SHA256 of the raw body, keyed by the secret)")
    signed = body
    stamp = _header(headers, TIMESTAMP_HEADER)
    if stamp is not None:
        if not stamp.isdigit() or len(stamp) > 12:
            raise WebhookUnauthorized(f"webhook '{workflow}': X-Signature-Timestamp must be a Unix time in seconds")
        skew = abs((now if now is not None else time.time()) - int(stamp))
        if skew > TOLERANCE_SECONDS:
            raise WebhookUnauthorized(
                f"webhook '{workflow}': X-Signature-Timestamp is {int(skew)} s away from the platform's clock "
                f"(at most {TOLERANCE_SECONDS} s): a replayed request, or a sender whose clock is wrong")
        signed = stamp.encode() + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(match.group(1).lower().encode(), expected.encode()):
        what = "'<timestamp>.<body>'" if stamp is not None else "the raw body"
        raise WebhookUnauthorized(f"webhook '{workflow}': the signature does not match (it must be the "
                                  f"HMAC-SHA256 of {what}, keyed by the workflow's secret)")


def authenticate(platform: Platform, workflow: str, headers: Mapping[str, str], body: bytes) -> None:
    """The webhook route's check, before its body is parsed or anything is recorded.

    Unknown and broken workflows raise their 404/409 first; so does a workflow that does not accept
    webhooks or is inactive (the engine refuses those anyway, and deployed they have no secret to ask
    for). Then the workflow's secret, when it has one, must be proven.
    """
    plugin, config = platform.registry.workflow(workflow)
    if not config.active or "webhook" not in config.triggers or config.webhook_auth == "none":
        return
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
        return
    verify(workflow, secret, headers, body)
