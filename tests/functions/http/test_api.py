"""The HTTP API, endpoint by endpoint (README's table): status codes, response shapes, bodies in every
form a client sends them, reload without restart, interfaces and their static files."""

from __future__ import annotations

import json
import shutil

import pytest

README_PATHS = ["/api/workflows", "/api/workflows/{name}", "/api/workflows/execute/{name}",
                "/api/workflows/trigger/{name}", "/api/webhooks/{name}", "/api/workflows/logs/{name}",
                "/api/runs/{run_id}", "/api/tools", "/api/plugins", "/api/interfaces", "/api/oauth/status",
                "/api/oauth/status/{tool}", "/api/scheduler/jobs", "/api/reload", "/api/health"]

HOOK = {"triggers": ["webhook"], "webhook_auth": "none",
        "inputs_schema": [{"name": "count", "type": "integer", "default": 1}]}
HOOK_CODE = "def execute(data, tools):\n    return {'status': 'success', 'data': data}\n"


def assert_error(response, status: int, fragment: str = "") -> dict:
    """Every error is JSON {"error": "<what to do>", "detail": ...} with the right status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"} and isinstance(body["error"], str) and body["error"]
    assert fragment in body["error"], body
    return body


def run_fields(body: dict) -> None:
    assert {"run_id", "workflow", "trigger", "status", "message", "error", "output", "data",
            "output_truncated", "duration_ms", "started_at", "finished_at", "run_url"} <= set(body)
    assert body["run_url"].endswith(f"/api/runs/{body['run_id']}")


# ----- listing -------------------------------------------------------------------------------------------
def test_health(platform):
    assert platform.client.get("/api/health").json() == {"status": "ok"}


def test_list_workflows(platform):
    response = platform.client.get("/api/workflows")
    assert response.status_code == 200
    by_name = {w["name"]: w for w in response.json()}
    assert {"hello_world", "daily_digest", "incoming_webhook", "check_url"} <= set(by_name)
    hello = by_name["hello_world"]
    assert hello["display_name"] == "Hello World" and hello["status"] == "ok" and hello["active"] is True
    assert hello["triggers"] == ["manual", "webhook"]
    assert hello["webhook_url"] == "http://testserver/api/webhooks/hello_world"
    assert [i["name"] for i in hello["inputs"]] == ["name", "email", "times", "language", "shout"]
    assert hello["inputs"][3]["options"] == [{"value": "en", "label": None}, {"value": "fr", "label": None},
                                             {"value": "es", "label": None}]
    assert hello["next_run"] is None
    digest = by_name["daily_digest"]
    assert digest["schedule"] == "0 9 * * 1-5" and digest["next_run"] and digest["webhook_url"] is None
    assert digest["tools_required"] == ["mon_outil"] and digest["tools_profiles"] == {"mon_outil": "DEMO"}


def test_public_url_is_used_in_links(make_platform):
    platform = make_platform(WFP_PUBLIC_URL="https://flows.example.com/")
    hello = platform.client.get("/api/workflows/hello_world").json()
    assert hello["webhook_url"] == "https://flows.example.com/api/webhooks/hello_world"


def test_one_workflow_and_unknown_workflow(platform):
    assert platform.client.get("/api/workflows/hello_world").json()["name"] == "hello_world"
    assert_error(platform.client.get("/api/workflows/nope"), 404, "no workflow named 'nope'")


# ----- running -------------------------------------------------------------------------------------------
def test_execute_with_a_json_body(platform):
    response = platform.client.post("/api/workflows/execute/hello_world",
                                    json={"name": "Ada", "language": "fr", "times": 2})
    assert response.status_code == 200
    body = response.json()
    run_fields(body)
    assert body["status"] == "success" and body["trigger"] == "manual" and body["workflow"] == "hello_world"
    assert body["message"] == "Bonjour, Ada!"
    assert body["data"] == {"greetings": ["Bonjour, Ada!", "Bonjour, Ada!"]}
    assert body["output"]["data"] == body["data"]


def test_execute_ignores_the_query_string_and_accepts_an_empty_body(platform):
    response = platform.client.post("/api/workflows/execute/incoming_webhook?event=from-query")
    assert response.status_code == 200 and response.json()["data"] == {"event": "unknown", "fields": []}


def test_execute_reports_invalid_inputs_one_per_field(platform):
    response = platform.client.post("/api/workflows/execute/hello_world",
                                    json={"email": "nope", "times": "many", "language": "de"})
    body = assert_error(response, 422, "invalid inputs for workflow 'hello_world'")
    assert [e["field"] for e in body["detail"]] == ["name", "email", "times", "language"]
    assert all(e["message"] for e in body["detail"])
    assert platform.client.get("/api/workflows/logs/hello_world").json()["runs"] == []


def test_execute_a_workflow_that_returns_an_error_is_a_200_error_run(platform):
    response = platform.client.post("/api/workflows/execute/hello_world", json={"name": "Ada", "times": 50})
    assert response.status_code == 200
    assert response.json()["status"] == "error" and "between 1 and 10" in response.json()["error"]


def test_trigger_with_query_parameters_as_typed_inputs(platform):
    response = platform.client.get("/api/workflows/trigger/hello_world",
                                   params={"name": "Ada", "shout": "true", "times": "2", "language": "es"})
    assert response.status_code == 200
    body = response.json()
    run_fields(body)
    assert body["trigger"] == "api" and body["data"] == {"greetings": ["HOLA, ADA!", "HOLA, ADA!"]}


def test_trigger_refuses_bad_query_values(platform):
    body = assert_error(platform.client.get("/api/workflows/trigger/hello_world?name=Ada&shout=perhaps"), 422)
    assert body["detail"] == [{"field": "shout", "message": "Shout must be true or false"}]


@pytest.fixture
def hooks(make_platform, example_plugins):
    example_plugins.workflow("hook", HOOK, HOOK_CODE)
    example_plugins.workflow("both", {**HOOK, "triggers": ["manual", "webhook"]}, HOOK_CODE)
    example_plugins.workflow("off", {**HOOK, "active": False}, HOOK_CODE)
    example_plugins.workflow("broken", HOOK, "def execute(:\n")
    return make_platform(example_plugins.root)


def webhook_inputs(platform, response) -> dict:
    """What the webhook's run received (read from the run record: works for sync and async webhooks)."""
    assert response.status_code in (200, 202), response.text
    run_id = response.json()["run_id"]
    run = platform.client.get(f"/api/runs/{run_id}").json()
    assert run["trigger"] == "webhook"
    return run["inputs"]


