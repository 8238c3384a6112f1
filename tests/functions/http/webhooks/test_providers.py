"""Webhooks from GitHub, Stripe and Slack, signed as each service signs them: with the examples of their
documentation, with Stripe's and Slack's own SDKs, and replayed, tampered, stale or keyed by a wrong
secret. One run per delivery; handshakes answered without a run; and a workflow that verifies a
scheme of its own from the request it came from."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.datastructures import Headers
from support import drain

from functions.http.webhooks.auth import PROVIDERS, WebhookUnauthorized

GITHUB_SECRET = "gh-webhook-secret-4c1d"
STRIPE_SECRET = "whsec_test_5f2a9b7c3d1e8f60"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the signing secret of Slack's documentation example

# Slack's documentation example (api.slack.com/authentication/verifying-requests-from-slack): a slash command.
SLACK_DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").encode()
SLACK_DOC_TIMESTAMP = 1531420618
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

PUSH = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "octo/demo"}}).encode()
INVOICE_PAID = json.dumps({"id": "evt_1QxYz2Ab", "object": "event", "type": "invoice.paid",
                           "data": {"object": {"id": "in_1", "amount_paid": 4200}}}).encode()
APP_MENTION = json.dumps({"type": "event_callback", "event_id": "Ev08MFMKH6", "team_id": "T1DC2JH3J",
                          "event": {"type": "app_mention", "text": "<@U1> deploy", "channel": "C1"}}).encode()

WEBHOOK = {"triggers": ["webhook"], "timeout_seconds": 10}


# ----- signing as the services sign -----------------------------------------------------------------------
def github_headers(body: bytes, secret: str = GITHUB_SECRET, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                   event: str = "push") -> dict[str, str]:
    """GitHub's scheme (docs.github.com, validating webhook deliveries): HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd"}


def stripe_header(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None,
                  extra_secrets: tuple[str, ...] = ()) -> str:
    """Stripe's scheme (docs.stripe.com/webhooks#verify-manually): ``t=...,v1=...`` over ``t.body``; the
    ``stripe`` library's own verifier checks that this is the header Stripe sends."""
    t = int(time.time()) if timestamp is None else timestamp
    v1 = [hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest() for s in (secret, *extra_secrets)]
    return ",".join([f"t={t}", *(f"v1={v}" for v in v1), "v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"])


