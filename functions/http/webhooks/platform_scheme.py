"""The platform's own schemes, for senders you control (scripts, CI jobs, other platforms).

- ``token``: ``X-Webhook-Token: <secret>``, the secret itself (over HTTPS), compared in constant time.
- ``hmac``: ``X-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed by the secret
  (``X-Hub-Signature-256`` is accepted as the same header). With ``X-Signature-Timestamp: <unix
  seconds>`` the signed content is ``<timestamp>.<body>`` and the timestamp must be within 5 minutes,
  so a captured request cannot be replayed later, nor its timestamp refreshed without the secret.
- ``secret`` (the default): either of the two.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import ClassVar

from functions.http.webhooks.base import (
    Provider,
    WebhookUnauthorized,
    check_timestamp,
    header,
    hmac_sha256,
    same,
)

TOKEN_HEADER = "x-webhook-token"
SIGNATURE_HEADERS = ("x-signature-256", "x-hub-signature-256")
TIMESTAMP_HEADER = "x-signature-timestamp"
SIGNATURE_RE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")

TOKEN_HINT = "'X-Webhook-Token: <secret>'"
HMAC_HINT = ("'X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>' (optionally with "
             "'X-Signature-Timestamp: <unix seconds>', signing '<timestamp>.<body>')")


def _exact(token: str, secret: str) -> bool:
    return hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8"))


def check_signature(workflow: str, signature: str, secret: str, headers: Mapping[str, str], body: bytes,
                    now: float) -> None:
    match = SIGNATURE_RE.match(signature)
    if match is None:
        raise WebhookUnauthorized(f"webhook '{workflow}': X-Signature-256 must be 'sha256=' followed by 64 hex "
                                  "digits (the HMAC-SHA256 of the raw body, keyed by the secret)")
    signed = body
    stamp = header(headers, TIMESTAMP_HEADER)
    if stamp is not None:
        check_timestamp(workflow, "X-Signature-Timestamp", stamp, now)
        signed = stamp.encode() + b"." + body
    if not same(match.group(1), hmac_sha256(secret, signed)):
        what = "'<timestamp>.<body>'" if stamp is not None else "the raw body"
        raise WebhookUnauthorized(f"webhook '{workflow}': the signature does not match (it must be the "
                                  f"HMAC-SHA256 of {what}, keyed by the workflow's secret)")


def _signature(headers: Mapping[str, str]) -> str | None:
    return next((v for v in (header(headers, h) for h in SIGNATURE_HEADERS) if v is not None), None)


class Secret(Provider):
    name = "secret"
    expects = f"{TOKEN_HINT}, or {HMAC_HINT}"
    accepts_token: ClassVar[bool] = True
    accepts_signature: ClassVar[bool] = True

    def verify(self, workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        token = header(headers, TOKEN_HEADER) if self.accepts_token else None
        signature = _signature(headers) if self.accepts_signature else None
        if token is None and signature is None:
            raise WebhookUnauthorized(f"webhook '{workflow}' requires authentication: send the header "
                                      f"{self.expects}")
        if token is not None:
            if _exact(token, secret):
                return
            if signature is None:
                raise WebhookUnauthorized(f"webhook '{workflow}': the X-Webhook-Token is not this workflow's secret")
        assert signature is not None
        check_signature(workflow, signature, secret, headers, body, now)


class Token(Secret):
    name = "token"
    expects = TOKEN_HINT
    accepts_signature = False


class Hmac(Secret):
    name = "hmac"
    expects = HMAC_HINT
    accepts_token = False
