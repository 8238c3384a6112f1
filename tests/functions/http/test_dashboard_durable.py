"""The run page of a durable run: its step timeline, what a waiting run waits for with the answers it takes
(Approve / Reject, Skip the wait locally), Resume on a failed one; nothing secret in the HTML."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from durable_support import durable_workflow, finished, waiting
from starlette.testclient import TestClient

from functions.core.runs import (
    CallbackGrant,
    Run,
    StepRecord,
    WaitingFor,
    new_run_id,
    utcnow,
)


def durable_record(platform, status: str, **fields) -> Run:
    """A durable run's record as the recorder leaves it (no execution behind it: the page only reads)."""
    now = utcnow()
    run_id = new_run_id()
    run = Run(run_id=run_id, workflow=fields.pop("workflow", "multi_step_report"), trigger="manual", status=status,
              created_at=now - timedelta(minutes=5), started_at=now - timedelta(minutes=5),
              durable_execution=f"{run_id}-1", runner=f"durable:{run_id}-1", **fields)
    if status in ("running", "waiting"):
        run.lease_until = int(now.timestamp()) + 86400
    else:
        run.finished_at = now
    platform.core.runs.create(run)
    return run


def steps(now=None) -> list[StepRecord]:
    now = now or utcnow()
    return [
        StepRecord(name="collect", status="success", attempts=1, started=now - timedelta(seconds=90),
                   finished=now - timedelta(seconds=88), output=[{"day": 1, "orders": 10}],
                   logs=["collected 1 day(s) of figures"]),
        StepRecord(name="publish", status="error", attempts=3, started=now - timedelta(seconds=80),
                   finished=now - timedelta(seconds=70), error="ConnectionError: upstream <b>unavailable</b>",
                   logs=["trying the upstream", "upstream refused"]),
    ]


def rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-step="([^"]+)" data-step-status="([^"]+)"', html)


def section(html: str, attribute: str) -> str:
    start = html.index(attribute)
    return html[start:html.index("</section>", start)]


def test_a_failed_durable_run_shows_its_steps_in_order_and_offers_resume(platform):
    run = durable_record(platform, "error", steps=steps(), error="step 'publish' failed after 3 attempt(s)",
                         message="step 'publish' failed after 3 attempt(s)")
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert rows(html) == [("collect", "success"), ("publish", "error")]
    publish = html[html.index('data-step="publish"'):html.index("</tr>", html.index('data-step="publish"'))]
    assert '<td data-label="Attempts" data-step-attempts>3</td>' in publish
    assert '<span class="badge st-error" data-status="error">error</span>' in publish
    assert "10.0 s" in publish  # its duration
    assert "ConnectionError: upstream &lt;b&gt;unavailable&lt;/b&gt;" in publish  # escaped, never markup
    assert "trying the upstream\nupstream refused" in publish  # its own log lines
    collect = html[html.index('data-step="collect"'):html.index('data-step="publish"')]
    assert "<details data-step-output><summary>Output" in collect  # collapsed
    assert "&#34;orders&#34;: 10" in collect or '"orders": 10' in collect
    assert f'data-resume-form="{run.run_id}"' in html and "Resume from the failed step" in html
    assert "Goes on from <strong>publish</strong>" in html
    assert "data-rerun-form" in html  # a re-run is still offered
    assert "data-approval-form" not in html and "data-skip-wait" not in html and "data-waiting=" not in html
    assert f"execution <code>{run.run_id}-1</code>" in html


@pytest.mark.parametrize("status", ["success", "running", "cancelled"])
def test_resume_is_offered_only_on_a_failed_durable_run(platform, status):
    run = durable_record(platform, status, steps=steps()[:1])
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert rows(html) == [("collect", "success")]
    assert "data-resume-form" not in html


def test_a_plain_run_has_no_timeline(platform):
    run = platform.run("hello_world", {"name": "Ada"})
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert "data-durable" not in html and "data-resume-form" not in html and "data-steps" not in html


def test_a_run_waiting_for_an_approval_asks_for_it_with_its_prompt_and_timeout(platform):
    until = utcnow() + timedelta(hours=1)
    run = durable_record(platform, "waiting", workflow="approval_request",
                         steps=[StepRecord(name="record request", status="success", attempts=1),
                                StepRecord(name="approve", kind="approval", status="waiting")],
                         waiting_for=WaitingFor(kind="approval", name="approve", until=until,
                                                prompt="Approve: <Deploy> v2?"),
                         callbacks={"approve": CallbackGrant(kind="approval", callback_id="cb-id-0123456789",
                                                             expires=until)})
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    panel = section(html, 'data-waiting="approval"')
    assert "<strong data-approval-name>approve</strong>" in panel
    assert "Approve: &lt;Deploy&gt; v2?" in panel
    assert f'<time datetime="{until.isoformat()}" data-local-time>' in panel  # the reader's time, by the script
    assert "times out at" in panel and "in 59 min" in panel
    assert f'data-approval-form="{run.run_id}" data-approval="approve"' in panel
    assert 'data-approve="true">Approve</button>' in panel and 'data-approve="false">Reject</button>' in panel
    assert 'name="comment"' in panel
    assert "cb-id-0123456789" not in html  # the backend's callback id is not the page's business
    assert rows(html) == [("record request", "success"), ("approve", "waiting")]
    assert "data-resume-form" not in html and "data-rerun-form" not in html and "data-cancel-run" in html
    assert "A waiting run is closed at once" in html


def test_an_answered_approval_has_no_buttons(platform):
    run = durable_record(platform, "waiting", workflow="approval_request",
                         waiting_for=WaitingFor(kind="approval", name="approve"),
                         callbacks={"approve": CallbackGrant(kind="approval", callback_id="x", status="answered")})
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert 'data-waiting="approval"' in html and "data-approval-form" not in html


def sleeping(platform) -> Run:
    until = utcnow() + timedelta(hours=2)
    return durable_record(platform, "waiting", steps=[StepRecord(name="settle", kind="sleep", status="waiting")],
                          waiting_for=WaitingFor(kind="time", name="settle", until=until))


def test_skip_the_wait_is_offered_where_the_api_offers_it(make_platform, durable_backend):
    local = make_platform(parts={"durable": durable_backend})  # the local backend: it has skip_wait
    run = sleeping(local)
    html = local.client.get(f"/dashboard/runs/{run.run_id}").text
    panel = section(html, 'data-waiting="time"')
    assert "Sleeping (<code>settle</code>) until" in panel and "data-local-time" in panel
    assert f'data-skip-wait="{run.run_id}"' in panel


def test_no_skip_the_wait_deployed(make_platform):
    deployed = make_platform()  # no local backend: LambdaDurableBackend (here without its function: a 503)
    run = sleeping(deployed)
    html = deployed.client.get(f"/dashboard/runs/{run.run_id}").text
    assert 'data-waiting="time"' in html and "data-skip-wait" not in html
    assert deployed.client.post(f"/api/runs/{run.run_id}/skip-wait").status_code in (409, 503)


CALLBACK = '''
def execute(data, tools, ctx):
    ctx.step("ask", effect, data, "ask", )
    def send(url):
        with open(data["log"] + ".url", "w") as f:
            f.write(url)
        return "sent"
    payload = ctx.wait_for_callback("shipped", timeout=3600, send=send)
    return {"status": "success", "payload": payload}
'''


def test_a_run_waiting_for_a_callback_never_shows_its_token(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "ship", CALLBACK)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend}, WFP_PUBLIC_URL="https://wfp.example")
    log = tmp_path / "ship.log"
    run = platform.engine.accept("ship", {"log": str(log)}, "manual", wait=None).run
    record = waiting(platform, run.run_id)
    token = Path(f"{log}.url").read_text().rsplit("/", 1)[1]
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    panel = section(html, 'data-waiting="callback"')
    assert "Waiting for a callback: <strong>shipped</strong>" in panel and "times out at" in panel
    secret = token.split(".", 1)[1]
    assert secret not in html and "/api/callbacks/" not in html
    grant = record.callbacks["shipped"]
    assert grant.callback_id not in html
    assert platform.core.runs.get(run.run_id).model_dump_json().count(secret) == 0
    assert rows(html)[0] == ("ask", "success")
    assert ("shipped", "waiting") in rows(html)


