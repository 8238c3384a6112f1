"""``wfp`` as a user types it (``python -m local_dev.cli`` subprocesses over a private plugins copy,
``.env`` and local state): run, tool, new, plugins check, and their exit codes."""

from __future__ import annotations

import base64
import json

from local_platform import LocalSetup, local  # noqa: F401 - fixture


def result_json(stdout: str) -> dict:
    """The JSON document ``wfp run``/``wfp tool`` print on stdout."""
    return json.loads(stdout)


def journaled_runs(local: LocalSetup) -> dict[str, str]:
    """run_id -> last status written to the local AWS journal (what a restarted server will see)."""
    from local_dev.aws import Journal

    runs = {}
    for entry in Journal(local.state / "aws-journal.jsonl").entries():
        if entry["headers"].get("HTTP_X_AMZ_TARGET", "").endswith(".PutItem"):
            item = json.loads(base64.b64decode(entry["body"]))["Item"]
            runs[item["run_id"]["S"]] = item["status"]["S"]
    return runs


def test_run_success_prints_the_result_and_run_id(local: LocalSetup):
    done = local.cli("run", "hello_world", "-i", "name=Ada", "-i", "times=2", "-i", "shout=true", "--logs")
    assert done.returncode == 0, done.stderr
    result = result_json(done.stdout)
    assert result["status"] == "success" and result["message"] == "HELLO, ADA!"
    assert result["output"]["data"] == {"greetings": ["HELLO, ADA!", "HELLO, ADA!"]}
    assert len(result["run_id"]) == 24
    assert f"run {result['run_id']}: success" in done.stderr
    assert "greeting Ada 2 time(s)" in done.stderr  # --logs
    # the run is recorded in the local state, where the dev server will show it
    assert journaled_runs(local) == {result["run_id"]: "success"}


def test_run_failed_workflow_exits_1_refused_run_exits_2(local: LocalSetup):
    failed = local.cli("run", "hello_world", "--json", '{"name": "Ada", "times": 50}')
    assert failed.returncode == 1, failed.stderr
    result = result_json(failed.stdout)
    assert result["status"] == "error" and "between 1 and 10" in result["error"]
    assert f"run {result['run_id']}: error" in failed.stderr

    refused = local.cli("run", "hello_world", "-i", "times=x")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "invalid inputs for workflow 'hello_world'" in refused.stderr
    assert "name: Name is required" in refused.stderr and "times: Times must be a whole number" in refused.stderr


def test_run_unknown_or_raising_workflow(local: LocalSetup):
    local.plugins.workflow("raises", {}, "def execute(data, tools):\n    raise RuntimeError('boom')\n")
    raised = local.cli("run", "raises")
    assert raised.returncode == 1
    assert result_json(raised.stdout)["error"] == "RuntimeError: boom"
    assert "Traceback" in raised.stderr and "raise RuntimeError('boom')" in raised.stderr

    unknown = local.cli("run", "nope")
    assert unknown.returncode == 2 and "no workflow named 'nope'" in unknown.stderr


def test_run_reads_profiles_from_the_env_file(local: LocalSetup):
    done = local.cli("run", "daily_digest", "-i", "topic=robots")
    assert done.returncode == 0, done.stderr
    assert result_json(done.stdout)["message"] == "3 item(s) for 'robots'"
    local.env_file.write_text("# no profile\n")
    missing = local.cli("run", "daily_digest")
    assert missing.returncode == 1
    assert "MON_OUTIL_DEMO_API_KEY" in result_json(missing.stdout)["error"]


def test_tool_calls_one_action_with_a_profile(local: LocalSetup):
    done = local.cli("tool", "mon_outil", "search", "--profile", "DEMO", "-p", "query=test", "-p", "limit=2")
    assert done.returncode == 0, done.stderr
    assert result_json(done.stdout) == {"status": "success",
                                        "data": {"query": "test", "results": ["test #1", "test #2"]}}

    failed = local.cli("tool", "mon_outil", "search", "--profile", "DEMO")  # no query: the tool says error
    assert failed.returncode == 1 and result_json(failed.stdout) == {"error": "Query parameter required"}

    readme = local.cli("tool", "mon_outil", "search", "--profile", "TEST", "-p", "query=test")  # .env.example's
    assert readme.returncode == 0, readme.stderr

    missing = local.cli("tool", "mon_outil", "search", "--profile", "PROD", "-p", "query=x")
    assert missing.returncode == 2
    assert "MON_OUTIL_PROD_API_KEY" in missing.stderr and "wfp-dev/profiles/mon_outil/PROD" in missing.stderr

    unknown = local.cli("tool", "nope", "x")
    assert unknown.returncode == 2 and "no tool named 'nope'" in unknown.stderr


