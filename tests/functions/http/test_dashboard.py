"""Dashboard pages rendered by the real app over moto (no browser: tests/browser drives Chromium)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.testclient import TestClient

from functions.core.runs import RunSummary, utcnow
from functions.http.dashboard import views
from functions.http.dashboard.charts import runs_chart

FORM_WORKFLOW = {
    "name": "Form Demo",
    "description": "Every input type",
    "category": "forms",
    "triggers": ["manual", "webhook"],
    "inputs_schema": [
        {"name": "who", "type": "text", "label": "Who", "required": True, "description": "Who to greet"},
        {"name": "mail", "type": "email", "label": "Mail"},
        {"name": "count", "type": "integer", "default": 3},
        {"name": "ratio", "type": "number"},
        {"name": "loud", "type": "boolean", "default": True},
        {"name": "day", "type": "date", "default": "2024-05-01"},
        {"name": "lang", "type": "select", "options": ["en", {"value": "fr", "label": "Français"}], "default": "fr"},
        {"name": "notes", "type": "textarea", "placeholder": "anything"},
        {"name": "pin", "type": "password", "label": "PIN"},
    ],
}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def urls(self) -> list[str]:
        return [a[k] or "" for _, a in self.tags for k in ("href", "src", "action") if k in a]


@pytest.fixture
def forms(make_platform, plugin_dir):
    plugin_dir.workflow("form_demo", FORM_WORKFLOW)
    plugin_dir.workflow("no_inputs", {"name": "No Inputs", "category": "forms"})
    plugin_dir.workflow("sleepy", {"name": "Sleepy", "active": False})
    plugin_dir.workflow("hooked", {"name": "Hooked", "triggers": ["webhook"], "webhook_auth": "none"})
    plugin_dir.workflow("failing", {"name": "Failing", "category": "errors"},
                        "import logging\n\ndef execute(data, tools):\n"
                        "    logging.getLogger('plugins.failing').warning('about to fail')\n"
                        "    raise ValueError('boom <b>not html</b>')\n")
    return make_platform(plugin_dir.root)


def test_empty_platform_has_readable_empty_states(make_platform, plugin_dir):
    platform = make_platform(plugin_dir.root)
    home = platform.client.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "No workflows yet" in home.text and "wfp new workflow" in home.text
    assert "No custom interfaces yet" in home.text
    assert "No scheduled workflows" in platform.client.get("/dashboard/schedules").text
    assert "No tools yet" in platform.client.get("/dashboard/tools").text
    assert "No plugins yet" in platform.client.get("/dashboard/plugins").text
    assert platform.client.get("/dashboard/").text == home.text


def test_home_groups_workflows_and_shows_what_each_does(platform):
    platform.run("hello_world", {"name": "Ada"})
    html = platform.client.get("/").text
    page = Elements(html)
    assert [a["data-workflow-card"] for a in page.find("article", **{"class": "card workflow"})] == [
        "approval_request", "multi_step_report", "daily_digest", "hello_world", "incoming_webhook",
        "check_url"]  # Durable, Examples, then Monitoring
    assert html.index(">Durable<") < html.index(">Examples<") < html.index(">Monitoring<")
    card = html[html.index('data-workflow-card="hello_world"'):html.index('data-workflow-card="incoming_webhook"')]
    assert "Greets someone" in card and ">active<" in card
    assert "http://testserver/api/webhooks/hello_world" in card
    assert 'data-copy="http://testserver/api/webhooks/hello_world"' in card
    assert 'data-runs-pending' in card and "Loading recent runs" in card  # the page's script fetches them
    digest = html[html.index('data-workflow-card="daily_digest"'):html.index('data-workflow-card="hello_world"')]
    assert "0 9 * * 1-5" in digest and "next run in" in digest
    assert "🎯" in html and 'href="/mon-interface/"' in html
    recent = Elements(platform.client.get("/dashboard/recent").text)  # what replaces the placeholders
    [last] = recent.find("dd", data_last_run="hello_world")
    [chart] = recent.find("div", data_runs_chart="hello_world")
    fragment = platform.client.get("/dashboard/recent").text
    hello = fragment[fragment.index('data-last-run="hello_world"'):fragment.index('data-last-run="incoming_webhook"')]
    assert 'data-status="success"' in hello  # last run
    assert '<svg class="chart"' in hello and hello.count("<rect ") == 1
    digest = fragment[fragment.index('data-last-run="daily_digest"'):fragment.index('data-last-run="hello_world"')]
    assert "No runs yet." in digest and "never" in digest
    assert "data-runs-pending" not in fragment


def test_run_form_is_generated_from_inputs_schema(forms):
    page = Elements(forms.client.get("/dashboard/workflows/form_demo").text)
    [form] = page.find("form", data_workflow="form_demo")
    assert "novalidate" in form  # the server validates; its 422 is shown next to the fields

    def field(name: str, tag: str = "input") -> dict[str, Any]:
        [found] = page.find(tag, id=f"in-form_demo-{name}")
        return found

    assert field("who")["type"] == "text" and field("who")["aria-required"] == "true"
    assert field("mail")["type"] == "email" and "aria-required" not in field("mail")
    assert field("count")["type"] == "number" and field("count")["step"] == "1" and field("count")["value"] == "3"
    assert field("ratio")["step"] == "any"
    assert field("loud")["type"] == "checkbox" and "checked" in field("loud")
    assert field("day")["type"] == "date" and field("day")["value"] == "2024-05-01"
    assert field("pin")["type"] == "password" and field("pin")["autocomplete"] == "new-password"
    assert field("notes", "textarea")["placeholder"] == "anything"
    assert field("lang", "select")["data-type"] == "select"
    options = [a for t, a in page.tags if t == "option"]
    assert [o["value"] for o in options] == ["en", "fr"] and "selected" in options[1]
    html = forms.client.get("/dashboard/workflows/form_demo").text
    assert ">Français<" in html and "Who to greet" in html
    assert len(page.find("p", data_error_for="who")) == 1  # where the server's 422 message goes
    assert field("who")["aria-describedby"] == "in-form_demo-who-help in-form_demo-who-error"


def test_form_field_names_match_the_422_the_api_gives(forms):
    """The script maps detail[].field back to [data-error-for=field]: the names must be the same."""
    response = forms.client.post("/api/workflows/execute/form_demo", json={"mail": "nope", "count": "x"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["detail"]}
    assert fields == {"who", "mail", "count"}
    page = Elements(forms.client.get("/dashboard/workflows/form_demo").text)
    assert fields <= {a["data-error-for"] for a in page.find("p") if "data-error-for" in a}


def test_only_runnable_workflows_get_a_form(forms):
    client = forms.client
    assert "takes no inputs" in client.get("/dashboard/workflows/no_inputs").text
    inactive = client.get("/dashboard/workflows/sleepy").text
    assert "inactive" in inactive and "data-run-form" not in inactive
    webhook_only = client.get("/dashboard/workflows/hooked").text
    assert "cannot be started by hand" in webhook_only and "data-run-form" not in webhook_only
    assert "accepts unsigned calls" in webhook_only


def test_history_chart_and_run_page_of_a_failing_run(forms):
    run = forms.run("failing")
    assert run.status == "error"
    page = forms.client.get("/dashboard/workflows/failing").text
    assert page.count("<tr>") == 2  # header + one run
    assert f'href="/dashboard/runs/{run.run_id}"' in page
    assert 'class="bar st-error"' in page
    run_page = forms.client.get(f"/dashboard/runs/{run.run_id}").text
    assert 'data-run-status="error"' in run_page and 'data-final="true"' in run_page
    assert "ValueError: boom &lt;b&gt;not html&lt;/b&gt;" in run_page  # escaped, never markup
    assert "Traceback (most recent call last)" in run_page
    assert "about to fail" in run_page
    assert "No inputs." in run_page


def test_history_is_paginated(forms):
    ids = [forms.run("no_inputs").run_id for _ in range(forms.core.settings.history_page_size + 3)]
    first = forms.client.get("/dashboard/workflows/no_inputs").text
    assert first.count("/dashboard/runs/") >= forms.core.settings.history_page_size
    cursor = re.search(r'href="/dashboard/workflows/no_inputs\?cursor=([^"]+)">Older runs', first).group(1)
    older = forms.client.get(f"/dashboard/workflows/no_inputs?cursor={cursor}").text
    assert "(older runs)" in older and "Newest runs" in older
    for run_id in ids[:3]:
        assert f'<a href="/dashboard/runs/{run_id}"><span class="badge' in older
    assert forms.client.get("/dashboard/workflows/no_inputs?cursor=bad").status_code == 400


def test_unknown_things_get_an_html_404(forms):
    missing = forms.client.get("/dashboard/workflows/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no workflow named" in missing.text and "Back to the workflows" in missing.text
    assert forms.client.get("/dashboard/runs/0123456789abcdef").status_code == 404
    assert forms.client.get("/dashboard/runs/NOT-A-RUN").status_code == 404


def test_broken_plugins_are_reported_and_the_rest_still_renders(make_platform, plugin_dir):
    plugin_dir.workflow("good", {"name": "Good"})
    plugin_dir.workflow("bad_json", "{not json")
    plugin_dir.workflow("bad_code", {"name": "Bad code"}, "def execute(data, tools):\n    return (\n")
    platform = make_platform(plugin_dir.root)
    home = platform.client.get("/").text
    assert 'data-workflow-card="good"' in home
    assert "bad_json" in home and "invalid JSON" in home
    plugins = platform.client.get("/dashboard/plugins").text  # imports everything: finds the syntax error
    assert "SyntaxError" in plugins and "plugins/workflows/bad_code/main.py" in plugins
    assert "2 broken" in plugins


def test_tools_page_shows_profiles_and_oauth_connect(make_platform, plugin_dir, monkeypatch):
    plugin_dir.tool("calendar_like", {"tool_name": "calendar_like", "display_name": "Calendar-like",
                                      "optional_params": {"calendar_id": ""},
                                      "oauth": {"provider": "google", "service": "calendar"}},
                    "from ..base import BaseTool\n\n"
                    "class Calendar(BaseTool):\n"
                    "    def get_oauth_status(self):\n"
                    "        return {'requires_oauth': True, 'connected': self.profile == 'HOME'}\n")
    plugin_dir.tool("plain", {"tool_name": "plain", "required_params": ["api_key"]})
    monkeypatch.setenv("CALENDAR_LIKE_WORK_CALENDAR_ID", "me@example.com")
    monkeypatch.setenv("CALENDAR_LIKE_HOME_CALENDAR_ID", "me@example.org")
    monkeypatch.setenv("PLAIN_TEST_API_KEY", "never-shown-value-91f2")
    platform = make_platform(plugin_dir.root)
    html = platform.client.get("/dashboard/tools").text
    assert "never-shown-value-91f2" not in html
    plain = html[html.index('data-tool="plain"'):]
    assert ">TEST<" in plain and "api_key" in plain
    assert 'href="/oauth/google/auth?service=calendar&amp;profile=WORK"' in html
    work = html[html.index('data-oauth-profile="WORK"'):]
    assert "not connected" in work and ">Connect<" in work
    home = html[html.index('data-oauth-profile="HOME"'):html.index('data-oauth-profile="WORK"')]
    assert ">connected<" in home and ">Reconnect<" in home
    prod = TestClient(platform.app, root_path="/prod").get("/prod/dashboard/tools").text
    assert 'href="/prod/oauth/google/auth?service=calendar&amp;profile=WORK"' in prod


def oauth_row(html: str, tool: str, profile: str) -> str:
    card = html[html.index(f'data-tool="{tool}"'):]
    card = card[:card.index("</article>")]
    row = card[card.index(f'data-oauth-profile="{profile}"'):]
    return row[:row.index("</li>")]


def test_a_google_tool_without_an_oauth_client_says_what_to_set_instead_of_connect(platform):
    """Connect would end on a 424 page ("no Google OAuth client"): the row says what to configure."""
    html = platform.client.get("/dashboard/tools").text
    row = oauth_row(html, "google_calendar", "DEFAULT")
    assert "not configured" in row and "set <code>GOOGLE_CALENDAR_DEFAULT_CREDENTIALS_FILE</code>" in row
    assert "client_config" in row and platform.core.settings.profile_secret_name("google_calendar", "DEFAULT") in row
    assert ">Connect<" not in row and "/oauth/google/auth" not in row
    assert "not connected" not in row
    # what the Connect button would have led to
    assert platform.client.get("/oauth/google/auth?service=calendar&profile=DEFAULT").status_code == 424


def test_a_google_tool_with_an_oauth_client_offers_connect(make_platform, monkeypatch):
    monkeypatch.setenv("GOOGLE_CALENDAR_WORK_CLIENT_CONFIG",
                       '{"web": {"client_id": "id-1.apps.googleusercontent.com", "client_secret": "s3cret-77"}}')
    platform = make_platform()
    html = platform.client.get("/dashboard/tools").text
    assert "s3cret-77" not in html
    row = oauth_row(html, "google_calendar", "WORK")
    assert "not connected" in row and ">Connect<" in row and "not configured" not in row
    assert 'href="/oauth/google/auth?service=calendar&amp;profile=WORK"' in row


def test_schedules_page_lists_jobs_with_pause_buttons(platform):
    html = platform.client.get("/dashboard/schedules").text
    page = Elements(html)
    [row] = page.find("tr", data_job="daily_digest")
    assert row["data-enabled"] == "true"
    [button] = page.find("button", data_workflow="daily_digest")
    assert button["data-schedule-action"] == "pause"
    assert "0 9 * * 1-5" in html


def test_everything_works_under_a_stage_prefix(platform):
    run = platform.run("hello_world", {"name": "Ada"})
    client = TestClient(platform.app, root_path="/prod")
    pages = ("/", "/dashboard/", "/dashboard/workflows/hello_world", f"/dashboard/runs/{run.run_id}",
             "/dashboard/schedules", "/dashboard/tools", "/dashboard/plugins", "/login")
    # ASGI puts the prefix in both root_path and path; some adapters strip it from path: both work
    for path in [f"/prod{p}" for p in pages] + list(pages):
        response = client.get(path)
        assert response.status_code == 200, path
        page = Elements(response.text)
        assert page.find("body")[0]["data-base"] == "/prod"
        local = [u for u in page.urls() if u.startswith("/")]
        assert local and all(u.startswith("/prod/") for u in local), (path, local)
    home = client.get("/prod/").text
    assert "http://testserver/prod/api/webhooks/hello_world" in home
    redirect = client.get("/prod/dashboard", follow_redirects=False)
    assert redirect.headers["location"] == "/prod/dashboard/"


def test_static_files_are_served_with_types_and_versioned_urls(platform):
    page = Elements(platform.client.get("/").text)
    [script] = [a for t, a in page.tags if t == "script"]
    assert re.fullmatch(r"/dashboard/static/dashboard\.js\?v=[0-9a-f]{10}", script["src"])
    js = platform.client.get(script["src"])
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "data-base" not in js.text or "dataset.base" in js.text
    css = platform.client.get("/dashboard/static/dashboard.css")
    assert css.headers["content-type"].startswith("text/css")
    assert platform.client.get("/dashboard/static/../../auth.py").status_code == 404
    assert platform.client.get("/dashboard/static/%2e%2e/views.py").status_code == 404


def test_home_page_reads_each_history_once_and_bounded(platform, monkeypatch):
    """The cost rule of the home page: the page itself reads no run (a cold start answers it without
    DynamoDB); its runs, one request, read one bounded history page per working workflow, nothing more."""
    calls: list[tuple[str, int]] = []
    store = platform.engine.runs
    real = store.history

    def counting(workflow: str, limit: int, cursor: str | None = None):
        calls.append((workflow, limit))
        return real(workflow, limit, cursor)

    monkeypatch.setattr(store, "history", counting)
    assert platform.client.get("/").status_code == 200
    assert calls == []
    assert platform.client.get("/dashboard/recent").status_code == 200
    workflows = [p.name for p in platform.engine.registry.of_kind("workflow") if not p.error]
    assert sorted(calls) == sorted((w, views.CHART_RUNS) for w in workflows)


def test_an_unreadable_history_does_not_take_the_page_down(platform, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("DynamoDB is having a bad day")

    monkeypatch.setattr(platform.core.runs, "history", broken)
    assert platform.client.get("/").status_code == 200
    recent = platform.client.get("/dashboard/recent")
    assert recent.status_code == 200 and "Run history unavailable" in recent.text and ">unknown<" in recent.text


def test_chart_bars_scale_with_duration_and_colour_by_status():
    now = utcnow()
    runs = [RunSummary(run_id=f"r{i}", workflow="w", trigger="manual", status=s, created_at=now, duration_ms=d)
            for i, (s, d) in enumerate([("success", 100), ("error", 400), ("running", None), ("timed_out", 200)])]
    svg = str(runs_chart(runs, lambda run_id: f"/runs/{run_id}"))
    bars = re.findall(r'<rect class="bar st-(\w+)( pending)?" x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    # oldest first, newest at the right edge
    assert [b[0] for b in bars] == ["timed_out", "running", "error", "success"]
    heights = {b[0]: float(b[3]) for b in bars}
    assert heights["error"] == 48 and heights["success"] == 12 and heights["timed_out"] == 24
    assert bars[1][1] == " pending"
    assert float(bars[-1][2]) > float(bars[0][2])
    assert svg.count('<a href="/runs/') == 4 and "<title>" in svg
    assert str(runs_chart([], lambda r: r)) == ""


def test_chart_has_a_visible_scale_and_instant_runs_get_a_bar():
    now = utcnow()
    runs = [RunSummary(run_id=f"r{i}", workflow="w", trigger="manual", status="success", created_at=now, duration_ms=d)
            for i, d in enumerate([0, 1500, 0])]
    html = str(runs_chart(runs, lambda run_id: f"/runs/{run_id}"))
    scale = re.search(r'<div class="chart-scale" data-chart-scale aria-hidden="true">(.*?)</div>', html).group(1)
    assert re.findall(r"<span[^>]*>([^<]*)</span>", scale) == ["1.5 s", "0"]
    heights = [float(h) for h in re.findall(r'<rect class="bar[^"]*"[^>]*height="([\d.]+)"', html)]
    assert heights == [3, 48, 3]  # 0 ms runs stay visible
    assert "the longest took 1.5 s" in html
    instant = str(runs_chart(runs[:1], lambda run_id: run_id))  # only 0 ms runs: the scale says so
    assert re.findall(r"<span[^>]*>([^<]*)</span>", instant) == ["0 ms", "0"]


def test_compiled_templates_render_what_the_sources_do(platform, tmp_path, monkeypatch):
    """A build ships the templates compiled to Python (``layers.build``): the pages are the same."""
    from functions.http.dashboard import render

    platform.run("hello_world", {"name": "Ada"})
    pages = ["/", "/dashboard/recent", "/dashboard/workflows/hello_world", "/dashboard/tools", "/dashboard/nope"]
    before = {path: platform.client.get(path).text for path in pages}
    assert render.compile_templates(tmp_path / "compiled") == len(list(render.TEMPLATES.glob("*.html")))
    monkeypatch.setattr(render, "COMPILED", tmp_path / "compiled")
    render.environment.cache_clear()
    try:
        assert type(render.environment().loader).__name__ == "ModuleLoader"
        assert {path: platform.client.get(path).text for path in pages} == before
    finally:
        render.environment.cache_clear()
