"""Day-2 operations: re-running a run (same inputs, passwords supplied again, other tool profiles) and
cancelling an open one (a queued run never starts; a running one is recorded ``cancelled`` at once and
its result discarded). Real behaviour on moto: the store, the queue and the worker are the platform's."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from support import drain

KEYTOOL = {"tool_name": "keytool", "required_params": ["api_key"]}
KEYTOOL_CODE = ("from ..base import BaseTool\n\nclass T(BaseTool):\n"
                "    def execute(self, action, params=None):\n"
                "        return {'status': 'success', 'data': {'profile': self.profile}}\n")
FETCH = {"name": "Fetch", "triggers": ["webhook"], "tools_required": ["keytool"],
         "tools_profiles": {"keytool": "PROD"}, "timeout_seconds": 10,
         "inputs_schema": [{"name": "user", "type": "text"},
                           {"name": "password", "type": "password", "required": True}]}
FETCH_CODE = ("def execute(data, tools):\n"
              "    got = tools['keytool'].execute('whoami')['data']\n"
              "    return {'status': 'success', 'message': data['user'] + ' via ' + got['profile'],\n"
              "            'data': {'profile': got['profile'], 'pw_len': len(data['password'])}}\n")
MARKER = {"name": "Marker", "triggers": ["manual"], "timeout_seconds": 10,
          "inputs_schema": [{"name": "path", "type": "text"}]}
MARKER_CODE = ("from pathlib import Path\n\ndef execute(data, tools):\n"
               "    Path(data['path']).write_text('ran')\n    return {'status': 'success', 'message': 'wrote'}\n")
WAITER = {"name": "Waiter", "triggers": ["manual"], "timeout_seconds": 10,
          "inputs_schema": [{"name": "folder", "type": "text"}]}
WAITER_CODE = ("import time\nfrom pathlib import Path\n\ndef execute(data, tools):\n"
               "    folder = Path(data['folder'])\n    (folder / 'started').write_text('1')\n"
               "    for _ in range(200):\n        if (folder / 'go').exists():\n            break\n"
               "        time.sleep(0.025)\n"
               "    (folder / 'finished').write_text('1')\n"
               "    return {'status': 'success', 'message': 'finished', 'data': {'secret_result': 42}}\n")


@pytest.fixture
def ops(make_platform, plugin_dir, monkeypatch):
    plugin_dir.tool("keytool", KEYTOOL, KEYTOOL_CODE)
    plugin_dir.workflow("fetch", FETCH, FETCH_CODE)
    plugin_dir.workflow("marker", MARKER, MARKER_CODE)
    plugin_dir.workflow("waiter", WAITER, WAITER_CODE)
    monkeypatch.setenv("KEYTOOL_TEST_API_KEY", "test-key")  # PROD has no api_key: runs with it fail
    return make_platform(plugin_dir.root)


def failed_prod_run(ops):
    """A webhook run of ``fetch`` with the PROD profile (missing its api_key): error."""
    run = ops.engine.accept("fetch", {"user": "ada", "password": "hunter22"}, "webhook", wait=60).run
    assert run.status == "error" and "KEYTOOL_PROD_API_KEY" in run.error, run
    assert run.inputs == {"user": "ada", "password": "***"} and run.inputs_redacted
    return run


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# ----- re-run ----------------------------------------------------------------------------------------------
def test_rerun_a_prod_failure_with_the_test_profile_links_both_ways(ops):
    original = failed_prod_run(ops)
    response = ops.client.post(f"/api/runs/{original.run_id}/rerun",
                               json={"inputs": {"password": "hunter22"}, "profiles": {"keytool": "test"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["message"] == "ada via TEST"
    assert body["data"] == {"profile": "TEST", "pw_len": 8}
    assert body["trigger"] == "rerun" and body["run_id"] != original.run_id
    new = ops.client.get(f"/api/runs/{body['run_id']}").json()
    assert new["rerun_of"] == original.run_id and new["profiles"] == {"keytool": "TEST"}
    assert new["inputs"] == {"user": "ada", "password": "***"}
    old = ops.client.get(f"/api/runs/{original.run_id}").json()
    assert old["reruns"] == [body["run_id"]] and old["status"] == "error"  # the original is left as it was
    # the override was for that run only: the workflow still runs with PROD
    again = ops.engine.accept("fetch", {"user": "bob", "password": "pw12345"}, "webhook", wait=60).run
    assert again.status == "error" and "KEYTOOL_PROD_API_KEY" in again.error


def test_rerun_without_the_password_is_a_422_naming_it(ops):
    original = failed_prod_run(ops)
    response = ops.client.post(f"/api/runs/{original.run_id}/rerun", json={"profiles": {"keytool": "TEST"}})
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["field"] for e in body["detail"]] == ["password"]
    assert "supply it again" in body["detail"][0]["message"]
    assert ops.engine.runs.get(original.run_id).reruns == []  # nothing recorded


def test_rerun_refusals(ops, tmp_path):
    original = failed_prod_run(ops)
    unknown_tool = ops.client.post(f"/api/runs/{original.run_id}/rerun",
                                   json={"inputs": {"password": "x1234"}, "profiles": {"nope": "TEST"}})
    assert unknown_tool.status_code == 422 and unknown_tool.json()["detail"][0]["field"] == "profiles.nope"
    bad_profile = ops.client.post(f"/api/runs/{original.run_id}/rerun",
                                  json={"inputs": {"password": "x1234"}, "profiles": {"keytool": "no-pe"}})
    assert bad_profile.status_code == 422, bad_profile.text
    missing = ops.client.post("/api/runs/0123456789abcdef01234567/rerun", json={})
    assert missing.status_code == 404 and "no such run" in missing.json()["error"]
    # the workflow was deactivated since: 409
    done = ops.engine.accept("marker", {"path": str(tmp_path / "m")}, "manual", wait=60).run
    config = ops.plugins_dir / "workflows" / "marker" / "config.json"
    config.write_text(config.read_text().replace('"timeout_seconds"', '"active": false, "timeout_seconds"'))
    ops.core.reload()
    inactive = ops.client.post(f"/api/runs/{done.run_id}/rerun")
    assert inactive.status_code == 409 and "inactive" in inactive.json()["error"]


def test_async_rerun_goes_through_the_worker_with_its_profile(ops):
    original = failed_prod_run(ops)
    response = ops.client.post(f"/api/runs/{original.run_id}/rerun?async=1",
                               json={"inputs": {"password": "hunter22"}, "profiles": {"keytool": "TEST"}})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued" and response.headers["location"] == accepted["status_url"]
    assert drain(ops) == 1
    done = ops.client.get(accepted["status_url"]).json()
    assert done["status"] == "success" and done["message"] == "ada via TEST", done
    assert done["rerun_of"] == original.run_id and done["profiles"] == {"keytool": "TEST"}


def test_reruns_are_bounded(ops, tmp_path):
    from functions.core.rerun import MAX_RERUNS

    original = ops.engine.accept("marker", {"path": str(tmp_path / "m")}, "manual", wait=60).run
    ids = []
    for _ in range(MAX_RERUNS + 2):
        response = ops.client.post(f"/api/runs/{original.run_id}/rerun")
        assert response.status_code == 200, response.text
        ids.append(response.json()["run_id"])
    assert ops.engine.runs.get(original.run_id).reruns == ids[-MAX_RERUNS:]


# ----- cancel ----------------------------------------------------------------------------------------------
def test_a_cancelled_queued_run_never_starts(ops, tmp_path):
    side_effect = tmp_path / "side-effect"
    response = ops.client.post("/api/workflows/execute/marker?async=1", json={"path": str(side_effect)})
    assert response.status_code == 202
    run_id = response.json()["run_id"]
    cancelled = ops.client.post(f"/api/runs/{run_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and "before it started" in body["message"]
    assert body["finished_at"] and body["lease_until"] is None
    assert drain(ops) == 1  # the message is consumed, and runs nothing
    assert not side_effect.exists()
    record = ops.engine.runs.get(run_id, consistent=True)
    assert record.status == "cancelled" and record.attempt == 0
    assert run_id not in {r.run_id for r in ops.engine.runs.open_runs()}  # off the open-runs index
    again = ops.client.post(f"/api/runs/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["error"].startswith("already finished: cancelled")


def test_cancel_a_running_sync_run_discards_its_result(ops, tmp_path):
    from functions.core.engine import UNTIL_DONE

    answer = {}
    thread = threading.Thread(target=lambda: answer.update(run=ops.engine.accept(
        "waiter", {"folder": str(tmp_path)}, "manual", wait=UNTIL_DONE).run))
    thread.start()
    wait_until(lambda: (tmp_path / "started").exists())
    run_id = wait_until(lambda: next((r.run_id for r in ops.engine.runs.open_runs()), None))
    response = ops.client.post(f"/api/runs/{run_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert "still running and its result was discarded" in response.json()["message"]
    assert ops.engine.runs.open_runs() == []
    (tmp_path / "go").write_text("1")
    thread.join(10)
    assert (tmp_path / "finished").exists()  # the code ran to its end...
    record = ops.engine.runs.get(run_id, consistent=True)
    assert record.status == "cancelled" and record.output is None  # ...and its result was dropped
    assert answer["run"].status == "cancelled" and answer["run"].output is None


def test_cancel_a_running_queued_run_through_the_worker(ops, tmp_path):
    response = ops.client.post("/api/workflows/execute/waiter?async=1", json={"folder": str(tmp_path)})
    run_id = response.json()["run_id"]
    worker = threading.Thread(target=drain, args=(ops,))
    worker.start()
    wait_until(lambda: (tmp_path / "started").exists())
    assert ops.client.post(f"/api/runs/{run_id}/cancel").status_code == 200
    (tmp_path / "go").write_text("1")
    worker.join(10)
    record = ops.engine.runs.get(run_id, consistent=True)
    assert record.status == "cancelled" and record.output is None and record.lease_until is None


def test_cancel_a_finished_or_unknown_run(ops, tmp_path):
    done = ops.engine.accept("marker", {"path": str(tmp_path / "m")}, "manual", wait=60).run
    response = ops.client.post(f"/api/runs/{done.run_id}/cancel")
    assert response.status_code == 409 and response.json()["error"].startswith("already finished: success")
    assert ops.client.post("/api/runs/0123456789abcdef01234567/cancel").status_code == 404
    assert ops.client.post("/api/runs/NOT-HEX/cancel").status_code == 404


def test_a_sync_run_still_costs_two_writes(ops, tmp_path, aws_calls):
    aws_calls.clear()
    run = ops.engine.accept("marker", {"path": str(tmp_path / "m")}, "manual", wait=60).run
    assert run.status == "success"
    writes = [op for service, op, _ in aws_calls if service == "dynamodb" and op in ("PutItem", "UpdateItem")]
    assert writes == ["PutItem", "PutItem"]


def test_openapi_declares_rerun_and_cancel(ops):
    doc = ops.client.get("/openapi.json").json()
    rerun = doc["paths"]["/api/runs/{run_id}/rerun"]["post"]
    assert {"200", "202", "404", "409", "422"} <= set(rerun["responses"])
    cancel = doc["paths"]["/api/runs/{run_id}/cancel"]["post"]
    assert {"200", "404", "409"} <= set(cancel["responses"])
    assert "cannot be killed" in cancel["description"]
    assert "cancelled" in doc["components"]["schemas"]["RunOut"]["properties"]["status"]["enum"]


def test_the_sweep_leaves_a_cancelled_run_alone(ops, tmp_path):
    from functions.core.sweep import sweep

    response = ops.client.post("/api/workflows/execute/marker?async=1", json={"path": str(tmp_path / "m")})
    run_id = response.json()["run_id"]
    ops.client.post(f"/api/runs/{run_id}/cancel")
    report = sweep(ops.engine.runs, ops.core.settings, now=None)
    assert run_id not in report.interrupted
    assert ops.engine.runs.get(run_id).status == "cancelled"
    assert Path(tmp_path / "m").exists() is False
