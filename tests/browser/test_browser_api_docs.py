"""The API docs in a real browser with no internet: every request that is not to the local server is
aborted, and Swagger UI (/docs) must still render the operations, with no CSP violation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

#: Reported by the page itself for each CSP violation (console messages can be worded differently).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""


class Offline:
    """Aborts everything not addressed to 127.0.0.1 (no CDN, no fonts, no validator) and records it."""

    def __init__(self, context: Any) -> None:
        self.aborted: list[str] = []
        self.served: list[str] = []
        context.route("**/*", self.handle)
        context.add_init_script(WATCH_VIOLATIONS)

    def handle(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            self.served.append(url)
            route.continue_()
        else:
            self.aborted.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(context: Any) -> Offline:
    return Offline(context)


def problems(page: Any) -> list[str]:
    """CSP violations (the page's own reports and Chromium's console messages) and script errors."""
    reported = page.evaluate("window.__violations || []")
    console = [e for e in page.console_errors if "Content Security Policy" in e or e.startswith("page error")]
    return [*reported, *console]


@pytest.mark.parametrize("where", ["url", "prod"])
def test_swagger_ui_renders_the_operations_offline(live, page, offline, where):
    base = getattr(live, where)
    page.goto(base + "/docs")
    page.locator(".opblock").first.wait_for()
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/workflows/execute/" in path for path in operations), operations
    # "Try it out" runs an operation against the app itself (connect-src 'self'), under the stage too
    listing = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/api/workflows")).first
    listing.locator(".opblock-summary").click()
    listing.locator("button.try-out__btn").click()
    listing.locator("button.execute").click()
    listing.locator(".live-responses-table tbody .response-col_status").first.wait_for()
    assert listing.locator(".live-responses-table tbody .response-col_status").first.inner_text().strip() == "200"
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Workflow Platform")
    page.shot(f"api-docs-swagger-{where}")
    assert offline.aborted == []  # nothing even tried to leave the machine
    assert all(urlsplit(url).path.startswith(urlsplit(base).path + "/") for url in offline.served)
    assert problems(page) == []
