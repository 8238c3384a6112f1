"""The runs page in Chromium: filter by status, go to the next page, open a run by its id; on a 390 px
phone, nothing wider than the screen."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from run_seed import seed
from support import artifact

WIDTH = 390


@pytest.fixture(scope="module")
def written(live: Any) -> list[Any]:
    return seed(live.core.runs, count=80, now=datetime.now(timezone.utc))


def window_start() -> str:
    from datetime import timedelta

    from functions.core.run_search import id_bound

    return id_bound(datetime.now(timezone.utc) - timedelta(days=7), upper=False)


def rows(page: Any) -> list[str]:
    return page.locator("tr[data-run-id]").evaluate_all("rows => rows.map(r => r.dataset.runId)")


def test_filter_by_status_page_on_and_open_a_run_by_id(live, browser, written):
    # success: the status with more runs in the last 7 days than a page holds (20); the API's answer is the
    # reference (the live platform may hold other modules' runs besides the seeded ones)
    seeded = {r.run_id for r in written if r.status == "success" and r.run_id >= window_start()}
    listed = httpx.get(f"{live.url}/api/runs", params={"status": "success", "limit": 100}, timeout=30).json()
    matching = [r["run_id"] for r in listed["runs"]]
    assert seeded <= set(matching) and len(matching) > 20
    page = browser.new_page()
    try:
        page.goto(live.prod + "/")
        page.get_by_role("link", name="Runs", exact=True).click()
        page.wait_for_selector("tr[data-run-id]")
        page.select_option("select[name=status]", "success")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**/prod/dashboard/runs?*status=success*")
        first = rows(page)
        assert first and all(s == "success" for s in page.locator("tr[data-run-id] .badge").all_inner_texts())
        page.locator("[data-runs-next]").click()
        page.wait_for_url("**cursor=**")
        assert page.locator("select[name=status]").input_value() == "success"  # the filter is kept
        assert first + rows(page) == matching[:len(first) + len(rows(page))]
        page.screenshot(path=str(artifact("runs-page-older-matching")), full_page=True)
        target = matching[-1]
        page.fill("input[name=run_id]", target)
        page.get_by_role("button", name="Open run").click()
        page.wait_for_url(f"**/prod/dashboard/runs/{target}")
        assert target in page.inner_text("main")
    finally:
        page.close()


@pytest.mark.parametrize("mobile", [False, True], ids=["narrow-desktop", "phone"])
def test_the_runs_page_fits_a_phone(live, browser, written, mobile):
    options: dict[str, Any] = {"viewport": {"width": WIDTH, "height": 844}}
    if mobile:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=3)
    context = browser.new_context(**options)
    try:
        page = context.new_page()
        page.goto(live.url + "/dashboard/runs?status=success")
        page.wait_for_selector("html[data-ready]")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert max(widths) <= WIDTH, widths
        sideways = page.locator(".table-wrap").evaluate_all(
            "wraps => wraps.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.scrollWidth)")
        assert sideways == []
        page.screenshot(path=str(artifact(f"runs-page-{'phone' if mobile else 'narrow'}")), full_page=True)
    finally:
        context.close()


def test_rerun_these_asks_first_and_reports(live, browser, written):
    """The runs page's bulk re-run: a preview count in a confirmation; dismissed, nothing happens; accepted,
    the page says what the API did (the browser platform has no queue: the runs it could not queue say so)."""
    for name in ("Ada", "Bob"):
        httpx.post(f"{live.url}/api/workflows/execute/hello_world", json={"name": name}, timeout=30)
    before = httpx.get(f"{live.url}/api/runs", params={"trigger": "rerun", "limit": 100}, timeout=30).json()["runs"]
    page = browser.new_page()
    try:
        page.goto(live.prod + "/dashboard/runs?workflow=hello_world&trigger=manual")
        page.wait_for_selector("tr[data-run-id]")
        expected = min(len(rows(page)), 20)
        asked: list[str] = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.get_by_role("button", name="Re-run these…").click()
        page.locator("[data-bulk-note]", has_text="Nothing was re-run").wait_for()
        assert asked and f"Re-run {expected} run(s)" in asked[0]
        after = httpx.get(f"{live.url}/api/runs", params={"trigger": "rerun", "limit": 100}, timeout=30).json()["runs"]
        assert len(after) == len(before)  # dismissed: nothing started
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Re-run these…").click()
        page.locator("[data-bulk-note]", has_text="re-run (queued)").wait_for()
        assert f"of {expected} run(s) re-run" in page.inner_text("[data-bulk-note]")
    finally:
        page.close()
