"""GitHub: ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed by the webhook's
secret (https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries).

GitHub signs no timestamp, so a captured delivery stays valid; ``X-GitHub-Delivery`` (a GUID kept when
GitHub or a person redelivers) makes a replay return the first run instead of starting another. The
``ping`` GitHub sends when the webhook is created is answered 200 without a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.http.webhooks.base import (
    Provider,
    WebhookUnauthorized,
    header,
    hmac_sha256,
    json_object,
    same,
)
from functions.http.webhooks.platform_scheme import SIGNATURE_RE


class GitHub(Provider):
    name = "github"
    expects = ("'X-Hub-Signature-256: sha256=<hex>' as GitHub sends it (set the webhook's Secret in GitHub to "
               "this workflow's secret, Content type application/json)")

    def verify(self, workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        signature = header(headers, "x-hub-signature-256")
        if signature is None:
            raise WebhookUnauthorized(f"webhook '{workflow}' requires GitHub's signature: send {self.expects}")
        match = SIGNATURE_RE.match(signature)
        if match is None:
            raise WebhookUnauthorized(f"webhook '{workflow}': X-Hub-Signature-256 must be 'sha256=' followed by "
                                      "64 hex digits")
        if not same(match.group(1), hmac_sha256(secret, body)):
            raise WebhookUnauthorized(f"webhook '{workflow}': the X-Hub-Signature-256 does not match this body "
                                      "(is the webhook's Secret in GitHub this workflow's secret?)")

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return header(headers, "x-github-delivery") or None

    def reply(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | None:
        if header(headers, "x-github-event") != "ping":
            return None
        hook = json_object(body).get("hook_id")
        return {"ok": True, "event": "ping", "hook_id": hook, "message": "pong: no run is started for a ping"}
