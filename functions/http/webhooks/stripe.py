"""Stripe: ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``, each ``v1`` an HMAC-SHA256 of
``<t>.<raw body>`` keyed by the endpoint's signing secret (``whsec_...``, used whole)
(https://docs.stripe.com/webhooks#verify-manually).

The timestamp must be within 5 minutes (Stripe's own libraries' tolerance); any one ``v1`` matching
is enough (while a secret is rolled, Stripe signs with the old and the new one); ``v0`` and other
schemes are ignored. Stripe retries a delivery with the same event ``id`` (``evt_...``): within 24 h
it returns the first run.
"""

from __future__ import annotations

from collections.abc import Mapping

from functions.http.webhooks.base import (
    Provider,
    WebhookUnauthorized,
    check_timestamp,
    header,
    hmac_sha256,
    json_object,
    same,
)


class Stripe(Provider):
    name = "stripe"
    expects = ("'Stripe-Signature: t=<unix seconds>,v1=<hex>' as Stripe sends it (this workflow's secret must be "
               "the endpoint's signing secret, whsec_..., from the Stripe dashboard)")

    def verify(self, workflow: str, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        value = header(headers, "stripe-signature")
        if value is None:
            raise WebhookUnauthorized(f"webhook '{workflow}' requires Stripe's signature: send {self.expects}")
        stamps: list[str] = []
        signatures: list[str] = []
        for item in value.split(","):
            key, _, part = item.strip().partition("=")
            if key == "t":
                stamps.append(part)
            elif key == "v1":
                signatures.append(part)
        if len(stamps) != 1 or not signatures:
            raise WebhookUnauthorized(f"webhook '{workflow}': Stripe-Signature must hold one 't=<unix seconds>' and "
                                      "at least one 'v1=<hex>'")
        stamp = check_timestamp(workflow, "the Stripe-Signature timestamp", stamps[0], now)
        expected = hmac_sha256(secret, f"{stamp}.".encode() + body)
        if not any(same(signature, expected) for signature in signatures):
            raise WebhookUnauthorized(f"webhook '{workflow}': no v1 signature in Stripe-Signature matches this body "
                                      "(is this workflow's secret the endpoint's signing secret, whsec_...?)")

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        event = json_object(body).get("id")
        return event if isinstance(event, str) and event else None
