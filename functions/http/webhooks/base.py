"""What every webhook scheme is: a check of the request against the workflow's secret, the sender's
delivery id, and an optional handshake answered without a run.

Hand-written rather than taken from each service's SDK: each check is a few lines of ``hmac`` from the
standard library, while the SDKs (stripe is 10 MB installed, slack_sdk 5 MB) would weigh on the
Lambda layer and on cold starts for those lines. The tests sign payloads with the SDKs themselves
(``slack_sdk``'s signature verifier, ``stripe``'s) and with the examples in each service's documentation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from functions.errors import PlatformError

#: How far a signed timestamp may be from the platform's clock (GitHub signs none; Stripe's and Slack's
#: own libraries use 5 minutes).
TOLERANCE_SECONDS = 300


class WebhookUnauthorized(PlatformError):
    status_code = 401


class WebhookSecretUnavailable(PlatformError):
    status_code = 503


@dataclass(frozen=True)
class Delivery:
    """What the check learnt about an accepted request."""

    provider: str
    #: The sender's id of this delivery (kept on redelivery): the same id within 24 h is the same run.
    id: str | None = None
    #: A handshake's answer (200, JSON): the request starts no run.
    reply: dict[str, Any] | None = None
    #: Answer an accepted delivery 200 with an empty body (the run id in headers): Slack shows a slash
    #: command's non-empty answer to the user as a message.
    empty_answer: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return f"{self.provider}-delivery:{self.id}" if self.id else None


class Provider:
    """One sender's scheme. Subclasses set ``name`` and ``expects`` and override ``verify``."""

    name: ClassVar[str]
    empty_answer: ClassVar[bool] = False
    #: What to send, for the 401 of a request that sends nothing (and the README).
    expects: ClassVar[str]

    def verify(self, workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Raise ``WebhookUnauthorized`` unless the request proves knowledge of ``secret`` for ``body``."""
        raise NotImplementedError

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None

    def reply(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | None:
        return None

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        return Delivery(self.name, self.delivery_id(headers, body), self.reply(headers, body), self.empty_answer)


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value is not None else None


def hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.lower().encode(), expected.encode())


def check_timestamp(workflow: str, label: str, stamp: str, now: float) -> int:
    """A signed Unix timestamp within the tolerance, or a 401 saying how far off it is."""
    if not stamp.isdigit() or len(stamp) > 12:
        raise WebhookUnauthorized(f"webhook '{workflow}': {label} must be a Unix time in seconds")
    skew = abs(now - int(stamp))
    if skew > TOLERANCE_SECONDS:
        raise WebhookUnauthorized(
            f"webhook '{workflow}': {label} is {int(skew)} s away from the platform's clock "
            f"(at most {TOLERANCE_SECONDS} s): a replayed request, or a sender whose clock is wrong")
    return int(stamp)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or {} (a form or a malformed body: ``payloads`` refuses those later)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def clock(now: float | None) -> float:
    return time.time() if now is None else now