def test_the_approval_example_renders_each_state(make_platform, durable_backend):
    platform = make_platform(parts={"durable": durable_backend})
    run = platform.engine.accept("approval_request", {"request": "Ship it"}, "manual", wait=None).run
    waiting(platform, run.run_id)
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert 'data-approval="approve"' in html and "Approve: Ship it?" in html
    answer = platform.client.post(f"/api/runs/{run.run_id}/approvals/approve", json={"approve": True, "comment": "ok"})
    assert answer.status_code == 202, answer.text
    finished(platform, run.run_id)
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    assert rows(html) == [("record request", "success"), ("approve", "success"), ("act", "success")]
    assert "data-waiting=" not in html and "data-approval-form" not in html and "data-resume-form" not in html
    assert "approval requested by ada: Ship it" in html  # the first step's log line


class Tags(HTMLParser):
    """Every start tag's attributes, and whether a <script> has inline text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.append((tag, dict(attrs)))
        self._script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        self.inline_script = self.inline_script or (self._script and bool(data.strip()))


@pytest.mark.parametrize("state", ["error", "waiting"])
def test_the_durable_parts_obey_the_csp_and_the_stage_prefix(platform, state):
    """No inline style, handler or script (``style-src 'self'``, ``script-src 'self'``); every link under
    the stage prefix, which the script's fetches take from ``<body data-base>``."""
    fields = {"steps": steps()} if state == "error" else {
        "workflow": "approval_request", "waiting_for": WaitingFor(kind="approval", name="approve", prompt="ok?"),
        "callbacks": {"approve": CallbackGrant(kind="approval", callback_id="x")}}
    run = durable_record(platform, state, **fields)
    response = TestClient(platform.app, root_path="/prod").get(f"/prod/dashboard/runs/{run.run_id}")
    assert response.status_code == 200
    assert ("data-resume-form" if state == "error" else "data-approval-form") in response.text
    tags = Tags(response.text)
    assert not tags.inline_script
    assert [(t, k) for t, a in tags.attrs for k in a if k == "style" or k.startswith("on")] == []
    assert dict(tags.attrs)["body"]["data-base"] == "/prod"
    local = [a[k] or "" for _, a in tags.attrs for k in ("href", "src", "action") if k in a]
    assert local and all(u.startswith("/prod/") for u in local if u.startswith("/")), local


def test_resume_asks_again_for_a_masked_input(make_platform, plugin_dir):
    durable_workflow(plugin_dir, "secretive", "def execute(data, tools, ctx):\n    return {'status': 'success'}\n",
                     inputs_schema=[{"name": "log"}, {"name": "password", "type": "password"}])
    platform = make_platform(plugin_dir.root)
    run = durable_record(platform, "error", workflow="secretive", inputs={"log": "x", "password": "********"},
                         inputs_redacted=True, steps=steps())
    html = platform.client.get(f"/dashboard/runs/{run.run_id}").text
    form = html[html.index("data-resume-form"):html.index("</form>", html.index("data-resume-form"))]
    assert 'name="password" data-resume-input' in form and 'data-error-for="password"' in form
