"""Security headers (functions/http/middleware/security_headers.py) and the dashboard's no-inline-script promise."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

DASHBOARD_PAGES = ["/", "/dashboard/", "/dashboard/workflows/hello_world", "/dashboard/schedules",
                   "/dashboard/tools", "/dashboard/plugins", "/login", "/dashboard/workflows/unknown"]


def csp(response) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (p.strip() for p in policy.split(";")) if d}


class InlineCode(HTMLParser):
    """Anything a strict CSP would block: inline <script> bodies, on* handlers, style attributes,
    <style> elements, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "script" and not dict(attrs).get("src"):
            self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> element")

    def handle_data(self, data):
        if self._tag == "script" and data.strip():
            self.problems.append("inline script body")


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
def test_dashboard_pages_have_a_strict_policy_and_no_inline_code(platform, path):
    platform.run("hello_world", {"name": "Ada"})
    response = platform.client.get(path)
    policy = csp(response)
    assert policy["script-src"] == "'self'" and "unsafe" not in response.headers["content-security-policy"]
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    parser = InlineCode()
    parser.feed(response.text)
    assert parser.problems == []


def test_run_page_has_no_inline_code(platform):
    run = platform.run("hello_world", {"name": "<script>alert(1)</script>"})
    response = platform.client.get(f"/dashboard/runs/{run.run_id}")
    parser = InlineCode()
    parser.feed(response.text)
    assert parser.problems == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_interface_pages_keep_their_inline_script_but_cannot_be_framed(platform):
    response = platform.client.get("/mon-interface/")
    assert response.status_code == 200 and "onclick=" in response.text  # the seed's page, untouched
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_interface_may_set_its_own_policy(make_platform, plugin_dir):
    plugin_dir.interface("own_policy", """
        from fastapi import APIRouter
        from fastapi.responses import HTMLResponse
        ROUTE = "/own"
        router = APIRouter()

        @router.get("/")
        def page():
            return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "default-src 'self'"})

        def get_router():
            return router
        """)
    response = make_platform(plugin_dir.root).client.get("/own/")
    assert response.headers["content-security-policy"] == "default-src 'self'"


def test_api_and_static_responses_get_the_common_headers(platform):
    for path in ("/api/workflows", "/api/health", "/dashboard/static/dashboard.js", "/api/nope"):
        response = platform.client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
    api = platform.client.get("/api/workflows")
    assert "content-security-policy" not in api.headers  # JSON is not a document: nothing to restrict
    static = platform.client.get("/dashboard/static/dashboard.js")
    assert "cache-control" not in static.headers or static.headers["cache-control"] != "no-store"


def test_refusals_carry_the_headers_too(make_platform):
    platform = make_platform(WFP_ADMIN_TOKEN="header-test-token")
    refused = platform.client.get("/api/workflows")
    assert refused.status_code == 401 and refused.headers["x-content-type-options"] == "nosniff"
    redirect = platform.client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert redirect.status_code == 303 and re.search(r"frame-ancestors 'none'",
                                                     redirect.headers["content-security-policy"])
