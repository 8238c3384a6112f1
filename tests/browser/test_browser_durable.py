"""Durable runs on their run page, in Chromium, on the local durable backend (the SDK's in-process runner,
real clock, as ``wfp dev`` runs it): the approval example started from the dashboard, approved with a
comment in the page (logged in: the script's calls carry the session cookie); a failed multi-step run
resumed from its button without running its completed steps again; a sleep skipped (local only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from durable_support import PRELUDE, count, finished, waiting
from test_browser_dashboard import csp_or_script_errors

FLAKY = '''
def flaky(data):
    effect(data, "flaky")
    if effects(data, "flaky") == 1:
        raise ConnectionError("upstream down on the first attempt")
    return {"published": True}

def execute(data, tools, ctx):
    ctx.step("collect", effect, data, "collect")
    ctx.step("publish", flaky, data)
    ctx.step("summarize", effect, data, "summarize")
    return {"status": "success", "message": "published"}
'''


def extra_plugins(plugins: Any) -> None:
    plugins.workflow("flaky_steps", {"name": "Flaky steps", "category": "testing", "triggers": ["manual"],
                                     "durable": True, "inputs_schema": [{"name": "log"}]}, PRELUDE + FLAKY)


@pytest.fixture(scope="module", autouse=True)
def durable(live: Any) -> Iterator[Any]:
    """The live server's platform gets the local durable backend (``local_dev.environment`` gives it to
    ``wfp dev``), on the real clock: a wait waits."""
    from local_dev.durable import LocalDurableBackend

    backend = LocalDurableBackend(poll_interval=0.05)
    live.core.__dict__["durable"] = backend
    yield backend
    live.core.__dict__.pop("durable", None)
    backend.close()


class Core:
    """What ``durable_support``'s waits read: ``.core.runs``."""

    def __init__(self, live: Any) -> None:
        self.core = live.core


def step_rows(page: Any) -> list[tuple[str, str]]:
    rows = page.locator("table[data-steps] tbody tr")
    return [(rows.nth(i).get_attribute("data-step"), rows.nth(i).get_attribute("data-step-status"))
            for i in range(rows.count())]


def log_in(page: Any, base: str, token: str, path: str) -> None:
    page.goto(base + path)
    page.wait_for_url(re.compile(r".*/login\?next="))
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + path)


def test_approve_the_approval_example_from_its_run_page(live, page, admin_token):
    base = live.prod  # under the stage prefix: every fetch of the script must keep it
    log_in(page, base, admin_token, "/dashboard/workflows/approval_request")
    form = page.locator("form[data-run-form]")
    form.locator("#in-approval_request-request").fill("Ship v3")
    form.locator("button[type=submit]").click()
    link = form.get_by_role("link", name="Open the run page →")
    link.wait_for(timeout=30_000)
    run_id = link.get_attribute("href").rsplit("/", 1)[-1]
    waiting(Core(live), run_id, timeout=30)
    page.goto(f"{base}/dashboard/runs/{run_id}")

    panel = page.locator('[data-waiting="approval"]')
    panel.wait_for()
    assert panel.locator("[data-approval-name]").inner_text() == "approve"
    assert panel.locator("[data-approval-prompt]").inner_text() == "Approve: Ship v3?"
    shown = panel.locator("time[data-local-time]")
    assert "UTC" not in shown.inner_text() and shown.get_attribute("title").endswith("UTC")  # the reader's time
    assert step_rows(page) == [("record request", "success"), ("approve", "waiting")]
    assert page.locator("form[data-resume-form]").count() == 0
    page.shot("durable-waiting-for-approval")

    panel.get_by_label("Comment").fill("looks good, ship it")
    panel.get_by_role("button", name="Approve").click()
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=30_000)
    page.locator('table[data-steps] tr[data-step="act"][data-step-status="success"]').wait_for()
    assert step_rows(page) == [("record request", "success"), ("approve", "success"), ("act", "success")]
    assert page.locator("[data-waiting]").count() == 0
    assert "done: Ship v3" in page.locator('[data-run-field="message"]').inner_text()
    record = live.core.runs.get(run_id, consistent=True)
    assert record.output["data"] == {"approved": True, "by": "admin", "comment": "looks good, ship it"}
    act = page.locator('tr[data-step="act"]')
    assert "acting on 'Ship v3' (approved by admin)" in act.locator("[data-step-logs]").inner_text()
    act.locator("details[data-step-output] summary").click()
    assert "done: Ship v3" in act.locator("details[data-step-output] pre").inner_text()
    page.shot("durable-approved")
    assert csp_or_script_errors(page) == []


