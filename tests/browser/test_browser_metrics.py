"""The workflow page's metrics section in Chromium: the charts render, the window links switch it (under
the stage prefix too), nothing breaks the CSP, and it fits a 390 px phone."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from functions.core.runs import Run, utcnow

WORKFLOW = "trend_demo"
CODE = "def execute(data, tools):\n    return {'status': 'success', 'message': 'ok'}\n"


def extra_plugins(plugins: Any) -> None:
    plugins.workflow(WORKFLOW, {"name": "Trend Demo", "category": "testing", "triggers": ["manual"]}, CODE)


@pytest.fixture(scope="module")
def seeded(live: Any) -> Any:
    """Runs over the last 40 days: one every 7 hours, mostly successful, durations spread out."""
    now = utcnow()
    for i in range(1, 140):
        when = now - timedelta(hours=7 * i - 6.5)
        status = "error" if i % 5 == 0 else "skipped" if i % 11 == 0 else "success"
        ms = int(when.timestamp() * 1000)
        live.core.runs.save(Run(run_id=f"{ms:012x}{secrets.token_hex(6)}", workflow=WORKFLOW, trigger="manual",
                                status=status, created_at=when, started_at=when, finished_at=when,
                                duration_ms=None if status == "skipped" else 40 * (i % 13 + 1)))
    return live


def problems(page: Any) -> list[str]:
    return [e for e in page.console_errors if "Content Security Policy" in e or e.startswith("page error")]


@pytest.mark.parametrize("root", ["url", "prod"])
def test_the_metrics_section_charts_and_switches_window(seeded, page, root):
    base = getattr(seeded, root)
    page.goto(f"{base}/dashboard/workflows/{WORKFLOW}")
    section = page.locator("section#metrics")
    section.wait_for()
    assert section.locator("[data-metrics-window]").get_attribute("data-metrics-window") == "24h"
    assert section.locator("svg.chart").count() == 2
    assert section.locator("svg.chart rect.st-success").count() >= 2  # a run every 7 hours
    assert section.locator("svg.chart rect.p95").count() >= 2
    day_runs = int(section.locator('[data-metric="runs"]').inner_text())
    assert 3 <= day_runs <= 4
    box = section.locator("svg.chart").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] >= 70
    page.shot(f"metrics-24h-{root}")

    section.get_by_role("link", name="30d").click()
    page.wait_for_url(f"{base}/dashboard/workflows/{WORKFLOW}?window=30d#metrics")
    section = page.locator("section#metrics")
    assert section.locator("[data-metrics-window]").get_attribute("data-metrics-window") == "30d"
    assert section.locator('a[aria-current="true"]').inner_text() == "30d"
    assert int(section.locator('[data-metric="runs"]').inner_text()) > day_runs * 20
    assert section.locator("svg.chart").first.locator("g.bucket").count() == 30  # a run every day
    success = section.locator('[data-metric="success_rate"]').inner_text()
    assert success.endswith("%") and 70 <= int(success[:-1]) <= 90
    page.shot(f"metrics-30d-{root}")

    section.get_by_role("link", name="7d").click()
    page.wait_for_url(f"{base}/dashboard/workflows/{WORKFLOW}?window=7d#metrics")
    assert page.locator("[data-metrics-window]").get_attribute("data-metrics-window") == "7d"
    assert problems(page) == []


def test_the_metrics_section_fits_a_phone(seeded, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=3)
    try:
        page = context.new_page()
        page.goto(f"{seeded.url}/dashboard/workflows/{WORKFLOW}?window=7d")
        section = page.locator("section#metrics")
        section.wait_for()
        for element in (section, section.locator("svg.chart").first, section.get_by_role("link", name="30d")):
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        section.get_by_role("link", name="30d").tap()
        page.wait_for_url("**window=30d#metrics")
        section.screenshot(path=str(__import__("pathlib").Path(__file__).parents[1] / "artifacts" / "metrics-phone.png"))
    finally:
        context.close()
