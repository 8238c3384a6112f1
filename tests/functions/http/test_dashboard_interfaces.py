"""Custom interfaces (functions/http/interfaces.py): mounting, safe static files, broken ones, reload, /prod."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

SEED_STYLE = """
from fastapi import APIRouter
from fastapi.responses import FileResponse
import os

DISPLAY_NAME = "{title}"
DESCRIPTION = "An interface"
ROUTE = "{route}"
ICON = "📊"

router = APIRouter(prefix=ROUTE)

@router.get("/")
def get_interface():
    return FileResponse(os.path.join(os.path.dirname(__file__), "src", "index.html"))

def get_router():
    return router
"""

PAGE = "<!doctype html><html><head><title>T</title></head><body><script>fetch('/api/health')</script></body></html>"


def seed_interface(plugin_dir: Any, name: str, route: str, files: dict[str, str] | None = None) -> None:
    plugin_dir.interface(name, SEED_STYLE.format(title=name.title(), route=route),
                         {"src/index.html": PAGE, **(files or {})})


def raw_get(app: Any, path: str, root_path: str = "") -> tuple[int, bytes]:
    """Send a path exactly as given (HTTP clients normalise '..' away before it leaves them)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": root_path,
             "query_string": b"", "headers": [(b"host", b"testserver")], "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1), "asgi": {"version": "3.0"}}
    # In a thread of its own: a session-wide event loop (Playwright's) may be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


@pytest.fixture
def assets(make_platform, plugin_dir, tmp_path):
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("OUTSIDE-SECRET")
    seed_interface(plugin_dir, "assets", "/assets-ui", {
        "src/app.js": "console.log('hi')", "src/style.css": "body{}", "src/logo.svg": "<svg></svg>",
        "src/data.json": "{}", "src/notes.weird": "plain", "src/.env": "HIDDEN=1",
        "src/.git/config": "[core]", "src/sub/index.html": "<p>sub</p>",
    })
    os.symlink(outside, plugin_dir.root / "interfaces" / "assets" / "src" / "escape.txt")
    return make_platform(plugin_dir.root)