def test_an_answer_already_given_is_refused_with_the_apis_message(live, page):
    run = live.engine.accept("approval_request", {"request": "Twice"}, "manual", wait=None).run
    waiting(Core(live), run.run_id, timeout=30)
    page.goto(f"{live.url}/dashboard/runs/{run.run_id}")
    panel = page.locator('[data-waiting="approval"]')
    panel.get_by_label("Comment").fill("no")  # someone is typing here: the page leaves the form alone
    from fastapi.testclient import (
        TestClient,  # another operator answers first, through the API
    )

    answer = TestClient(live.app).post(f"/api/runs/{run.run_id}/approvals/approve", json={"approve": True, "by": "grace"})
    assert answer.status_code == 202, answer.text
    finished(Core(live), run.run_id, timeout=30)
    panel.get_by_role("button", name="Reject").click()
    # in the form, then (once the page follows the finished run) above its timeline: the API's words
    refusal = page.locator("[data-durable] [role=alert]", has_text=re.compile("already answered|expired")).first
    refusal.wait_for()
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=30_000)
    page.locator('tr[data-step="act"][data-step-status="success"]').wait_for()
    assert re.search("already answered|expired", page.locator("[data-durable] [role=alert]").first.inner_text())
    assert live.core.runs.get(run.run_id, consistent=True).output["data"]["by"] == "grace"  # nothing changed
    page.shot("durable-approval-refused")
    assert csp_or_script_errors(page) == []


def test_resume_a_failed_run_from_its_failed_step(live, page, tmp_path):
    log = tmp_path / "effects.log"
    run = live.engine.accept("flaky_steps", {"log": str(log)}, "manual", wait=None).run
    record = finished(Core(live), run.run_id, timeout=30)
    assert record.status == "error" and "upstream down" in (record.error or "")
    page.goto(f"{live.url}/dashboard/runs/{run.run_id}")
    assert step_rows(page) == [("collect", "success"), ("publish", "error")]
    publish = page.locator('tr[data-step="publish"]')
    assert "upstream down on the first attempt" in publish.locator("[data-step-error]").inner_text()
    assert page.locator("form[data-resume-form]").inner_text().count("publish") == 1  # where it goes on from
    page.shot("durable-failed")

    page.get_by_role("button", name="Resume from the failed step").click()
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=30_000)
    page.locator('tr[data-step="summarize"][data-step-status="success"]').wait_for()
    assert step_rows(page) == [("collect", "success"), ("publish", "success"), ("summarize", "success")]
    assert page.locator("form[data-resume-form]").count() == 0
    assert [count(log, what) for what in ("collect", "flaky", "summarize")] == [1, 2, 1]  # collect ran once
    record = live.core.runs.get(run.run_id, consistent=True)
    assert record.attempt == 2 and record.durable_execution == f"{run.run_id}-2"
    page.shot("durable-resumed")
    assert csp_or_script_errors(page) == []


def test_skip_a_sleep_locally(live, page):
    run = live.engine.accept("multi_step_report", {"upstream_failures": 0, "settle_seconds": 3600}, "manual",
                             wait=None).run
    waiting(Core(live), run.run_id, timeout=30)
    page.goto(f"{live.prod}/dashboard/runs/{run.run_id}")
    panel = page.locator('[data-waiting="time"]')
    assert "Sleeping" in panel.inner_text()
    panel.get_by_role("button", name="Skip the wait").click()
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=30_000)
    page.locator('tr[data-step="summarize"][data-step-status="success"]').wait_for()
    names = [name for name, _ in step_rows(page)]
    assert names[:2] == ["collect", "publish"] and "settle" in names and names[-1] == "summarize"
    assert csp_or_script_errors(page) == []


def test_the_page_follows_a_run_answered_elsewhere_without_a_reload(live, page):
    run = live.engine.accept("approval_request", {"request": "Elsewhere"}, "manual", wait=None).run
    waiting(Core(live), run.run_id, timeout=30)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.goto(f"{live.url}/dashboard/runs/{run.run_id}")
    page.locator('[data-waiting="approval"]').wait_for()
    from fastapi.testclient import TestClient

    answer = TestClient(live.app).post(f"/api/runs/{run.run_id}/approvals/approve",
                                       json={"approve": False, "comment": "not now", "by": "grace"})
    assert answer.status_code == 202, answer.text
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=30_000)
    page.locator('tr[data-step="approve"][data-step-status="success"]').wait_for()
    assert page.locator("[data-waiting]").count() == 0
    assert "rejected by grace: not now" in page.locator('[data-run-field="message"]').inner_text()
    assert len(navigations) == 1, navigations  # swapped in place
    assert csp_or_script_errors(page) == []


def test_a_durable_run_page_fits_a_phone(live, browser, tmp_path):
    from test_browser_phone import WIDTH, overflow

    failed = live.engine.accept("flaky_steps", {"log": str(tmp_path / "phone.log")}, "manual", wait=None).run
    finished(Core(live), failed.run_id, timeout=30)
    asking = live.engine.accept("approval_request", {"request": "Phone"}, "manual", wait=None).run
    waiting(Core(live), asking.run_id, timeout=30)
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=3)
    try:
        page = context.new_page()
        for name, run_id in (("failed", failed.run_id), ("waiting", asking.run_id)):
            page.goto(f"{live.url}/dashboard/runs/{run_id}")
            page.wait_for_selector("html[data-ready]")
            seen = overflow(page)
            assert seen["scroll"] <= WIDTH and seen["body"] <= WIDTH, (name, seen)
            sideways = page.locator(".table-wrap").evaluate_all(
                "wraps => wraps.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.scrollWidth)")
            assert sideways == [], (name, sideways)
            page.screenshot(path=str(Path(__file__).resolve().parents[1] / "artifacts" / f"phone-durable-{name}.png"),
                            full_page=True)
    finally:
        context.close()
