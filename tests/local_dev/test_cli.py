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

    missing = local.cli("tool", "mon_outil", "search", "--profile", "TEST", "-p", "query=x")
    assert missing.returncode == 2
    assert "MON_OUTIL_TEST_API_KEY" in missing.stderr and "wfp-dev/profiles/mon_outil/TEST" in missing.stderr

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
