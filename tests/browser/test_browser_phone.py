"""Every dashboard page on a 390 px phone screen: nothing wider than the screen, every button reachable.

``innerWidth`` grows with the content on a mobile viewport, so the checks compare the document's
``scrollWidth`` with the fixed 390 px, both in a desktop browser sized 390 px wide and in an emulated phone.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from support import artifact

WIDTH = 390
LONG_NAME = "a_broken_workflow_whose_folder_name_is_much_longer_than_a_phone_is_wide"
FAST_CODE = "def execute(data, tools):\n    return {'status': 'success', 'message': 'instant'}\n"


def extra_plugins(plugins: Any) -> None:
    """This module's live platform also has a broken workflow whose error names a long file path."""
    plugins.workflow(LONG_NAME, {"name": "Broken on purpose", "category": "testing"},
                     "def execute(data, tools):\n    return (\n")
    plugins.workflow("instant", {"name": "Instant", "category": "testing", "triggers": ["manual"]}, FAST_CODE)


@pytest.fixture(scope="module", params=["narrow-desktop", "phone"])
def phone(request: pytest.FixtureRequest, browser: Any) -> Any:
    options: dict[str, Any] = {"viewport": {"width": WIDTH, "height": 844}}
    if request.param == "phone":
        options.update(is_mobile=True, has_touch=True, device_scale_factor=3)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    context.kind = request.param
    yield context
    context.close()


def overflow(page: Any) -> dict[str, Any]:
    """How wide the page is and, when wider than the screen, the elements that stick out (for the message)."""
    return page.evaluate("""(width) => {
        const wide = [];
        for (const node of document.querySelectorAll("body *")) {
            const box = node.getBoundingClientRect();
            if (box.right > width + 1 && !node.closest(".table-wrap")) {
                wide.push(node.tagName.toLowerCase() + (node.className ? "." + String(node.className).split(" ").join(".") : "")
                          + " right=" + Math.round(box.right));
            }
        }
        return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                inner: window.innerWidth, wide: wide.slice(0, 8)};
    }""", WIDTH)


def pages(live: Any) -> dict[str, str]:
    runs = live.engine.runs.history("hello_world", 1)[0]
    if not runs:
        httpx.post(f"{live.url}/api/workflows/execute/hello_world", json={"name": "Phone"}, timeout=30)
        runs = live.engine.runs.history("hello_world", 1)[0]
    return {
        "home": "/",
        "workflow": "/dashboard/workflows/hello_world",
        "broken workflow": f"/dashboard/workflows/{LONG_NAME}",
        "run": f"/dashboard/runs/{runs[0].run_id}",
        "schedules": "/dashboard/schedules",
        "tools": "/dashboard/tools",
        "plugins": "/dashboard/plugins",
        "login": "/login",
        "not found": "/dashboard/workflows/no_such_workflow",
    }


@pytest.mark.parametrize("name", ["home", "workflow", "broken workflow", "run", "schedules", "tools", "plugins",
                                  "login", "not found"])
def test_no_page_is_wider_than_a_phone(live, phone, name):
    page = phone.new_page()
    try:
        page.goto(live.url + pages(live)[name])
        page.wait_for_selector("html[data-ready]")
        seen = overflow(page)
        assert seen["scroll"] <= WIDTH and seen["body"] <= WIDTH, (name, phone.kind, seen)
        # and no table needs scrolling sideways either (on a phone each row is a card)
        sideways = page.locator(".table-wrap").evaluate_all(
            "wraps => wraps.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.scrollWidth)")
        assert sideways == [], (name, phone.kind, sideways)
        page.screenshot(path=str(artifact(f"phone-{phone.kind}-{name.replace(' ', '-')}")), full_page=True)
        if name in ("home", "plugins", "broken workflow"):
            assert LONG_NAME in page.inner_text("main")  # the long path is shown, wrapped
    finally:
        page.close()


def test_the_login_form_fits_a_phone(live, phone, admin_token):
    page = phone.new_page()
    try:
        page.goto(live.url + "/login")
        assert page.get_by_label("Admin token").is_visible()
        seen = overflow(page)
        assert seen["scroll"] <= WIDTH, seen
    finally:
        page.close()


