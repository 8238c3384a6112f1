"""The dashboard in a real browser, as a new user would use it: at the root and under a /prod stage."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from support import artifact


def csp_or_script_errors(page: Any) -> list[str]:
    """Console errors that mean a broken page: CSP violations and uncaught script errors.
    (Chromium also logs every non-2xx fetch, e.g. the expected 422, as a console error: not a bug.)"""
    return [e for e in page.console_errors if "Content Security Policy" in e or e.startswith("page error")]


def open_run_form(page: Any, workflow: str) -> Any:
    card = page.locator(f'[data-workflow-card="{workflow}"]')
    card.locator("details.run summary").click()
    return card.locator("form[data-run-form]")


def run_result(form: Any) -> Any:
    form.locator("[data-run-result][data-status]:not([data-status='sending'])").wait_for()
    return form.locator("[data-run-result]")


def history(live: Any, workflow: str) -> list[Any]:
    return live.engine.runs.history(workflow, 50)[0]


# ----- at the root -------------------------------------------------------------------------------------
def test_home_shows_workflows_grouped_with_details_and_empty_states(live, page):
    page.goto(live.url + "/")
    assert page.title().startswith("Workflows")
    headings = page.locator("section.category h2").all_inner_texts()
    assert {"Examples", "Monitoring", "Testing"} <= set(headings)
    digest = page.locator('[data-workflow-card="daily_digest"]')
    assert "0 9 * * 1-5" in digest.inner_text() and "next run in" in digest.inner_text()
    hello = page.locator('[data-workflow-card="hello_world"]')
    webhook = hello.locator("code.url").inner_text()
    assert webhook == live.url + "/api/webhooks/hello_world"
    assert "accepts unsigned calls" in hello.inner_text()
    if not history(live, "incoming_webhook"):
        page.wait_for_selector("html[data-ready]")  # the cards' runs are fetched by the page's script
        assert "No runs yet." in page.locator('[data-workflow-card="incoming_webhook"]').inner_text()
    # the broken interface is reported; the working one is listed with its icon
    assert "broken_page" in page.locator("section.alert").inner_text()
    assert "🎯" in page.locator("a.interface").first.inner_text()
    page.shot("dashboard-home")
    assert csp_or_script_errors(page) == []


def test_the_home_page_fills_its_cards_with_their_runs_once_shown(live, page):
    """The page reads no run (a cold start answers it without DynamoDB); its script fetches every card's
    last run and chart in one request and puts them in place."""
    assert httpx.post(f"{live.url}/api/workflows/execute/hello_world", json={"name": "Ada"}).status_code == 200
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(live.url + "/")
    page.wait_for_selector("html[data-ready]")
    hello = page.locator('[data-workflow-card="hello_world"]')
    assert hello.locator('[data-last-run] [data-status="success"]').count() == 1
    assert hello.locator("[data-runs-chart] svg.chart rect").count() >= 1
    assert page.locator("[data-runs-pending]").count() == 0
    assert [url for url in fetched if "/dashboard/recent" in url] == [live.url + "/dashboard/recent"]
    assert csp_or_script_errors(page) == []


def test_the_home_page_says_so_when_its_runs_cannot_be_read(live, page):
    page.route("**/dashboard/recent", lambda route: route.fulfill(status=503, body="unavailable"))
    page.goto(live.url + "/")
    page.wait_for_selector("html[data-ready]")
    hello = page.locator('[data-workflow-card="hello_world"]')
    assert "Run history unavailable right now." in hello.locator("[data-runs-chart]").inner_text()
    assert page.locator("[data-runs-pending]:not(:has-text('unavailable'))").count() == 0
    assert "Workflows" in page.title()  # the rest of the page is there


def test_copy_button_copies_the_webhook_url(live, context, page):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.goto(live.url + "/")
    page.locator('[data-workflow-card="hello_world"] button[data-copy]').click()
    assert page.evaluate("navigator.clipboard.readText()") == live.url + "/api/webhooks/hello_world"
    assert page.locator('[data-workflow-card="hello_world"] button[data-copy]').inner_text() == "Copied"


def test_run_through_the_form_shows_output_then_the_run_page(live, page):
    page.goto(live.url + "/")
    form = open_run_form(page, "hello_world")
    form.locator("#in-hello_world-name").fill("Ada")
    form.locator("#in-hello_world-language").select_option("fr")
    form.locator("#in-hello_world-times").fill("2")
    form.locator("#in-hello_world-shout").check()
    form.get_by_role("button", name="Run Hello World").click()
    result = run_result(form)
    assert result.get_attribute("data-status") == "success"
    assert "BONJOUR, ADA!" in result.locator("pre[data-output]").inner_text()
    page.shot("run-form-success")

    result.get_by_role("link", name="Open the run page →").click()
    page.wait_for_url("**/dashboard/runs/*")
    run_page = page.locator("[data-run-id]")
    assert run_page.get_attribute("data-run-status") == "success"
    text = run_page.inner_text()
    assert '"language": "fr"' in text and '"times": 2' in text  # inputs, typed
    assert "BONJOUR, ADA!" in page.locator('[data-run-field="output"]').inner_text()
    assert "greeting Ada 2 time(s)" in page.locator('[data-run-field="logs"]').inner_text()
    page.shot("run-page")
    assert csp_or_script_errors(page) == []


def test_bad_email_is_shown_next_to_the_field_and_records_nothing(live, page):
    before = len(history(live, "hello_world"))
    page.goto(live.url + "/dashboard/workflows/hello_world")
    form = page.locator("form[data-run-form]")
    form.locator("#in-hello_world-name").fill("Ada")
    form.locator("#in-hello_world-email").fill("not-an-email")
    form.get_by_role("button", name="Run Hello World").click()
    error = form.locator('[data-error-for="email"]')
    error.wait_for(state="visible")
    assert "must be an email address" in error.inner_text()
    assert form.locator("#in-hello_world-email").get_attribute("aria-invalid") == "true"
    assert form.locator('[data-error-for="name"]').is_hidden()
    assert form.locator("[data-run-result]").is_hidden()
    page.shot("run-form-bad-email")
    assert len(history(live, "hello_world")) == before

    # correcting the field clears the error and runs
    form.locator("#in-hello_world-email").fill("ada@example.com")
    form.get_by_role("button", name="Run Hello World").click()
    assert run_result(form).get_attribute("data-status") == "success"
    assert error.is_hidden()
    assert csp_or_script_errors(page) == []


@pytest.mark.parametrize("workflow,fill", [
    ("hello_world", {"name": "Grace"}),
    ("daily_digest", {}),
    ("incoming_webhook", {}),
    ("check_url", {"url": "{live}/api/health"}),
    ("slow_job", {"seconds": "0.3"}),
])
def test_every_example_runs_from_its_page(live, page, workflow, fill):
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.goto(f"{live.url}/dashboard/workflows/{workflow}")
    form = page.locator("form[data-run-form]")
    for name, value in fill.items():
        form.locator(f"#in-{workflow}-{name}").fill(value.format(live=live.url))
    form.locator("button[type=submit]").click()
    result = run_result(form)
    assert result.get_attribute("data-status") == "success", result.inner_text()
    run_id = result.get_by_role("link", name="Open the run page →").get_attribute("href").rsplit("/", 1)[-1]
    # without a reload, the history table and the chart show the run
    page.locator(f'table.runs tbody tr a[href$="/dashboard/runs/{run_id}"]').wait_for()
    page.locator(f'svg.chart a[href$="/dashboard/runs/{run_id}"] rect.st-success').wait_for()
    assert page.locator("table.runs tbody tr").count() >= 1
    assert len(navigations) == 1, navigations  # never reloaded
    assert csp_or_script_errors(page) == []


def test_a_running_run_updates_without_reload(live, page):
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    known = {r.run_id for r in history(live, "slow_job")}
    caller = threading.Thread(target=lambda: httpx.post(f"{live.url}/api/workflows/execute/slow_job",
                                                        json={"seconds": 2.4}, timeout=30))
    caller.start()
    deadline = time.monotonic() + 10
    while not (new := [r for r in history(live, "slow_job") if r.run_id not in known]):
        assert time.monotonic() < deadline, "the run was never recorded"
        time.sleep(0.05)
    page.goto(f"{live.url}/dashboard/runs/{new[0].run_id}")
    run_page = page.locator("[data-run-id]")
    assert run_page.get_attribute("data-run-status") == "running"
    assert page.locator("[data-run-live]").is_visible()
    page.shot("run-page-running")
    page.locator('[data-run-id][data-run-status="success"]').wait_for(timeout=15_000)
    assert page.locator("[data-run-live]").is_hidden()
    assert "step 2" in page.locator('[data-run-field="logs"]').inner_text()
    assert '"slept": 2.4' in page.locator('[data-run-field="output"]').inner_text()
    assert len(navigations) == 1, navigations  # updated in place, never reloaded
    caller.join()
    page.shot("run-page-finished")


def test_pause_and_resume_a_schedule(live, page):
    page.goto(live.url + "/dashboard/schedules")
    row = page.locator('tr[data-job="daily_digest"]')
    assert "0 9 * * 1-5" in row.inner_text()
    page.shot("schedules")
    row.get_by_role("button", name="Pause").click()
    page.locator('tr[data-job="daily_digest"][data-enabled="false"]').wait_for()
    assert "paused" in row.locator("[data-job-state]").inner_text()
    jobs = httpx.get(live.url + "/api/scheduler/jobs").json()
    assert next(j for j in jobs if j["workflow"] == "daily_digest")["enabled"] is False
    page.reload()
    assert page.locator('tr[data-job="daily_digest"]').get_attribute("data-enabled") == "false"
    page.shot("schedules-paused")
    page.locator('tr[data-job="daily_digest"]').get_by_role("button", name="Resume").click()
    page.locator('tr[data-job="daily_digest"][data-enabled="true"]').wait_for()
    jobs = httpx.get(live.url + "/api/scheduler/jobs").json()
    assert next(j for j in jobs if j["workflow"] == "daily_digest")["enabled"] is True


def test_custom_interface_opens_from_the_dashboard_and_triggers_its_workflow(live, page):
    before = len(history(live, "hello_world"))
    page.goto(live.url + "/")
    page.get_by_role("link", name="Mon Interface").click()
    page.wait_for_url(live.url + "/mon-interface/")
    page.get_by_role("button", name="Déclencher Workflow").click()
    page.locator("#result pre").wait_for()
    assert '"status": "success"' in page.locator("#result").inner_text()
    page.shot("interface")
    runs = history(live, "hello_world")
    assert len(runs) == before + 1 and runs[0].trigger == "api"
    assert csp_or_script_errors(page) == []  # the seed's inline script runs: interfaces get no script CSP
    # the broken interface is not mounted, the rest of the platform is unaffected
    assert httpx.get(live.url + "/broken/").status_code == 404


def test_tools_and_plugins_pages(live, page):
    page.goto(live.url + "/dashboard/tools")
    assert "DEMO" in page.locator('[data-tool="mon_outil"]').inner_text()
    page.shot("tools")
    page.goto(live.url + "/dashboard/plugins")
    broken = page.locator('tr[data-plugin="interface/broken_page"]')
    assert "broken on purpose" in broken.inner_text()
    assert "ok" in page.locator('tr[data-plugin="workflow/hello_world"]').inner_text()
    page.shot("plugins")


def test_phone_sized_screen(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live.url + "/")
        assert page.evaluate("document.documentElement.scrollWidth <= 390")
        card = page.locator('[data-workflow-card="hello_world"]')
        card.locator("details.run summary").tap()
        card.locator("#in-hello_world-name").fill("Phone")
        card.get_by_role("button", name="Run Hello World").tap()
        result = card.locator('[data-run-result][data-status="success"]')
        result.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= 390")
        page.screenshot(path=str(artifact("dashboard-phone")), full_page=True)
        page.goto(live.url + "/dashboard/workflows/hello_world")
        assert page.evaluate("document.documentElement.scrollWidth <= 390")
        page.screenshot(path=str(artifact("workflow-phone")), full_page=True)
    finally:
        context.close()


# ----- admin login -------------------------------------------------------------------------------------
def test_login_when_a_token_is_set(live, context, page, admin_token):
    assert httpx.get(live.url + "/api/workflows").status_code == 401
    page.goto(live.url + "/dashboard/tools")
    page.wait_for_url("**/login?next=/dashboard/tools")
    page.shot("login")
    page.get_by_label("Admin token").fill("wrong-token")
    page.get_by_role("button", name="Log in").click()
    assert "not the admin token" in page.locator(".form-error").inner_text()

    page.get_by_label("Admin token").fill(admin_token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.url + "/dashboard/tools")
    [cookie] = [c for c in context.cookies() if c["name"] == "wfp_session"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert admin_token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it

    # the session works for pages and for the dashboard's API calls
    page.goto(live.url + "/dashboard/workflows/hello_world")
    form = page.locator("form[data-run-form]")
    form.locator("#in-hello_world-name").fill("Admin")
    form.get_by_role("button", name="Run Hello World").click()
    assert run_result(form).get_attribute("data-status") == "success"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?logged_out=1")
    assert "logged out" in page.locator("main").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "wfp_session"]
    page.goto(live.url + "/")
    page.wait_for_url("**/login?next=/")
    assert csp_or_script_errors(page) == []


def test_a_link_from_another_site_keeps_the_session(live, context, page, admin_token):
    """SameSite=Strict cookies are withheld on cross-site navigations (a chat link, the OAuth redirect):
    the login page asks again from its own origin instead of showing the form to a logged-in user."""
    page.goto(live.url + "/login")
    page.get_by_label("Admin token").fill(admin_token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.url + "/")
    other_site = live.url.replace("127.0.0.1", "localhost")  # another site for the browser
    page.goto(other_site + "/api/health")
    page.set_content(f'<a id="go" href="{live.url}/dashboard/tools">dashboard</a>')
    page.click("#go")
    page.wait_for_url(live.url + "/dashboard/tools")
    assert page.locator("h1").inner_text() == "Tools"
    # logged out, the same link shows the form (once, no loop)
    context.clear_cookies()
    page.goto(other_site + "/api/health")
    page.set_content(f'<a id="go" href="{live.url}/dashboard/tools">dashboard</a>')
    page.click("#go")
    page.wait_for_url("**/login?next=%2Fdashboard%2Ftools&retry=1")
    assert page.get_by_label("Admin token").is_visible()


# ----- under the /prod stage prefix ---------------------------------------------------------------------
def test_prod_prefix_links_form_run_page_and_interface(live, page):
    assert httpx.get(live.prod.removesuffix("/prod") + "/api/health").status_code == 404  # API Gateway's answer
    page.goto(live.prod + "/")
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    local = [h for h in hrefs if h.startswith("/")]
    assert local and all(h.startswith("/prod/") or h == "/prod" for h in local), local
    assert page.locator('[data-workflow-card="hello_world"] code.url').inner_text() == \
        live.prod + "/api/webhooks/hello_world"

    form = open_run_form(page, "hello_world")
    form.locator("#in-hello_world-name").fill("Prod")
    form.get_by_role("button", name="Run Hello World").click()
    result = run_result(form)
    assert result.get_attribute("data-status") == "success"
    page.shot("prod-run-form")
    result.get_by_role("link", name="Open the run page →").click()
    page.wait_for_url(live.prod + "/dashboard/runs/*")
    assert "Hello, Prod!" in page.locator('[data-run-field="output"]').inner_text()

    page.goto(live.prod + "/dashboard/workflows/hello_world")
    form = page.locator("form[data-run-form]")
    form.locator("#in-hello_world-name").fill("Prod")
    form.locator("#in-hello_world-email").fill("nope")
    form.get_by_role("button", name="Run Hello World").click()
    form.locator('[data-error-for="email"]').wait_for(state="visible")

    page.goto(live.prod + "/")
    page.get_by_role("link", name="Mon Interface").click()
    page.wait_for_url(live.prod + "/mon-interface/")
    page.get_by_role("button", name="Déclencher Workflow").click()
    page.locator("#result pre").wait_for()
    assert '"status": "success"' in page.locator("#result").inner_text()
    page.shot("prod-interface")
    assert csp_or_script_errors(page) == []


def test_prod_prefix_login(live, context, page, admin_token):
    page.goto(live.prod + "/dashboard/schedules")
    page.wait_for_url(live.prod + "/login?next=/dashboard/schedules")
    page.get_by_label("Admin token").fill(admin_token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.prod + "/dashboard/schedules")
    [cookie] = [c for c in context.cookies() if c["name"] == "wfp_session"]
    assert cookie["path"] == "/prod"
    page.goto(live.prod + "/mon-interface/")
    page.get_by_role("button", name="Déclencher Workflow").click()
    page.locator("#result pre").wait_for()
    assert '"status": "success"' in page.locator("#result").inner_text()
    page.shot("prod-login-interface")