def slack_headers(body: bytes, secret: str = SLACK_SECRET, timestamp: int | None = None,
                  content_type: str = "application/json") -> dict[str, str]:
    """Signed by slack_sdk's SignatureVerifier, as Slack signs."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=t, body=body.decode())
    return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": t, "Content-Type": content_type}


def test_the_signing_helpers_sign_as_the_services_libraries_verify():
    import stripe

    header = stripe_header(INVOICE_PAID)
    assert stripe.WebhookSignature.verify_header(INVOICE_PAID.decode(), header, STRIPE_SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(INVOICE_PAID.decode() + " ", header, STRIPE_SECRET, tolerance=300)
    signed = slack_headers(APP_MENTION)
    assert SignatureVerifier(SLACK_SECRET).is_valid(APP_MENTION.decode(), signed["X-Slack-Request-Timestamp"],
                                                    signed["X-Slack-Signature"])


# ----- the checks alone, with the documentation's examples --------------------------------------------------
def test_github_documentation_example_verifies():
    # docs.github.com: secret "It's a Secret to Everybody", payload "Hello, World!"
    headers = Headers({"X-Hub-Signature-256":
                       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"})
    PROVIDERS["github"].verify("w", "It's a Secret to Everybody", headers, b"Hello, World!", now=0)
    with pytest.raises(WebhookUnauthorized, match="does not match"):
        PROVIDERS["github"].verify("w", "It's a Secret to Everybody", headers, b"Hello, World?", now=0)


def test_slack_documentation_example_verifies_within_five_minutes_only():
    headers = Headers({"X-Slack-Signature": SLACK_DOC_SIGNATURE,
                       "X-Slack-Request-Timestamp": str(SLACK_DOC_TIMESTAMP)})
    slack = PROVIDERS["slack"]
    for offset in (-300, 0, 300):
        slack.verify("w", SLACK_SECRET, headers, SLACK_DOC_BODY, now=SLACK_DOC_TIMESTAMP + offset)
    with pytest.raises(WebhookUnauthorized, match="301 s away"):
        slack.verify("w", SLACK_SECRET, headers, SLACK_DOC_BODY, now=SLACK_DOC_TIMESTAMP + 301)
    with pytest.raises(WebhookUnauthorized, match="does not match"):
        slack.verify("w", SLACK_SECRET[:-1] + "6", headers, SLACK_DOC_BODY, now=SLACK_DOC_TIMESTAMP)


def test_stripe_header_forms():
    stripe_ = PROVIDERS["stripe"]
    now = 1_700_000_000
    good = stripe_header(INVOICE_PAID, timestamp=now)
    stripe_.verify("w", STRIPE_SECRET, Headers({"Stripe-Signature": good}), INVOICE_PAID, now=now + 300)
    for header, fragment in [
        ("v1=abc", "one 't=<unix seconds>' and at least one 'v1=<hex>'"),
        (f"t={now}", "at least one 'v1=<hex>'"),
        (f"t={now},t={now},v1=00", "one 't=<unix seconds>'"),
        (f"t=soon,v1={'0' * 64}", "must be a Unix time in seconds"),
        (good, "301 s away"),
    ]:
        with pytest.raises(WebhookUnauthorized, match=fragment):
            stripe_.verify("w", STRIPE_SECRET, Headers({"Stripe-Signature": header}), INVOICE_PAID,
                           now=now + (301 if header == good else 0))


# ----- through the HTTP route ----------------------------------------------------------------------------------
@pytest.fixture
def senders(make_platform, plugin_dir):
    plugin_dir.workflow("gh", {**WEBHOOK, "webhook_auth": "github"})
    plugin_dir.workflow("billing", {**WEBHOOK, "webhook_auth": "stripe"})
    plugin_dir.workflow("slackbot", {**WEBHOOK, "webhook_auth": "slack"})
    plugin_dir.workflow("tokens", {**WEBHOOK, "webhook_auth": "token"})
    plugin_dir.workflow("hmacs", {**WEBHOOK, "webhook_auth": "hmac"})
    return make_platform(plugin_dir.root, WFP_WEBHOOK_SECRET_GH=GITHUB_SECRET, WFP_WEBHOOK_SECRET_BILLING=STRIPE_SECRET,
                         WFP_WEBHOOK_SECRET_SLACKBOT=SLACK_SECRET, WFP_WEBHOOK_SECRET_TOKENS="tok-secret-1",
                         WFP_WEBHOOK_SECRET_HMACS="hmac-secret-1")


def history(platform, name: str) -> list:
    """The workflow's runs, whole (the history index holds summaries)."""
    return [platform.engine.runs.get(r.run_id) for r in platform.engine.runs.history(name, 50)[0]]


def refused(response, fragment: str, *secrets: str) -> None:
    assert response.status_code == 401, response.text
    assert fragment in response.json()["error"]
    for secret in secrets:
        assert secret not in response.text


def test_github_delivery_runs_once_and_its_redelivery_returns_the_same_run(senders):
    client = senders.client
    first = client.post("/api/webhooks/gh", content=PUSH, headers=github_headers(PUSH))
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "queued"
    again = client.post("/api/webhooks/gh", content=PUSH, headers=github_headers(PUSH))  # "Redeliver" in GitHub
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["run_id"] == first.json()["run_id"] and again.json()["replayed"] is True
    other = client.post("/api/webhooks/gh", content=PUSH, headers=github_headers(PUSH, delivery="another-guid"))
    assert other.json()["run_id"] != first.json()["run_id"]
    assert drain() == 2
    runs = history(senders, "gh")
    assert len(runs) == 2 and {r.status for r in runs} == {"success"}
    record = client.get(f"/api/runs/{first.json()['run_id']}").json()
    assert record["inputs"] == json.loads(PUSH)


