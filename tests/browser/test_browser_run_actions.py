"""Re-run and Cancel on a run's page, in Chromium, at the root and under the /prod stage prefix."""

from __future__ import annotations

from typing import Any

import pytest

KEYTOOL = {"tool_name": "keytool", "required_params": ["api_key"]}
KEYTOOL_CODE = ("from ..base import BaseTool\n\nclass T(BaseTool):\n"
                "    def execute(self, action, params=None):\n"
                "        return {'status': 'success', 'data': {'profile': self.profile}}\n")
FETCH = {"name": "Fetch", "category": "testing", "triggers": ["webhook"], "tools_required": ["keytool"],
         "tools_profiles": {"keytool": "PROD"}, "timeout_seconds": 10,
         "inputs_schema": [{"name": "user", "type": "text"}, {"name": "password", "type": "password"}]}
FETCH_CODE = ("def execute(data, tools):\n"
              "    got = tools['keytool'].execute('whoami')['data']\n"
              "    return {'status': 'success', 'message': data['user'] + ' via ' + got['profile']}\n")


def extra_plugins(plugins: Any) -> None:
    plugins.tool("keytool", KEYTOOL, KEYTOOL_CODE)
    plugins.workflow("fetch", FETCH, FETCH_CODE)


@pytest.fixture
def test_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTOOL_TEST_API_KEY", "test-key")  # PROD has none: its runs fail


def csp_or_script_errors(page: Any) -> list[str]:
    return [e for e in page.console_errors if "Content Security Policy" in e or e.startswith("page error")]


@pytest.mark.parametrize("where", ["url", "prod"])
def test_rerun_a_failed_run_with_another_profile(live, page, test_profile, where):
    failed = live.engine.accept("fetch", {"user": "ada", "password": "hunter22"}, "webhook", wait=30).run
    assert failed.status == "error"
    base = getattr(live, where)
    page.goto(f"{base}/dashboard/runs/{failed.run_id}")
    form = page.locator("form[data-rerun-form]")
    assert page.locator("button[data-cancel-run]").count() == 0  # finished: nothing to cancel
    form.locator("button[type=submit]").click()  # without the password: the field says so
    error = form.locator('[data-error-for="password"]')
    error.wait_for()
    assert "supply it again" in error.inner_text()
    form.locator('input[name="password"]').fill("hunter22")
    form.locator('input[name="keytool"]').fill("TEST")
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: failed.run_id not in url)
    page.locator('article.run-page[data-run-status="success"]').wait_for(timeout=15_000)
    assert "ada via TEST" in page.locator('[data-run-field="message"]').inner_text()
    assert page.locator("[data-rerun-of]").inner_text() == failed.run_id
    prefix = "/prod" if where == "prod" else ""
    assert page.locator("a[data-rerun-of]").get_attribute("href") == f"{prefix}/dashboard/runs/{failed.run_id}"
    page.shot(f"run-rerun-{where}")
    page.goto(f"{base}/dashboard/runs/{failed.run_id}")
    assert page.locator("[data-reruns] a").count() >= 1
    assert csp_or_script_errors(page) == []


def test_cancel_a_queued_run(live, page):
    from functions.registry.config import WorkflowConfig

    plugin = live.core.registry.get("workflow", "hello_world")
    assert isinstance(plugin.config, WorkflowConfig)
    run = live.engine.record(live.engine.new_run("hello_world", "manual", plugin.config, {"name": "Ada"},
                                                 status="queued"))
    page.goto(f"{live.prod}/dashboard/runs/{run.run_id}")
    assert page.locator("form[data-rerun-form]").count() == 0
    page.locator("button[data-cancel-run]").click()
    page.locator('article.run-page[data-run-status="cancelled"]').wait_for()
    assert page.locator('[data-run-field="status"] .badge').inner_text() == "cancelled"
    assert "before it started" in page.locator('[data-run-field="message"]').inner_text()
    assert page.locator("button[data-cancel-run]").is_hidden()
    assert live.engine.runs.get(run.run_id, consistent=True).status == "cancelled"
    page.shot("run-cancelled")
    assert csp_or_script_errors(page) == []
