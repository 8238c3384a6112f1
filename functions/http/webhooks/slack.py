"""Slack: ``X-Slack-Signature: v0=<hex>``, the HMAC-SHA256 of ``v0:<X-Slack-Request-Timestamp>:<raw body>``
keyed by the app's signing secret, the timestamp within 5 minutes
(https://api.slack.com/authentication/verifying-requests-from-slack). Form bodies (slash commands,
interactivity) and JSON bodies (the Events API) alike.

Slack gives an app 3 seconds to answer: the webhook route only records and queues the run (it never
runs it there), and answers 200 with an empty body (the run id in its ``Location`` and ``X-Run-Id``
headers): a non-empty answer to a slash command would be posted to the user. The Events API's ``url_verification`` challenge, sent when the Request URL is saved,
is answered with its ``challenge`` and starts no run. Slack retries an event with the same
``event_id`` (and an ``X-Slack-Retry-Num``): within 24 h it returns the first run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.http.webhooks.base import (
    Provider,
    WebhookUnauthorized,
    check_timestamp,
    header,
    hmac_sha256,
    json_object,
    same,
)


class Slack(Provider):
    name = "slack"
    empty_answer = True
    expects = ("'X-Slack-Signature: v0=<hex>' and 'X-Slack-Request-Timestamp' as Slack sends them (this "
               "workflow's secret must be the app's Signing Secret, from its Basic Information page)")

    def verify(self, workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        signature, stamp = header(headers, "x-slack-signature"), header(headers, "x-slack-request-timestamp")
        if signature is None or stamp is None:
            raise WebhookUnauthorized(f"webhook '{workflow}' requires Slack's signature: send {self.expects}")
        check_timestamp(workflow, "X-Slack-Request-Timestamp", stamp, now)
        if not signature.startswith("v0=") or not same(signature[3:], hmac_sha256(secret, f"v0:{stamp}:".encode()
                                                                                     + body)):
            raise WebhookUnauthorized(f"webhook '{workflow}': the X-Slack-Signature does not match this body and "
                                      "timestamp (is this workflow's secret the app's Signing Secret?)")

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        event = json_object(body).get("event_id")
        return event if isinstance(event, str) and event else None

    def reply(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | None:
        payload = json_object(body)
        if payload.get("type") != "url_verification":
            return None
        return {"challenge": payload.get("challenge")}
