"""``wfp rerun`` and ``wfp cancel`` as a user types them (subprocesses over a private plugins copy, ``.env``
and local state, like ``test_cli.py``): the runs they act on are the local state's."""

from __future__ import annotations

import json

from local_platform import LocalSetup, local  # noqa: F401 - fixture

GATED = {"name": "Gated", "triggers": ["manual"], "tools_required": ["mon_outil"],
         "tools_profiles": {"mon_outil": "PROD"},
         "inputs_schema": [{"name": "query", "type": "text"}, {"name": "password", "type": "password"}]}
GATED_CODE = ("def execute(data, tools):\n"
              "    result = tools['mon_outil'].execute('search', {'query': data['query'], 'limit': 1})\n"
              "    return {'status': 'success', 'message': tools['mon_outil'].profile, 'data': result}\n")


def test_rerun_a_prod_failure_with_the_test_profile(local: LocalSetup):
    local.plugins.workflow("gated", GATED, GATED_CODE)
    failed = local.cli("run", "gated", "-i", "query=x", "-i", "password=pw-1234")
    assert failed.returncode == 1, failed.stderr
    original = json.loads(failed.stdout)
    assert "MON_OUTIL_PROD_API_KEY" in original["error"]

    missing = local.cli("rerun", original["run_id"], "--profile", "mon_outil=TEST")
    assert missing.returncode == 2 and missing.stdout == ""
    assert "password: password is masked in the run record" in missing.stderr.lower()

    done = local.cli("rerun", original["run_id"], "-i", "password=pw-1234", "--profile", "mon_outil=TEST")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["message"] == "TEST"
    assert result["rerun_of"] == original["run_id"] and result["profiles"] == {"mon_outil": "TEST"}
    assert f"(re-run of {original['run_id']}): success" in done.stderr

    again = local.cli("rerun", original["run_id"], "-i", "password=pw-1234")  # PROD again: fails
    assert again.returncode == 1
    unknown = local.cli("rerun", "0123456789abcdef01234567")
    assert unknown.returncode == 2 and "no such run" in unknown.stderr
    bad_tool = local.cli("rerun", original["run_id"], "-i", "password=x", "--profile", "nope=TEST")
    assert bad_tool.returncode == 2 and "profiles.nope" in bad_tool.stderr
    usage = local.cli("rerun", original["run_id"], "--profile", "TEST")
    assert usage.returncode == 2 and "--profile expects key=value" in usage.stderr


def test_cancel_a_queued_run_then_a_finished_one(local: LocalSetup):
    done = local.cli("run", "hello_world", "-i", "name=Ada")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    finished = local.cli("cancel", run_id)
    assert finished.returncode == 2 and "already finished: success" in finished.stderr

    queued = local.cli("rerun", run_id, "--async")
    assert queued.returncode == 0, queued.stderr
    queued_id = json.loads(queued.stdout)["run_id"]
    assert json.loads(queued.stdout)["status"] == "queued"
    cancelled = local.cli("cancel", queued_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert local.cli("cancel", queued_id).returncode == 2
    assert local.cli("cancel", "0123456789abcdef01234567").returncode == 2