def test_static_files_have_the_right_content_types(assets):
    client = assets.client
    expected = {"app.js": "text/javascript", "style.css": "text/css", "logo.svg": "image/svg+xml",
                "data.json": "application/json", "sub/index.html": "text/html"}
    for name, content_type in expected.items():
        response = client.get(f"/assets-ui/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] == content_type, name
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/assets-ui/").text == PAGE  # the router's own route answers first
    assert client.get("/assets-ui/sub/").text == "<p>sub</p>"  # html=True: index of a folder


def test_no_path_traversal_hidden_file_or_symlink_escape(assets):
    client = assets.client
    for path in ("/assets-ui/.env", "/assets-ui/.git/config", "/assets-ui/escape.txt",
                 "/assets-ui/%2e%2e/main.py", "/assets-ui/..%2fmain.py", "/assets-ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "HIDDEN" not in response.text and "OUTSIDE-SECRET" not in response.text and "APIRouter" not in response.text
    for path in ("/assets-ui/../main.py", "/assets-ui/sub/../../main.py", "/assets-ui/./.env", "/assets-ui//etc/passwd"):
        status, body = raw_get(assets.app, path)
        assert status == 404 and b"APIRouter" not in body and b"HIDDEN" not in body, path


def test_broken_interfaces_are_reported_and_the_others_mount(make_platform, plugin_dir):
    seed_interface(plugin_dir, "good", "/good")
    plugin_dir.interface("raises", "ROUTE = '/raises'\n\ndef get_router():\n    raise RuntimeError('nope')\n")
    plugin_dir.interface("not_router", "ROUTE = '/not-router'\n\ndef get_router():\n    return 42\n")
    plugin_dir.interface("no_route", "def get_router():\n    return None\n")
    plugin_dir.interface("syntax", "ROUTE = '/syntax'\ndef get_router(:\n")
    seed_interface(plugin_dir, "takes_dashboard", "/dashboard")
    plugin_dir.interface("takes_root", "from fastapi import APIRouter\nROUTE = '/'\n\n"
                                       "def get_router():\n    return APIRouter()\n")
    seed_interface(plugin_dir, "takes_login", "/login")
    seed_interface(plugin_dir, "zz_duplicate", "/good")
    platform = make_platform(plugin_dir.root)
    assert platform.client.get("/good/").text == PAGE
    plugins = {p["name"]: p for p in platform.client.get("/api/plugins").json()["plugins"]}
    expected = {"raises": "RuntimeError: nope", "not_router": "must return a fastapi.APIRouter",
                "no_route": "must define ROUTE", "syntax": "SyntaxError",
                "takes_dashboard": "is used by the platform", "takes_root": "is used by the platform",
                "takes_login": "is used by the platform", "zz_duplicate": "already the route of interface 'good'"}
    for name, message in expected.items():
        assert plugins[name]["status"] == "error" and message in plugins[name]["error"], (name, plugins[name])
        assert plugins[name]["file"].startswith(f"plugins/interfaces/{name}/main.py")
    assert plugins["good"]["status"] == "ok"
    # the platform's own pages are untouched by the interfaces that wanted their routes
    assert "Workflows" in platform.client.get("/").text
    assert "Log in" in platform.client.get("/login").text
    listed = {i["name"]: i for i in platform.client.get("/api/interfaces").json()}
    assert listed["good"]["icon"] == "📊"
    home = platform.client.get("/").text
    assert 'href="/good/"' in home and "zz_duplicate" in home  # the error banner names it


def test_router_without_prefix_is_mounted_at_route(make_platform, plugin_dir):
    plugin_dir.interface("bare", """
        from fastapi import APIRouter
        ROUTE = "/bare"
        router = APIRouter()

        @router.get("/data")
        def data():
            return {"ok": True}

        def get_router():
            return router
        """)
    client = make_platform(plugin_dir.root).client
    assert client.get("/bare/data").json() == {"ok": True}
    assert client.get("/data").status_code == 404


def test_reload_remounts_added_changed_and_removed_interfaces(make_platform, plugin_dir):
    seed_interface(plugin_dir, "first", "/first")
    platform = make_platform(plugin_dir.root)
    client = platform.client
    assert client.get("/first/").status_code == 200
    assert client.get("/second/").status_code == 404

    seed_interface(plugin_dir, "second", "/second")
    (plugin_dir.root / "interfaces" / "first" / "main.py").write_text(SEED_STYLE.format(title="First", route="/moved"))
    assert client.post("/api/reload").status_code == 200
    assert client.get("/second/").text == PAGE
    assert client.get("/moved/").text == PAGE
    assert client.get("/first/").status_code == 404

    import shutil

    shutil.rmtree(plugin_dir.root / "interfaces" / "second")
    client.post("/api/reload")
    assert client.get("/second/").status_code == 404
    assert client.get("/moved/").status_code == 200
    interface_routes = [r for r in platform.app.router.routes if type(r).__name__ == "InterfaceRoute"]
    assert [r.route for r in interface_routes] == ["/moved"]  # nothing left behind by earlier mounts


def test_seed_example_interface_works_as_written(platform):
    page = platform.client.get("/mon-interface/")
    assert page.status_code == 200 and "fetch('/api/workflows/trigger/hello_world" in page.text
    assert "base-path.js" not in page.text  # at the root nothing is injected
    triggered = platform.client.get("/api/workflows/trigger/hello_world?name=Interface&email=test@example.com")
    assert triggered.status_code == 200 and triggered.json()["status"] == "success"


def test_under_a_stage_prefix_html_gets_the_base_path_script(make_platform, plugin_dir):
    seed_interface(plugin_dir, "staged", "/staged", {"src/app.js": "fetch('/api/health')",
                                                      "src/big.html": "<html><head></head>" + "x" * (3 * 1024 * 1024)})
    platform = make_platform(plugin_dir.root)
    client = TestClient(platform.app, root_path="/prod")
    page = client.get("/prod/staged/")
    assert page.status_code == 200
    head = '<head><script src="/prod/dashboard/static/base-path.js" data-base="/prod"></script><title>'
    assert head in page.text
    assert int(page.headers["content-length"]) == len(page.content)
    assert "etag" not in page.headers
    assert client.get("/prod/staged/app.js").text == "fetch('/api/health')"  # only HTML is touched
    big = client.get("/prod/staged/big.html")
    assert big.status_code == 200 and "base-path.js" not in big.text and len(big.content) > 3 * 1024 * 1024
    shim = client.get("/prod/dashboard/static/base-path.js")
    assert shim.status_code == 200 and "dataset.base" in shim.text
    assert client.head("/prod/staged/").status_code == 200
    assert TestClient(platform.app).get("/staged/").text == PAGE  # and nothing at the root


def test_every_path_the_app_serves_is_reserved_for_interfaces(make_platform, plugin_dir):
    """The reserved routes (``functions.registry.rules``, below the app) cover what the app really serves:
    every API route, the dashboard's pages, the docs; so no interface can hide one."""
    from functions.http.dashboard import PATHS, DashboardRoutes
    from functions.http.routes import groups
    from functions.registry.rules import route_problem

    def paths(routes: list[Any]) -> set[str]:
        found: set[str] = set()
        for route in routes:
            if getattr(route, "path", None):
                found.add(route.path)
            included = getattr(route, "original_router", None)  # FastAPI >= 0.165: included routers
            if included is not None:
                found |= paths(included.routes)
        return found

    platform = make_platform(plugin_dir.root)
    app = platform.app
    groups.load_all(app)
    served = paths(app.router.routes)
    assert "/api/workflows/execute/{name}" in served and "/oauth/google/callback" in served
    dashboard = next(r for r in app.router.routes if isinstance(r, DashboardRoutes))
    served |= paths(dashboard.routes) | set(PATHS)
    served |= {app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url}
    served |= {prefix for prefixes in groups.GROUPS.values() for prefix in prefixes}
    served.discard(None)
    uncovered = sorted(p for p in served if route_problem(p.split("{")[0].rstrip("/") or "/", {}) is None)
    assert uncovered == []


def test_workflow_ids_the_api_routes_shadow_are_reserved():
    """``GET /api/workflows/{name}``: a name that is a prefix of another route module is never reached."""
    from functions.http.routes import groups
    from functions.registry.rules import RESERVED_NAMES

    shadowing = {prefix.removeprefix("/api/workflows/").split("/")[0]
                 for prefixes in groups.GROUPS.values() for prefix in prefixes
                 if prefix.startswith("/api/workflows/")}
    assert shadowing <= RESERVED_NAMES["workflow"]


def test_the_server_and_the_check_agree_on_broken_interfaces(make_platform, plugin_dir):
    from functions.registry.discovery import Registry, purge_plugin_modules

    for name, route in (("on_dashboard", "/dashboard"), ("on_docs", "/docs"), ("on_login", "/login"),
                        ("on_oauth", "/oauth"), ("on_redoc", "/redoc"), ("on_api", "/api"),
                        ("first", "/mine"), ("second", "/mine")):
        seed_interface(plugin_dir, name, route)
    plugin_dir.workflow("typo_tool", {"tools_required": ["no_such_tool"]})
    platform = make_platform(plugin_dir.root)
    served = {p["name"]: p["error"] for p in platform.client.get("/api/plugins").json()["plugins"]
              if p["status"] == "error"}
    purge_plugin_modules()
    checked = {p.name: p.error for p in Registry.discover(plugin_dir.root).check_all().errors()}
    assert served == checked
    assert set(served) == {"on_dashboard", "on_docs", "on_login", "on_oauth", "on_redoc", "on_api", "second",
                           "typo_tool"}
    assert platform.client.get("/mine/").text == PAGE
    run = platform.client.post("/api/workflows/execute/typo_tool", json={})
    assert run.status_code == 409 and "no_such_tool" in run.json()["error"]
    assert platform.client.get("/api/health").status_code == 200
