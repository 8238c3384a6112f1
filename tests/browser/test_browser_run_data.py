"""A run's large output and long log, and what it cost, on its page in Chromium, at the root and under the
/prod stage prefix: the page shows the beginning, the links download the whole (from the run-data bucket),
and the workflow page sums the cost."""

from __future__ import annotations

import json
from typing import Any

import pytest

BIG = {"name": "Big output", "category": "testing", "triggers": ["manual"], "timeout_seconds": 30,
       "inputs_schema": [{"name": "items", "type": "integer"}, {"name": "lines", "type": "integer"}]}
BIG_CODE = ("import logging\nlog = logging.getLogger(__name__)\n\n"
            "def execute(data, tools):\n"
            "    for i in range(data['lines']):\n"
            "        log.info('line %d of the long log', i)\n"
            "    return {'status': 'success', 'data': [{'n': i, 'text': 'x' * 90} for i in range(data['items'])]}\n")


def extra_plugins(plugins: Any) -> None:
    plugins.workflow("big_output", BIG, BIG_CODE)


@pytest.mark.parametrize("where", ["url", "prod"])
def test_a_2_mb_output_and_a_long_log_download_whole_from_the_run_page(live, page, where, tmp_path):
    run = live.engine.accept("big_output", {"items": 20000, "lines": 4000}, "manual", wait=30).run
    assert run.status == "success"
    base = getattr(live, where)
    page.goto(f"{base}/dashboard/runs/{run.run_id}")
    note = page.locator('[data-run-whole="output"]')
    assert "The first 256 KB of 2." in note.inner_text()
    shown = page.locator('[data-run-field="output"]').inner_text()
    assert 200 * 1024 < len(shown.encode()) <= 256 * 1024 + 1024
    with page.expect_download() as download:
        note.locator("a").click()
    saved = tmp_path / "output.json"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{run.run_id}-output.json"
    whole = json.loads(saved.read_text())
    assert len(whole["data"]) == 20000 and whole["data"][-1]["n"] == 19999

    logs = page.locator('[data-run-whole="logs"]')
    assert "4000 lines" in logs.inner_text()
    with page.expect_download() as download:
        logs.locator("a").click()
    download.value.save_as(tmp_path / "logs.txt")
    lines = (tmp_path / "logs.txt").read_text().splitlines()
    assert len(lines) == 4000 and lines[-1].endswith("line 3999 of the long log")

    cost = page.locator("[data-run-cost]").inner_text()
    assert cost.startswith("$") and "DynamoDB writes" in cost and "S3 PUTs" in cost and "Lambda GB-s" in cost
    page.goto(f"{base}/dashboard/workflows/big_output")
    assert page.locator('[data-metric="cost"]').inner_text().startswith("$")
    assert "measured run" in page.locator('[data-metric="usage"]').inner_text()
    assert not [e for e in page.console_errors if e.startswith("page error")]