@pytest.mark.parametrize("headers, body, fragment", [
    ({}, PUSH, "requires GitHub's signature"),
    ({"X-Webhook-Token": GITHUB_SECRET}, PUSH, "requires GitHub's signature"),  # the platform's scheme is not GitHub's
    (github_headers(PUSH), PUSH.replace(b"main", b"evil"), "does not match"),  # tampered
    (github_headers(PUSH, secret="not-the-secret"), PUSH, "does not match"),
    ({"X-Hub-Signature-256": "sha1=" + "0" * 40}, PUSH, "must be 'sha256='"),
])
def test_github_refusals_record_nothing(senders, headers, body, fragment):
    refused(senders.client.post("/api/webhooks/gh", content=body, headers=headers), fragment, GITHUB_SECRET)
    assert history(senders, "gh") == []


def test_github_ping_is_answered_without_a_run(senders):
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 30}).encode()
    response = senders.client.post("/api/webhooks/gh", content=ping, headers=github_headers(ping, event="ping"))
    assert response.status_code == 200 and response.json()["event"] == "ping" and response.json()["hook_id"] == 30
    forged = {**github_headers(ping, event="ping", secret="wrong")}
    refused(senders.client.post("/api/webhooks/gh", content=ping, headers=forged), "does not match")
    assert history(senders, "gh") == []


def test_stripe_event_runs_once_across_retries_with_fresh_signatures(senders):
    client = senders.client
    now = int(time.time())
    first = client.post("/api/webhooks/billing", content=INVOICE_PAID,
                        headers={"Stripe-Signature": stripe_header(INVOICE_PAID, timestamp=now - 100),
                                 "Content-Type": "application/json; charset=utf-8"})
    assert first.status_code == 202, first.text
    retry = client.post("/api/webhooks/billing", content=INVOICE_PAID,  # Stripe's retry: same event, signed anew
                        headers={"Stripe-Signature": stripe_header(INVOICE_PAID, timestamp=now),
                                 "Content-Type": "application/json; charset=utf-8"})
    assert retry.status_code == 202 and retry.json()["run_id"] == first.json()["run_id"]
    assert drain() == 1
    [run] = history(senders, "billing")
    assert run.status == "success" and run.inputs["type"] == "invoice.paid"


def test_stripe_accepts_any_v1_while_the_secret_is_rolled(senders):
    body = INVOICE_PAID.replace(b"evt_1QxYz2Ab", b"evt_rolled")
    # Stripe signs with the new and the old secret during a roll: the platform may hold either
    for header in (stripe_header(body, secret="whsec_the_new_one", extra_secrets=(STRIPE_SECRET,)),
                   stripe_header(body, secret=STRIPE_SECRET, extra_secrets=("whsec_the_new_one",))):
        response = senders.client.post("/api/webhooks/billing", content=body,
                                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})
        assert response.status_code == 202, response.text


@pytest.mark.parametrize("header, body, fragment", [
    (lambda: None, INVOICE_PAID, "requires Stripe's signature"),
    (lambda: "sig", INVOICE_PAID, "one 't=<unix seconds>'"),
    (lambda: stripe_header(INVOICE_PAID, timestamp=int(time.time()) - 360), INVOICE_PAID, "s away from the platform's clock"),  # replayed
    (lambda: stripe_header(INVOICE_PAID), INVOICE_PAID.replace(b"4200", b"1"), "no v1 signature"),  # tampered
    (lambda: stripe_header(INVOICE_PAID, secret="whsec_someone_else"), INVOICE_PAID, "no v1 signature"),
], ids=["unsigned", "malformed", "stale", "tampered", "wrong-secret"])
def test_stripe_refusals_record_nothing(senders, header, body, fragment):
    """Signed when the test runs (a header signed at collection would be stale minutes later)."""
    signed = header()
    headers = {"Content-Type": "application/json", **({"Stripe-Signature": signed} if signed else {})}
    refused(senders.client.post("/api/webhooks/billing", content=body, headers=headers), fragment, STRIPE_SECRET)
    assert history(senders, "billing") == []


def test_slack_url_verification_is_answered_with_the_challenge_and_no_run(senders):
    body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    response = senders.client.post("/api/webhooks/slackbot", content=body, headers=slack_headers(body))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    refused(senders.client.post("/api/webhooks/slackbot", content=body, headers={"Content-Type": "application/json"}),
            "requires Slack's signature")
    assert history(senders, "slackbot") == []


