"""Webhook authentication as an attacker and a careless client meet it: no token, a wrong token, a
forged or replayed signature, a stale timestamp; and the opt-outs (``"webhook_auth": "none"``, a local
workflow without a secret) with their warnings. A refused call records nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest
from support import drain, put_secret

SECRET = "whsec-7f3a9c-only-the-sender-knows"
SIGNED = {"name": "Signed", "triggers": ["webhook", "manual"],
          "inputs_schema": [{"name": "event", "type": "text", "required": False}]}
OPEN = {**SIGNED, "webhook_auth": "none"}
BODY = json.dumps({"event": "push", "repository": "demo"}).encode()


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    signed = body if timestamp is None else f"{timestamp}.".encode() + body
    headers = {"X-Signature-256": "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest(),
               "Content-Type": "application/json"}
    if timestamp is not None:
        headers["X-Signature-Timestamp"] = str(timestamp)
    return headers


@pytest.fixture
def hooks(make_platform, plugin_dir):
    plugin_dir.workflow("signed", SIGNED)
    plugin_dir.workflow("unsigned", OPEN)
    plugin_dir.workflow("no_secret", SIGNED)
    plugin_dir.workflow("manual_only", {"name": "Manual", "triggers": ["manual"]})
    return make_platform(plugin_dir.root, WFP_WEBHOOK_SECRET_SIGNED=SECRET)


def runs(platform, name: str) -> list:
    return platform.engine.runs.history(name, 50)[0]


def refused(response, fragment: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and fragment in body["error"]
    assert SECRET not in response.text


# ----- refused ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers, fragment", [
    ({}, "requires authentication: send the header 'X-Webhook-Token"),
    ({"X-Webhook-Token": "guess"}, "X-Webhook-Token is not this workflow's secret"),
    ({"X-Webhook-Token": SECRET + " "}, ""),  # a trailing space is trimmed like any header: accepted below
    ({"X-Webhook-Token": SECRET[:-1]}, "not this workflow's secret"),
    ({"X-Signature-256": "sha256=" + "0" * 64}, "signature does not match"),
    ({"X-Signature-256": "md5=abc"}, "must be 'sha256=' followed by 64 hex digits"),
    ({"X-Signature-256": "sha256=" + hmac.new(b"wrong-key", BODY, hashlib.sha256).hexdigest()},
     "signature does not match"),
    ({"X-Signature-256": "sha256=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha256).hexdigest()},
     "signature does not match"),  # a valid signature of another body
])
def test_wrong_or_missing_credentials_are_401_and_record_nothing(hooks, headers, fragment):
    response = hooks.client.post("/api/webhooks/signed", content=BODY,
                                 headers={"Content-Type": "application/json", **headers})
    if headers.get("X-Webhook-Token") == SECRET + " ":
        assert response.status_code == 202
        return
    refused(response, fragment)
    assert runs(hooks, "signed") == []
    from functions.platform import get_platform

    queue = get_platform().queue

    assert queue.receive_event()["Records"] == []  # nothing queued either


def test_a_token_or_a_signature_is_accepted_and_the_run_is_queued(hooks):
    by_token = hooks.client.post("/api/webhooks/signed?source=ci", content=BODY,
                                 headers={"Content-Type": "application/json", "X-Webhook-Token": SECRET})
    by_signature = hooks.client.post("/api/webhooks/signed", content=BODY, headers=sign(BODY))
    by_github_header = hooks.client.post("/api/webhooks/signed", content=BODY, headers={
        "X-Hub-Signature-256": sign(BODY)["X-Signature-256"].upper().replace("SHA256=", "sha256="),
        "Content-Type": "application/json"})
    for response in (by_token, by_signature, by_github_header):
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "queued" and body["status_url"].endswith(f"/api/runs/{body['run_id']}")
    assert drain() == 3
    done = {r.run_id: r for r in runs(hooks, "signed")}
    assert {r.status for r in done.values()} == {"success"}
    first = hooks.client.get(by_token.json()["status_url"]).json()
    assert first["inputs"] == {"source": "ci", "event": "push", "repository": "demo"}


def test_a_timestamped_signature_is_accepted_once_and_its_replays_are_refused(hooks):
    now = int(time.time())
    fresh = hooks.client.post("/api/webhooks/signed", content=BODY, headers=sign(BODY, timestamp=now))
    assert fresh.status_code == 202, fresh.text
    # the same signed request, replayed 6 minutes later
    stale = sign(BODY, timestamp=now - 360)
    refused(hooks.client.post("/api/webhooks/signed", content=BODY, headers=stale),
            "X-Signature-Timestamp is 360 s away from the platform's clock")
    # the attacker refreshes the timestamp but cannot re-sign: the signature covers the timestamp
    replay = {**sign(BODY, timestamp=now - 360), "X-Signature-Timestamp": str(now)}
    refused(hooks.client.post("/api/webhooks/signed", content=BODY, headers=replay), "signature does not match")
    # a signature of the body alone does not pass once a timestamp is sent
    body_only = {**sign(BODY), "X-Signature-Timestamp": str(now)}
    refused(hooks.client.post("/api/webhooks/signed", content=BODY, headers=body_only), "'<timestamp>.<body>'")
    refused(hooks.client.post("/api/webhooks/signed", content=BODY,
                              headers={**sign(BODY, timestamp=now), "X-Signature-Timestamp": "yesterday"}),
            "must be a Unix time in seconds")
    assert len(runs(hooks, "signed")) == 1


def test_verify_checks_the_window_on_both_sides():
    from starlette.datastructures import Headers

    from functions.http.webhooks.auth import WebhookUnauthorized, verify

    now = 1_700_000_000
    for offset in (-300, 0, 300):
        verify("w", SECRET, Headers(sign(BODY, timestamp=now + offset)), BODY, now=now)
    for offset in (-301, 301):
        with pytest.raises(WebhookUnauthorized, match="301 s away"):
            verify("w", SECRET, Headers(sign(BODY, timestamp=now + offset)), BODY, now=now)


# ----- opting out, and the local default ----------------------------------------------------------------------
def test_opted_out_and_secretless_webhooks_accept_unsigned_calls_with_a_warning(hooks, caplog):
    caplog.set_level(logging.WARNING, logger="functions.http.webhooks.auth")
    assert hooks.client.post("/api/webhooks/unsigned", json={"event": "a"}).status_code == 202
    assert hooks.client.post("/api/webhooks/no_secret", json={"event": "b"}).status_code == 202
    assert hooks.client.post("/api/webhooks/no_secret", json={"event": "c"}).status_code == 202
    warnings = [r.getMessage() for r in caplog.records if "accepts unsigned calls" in r.getMessage()]
    assert warnings == ["webhook 'no_secret' accepts unsigned calls: set WFP_WEBHOOK_SECRET_NO_SECRET to "
                        "require a token or signature"]  # once per workflow, not per call
    listed = {w["name"]: w for w in hooks.client.get("/api/workflows").json()}
    assert listed["unsigned"]["webhook_auth"] == "none"
    assert "accepts unsigned calls" in listed["unsigned"]["webhook_warning"]
    assert "WFP_WEBHOOK_SECRET_NO_SECRET" in listed["no_secret"]["webhook_warning"]
    assert listed["signed"]["webhook_auth"] == "secret" and listed["signed"]["webhook_warning"] is None
    assert listed["manual_only"]["webhook_auth"] is None and listed["manual_only"]["webhook_warning"] is None
    page = hooks.client.get("/dashboard/workflows/no_secret").text
    assert "data-webhook-warning" in page and "WFP_WEBHOOK_SECRET_NO_SECRET" in page
    assert "data-webhook-warning" not in hooks.client.get("/dashboard/workflows/signed").text


def test_refusals_by_state_come_before_authentication(hooks):
    assert hooks.client.post("/api/webhooks/nope", content=BODY).status_code == 404
    response = hooks.client.post("/api/webhooks/manual_only", content=BODY)
    assert response.status_code == 409 and "does not accept 'webhook'" in response.json()["error"]


# ----- deployed -----------------------------------------------------------------------------------------------
@pytest.fixture
def deployed(make_platform, plugin_dir):
    plugin_dir.workflow("signed", SIGNED)
    plugin_dir.workflow("unsigned", OPEN)
    return make_platform(plugin_dir.root, WFP_REQUIRE_WEBHOOK_SECRETS="1")


def test_deployed_the_secret_comes_from_secrets_manager(deployed):
    put_secret("wfp-test/webhooks/signed", SECRET)
    refused(deployed.client.post("/api/webhooks/signed", content=BODY), "requires authentication")
    ok = deployed.client.post("/api/webhooks/signed", content=BODY, headers=sign(BODY, timestamp=int(time.time())))
    assert ok.status_code == 202, ok.text
    listed = {w["name"]: w for w in deployed.client.get("/api/workflows").json()}
    assert listed["signed"]["webhook_warning"] is None  # deployed, a secret is required: nothing to warn about
    assert "accepts unsigned calls" in listed["unsigned"]["webhook_warning"]
    assert deployed.client.post("/api/webhooks/unsigned", content=BODY).status_code == 202


def test_deployed_a_json_secret_works_too(deployed):
    put_secret("wfp-test/webhooks/signed", {"secret": SECRET})
    response = deployed.client.post("/api/webhooks/signed", content=BODY, headers={"X-Webhook-Token": SECRET})
    assert response.status_code == 202, response.text


def test_deployed_a_missing_secret_refuses_instead_of_opening(deployed):
    response = deployed.client.post("/api/webhooks/signed", content=BODY)
    assert response.status_code == 503, response.text
    assert "has no secret (wfp-test/webhooks/signed does not exist)" in response.json()["error"]
    # the same with credentials: nothing can be checked, nothing is let in
    assert deployed.client.post("/api/webhooks/signed", content=BODY,
                                headers={"X-Webhook-Token": "anything"}).status_code == 503
    assert runs(deployed, "signed") == []


# ----- bodies ---------------------------------------------------------------------------------------------------
def test_bodies_over_256_kb_are_refused_whether_declared_or_streamed(hooks):
    big = b'{"event": "' + b"x" * (300 * 1024) + b'"}'
    declared = hooks.client.post("/api/webhooks/unsigned", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "limit" in declared.json()["error"]

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        for start in range(0, len(big), 16 * 1024):
            yield big[start:start + 16 * 1024]

    streamed = hooks.client.post("/api/webhooks/unsigned", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and "exceeds the limit" in streamed.json()["error"]
    lying = hooks.client.post("/api/webhooks/unsigned", content=big,
                              headers={"Content-Type": "application/json", "Content-Length": "10"})
    assert lying.status_code in (400, 413)
    assert runs(hooks, "unsigned") == []
    small = hooks.client.post("/api/webhooks/unsigned", content=chunks_of(b'{"event": "ok"}'),
                              headers={"Content-Type": "application/json"})
    assert small.status_code == 202


def chunks_of(data: bytes):
    yield data[:5]
    yield data[5:]
