"""The API docs work offline (functions/http/api_docs): /docs (Swagger UI) references only assets the app
serves itself, under the stage prefix too, with a strict Content-Security-Policy; ReDoc is not served."""

from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from local_dev.bench.events import rest_event

REPO = Path(__file__).resolve().parents[3]
#: What each asset must be served as (by its extension).
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".ico": "image/x-icon",
                 ".svg": "image/svg+xml"}
PAGES = ["/docs"]


class Assets(HTMLParser):
    """Every URL a page loads (scripts, stylesheets, icons, images) and its inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.urls.append(values["src"])
            else:
                self.inline.append("<script> without src")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"])
        if tag in ("img", "source") and values.get("src"):
            self.urls.append(values["src"])
        if tag == "style":
            self.inline.append("<style> element")
        self.inline += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on") or name == "style"]

    def handle_data(self, data):
        if self._tag == "script" and data.strip():
            self.inline.append("inline script body")


def assets_of(html: str) -> Assets:
    parser = Assets()
    parser.feed(html)
    return parser


def policy_of(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def content_type_for(url: str) -> str:
    return CONTENT_TYPES[Path(url.split("?")[0]).suffix]


# ----- at the root (the local server) -------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_the_docs_reference_only_assets_the_app_serves(platform, page):
    response = platform.client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", response.text), "the page names another origin"
    assets = assets_of(response.text)
    assert assets.urls and assets.inline == []
    for url in assets.urls:
        assert url.startswith("/docs/assets/"), url
        asset = platform.client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] == content_type_for(url), url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 100, url
    assert {Path(url).suffix for url in assets.urls} == {".js", ".css", ".png"}


def test_swagger_ui_is_started_by_a_served_script_and_finds_the_openapi_document(platform):
    html = platform.client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in html
    init = [url for url in assets_of(html).urls if url.endswith(".js") and "bundle" not in url]
    assert init, "no script of the app's own to start Swagger UI"
    script = platform.client.get(init[-1]).text
    assert "SwaggerUIBundle(" in script and "openapi" in script.lower()
    assert not re.search(r"https?://", script)


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_have_a_strict_content_security_policy(platform, page):
    response = platform.client.get(page)
    header = response.headers["content-security-policy"]
    policy = policy_of(header)
    assert policy["default-src"] in (["'self'"], ["'none'"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert policy["connect-src"] == ["'self'"]  # the OpenAPI document, "Try it out"
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert set(policy["img-src"]) <= {"'self'", "data:"}
    assert policy["style-src"] == ["'self'"]  # Swagger UI needs no inline style either
    for sources in policy.values():
        for source in sources:
            assert not re.match(r"(https?:|\*|//)", source), f"{page} allows another origin: {header}"
    assert response.headers["x-frame-options"] == "DENY"


def test_redoc_is_not_served(platform):
    """FastAPI's /redoc loads ReDoc from a CDN; the platform does not serve it (see functions/http/api_docs)."""
    response = platform.client.get("/redoc")
    assert response.status_code == 404 and "see /docs" in response.json()["error"]


def test_only_the_files_the_page_loads_are_served(platform):
    assert platform.client.get("/docs/assets/nothing.js").status_code == 404
    # in the package, but not used (and left out of the Lambda layer): the same 404 everywhere
    assert platform.client.get("/docs/assets/redoc.standalone.js").status_code == 404
    assert platform.client.get("/docs/assets/").status_code == 404
    assert platform.client.get("/docs/assets/../../pyproject.toml").status_code == 404
    assert platform.client.get("/docs/assets/.secret").status_code == 404


def test_the_docs_are_not_in_the_openapi_document(platform):
    paths = platform.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
    assert platform.client.head("/docs").status_code == 200


# ----- under the stage prefix, through the Lambda handler -----------------------------------------------
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "wfp-test-api", 1024, "req-docs"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:wfp-test-api"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture
def api(platform):
    """The api handler as a cold start makes it, over the example plugins (REST v1 events, stage prod)."""
    import functions.handlers.api
    import functions.http.app

    importlib.reload(functions.http.app)
    return importlib.reload(functions.handlers.api).handler


def body_of(response: dict) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def header(response: dict, name: str) -> str:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return headers.get(name) or (multi.get(name) or [""])[0]


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_work_under_the_stage_through_the_lambda_handler(api, page):
    response = api(rest_event("GET", page), Context())
    assert response["statusCode"] == 200
    html = body_of(response).decode()
    assert not re.search(r"https?://", html)
    assert "/prod/openapi.json" in html
    assert "content-security-policy" in {k.lower() for k in (response.get("headers") or {})} | {
        k.lower() for k in (response.get("multiValueHeaders") or {})}
    assert "'unsafe-inline'" not in policy_of(header(response, "content-security-policy"))["script-src"]
    urls = assets_of(html).urls
    assert urls
    for url in urls:
        assert url.startswith("/prod/docs/assets/"), url  # the stage prefix, or API Gateway answers 403
        asset = api(rest_event("GET", url.removeprefix("/prod")), Context())
        assert asset["statusCode"] == 200, url
        assert header(asset, "content-type").split(";")[0] == content_type_for(url), url
        assert len(body_of(asset)) > 100
    spec = api(rest_event("GET", "/openapi.json"), Context())
    assert spec["statusCode"] == 200 and "/api/workflows" in json.loads(body_of(spec))["paths"]


# ----- cold start -----------------------------------------------------------------------------------------
def test_a_cold_docs_page_imports_no_route_module_nor_the_assets_package():
    code = ("import json, sys\n"
            "from local_dev.bench.events import rest_event\n"
            "import functions.handlers.api as api\n"
            "class Context:\n"
            "    function_name, memory_limit_in_mb, aws_request_id = 'wfp-test-api', 1024, 'req-1'\n"
            "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:wfp-test-api'\n"
            "def seen():\n"
            "    return sorted(m for m in sys.modules if m.startswith(('functions.http.routes.', 'fastapi_offline'))"
            " and m != 'functions.http.routes.groups')\n"
            "imported = seen()\n"
            "page = api.handler(rest_event('GET', '/docs'), Context())\n"
            "asset = api.handler(rest_event('GET', '/docs/assets/swagger-ui.css'), Context())\n"
            "print(json.dumps({'import': imported, 'page': page['statusCode'], 'asset': asset['statusCode'],"
            " 'after': seen()}))")
    env = {"PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "WFP_PLUGINS_DIR": str(REPO / "plugins"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # the assets are files found in the package's folder: the package itself (and FastAPI's helpers it
    # imports) is never imported
    assert result == {"import": [], "page": 200, "asset": 200, "after": []}
