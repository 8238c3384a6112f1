"""The runs page (``/dashboard/runs``): every workflow's runs, filtered as ``GET /api/runs`` filters them."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from run_seed import seed


def ids_in(html: str) -> list[str]:
    return re.findall(r'<tr data-run-id="([0-9a-f]+)"', html)


def test_the_runs_page_lists_filters_and_pages(make_platform, aws_calls):
    platform = make_platform()
    written = seed(platform.core.runs, count=60, now=datetime.now(timezone.utc))
    client = platform.client
    api = client.get("/api/runs", params={"status": "error"}).json()
    calls_before = len(aws_calls)
    page = client.get("/dashboard/runs?status=error")
    assert page.status_code == 200
    assert ids_in(page.text) == [r["run_id"] for r in api["runs"]] and api["runs"]
    assert "Scan" not in {op for _, op, _ in aws_calls[calls_before:]}
    assert 'href="/dashboard/runs" aria-current="page">Runs</a>' in page.text  # the nav
    first = client.get("/dashboard/runs").text
    newest = sorted((r.run_id for r in written), reverse=True)
    assert ids_in(first) == newest[:20]
    next_url = re.search(r'href="(/dashboard/runs\?[^"]*cursor=[^"]*)" rel="next"', first).group(1)
    second = client.get(next_url.replace("&amp;", "&")).text
    assert ids_in(second) == newest[20:40]
    assert "← Newest runs" in second


def test_a_run_id_opens_the_run_and_bad_filters_say_so(platform):
    run = platform.run("hello_world", {"name": "Ada"})
    response = platform.client.get(f"/dashboard/runs?run_id=%20{run.run_id.upper()}%20", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/dashboard/runs/{run.run_id}"
    assert platform.client.get("/dashboard/runs?run_id=nope").status_code == 404
    page = platform.client.get("/dashboard/runs?since=2026-12-05&until=2026-12-01")
    assert page.status_code == 200 and "is after until" in page.text and run.run_id in page.text
    page = platform.client.get("/dashboard/runs?status=exploded")
    assert "not a valid value" in page.text and run.run_id in page.text
    page = platform.client.get("/dashboard/runs?cursor=bad")
    assert "invalid cursor" in page.text and run.run_id in page.text  # said, and the newest runs shown