def test_new_plugins_pass_the_check_and_run(local: LocalSetup):
    for kind, name in (("tool", "my_tool"), ("workflow", "my_flow"), ("interface", "my_page")):
        created = local.cli("new", kind, name)
        assert created.returncode == 0, created.stderr
        assert f"{kind}s/{name}" in created.stdout

    check = local.cli("plugins", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    for line in ("ok    tool      my_tool", "ok    workflow  my_flow", "ok    interface my_page"):
        assert line in check.stdout
    assert "0 error(s)" in check.stdout and "warning" not in check.stdout

    flow = local.cli("run", "my_flow", "-i", "name=Ada")
    assert flow.returncode == 0, flow.stderr
    assert result_json(flow.stdout)["message"] == "Hello, Ada!"
    tool = local.cli("tool", "my_tool", "ping", "--profile", "TEST", "-p", "message=hi")
    assert tool.returncode == 0, tool.stderr
    assert result_json(tool.stdout) == {"status": "success", "data": {"pong": "hi"}}

    again = local.cli("new", "workflow", "my_flow")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = local.cli("new", "tool", "My-Tool")
    assert bad.returncode == 2 and "invalid name 'My-Tool'" in bad.stderr


def test_new_interface_is_served(local: LocalSetup, make_platform):
    assert local.cli("new", "interface", "my_page").returncode == 0
    platform = make_platform(local.plugins.root)
    page = platform.client.get("/my-page/")
    assert page.status_code == 200 and "<h1>My Page</h1>" in page.text
    assert platform.client.get("/my-page/style.css").status_code == 200
    listed = {i["name"]: i for i in platform.client.get("/api/interfaces").json()}
    assert listed["my_page"]["route"] == "/my-page" and listed["my_page"]["status"] == "ok"


def test_plugins_check_fails_on_a_broken_plugin(local: LocalSetup):
    local.plugins.workflow("broken", {"name": "Broken"}, "def execute(data, tools)\n    return {}\n")
    local.plugins.workflow("typo", {"trigers": ["manual"]})
    check = local.cli("plugins", "check")
    assert check.returncode == 1
    assert "ERROR workflow  broken" in check.stdout
    assert "plugins/workflows/broken/main.py:1: SyntaxError" in check.stdout
    assert "warning: unknown key 'trigers' (ignored)" in check.stdout
    assert "ok    workflow  hello_world" in check.stdout  # the others are fine
    assert "1 error(s)" in check.stdout


def test_concurrent_runs_share_one_local_aws(local: LocalSetup):
    """Several ``wfp run`` at once (a script, or a run while ``wfp dev`` starts): one process owns the
    local AWS, the others use it, and it is not stopped while they still need it."""
    import subprocess
    import sys

    from support import REPO

    local.plugins.workflow("nap", {"inputs_schema": [{"name": "s", "type": "number"}]},
                           "import time\n\ndef execute(data, tools):\n    time.sleep(data['s'])\n"
                           "    return {'status': 'success', 'message': str(data['s'])}\n")
    procs = [subprocess.Popen([sys.executable, "-m", "local_dev.cli", "run", "nap", "-i", f"s={s}"],
                              cwd=REPO, env=local.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (0, 1.5, 0.5)]
    outcomes = [(p.wait(120), *p.communicate()) for p in procs]
    for code, out, err in outcomes:
        assert code == 0, err
    ids = {result_json(out)["run_id"] for _, out, _ in outcomes}
    assert len(ids) == 3
    assert journaled_runs(local) == dict.fromkeys(ids, "success")


# ----- the check agrees with the server; `new` refuses reserved names; where plugins are ----------------
ROUTE_PAGE = ("from fastapi import APIRouter\nROUTE = {route!r}\nrouter = APIRouter()\n\n"
              "def get_router():\n    return router\n")


def test_plugins_check_refuses_what_the_server_refuses(local: LocalSetup, make_platform):
    for name, route in (("on_dashboard", "/dashboard"), ("on_docs", "/docs"), ("on_login", "/login"),
                        ("on_logout", "/logout"), ("on_oauth", "/oauth"), ("on_redoc", "/redoc"),
                        ("on_api", "/api"), ("zz_same", "/mon-interface")):
        local.plugins.interface(name, ROUTE_PAGE.format(route=route))
    local.plugins.workflow("typo_tool", {"tools_required": ["no_such_tool"]})
    local.plugins.workflow("odd_profile", {"tools_required": ["mon_outil"], "tools_profiles": {"mon_outil": "NOPE"}})
    check = local.cli("plugins", "check")
    assert check.returncode == 1
    broken = {line.split()[2] for line in check.stdout.splitlines() if line.startswith("ERROR")}
    assert broken == {"on_dashboard", "on_docs", "on_login", "on_logout", "on_oauth", "on_redoc", "on_api",
                      "zz_same", "typo_tool"}
    assert "9 error(s)" in check.stdout
    assert "ok    workflow  odd_profile" in check.stdout
    assert "warning: tools_profiles: profile 'NOPE' of tool 'mon_outil' is not configured" in check.stdout
    assert "MON_OUTIL_NOPE_API_KEY" in check.stdout
    # the server says the same
    platform = make_platform(local.plugins.root)
    served = platform.client.get("/api/plugins").json()
    assert {p["name"] for p in served["plugins"] if p["status"] == "error"} == broken
    assert served["errors"] == 9


def test_new_refuses_names_the_platform_reserves(local: LocalSetup):
    for name in ("dashboard", "docs", "login", "logout", "oauth", "redoc", "api"):
        refused = local.cli("new", "interface", name)
        assert refused.returncode == 2, (name, refused.stdout)
        assert "reserved" in refused.stderr and f"/{name}" in refused.stderr
        assert not (local.plugins.root / "interfaces" / name).exists()
    for kind, name in (("tool", "base"), ("workflow", "execute")):
        refused = local.cli("new", kind, name)
        assert refused.returncode == 2 and "reserved" in refused.stderr, refused.stderr
        assert not (local.plugins.root / f"{kind}s" / name).exists()


def test_new_says_what_to_do_next(local: LocalSetup):
    flow = local.cli("new", "workflow", "next_flow")
    assert flow.returncode == 0
    assert "plugins/workflows/next_flow/main.py" in flow.stdout and "config.json" in flow.stdout
    assert "wfp run next_flow" in flow.stdout and "wfp plugins check" in flow.stdout
    tool = local.cli("new", "tool", "next_tool")
    assert "plugins/tools/next_tool/main.py" in tool.stdout and "wfp tool next_tool ping" in tool.stdout
    page = local.cli("new", "interface", "next_page")
    assert "plugins/interfaces/next_page/src/index.html" in page.stdout
    assert "wfp dev" in page.stdout and "/next-page/" in page.stdout


def test_plugins_check_without_a_plugins_folder_fails_loudly(local: LocalSetup, tmp_path):
    import subprocess
    import sys

    from support import REPO

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in local.env.items() if k != "WFP_PLUGINS_DIR"}
    done = subprocess.run([sys.executable, "-m", "local_dev.cli", "plugins", "check"], cwd=empty, env=env,
                          capture_output=True, check=False, text=True, timeout=90)
    assert done.returncode == 1, done.stdout + done.stderr
    assert str(empty / "plugins") in done.stderr and "WFP_PLUGINS_DIR" in done.stderr
    assert "0 error(s)" not in done.stdout

    missing = subprocess.run(
        [sys.executable, "-m", "local_dev.cli", "plugins", "check"], cwd=REPO,
        env={**local.env, "WFP_PLUGINS_DIR": str(tmp_path / "nope")}, capture_output=True, text=True, timeout=90,
        check=False)
    assert missing.returncode == 1 and str(tmp_path / "nope") in missing.stderr


def test_the_plugins_folder_defaults_to_the_current_one_and_the_layer_on_lambda(tmp_path, monkeypatch):
    from functions.settings import Settings

    monkeypatch.delenv("WFP_PLUGINS_DIR", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().plugins_dir == tmp_path / "plugins"  # even when it does not exist: the check says so
    (tmp_path / "plugins").mkdir()
    assert Settings().plugins_dir == tmp_path / "plugins"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "wfp-dev-api")
    assert Settings().plugins_dir == tmp_path / "plugins"  # a folder that is there wins
    (tmp_path / "plugins").rmdir()
    assert Settings().plugins_dir.as_posix() == "/opt/python/plugins"


def test_new_in_a_folder_without_plugins_makes_a_tool_that_passes_the_check(local: LocalSetup, tmp_path):
    """``./plugins`` is the default: ``wfp new`` starts it, with the ``base.py`` a tool imports."""
    import subprocess
    import sys

    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in local.env.items() if k != "WFP_PLUGINS_DIR"}

    def wfp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "local_dev.cli", *args], cwd=project, env=env,
                              capture_output=True, check=False, text=True, timeout=90)

    assert wfp("new", "tool", "fresh_tool").returncode == 0
    check = wfp("plugins", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"checking {project / 'plugins'}" in check.stdout and "ok    tool      fresh_tool" in check.stdout
