"""Generic webhook: the notice's JSON (``Notice.payload``) POSTed to the profile's ``url``, signed with the
platform's HMAC scheme as ``functions.http.webhooks.platform_scheme`` verifies it: ``X-Signature-Timestamp:
<unix seconds>`` and ``X-Signature-256: sha256=<hex HMAC-SHA256 of '<timestamp>.<body>'>`` keyed by the
profile's ``secret``. Another platform receives it on a workflow with ``"webhook_auth": "hmac"`` (or the
default ``"secret"``) whose webhook secret is that same value."""

from __future__ import annotations

import hashlib
import hmac
import time

from functions.core.notify.base import Notice, Notifier, dumps, post_json


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    stamp = str(timestamp)
    digest = hmac.new(secret.encode("utf-8"), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Signature-256": f"sha256={digest}", "X-Signature-Timestamp": stamp}


class WebhookNotifier(Notifier):
    kind = "webhook"

    def __init__(self, url: str, secret: str, timeout: float) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.secrets = (url, secret)

    def send(self, notice: Notice) -> None:
        body = dumps(notice.payload)
        post_json(self.url, body, sign(self.secret, body, int(time.time())), self.timeout)
