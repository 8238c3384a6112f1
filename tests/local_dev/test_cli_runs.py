"""``wfp runs``: the runs of the local platform, filtered as ``GET /api/runs`` filters them."""

from __future__ import annotations

import json

from local_platform import LocalSetup, local  # noqa: F401 - fixture


def test_wfp_runs_lists_filters_and_refuses_bad_windows(local: LocalSetup):
    for name in ("Ada", "Bob"):
        assert local.cli("run", "hello_world", "-i", f"name={name}").returncode == 0
    done = local.cli("runs", "--json", "--workflow", "hello_world", "--status", "success", "--limit", "1")
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)
    assert len(page["runs"]) == 1 and page["next_cursor"] and page["runs"][0]["workflow"] == "hello_world"
    older = json.loads(local.cli("runs", "--json", "--limit", "1", "--workflow", "hello_world",
                                 "--cursor", page["next_cursor"]).stdout)
    assert older["runs"][0]["run_id"] < page["runs"][0]["run_id"]
    text = local.cli("runs", "--trigger", "manual")
    assert text.returncode == 0 and text.stdout.count("hello_world") == 2 and "2 run(s)" in text.stderr
    assert local.cli("runs", "--status", "error").stdout == ""
    refused = local.cli("runs", "--since", "2026-12-05", "--until", "2026-12-01")
    assert refused.returncode == 2 and "is after until" in refused.stderr


def test_wfp_runs_rerun_lists_then_reruns_with_yes(local: LocalSetup):
    for name in ("Ada", "Bob"):
        assert local.cli("run", "hello_world", "-i", f"name={name}").returncode == 0
    preview = local.cli("runs", "--workflow", "hello_world", "--rerun")
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.count("hello_world") == 2 and "add --yes" in preview.stderr
    assert json.loads(local.cli("runs", "--json", "--trigger", "rerun").stdout)["runs"] == []  # nothing ran
    done = local.cli("runs", "--workflow", "hello_world", "--trigger", "manual", "--rerun", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert len(results) == 2 and all(r["rerun_id"] for r in results)
    assert local.cli("runs", "--rerun", "--limit", "51").returncode == 2
