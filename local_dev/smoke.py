"""``wfp smoke``: is a deployed platform answering, locked, and running webhooks end to end?

Run after every ``wfp deploy`` (which calls it) and any time later. Against a stack it reads the URL
from the stack's outputs and the admin token and webhook secret from Secrets Manager with the
operator's credentials; ``--url``/``--token``/``--webhook-secret`` point it at any platform instead
(the local dev server, a custom domain). Each step says what it proved or what to look at:

1. ``GET api/health`` answers 200;
2. ``GET api/workflows`` without the admin token is refused (401): the API is not open;
3. with the token it lists the workflows;
4. a webhook delivery signed as the platform documents (``X-Signature-Timestamp`` +
   ``X-Signature-256``) is accepted (202), the same delivery badly signed is refused (401), and the
   accepted run is followed until it finishes: the queue and the worker work too.

The test delivery really runs the workflow (with ``{"event": "wfp.smoke", ...}`` and ``?wfp_smoke=1``
so its code can tell): ``--webhook NAME`` picks a harmless one, ``--no-webhook`` skips the step.
Plain ``urllib``: the command must work from any machine with the platform checked out.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from functions.core.notify.webhook import (
    sign,  # the platform HMAC scheme, as notices sign it
)
from functions.core.runs import FINAL_STATUSES as FINISHED

from .deploy import DeployError, Target, stack_name, stack_urls, stage_settings


@dataclass
class SmokeTarget:
    """What the smoke test talks to; ``webhook`` is the workflow the test delivery goes to."""

    base_url: str
    token: str | None = None
    webhook: str | None = None
    webhook_secret: str | None = None

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    ms: float = 0.0


@dataclass
class SmokeReport:
    target: SmokeTarget
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def text(self) -> str:
        lines = [f"smoke test of {self.target.base_url}"]
        lines += [f"  {'ok  ' if s.ok else 'FAIL'} {s.name:<18} {s.detail} ({s.ms:.0f} ms)" for s in self.steps]
        lines.append("passed" if self.ok else "FAILED")
        return "\n".join(lines)


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


def request(method: str, url: str, *, token: str | None = None, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
    all_headers = {"Accept": "application/json", "User-Agent": "wfp-smoke", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310 - the operator's own URL
            status, raw, got = answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), dict(exc.headers)
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")[:200]
    return Response(status, parsed, got)


def _error(response: Response) -> str:
    body = response.body
    message = body.get("error") if isinstance(body, dict) else body
    return f"HTTP {response.status}: {message}"


class Smoke:
    """The steps, in order; a step that cannot run because an earlier one failed is not attempted."""

    def __init__(self, target: SmokeTarget, *, wait_seconds: float = 90, poll_seconds: float = 1.0) -> None:
        self.target = target
        self.report = SmokeReport(target)
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    def step(self, name: str, ok: bool, detail: str, started: float) -> bool:
        self.report.steps.append(Step(name, ok, detail, (time.perf_counter() - started) * 1000))
        return ok

    def run(self) -> SmokeReport:
        if not self.health():
            return self.report
        if self.target.token:
            self.locked()
            if not self.workflows():
                return self.report
        if self.target.webhook:
            self.webhook()
        return self.report

    def health(self) -> bool:
        started = time.perf_counter()
        try:
            answer = request("GET", self.target.url("api/health"))
        except (OSError, urllib.error.URLError) as exc:
            return self.step("health", False, f"no answer from {self.target.url('api/health')}: {exc}", started)
        ok = answer.status == 200 and isinstance(answer.body, dict) and answer.body.get("status") == "ok"
        return self.step("health", ok, "GET api/health: 200 ok" if ok else f"GET api/health: {_error(answer)}", started)

    def locked(self) -> bool:
        started = time.perf_counter()
        answer = request("GET", self.target.url("api/workflows"))
        if answer.status == 401:
            return self.step("auth required", True, "GET api/workflows without the admin token: 401", started)
        return self.step("auth required", False, f"GET api/workflows without the admin token answered "
                         f"{answer.status}, not 401: the API is open to anyone", started)

    def workflows(self) -> bool:
        started = time.perf_counter()
        answer = request("GET", self.target.url("api/workflows"), token=self.target.token)
        if answer.status != 200 or not isinstance(answer.body, list):
            hint = " (wrong admin token?)" if answer.status == 401 else ""
            return self.step("workflows", False, f"GET api/workflows with the token: {_error(answer)}{hint}", started)
        names = [w.get("name") for w in answer.body]
        broken = [w.get("name") for w in answer.body if w.get("status") == "error"]
        detail = f"{len(names)} workflow(s): {', '.join(map(str, names))}"
        if broken:
            return self.step("workflows", False, f"{detail}; broken: {', '.join(map(str, broken))}", started)
        if self.target.webhook and self.target.webhook not in names:
            return self.step("workflows", False, f"{detail}; no workflow {self.target.webhook!r} to send the test "
                             "delivery to", started)
        return self.step("workflows", True, detail, started)

    def webhook(self) -> bool:
        started = time.perf_counter()
        name, secret = self.target.webhook, self.target.webhook_secret
        body = json.dumps({"event": "wfp.smoke", "sent_at": int(time.time())}).encode()
        url = self.target.url(f"api/webhooks/{name}?wfp_smoke=1")
        headers = {"Content-Type": "application/json"}
        if secret:
            bad = request("POST", url, body=body, headers={**headers, **sign("not-the-secret", body, int(time.time()))})
            if bad.status == 401:
                self.step("webhook refused", True, f"badly signed delivery to {name}: 401", started)
            else:
                why = ": signatures are not checked" if bad.status < 300 else ""
                return self.step("webhook refused", False, f"badly signed delivery to {name}: {_error(bad)}, "
                                 f"not 401{why}", started)
            started = time.perf_counter()
            headers.update(sign(secret, body, int(time.time())))
        answer = request("POST", url, body=body, headers=headers)
        if answer.status != 202 or not isinstance(answer.body, dict) or "run_id" not in answer.body:
            return self.step("webhook accepted", False, f"signed delivery to {name}: {_error(answer)}", started)
        run_id = answer.body["run_id"]
        self.step("webhook accepted", True, f"signed delivery to {name}: 202, run {run_id}", started)
        return self.follow(run_id)

    def follow(self, run_id: str) -> bool:
        started = time.perf_counter()
        deadline = time.monotonic() + self.wait_seconds
        status = "?"
        while time.monotonic() < deadline:
            answer = request("GET", self.target.url(f"api/runs/{run_id}"), token=self.target.token)
            if answer.status == 200 and isinstance(answer.body, dict):
                status = str(answer.body.get("status"))
                if status in FINISHED:
                    ok = status == "success"
                    why = "" if ok else f": {answer.body.get('error') or answer.body.get('message')}"
                    return self.step("run finished", ok, f"run {run_id} {status}{why}", started)
            elif answer.status not in (404, 429, 502, 503):
                return self.step("run finished", False, f"GET api/runs/{run_id}: {_error(answer)}", started)
            time.sleep(self.poll_seconds)
        return self.step("run finished", False, f"run {run_id} still {status} after {self.wait_seconds:.0f} s: is the "
                         "worker running? Look at its logs and the runs dead-letter queue", started)


# ----- the deployed stack's side ---------------------------------------------------------------------------
def read_secret(client: Any, name: str) -> str:
    """A secret's value; the admin token may be a plain string or ``{"token": ...}`` (as the API accepts)."""
    from botocore.exceptions import ClientError

    try:
        value = client.get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise DeployError(f"cannot read the secret {name} ({code}): the smoke test reads it with your credentials; "
                          "check that it exists and that you may read it") from None
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return str(parsed.get("token", value)) if isinstance(parsed, dict) else value


