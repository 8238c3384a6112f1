"""Re-running a filtered set of runs (``POST /api/runs/rerun``): the same filters as ``GET /api/runs``, a
preview until ``confirm=true``, a limit, and each run re-run through the queue, one result per run."""

from __future__ import annotations

import pytest
from support import drain

FLAKY = '''
import os

def execute(data, tools):
    if os.environ.get("FLAKY_BROKEN") == "1":
        return {"status": "error", "message": "the API key is wrong"}
    return {"status": "success", "data": {"n": data.get("n")}}
'''


@pytest.fixture
def failed(make_platform, plugin_dir, monkeypatch):
    plugin_dir.workflow("flaky", {"triggers": ["manual"], "inputs_schema": [{"name": "n", "type": "integer"}]},
                        FLAKY)
    plugin_dir.workflow("other", {"triggers": ["manual"]},
                        "def execute(data, tools):\n    return {'status': 'error', 'message': 'no'}\n")
    platform = make_platform(plugin_dir.root)
    monkeypatch.setenv("FLAKY_BROKEN", "1")
    ids = [platform.client.post("/api/workflows/execute/flaky", json={"n": n}).json()["run_id"] for n in range(5)]
    platform.client.post("/api/workflows/execute/other", json={})
    monkeypatch.setenv("FLAKY_BROKEN", "0")  # the key is fixed: re-run what failed
    return platform, ids


def test_without_confirm_it_only_says_what_it_would_rerun(failed):
    platform, ids = failed
    preview = platform.client.post("/api/runs/rerun?status=error&workflow=flaky")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["confirmed"] is False and body["count"] == 5
    assert [r["run_id"] for r in body["runs"]] == ids[::-1]  # newest first, as listed
    assert "confirm=true" in body["message"]
    assert drain() == 0 and len(platform.engine.runs.history("flaky", 50)[0]) == 5  # nothing started


def test_confirmed_each_run_is_rerun_once_through_the_queue(failed):
    platform, ids = failed
    done = platform.client.post("/api/runs/rerun?status=error&workflow=flaky&confirm=true")
    assert done.status_code == 202, done.text
    results = done.json()["results"]
    assert [r["run_id"] for r in results] == ids[::-1]
    assert all(r["rerun_id"] and r["error"] is None for r in results)
    assert drain() == 5
    for result in results:
        rerun = platform.client.get(f"/api/runs/{result['rerun_id']}").json()
        assert rerun["status"] == "success" and rerun["rerun_of"] == result["run_id"]
        assert platform.client.get(f"/api/runs/{result['run_id']}").json()["reruns"] == [result["rerun_id"]]
    # the other workflow's failure was not in the filter
    assert [r.trigger for r in platform.engine.runs.history("other", 10)[0]] == ["manual"]


def test_the_limit_bounds_a_bulk_rerun(failed):
    platform, ids = failed
    done = platform.client.post("/api/runs/rerun?status=error&confirm=true&limit=2")
    assert done.status_code == 202
    assert len(done.json()["results"]) == 2 and done.json()["more"] is True
    assert platform.client.post("/api/runs/rerun?status=error&limit=51").status_code == 422


def test_a_run_that_cannot_be_rerun_is_reported_not_fatal(failed, plugin_dir):
    platform, ids = failed
    (plugin_dir.root / "workflows" / "other" / "config.json").write_text('{"triggers": ["manual"], "active": false}')
    platform.client.post("/api/reload")
    done = platform.client.post("/api/runs/rerun?status=error&confirm=true").json()["results"]
    by_workflow = {r["workflow"]: r for r in done}
    assert by_workflow["other"]["rerun_id"] is None and "inactive" in by_workflow["other"]["error"]
    assert sum(1 for r in done if r["rerun_id"]) == 5