def inside(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH


def test_pause_button_is_on_screen_and_pauses(live, phone):
    page = phone.new_page()
    try:
        page.goto(live.url + "/dashboard/schedules")
        page.wait_for_selector("html[data-ready]")
        row = page.locator('[data-job="daily_digest"]')
        button = row.get_by_role("button", name="Pause")
        assert inside(page, button), button.bounding_box()
        assert "0 9 * * 1-5" in row.inner_text()
        labels = row.locator("td[data-label]").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert '"Cron"' in labels and '"Next runs"' in labels  # each value keeps its (visible) label
        if phone.kind == "phone":
            button.tap()
        else:
            button.click()
        page.locator('[data-job="daily_digest"][data-enabled="false"]').wait_for()
        jobs = httpx.get(live.url + "/api/scheduler/jobs").json()
        assert next(j for j in jobs if j["workflow"] == "daily_digest")["enabled"] is False
        resume = row.get_by_role("button", name="Resume")
        assert inside(page, resume)
        resume.click()
        page.locator('[data-job="daily_digest"][data-enabled="true"]').wait_for()
        page.screenshot(path=str(artifact(f"schedules-{phone.kind}")), full_page=True)
    finally:
        page.close()


def test_the_chart_has_a_readable_scale_and_shows_instant_runs(live, phone):
    for _ in range(2):
        httpx.post(f"{live.url}/api/workflows/execute/instant", json={}, timeout=30)
    runs = live.engine.runs.history("instant", 5)[0]
    page = phone.new_page()
    try:
        page.goto(live.url + "/dashboard/workflows/instant")
        chart = page.locator("figure.chart-box")
        scale = chart.locator("[data-chart-scale]")
        assert scale.is_visible() and inside(page, scale)
        longest = max(r.duration_ms or 0 for r in runs)
        labels = scale.locator("span").all_inner_texts()
        assert labels[0] == duration(longest) and labels[-1] == "0", labels
        size = page.evaluate("(n) => parseFloat(getComputedStyle(n).fontSize)", scale.element_handle())
        assert size >= 11
        for bar in chart.locator("svg.chart rect.bar").all():  # every run is visible, the instant ones too
            box = bar.bounding_box()
            assert box["height"] >= 2.5 and box["width"] >= 4, box
        page.screenshot(path=str(artifact(f"chart-{phone.kind}")), full_page=True)
    finally:
        page.close()


def duration(ms: int) -> str:
    from functions.http.dashboard.formatting import duration as fmt

    return fmt(ms)


def test_a_run_from_the_form_updates_the_card_without_reload(live, phone):
    page = phone.new_page()
    try:
        page.goto(live.url + "/")
        card = page.locator('[data-workflow-card="instant"]')
        card.locator("details.run summary").click()
        card.get_by_role("button", name="Run Instant").click()
        result = card.locator('[data-run-result][data-status="success"]')
        result.wait_for()
        href = result.get_by_role("link", name="Open the run page →").get_attribute("href")
        run_id = re.search(r"/runs/(\w+)$", href).group(1)
        card.locator(f'svg.chart a[href$="/runs/{run_id}"]').wait_for()
        assert overflow(page)["scroll"] <= WIDTH
    finally:
        page.close()


@pytest.mark.parametrize("path", ["/mon-interface/", "/oauth/google/auth?profile=TEST",
                                  "/oauth/google/auth?service=calendar&profile=NOCLIENT"])
def test_the_pages_outside_the_dashboard_fit_a_phone_too(live, phone, path):
    """The example interface (its page sets a viewport, as ``wfp new interface`` does) and the OAuth pages."""
    page = phone.new_page()
    try:
        page.goto(live.url + path, wait_until="load")
        seen = overflow(page)
        assert seen["scroll"] <= WIDTH and seen["body"] <= WIDTH, (path, phone.kind, seen)
        assert page.evaluate("window.innerWidth") == WIDTH, (path, phone.kind)  # laid out for the phone, not 980 px
    finally:
        page.close()