def stack_target(stage: str | None, target: Target | None = None, webhook: str | None = None,
                 with_webhook: bool = True) -> SmokeTarget:
    """The smoke target of a deployed stage: its outputs, its admin token, a webhook and its secret."""
    target = target or Target()
    urls = stack_urls(stage, target.client("cloudformation"))
    if not urls.api:
        raise DeployError(f"stack {stack_name(stage)} has no ApiUrl output: was it deployed by 'wfp deploy'?")
    secrets = target.client("secretsmanager")
    token = read_secret(secrets, urls.admin_token_secret) if urls.admin_token_secret else None
    chosen = None
    if with_webhook:
        if webhook and webhook not in urls.webhooks:
            raise DeployError(f"workflow {webhook!r} has no webhook in stack {stack_name(stage)}; "
                              f"webhooks: {', '.join(urls.webhooks) or 'none'}")
        chosen = webhook or next(iter(urls.webhooks), None)
    secret = None
    if chosen:
        try:
            secret = read_secret(secrets, stage_settings(stage).webhook_secret_name(chosen))
        except DeployError:
            secret = None  # "webhook_auth": "none": no secret was generated, the delivery goes unsigned
    return SmokeTarget(base_url=urls.api, token=token, webhook=chosen, webhook_secret=secret)


def run(target: SmokeTarget, wait_seconds: float = 90) -> SmokeReport:
    return Smoke(target, wait_seconds=wait_seconds).run()