def test_slack_event_is_acknowledged_empty_queued_and_its_retries_return_the_same_run(senders):
    client = senders.client
    first = client.post("/api/webhooks/slackbot", content=APP_MENTION, headers=slack_headers(APP_MENTION))
    assert first.status_code == 200 and first.content == b""  # Slack posts a non-empty answer as a message
    run_id = first.headers["X-Run-Id"]
    assert first.headers["Location"].endswith(f"/api/runs/{run_id}")
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "queued"  # enqueued, not run within the 3 s
    retry = client.post("/api/webhooks/slackbot", content=APP_MENTION,
                        headers={**slack_headers(APP_MENTION), "X-Slack-Retry-Num": "1",
                                 "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200 and retry.headers["X-Run-Id"] == run_id
    assert drain() == 1
    [run] = history(senders, "slackbot")
    assert run.status == "success" and run.inputs["event"]["text"] == "<@U1> deploy"


def test_slack_slash_command_form_body_is_verified_on_the_raw_bytes(senders):
    form = urlencode({"command": "/deploy", "text": "api v2 & more", "user_name": "ada",
                      "response_url": "https://hooks.slack.com/commands/T1/2/3"}).encode()
    ok = senders.client.post("/api/webhooks/slackbot", content=form,
                             headers=slack_headers(form, content_type="application/x-www-form-urlencoded"))
    assert ok.status_code == 200, ok.text
    assert drain() == 1
    [run] = history(senders, "slackbot")
    assert run.inputs["command"] == "/deploy" and run.inputs["text"] == "api v2 & more"
    # the same fields, encoded differently (%20 for spaces): another body, so the signature no longer matches
    reencoded = form.replace(b"+", b"%20")
    assert reencoded != form
    refused(senders.client.post("/api/webhooks/slackbot", content=reencoded,
                                headers=slack_headers(form, content_type="application/x-www-form-urlencoded")),
            "does not match")


@pytest.mark.parametrize("stale, tamper, secret, fragment", [
    (True, False, SLACK_SECRET, "away from the platform's clock"),
    (False, True, SLACK_SECRET, "does not match"),
    (False, False, "another-signing-secret", "does not match"),
])
def test_slack_refusals_record_nothing(senders, stale, tamper, secret, fragment):
    headers = slack_headers(APP_MENTION, secret=secret, timestamp=int(time.time()) - (600 if stale else 0))
    body = APP_MENTION.replace(b"deploy", b"rm -rf") if tamper else APP_MENTION
    refused(senders.client.post("/api/webhooks/slackbot", content=body, headers=headers), fragment, SLACK_SECRET)
    assert history(senders, "slackbot") == []


def test_token_and_hmac_modes_accept_only_their_own_proof(senders):
    body = b'{"a": 1}'
    digest = hmac.new(b"hmac-secret-1", body, hashlib.sha256).hexdigest()
    json_type = {"Content-Type": "application/json"}
    assert senders.client.post("/api/webhooks/tokens", content=body,
                               headers={**json_type, "X-Webhook-Token": "tok-secret-1"}).status_code == 202
    refused(senders.client.post("/api/webhooks/tokens", content=body, headers={
        **json_type, "X-Signature-256": "sha256=" + hmac.new(b"tok-secret-1", body, hashlib.sha256).hexdigest()}),
        "send the header 'X-Webhook-Token: <secret>'")
    assert senders.client.post("/api/webhooks/hmacs", content=body,
                               headers={**json_type, "X-Signature-256": f"sha256={digest}"}).status_code == 202
    refused(senders.client.post("/api/webhooks/hmacs", content=body,
                                headers={**json_type, "X-Webhook-Token": "hmac-secret-1"}),
            "send the header 'X-Signature-256")


def test_the_catalog_says_how_each_webhook_authenticates(senders):
    listed = {w["name"]: w for w in senders.client.get("/api/workflows").json()}
    assert {n: listed[n]["webhook_auth"] for n in ("gh", "billing", "slackbot", "tokens", "hmacs")} == {
        "gh": "github", "billing": "stripe", "slackbot": "slack", "tokens": "token", "hmacs": "hmac"}
    assert all(listed[n]["webhook_warning"] is None for n in ("gh", "billing", "slackbot"))


def test_an_unknown_provider_breaks_the_plugin_with_the_choices(make_platform, plugin_dir):
    plugin_dir.workflow("gitlab_hook", {**WEBHOOK, "webhook_auth": "gitlab"})
    platform = make_platform(plugin_dir.root)
    response = platform.client.post("/api/webhooks/gitlab_hook", content=b"{}")
    assert response.status_code == 409, response.text
    message = response.json()["error"] + json.dumps(response.json().get("detail"))
    assert "webhook_auth" in message and "'github'" in message and "'slack'" in message


# ----- a scheme the platform does not know: the workflow checks the request itself ------------------------------
CUSTOM_CHECK = '''
import hashlib, hmac

def execute(data, tools):
    request = data["_request"]
    expected = hmac.new(b"acme-shared-key", request["body"].encode(), hashlib.sha1).hexdigest()
    if not hmac.compare_digest(request["headers"].get("x-acme-signature", ""), expected):
        return {"status": "error", "message": "bad Acme signature"}
    return {"status": "success", "data": {"order": data["order"], "headers": sorted(request["headers"]),
                                          "query": request["query"], "method": request["method"]}}
'''


def test_a_workflow_can_verify_its_own_scheme_from_the_raw_request(make_platform, plugin_dir):
    plugin_dir.workflow("acme", {**WEBHOOK, "webhook_auth": "none", "webhook_request": True}, CUSTOM_CHECK)
    platform = make_platform(plugin_dir.root)
    body = b'{"order":  42,\n "note": "spaces and newline kept"}'
    signature = hmac.new(b"acme-shared-key", body, hashlib.sha1).hexdigest()
    headers = {"Content-Type": "application/json", "X-Acme-Signature": signature,
               "Authorization": "Bearer admin-secret-token", "Cookie": "wfp_session=abc123", "X-Api-Key": "k-999"}
    good = platform.client.post("/api/webhooks/acme?source=acme", content=body, headers=headers)
    bad = platform.client.post("/api/webhooks/acme", content=body.replace(b"42", b"43"), headers=headers)
    assert good.status_code == bad.status_code == 202
    assert drain() == 2
    ok = platform.client.get(f"/api/runs/{good.json()['run_id']}").json()
    assert ok["status"] == "success", ok
    seen = ok["output"]["data"]
    assert seen["order"] == 42 and seen["query"] == {"source": "acme"} and seen["method"] == "POST"
    assert "x-acme-signature" in seen["headers"] and "content-type" in seen["headers"]
    assert not {"authorization", "cookie", "x-api-key"} & set(seen["headers"])
    assert ok["inputs"]["_request"]["body"] == body.decode()  # kept as received, in the record too
    record = json.dumps(ok)
    assert "admin-secret-token" not in record and "abc123" not in record and "k-999" not in record
    failed = platform.client.get(f"/api/runs/{bad.json()['run_id']}").json()
    assert failed["status"] == "error" and "bad Acme signature" in failed["message"]


def test_the_request_view_does_not_break_idempotency_on_redelivery(make_platform, plugin_dir):
    plugin_dir.workflow("acme", {**WEBHOOK, "webhook_auth": "none", "webhook_request": True})
    platform = make_platform(plugin_dir.root)
    body = b'{"order": 7}'
    first = platform.client.post("/api/webhooks/acme", content=body, headers={
        "Content-Type": "application/json", "Idempotency-Key": "acme-7", "X-Acme-Attempt": "1"})
    second = platform.client.post("/api/webhooks/acme", content=body, headers={
        "Content-Type": "application/json", "Idempotency-Key": "acme-7", "X-Acme-Attempt": "2"})
    assert second.status_code == 202 and second.json()["run_id"] == first.json()["run_id"]
    other = platform.client.post("/api/webhooks/acme", content=b'{"order": 8}', headers={
        "Content-Type": "application/json", "Idempotency-Key": "acme-7"})
    assert other.status_code == 409