def test_webhook_with_a_json_body_and_query_parameters(hooks):
    response = hooks.client.post("/api/webhooks/hook?source=github&count=1",
                                 json={"count": 3, "repository": {"name": "demo"}})
    assert webhook_inputs(hooks, response) == {"source": "github", "count": 3, "repository": {"name": "demo"}}


def test_webhook_with_a_form_body(hooks):
    response = hooks.client.post("/api/webhooks/hook?source=form", data={"count": "4", "text": "é & ü",
                                                                          "token": "t0k3n"})
    assert webhook_inputs(hooks, response) == {"source": "form", "count": 4, "text": "é & ü", "token": "***"}


def test_webhook_with_json_labelled_as_a_form(hooks):
    """What `curl -d '{"a": 1}'` sends."""
    response = hooks.client.post("/api/webhooks/hook", content=b'{"count": 5}',
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert webhook_inputs(hooks, response) == {"count": 5}


@pytest.mark.parametrize("content, content_type, status, fragment", [
    (b'{"name": ', "application/json", 400, "not valid JSON"),
    (b'{"count": NaN}', "application/json", 400, "not valid JSON"),
    (b'[1, 2]', "application/json", 400, "must be a JSON object of inputs, not a list"),
    (b'"text"', "application/json", 400, "not a str"),
    (b'null', "application/json", 400, "not a NoneType"),
    (b'\xff\xfe{', "application/json", 400, "not valid JSON"),
    (b'<a>1</a>', "application/xml", 415, "unsupported content type 'application/xml'"),
    (b'a=1', "multipart/form-data; boundary=x", 415, "unsupported content type"),
])
@pytest.mark.parametrize("path", ["/api/workflows/execute/both", "/api/webhooks/both"])
def test_bad_bodies_are_refused_clearly_and_record_nothing(hooks, path, content, content_type, status, fragment):
    assert_error(hooks.client.post(path, content=content, headers={"content-type": content_type}), status, fragment)
    assert hooks.client.get("/api/workflows/logs/both").json()["runs"] == []


@pytest.mark.parametrize("path", ["/api/workflows/execute/hello_world", "/api/webhooks/hello_world"])
def test_a_body_over_256_kb_is_a_413(platform, path):
    assert_error(platform.client.post(path, json={"name": "x" * 300_000}), 413, "limit")
    assert platform.client.post(path, json={"name": "x" * 200_000}).status_code in (200, 202)


def test_refusals_by_state(hooks):
    assert_error(hooks.client.post("/api/webhooks/nope", json={}), 404, "no workflow named 'nope'")
    assert_error(hooks.client.post("/api/webhooks/off", json={}), 409, "inactive")
    assert_error(hooks.client.post("/api/workflows/execute/hook", json={}), 409, "does not accept 'manual'")
    assert_error(hooks.client.get("/api/workflows/trigger/hook"), 409, "does not accept 'api'")
    body = assert_error(hooks.client.post("/api/webhooks/broken", json={}), 409, "broken")
    assert body["detail"]["file"] == "plugins/workflows/broken/main.py:1"
    assert_error(hooks.client.post("/api/webhooks/hook", json={"count": "x"}), 422, "count")


# ----- history and runs ----------------------------------------------------------------------------------
def test_logs_are_newest_first_and_paginated(platform):
    ids = [platform.client.get(f"/api/workflows/trigger/hello_world?name=n{i}").json()["run_id"] for i in range(5)]
    first = platform.client.get("/api/workflows/logs/hello_world?limit=2").json()
    assert first["workflow"] == "hello_world" and [r["run_id"] for r in first["runs"]] == ids[:-3:-1]
    assert set(first["runs"][0]) >= {"run_id", "status", "trigger", "created_at", "duration_ms", "message"}
    assert "output" not in first["runs"][0] and "logs" not in first["runs"][0]
    seen, cursor = [r["run_id"] for r in first["runs"]], first["next_cursor"]
    while cursor:
        page = platform.client.get("/api/workflows/logs/hello_world", params={"limit": 2, "cursor": cursor}).json()
        seen += [r["run_id"] for r in page["runs"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    default = platform.client.get("/api/workflows/logs/hello_world").json()
    assert len(default["runs"]) == 5 and default["next_cursor"] is None


@pytest.mark.parametrize("query, status, fragment", [
    ("cursor=garbage", 400, "invalid cursor"),
    ("limit=0", 422, "limit"),
    ("limit=101", 422, "limit"),
    ("limit=ten", 422, "limit"),
])
def test_logs_refuse_bad_parameters(platform, query, status, fragment):
    assert_error(platform.client.get(f"/api/workflows/logs/hello_world?{query}"), status, fragment)


def test_logs_of_an_unknown_workflow(platform):
    assert_error(platform.client.get("/api/workflows/logs/nope"), 404, "no workflow named 'nope'")


def test_one_run_in_full(platform):
    run_id = platform.client.post("/api/workflows/execute/hello_world",
                                  json={"name": "Ada", "email": "ada@example.com", "password": "pw"}).json()["run_id"]
    response = platform.client.get(f"/api/runs/{run_id}")
    assert response.status_code == 200
    run = response.json()
    assert run["run_id"] == run_id and run["status"] == "success" and run["trigger"] == "manual"
    assert run["inputs"] == {"name": "Ada", "email": "ada@example.com", "times": 1, "language": "en",
                             "shout": False, "password": "***"}
    assert run["output"]["message"] == "Hello, Ada!"
    assert any("greeting Ada 1 time(s)" in line for line in run["logs"])
    assert any("would send the greeting to ada@example.com" in line for line in run["logs"])
    assert run["error"] is None and run["traceback"] is None


def test_unknown_run(platform):
    assert_error(platform.client.get("/api/runs/" + "0" * 24), 404, "no run with id")
    assert_error(platform.client.get("/api/runs/not-a-run-id"), 404, "no such run")


# ----- tools, plugins, interfaces, oauth, scheduler --------------------------------------------------------
def test_tools_with_actions_and_profile_names_only(platform, monkeypatch):
    monkeypatch.setenv("HTTP_JSON_GITHUB_AUTH_HEADER", "ghp_do_not_show")
    response = platform.client.get("/api/tools")
    assert response.status_code == 200
    tools = {t["name"]: t for t in response.json()}
    assert tools["mon_outil"]["profiles"] == ["DEMO"]
    assert tools["mon_outil"]["required_params"] == ["api_key"]
    assert [a["name"] for a in tools["mon_outil"]["actions"]] == ["search"]
    assert tools["mon_outil"]["actions"][0]["example"] == {"action": "search", "params": {"query": "test", "limit": 5}}
    assert "GITHUB" in tools["http_json"]["profiles"]
    assert "demo-key" not in response.text and "ghp_do_not_show" not in response.text


def test_plugins_report_broken_ones_with_file_and_reason(hooks):
    response = hooks.client.get("/api/plugins")
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == 1
    by_name = {(p["kind"], p["name"]): p for p in body["plugins"]}
    broken = by_name[("workflow", "broken")]
    assert broken["status"] == "error" and broken["file"] == "plugins/workflows/broken/main.py:1"
    assert "SyntaxError" in broken["error"]
    assert by_name[("workflow", "hook")] == {"kind": "workflow", "name": "hook", "status": "ok", "error": None,
                                             "file": None, "warnings": []}
    assert by_name[("interface", "mon_interface")]["status"] == "ok"
    # the broken workflow is listed with its error; the others run
    listed = {w["name"]: w for w in hooks.client.get("/api/workflows").json()}
    assert listed["broken"]["status"] == "error" and "SyntaxError" in listed["broken"]["error"]
    assert hooks.client.post("/api/webhooks/hook", json={}).status_code in (200, 202)


def test_oauth_status(platform):
    listed = platform.client.get("/api/oauth/status").json()
    # only OAuth tools are listed (the Google ones among the examples), none connected without a token
    assert {s["tool"] for s in listed} == {"google_calendar", "google_drive", "google_sheets"}
    assert all(s["requires_oauth"] and not s["connected"] and s["auth_url"] for s in listed)
    one = platform.client.get("/api/oauth/status/mon_outil?profile=demo")
    assert one.status_code == 200
    assert one.json() | {"tool": "mon_outil", "profile": "DEMO", "requires_oauth": False, "connected": True,
                         "auth_url": None, "missing_params": []} == one.json()
    missing = platform.client.get("/api/oauth/status/mon_outil?profile=PROD").json()
    assert missing["connected"] is False and missing["missing_params"] == ["api_key"]
    assert_error(platform.client.get("/api/oauth/status/nope"), 404, "no tool named 'nope'")
    assert_error(platform.client.get("/api/oauth/status/mon_outil?profile=bad name"), 400, "invalid profile name")


def test_oauth_status_lists_oauth_tools_per_profile(make_platform, plugin_dir, monkeypatch):
    plugin_dir.tool("cal", {"tool_name": "cal", "required_params": ["calendar_id"],
                            "oauth": {"provider": "google", "service": "calendar"}},
                    "from ..base import BaseTool\n\nclass Cal(BaseTool):\n"
                    "    def get_oauth_status(self):\n"
                    "        return {'tool': self.tool_name, 'profile': self.profile, 'requires_oauth': True,\n"
                    "                'connected': False, 'auth_url': '/oauth/google/auth?service=calendar'}\n")
    monkeypatch.setenv("CAL_WORK_CALENDAR_ID", "w@example.com")
    platform = make_platform(plugin_dir.root)
    (status,) = platform.client.get("/api/oauth/status").json()
    expected = {"tool": "cal", "profile": "WORK", "requires_oauth": True, "connected": False,
                "auth_url": "http://testserver/oauth/google/auth?service=calendar"}  # made absolute
    assert {k: status[k] for k in expected} == expected


def test_scheduler_jobs(platform):
    (job,) = platform.client.get("/api/scheduler/jobs").json()
    assert job["workflow"] == "daily_digest" and job["cron"] == "0 9 * * 1-5" and job["timezone"] == "UTC"
    assert len(job["next_runs"]) == 3 and job["last_run"] is None and job["active"] is True
    platform.client.post("/api/workflows/execute/daily_digest", json={})
    (job,) = platform.client.get("/api/scheduler/jobs").json()
    assert job["last_run"] is None  # a manual run is not a tick of the schedule
    run = platform.core.schedules.handle({"workflow": "daily_digest", "time": "2026-01-05T09:00:00Z", "id": "e1"})
    (job,) = platform.client.get("/api/scheduler/jobs").json()
    assert job["last_run"]["run_id"] == run.run_id and job["last_run"]["status"] == "success"


def test_interfaces(platform):
    (interface,) = platform.client.get("/api/interfaces").json()
    assert interface == {"name": "mon_interface", "display_name": "Mon Interface",
                         "description": "Interface personnalisée", "route": "/mon-interface", "icon": "🎯",
                         "status": "ok", "error": None}
    page = platform.client.get("/mon-interface/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "hello_world" in page.text


PAGE = """
from fastapi import APIRouter
DISPLAY_NAME = "Page"
ROUTE = "/page"
router = APIRouter(prefix=ROUTE)

@router.get("/")
def index():
    return {"page": "index"}

@router.get("/fail")
def fail():
    raise RuntimeError("interface bug")

def get_router():
    return router
"""


@pytest.fixture
def page(make_platform, plugin_dir):
    plugin_dir.interface("page", PAGE, {"src/app.js": "console.log('hi');\n", "src/css/site.css": "body{}\n",
                                        "secret.txt": "do-not-serve"})
    plugin_dir.interface("bad_page", "ROUTE = '/bad'\ndef get_router():\n    raise ValueError('no router')\n")
    return make_platform(plugin_dir.root)


def test_interface_routes_and_static_files(page):
    assert page.client.get("/page/").json() == {"page": "index"}
    script = page.client.get("/page/app.js")
    assert script.status_code == 200 and "console.log" in script.text
    assert "javascript" in script.headers["content-type"]
    assert page.client.get("/page/css/site.css").text == "body{}\n"
    assert_error(page.client.get("/page/missing.js"), 404)


@pytest.mark.parametrize("path", ["/page/../secret.txt", "/page/..%2Fsecret.txt", "/page/%2e%2e/secret.txt",
                                  "/page/..%2F..%2Fplugins/interfaces/page/main.py", "/page/%2Fetc%2Fpasswd"])
def test_static_files_refuse_path_traversal(page, path):
    response = page.client.get(path)
    assert response.status_code == 404
    assert "do-not-serve" not in response.text and "APIRouter" not in response.text and "root:" not in response.text


def test_an_interface_route_that_raises_is_a_json_500(page):
    assert_error(page.client.get("/page/fail"), 500, "internal error (RuntimeError)")


def test_a_broken_interface_is_reported_and_not_mounted(page):
    plugins = {p["name"]: p for p in page.client.get("/api/plugins").json()["plugins"]}
    assert plugins["bad_page"]["status"] == "error" and "no router" in plugins["bad_page"]["error"]
    assert page.client.get("/bad/").status_code == 404
    assert page.client.get("/page/").status_code == 200


# ----- reload ---------------------------------------------------------------------------------------------
def test_reload_picks_up_edited_added_and_broken_workflows(make_platform, example_plugins, monkeypatch):
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "k")
    platform = make_platform(example_plugins.root)
    client = platform.client
    assert client.get("/api/workflows/trigger/hello_world?name=Ada").json()["message"] == "Hello, Ada!"

    hello = example_plugins.root / "workflows" / "hello_world" / "main.py"
    hello.write_text(hello.read_text().replace('"en": "Hello"', '"en": "Howdy"'))
    example_plugins.workflow("added", {"name": "Added later"},
                             "def execute(data, tools):\n    return {'status': 'success', 'message': 'new'}\n")
    digest = example_plugins.root / "workflows" / "daily_digest" / "main.py"
    digest.write_text(digest.read_text() + "\ndef broken(:\n")

    # nothing changes before the reload
    assert client.get("/api/workflows/trigger/hello_world?name=Ada").json()["message"] == "Hello, Ada!"
    assert_error(client.post("/api/workflows/execute/added", json={}), 404)

    response = client.post("/api/reload")
    assert response.status_code == 200
    body = response.json()
    from functions.registry.discovery import Registry

    assert body["plugins"] == len(Registry.discover(example_plugins.root).plugins)
    assert [(e["kind"], e["name"]) for e in body["errors"]] == [("workflow", "daily_digest")]
    assert "SyntaxError" in body["errors"][0]["error"]
    assert body["errors"][0]["file"].startswith("plugins/workflows/daily_digest/main.py:")

    assert client.get("/api/workflows/trigger/hello_world?name=Ada").json()["message"] == "Howdy, Ada!"
    assert client.post("/api/workflows/execute/added", json={}).json()["message"] == "new"
    assert_error(client.post("/api/workflows/execute/daily_digest", json={}), 409, "SyntaxError")
    assert client.post("/api/webhooks/incoming_webhook", json={"event": "x"}).status_code in (200, 202)
    assert client.get("/mon-interface/").status_code == 200

    # and back: fixing the file and reloading again repairs it
    digest.write_text(digest.read_text().replace("\ndef broken(:\n", "\n"))
    assert client.post("/api/reload").json()["errors"] == []
    assert client.post("/api/workflows/execute/daily_digest", json={}).json()["status"] == "success"


def test_reload_picks_up_an_edited_tool_and_config(make_platform, example_plugins, monkeypatch):
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "k")
    platform = make_platform(example_plugins.root)
    assert platform.client.post("/api/workflows/execute/daily_digest", json={}).json()["message"] == \
        "3 item(s) for 'automation'"
    tool = example_plugins.root / "tools" / "mon_outil" / "main.py"
    tool.write_text(tool.read_text().replace("min(limit, 3)", "min(limit, 1)"))
    config = example_plugins.root / "workflows" / "daily_digest" / "config.json"
    config.write_text(config.read_text().replace('"default": "automation"', '"default": "robots"'))
    platform.client.post("/api/reload")
    assert platform.client.post("/api/workflows/execute/daily_digest", json={}).json()["message"] == \
        "1 item(s) for 'robots'"


def test_reload_mounts_a_new_interface_and_unmounts_a_removed_one(make_platform, plugin_dir):
    platform = make_platform(plugin_dir.root)
    assert platform.client.get("/page/").status_code == 404
    folder = plugin_dir.interface("page", PAGE)
    platform.client.post("/api/reload")
    assert platform.client.get("/page/").json() == {"page": "index"}
    shutil.rmtree(folder)
    platform.client.post("/api/reload")
    assert platform.client.get("/page/").status_code == 404


# ----- docs and generic errors ----------------------------------------------------------------------------
def test_docs_and_openapi(platform):
    docs = platform.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = platform.client.get("/openapi.json").json()
    assert set(README_PATHS) <= set(spec["paths"])
    execute = spec["paths"]["/api/workflows/execute/{name}"]["post"]
    assert "application/json" in execute["requestBody"]["content"]
    assert {"200", "202", "404", "409", "422", "400", "413", "415"} <= set(execute["responses"])
    webhook = spec["paths"]["/api/webhooks/{name}"]["post"]
    assert {"202", "401", "404", "409", "422", "400", "413", "415", "503"} <= set(webhook["responses"])
    # a webhook accepts (202), or answers a handshake / acknowledges a Slack delivery (200): never a finished run
    assert "handshake" in webhook["responses"]["200"]["description"]
    assert "$ref" not in json.dumps(webhook["responses"]["200"])
    for path in README_PATHS:  # every endpoint has a typed success response (202 for webhooks)
        for operation in spec["paths"][path].values():
            success = operation["responses"].get("200") or operation["responses"]["202"]
            assert success["content"]["application/json"]["schema"], (path, operation)


def test_dashboard_pages_answer(platform):
    for path in ("/", "/dashboard/"):
        response = platform.client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")


def test_unknown_endpoint_and_wrong_method_are_json(platform):
    assert_error(platform.client.get("/api/nothing-here"), 404, "no such endpoint: GET /api/nothing-here")
    assert_error(platform.client.delete("/api/workflows"), 405, "method DELETE not allowed")


def test_an_interface_router_without_prefix_is_mounted_at_its_route(make_platform, plugin_dir):
    plugin_dir.interface("bare", "from fastapi import APIRouter\nROUTE = '/bare/'\nrouter = APIRouter()\n\n"
                                 "@router.get('/hello')\ndef hello():\n    return {'bare': True}\n\n"
                                 "def get_router():\n    return router\n")
    platform = make_platform(plugin_dir.root)
    assert platform.client.get("/bare/hello").json() == {"bare": True}
    assert platform.client.get("/api/interfaces").json()[0]["route"] == "/bare"


def test_oauth_status_of_a_broken_tool_is_a_409(make_platform, plugin_dir):
    plugin_dir.tool("broken_tool", None, "from ..base import BaseTool\nraise ImportError('no sdk')\n")
    platform = make_platform(plugin_dir.root)
    body = assert_error(platform.client.get("/api/oauth/status/broken_tool"), 409, "broken")
    assert body["detail"]["file"] == "plugins/tools/broken_tool/main.py:2"
    assert platform.client.get("/api/plugins").json()["errors"] == 1
    (tool,) = platform.client.get("/api/tools").json()
    assert tool["status"] == "error" and "ImportError: no sdk" in tool["error"]


@pytest.mark.parametrize("code, reason", [
    ("ROUTE = '/nr'\ndef get_router():\n    return 42\n", "TypeError: get_router() must return a fastapi.APIRouter, not int"),
    ("ROUTE = '/nr'\ndef get_router():\n    raise KeyError('cfg')\n", "get_router() raised KeyError: 'cfg'"),
])
def test_an_interface_with_a_bad_router_never_takes_the_platform_down(make_platform, plugin_dir, code, reason):
    plugin_dir.interface("bad", code)
    plugin_dir.interface("good", PAGE)
    plugin_dir.workflow("w", {})
    platform = make_platform(plugin_dir.root)
    (bad,) = [p for p in platform.client.get("/api/plugins").json()["plugins"] if p["name"] == "bad"]
    assert bad["status"] == "error" and bad["error"] == reason and bad["file"] == "plugins/interfaces/bad/main.py"
    assert platform.client.get("/page/").json() == {"page": "index"}
    assert platform.client.post("/api/workflows/execute/w", json={}).json()["status"] == "success"


def test_oauth_status_list_survives_a_tool_that_cannot_answer(make_platform, plugin_dir):
    oauth = {"provider": "google", "service": "calendar"}
    plugin_dir.tool("cal", {"tool_name": "cal", "oauth": oauth},
                    "from ..base import BaseTool\nimport missing_google_sdk\n")
    plugin_dir.tool("mail", {"tool_name": "mail", "oauth": oauth},
                    "from ..base import BaseTool\n\nclass Mail(BaseTool):\n    def get_oauth_status(self):\n"
                    "        raise RuntimeError('token store down')\n")
    plugin_dir.tool("drive", {"tool_name": "drive", "oauth": oauth})
    platform = make_platform(plugin_dir.root)
    response = platform.client.get("/api/oauth/status")
    assert response.status_code == 200
    by_tool = {s["tool"]: s for s in response.json()}
    assert "ModuleNotFoundError" in by_tool["cal"]["error"] and by_tool["cal"]["connected"] is False
    assert by_tool["mail"]["error"] == "RuntimeError: token store down"
    assert by_tool["drive"]["connected"] is True and "error" not in by_tool["drive"]
