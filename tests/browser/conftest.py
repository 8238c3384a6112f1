"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) against the real app over HTTP.

One live platform per test module: a moto server on 127.0.0.1 (``ThreadedMotoServer``, reached
through ``AWS_ENDPOINT_URL`` exactly as the local dev server does), the FastAPI app under uvicorn in a
thread, served twice:
- ``live.url``: at the root, as ``python -m local_dev`` serves it;
- ``live.prod``: under ``/prod`` the way API Gateway's stage prefix reaches the app (``StagePrefix``):
  requests outside the prefix get API Gateway's 404, requests inside it arrive with
  ``root_path="/prod"``, so a link or fetch that forgets the prefix fails the test.
The plugins are a copy of the repo's examples plus a slow workflow (to watch a run live) and a broken
interface (to see it reported while the others work). Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import reset_platform_state

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]



def missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return ("browser tests need Debian's Chromium at /usr/bin/chromium (tests/run.sh installs it: "
                "apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - playwright is a test dependency
        return "browser tests need the playwright package (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_browser()
    if reason is None:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reason))

SLOW_WORKFLOW = {
    "name": "Slow Job",
    "description": "Sleeps a little, logging as it goes: used to watch a run update live.",
    "triggers": ["manual"],
    "category": "testing",
    "inputs_schema": [{"name": "seconds", "type": "number", "label": "Seconds", "default": 2}],
    "active": True,
}
SLOW_CODE = '''
import logging, time
log = logging.getLogger(__name__)

def execute(data, tools):
    for step in range(3):
        log.info("step %d", step)
        time.sleep(float(data["seconds"]) / 3)
    return {"status": "success", "message": "slept", "data": {"slept": data["seconds"]}}
'''
BROKEN_INTERFACE = "ROUTE = '/broken'\n\ndef get_router():\n    raise RuntimeError('this interface is broken on purpose')\n"


class StagePrefix:
    """The app as API Gateway + the Lambda adapter present it under a stage: only ``/prod/...`` exists."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(dict(scope, root_path=self.prefix), receive, send)
            return
        from starlette.responses import JSONResponse

        await JSONResponse({"message": "Not Found"}, status_code=404)(scope, receive, send)


class ThreadedServer:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="browser-test-server", daemon=True)

    def start(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Live:
    url: str
    prod: str
    plugins_dir: Path
    app: Any
    core: Any  # functions.platform.Platform
    screenshots: list[Path] = field(default_factory=list)

    @property
    def engine(self) -> Any:
        return self.core.engine

    def route_exists(self, method: str, path: str) -> bool:
        from functions.http.routes.groups import load_all

        load_all(self.app)
        try:
            from fastapi.routing import iter_route_contexts
            routes = [c.original_route for c in iter_route_contexts(self.app.routes)]
        except ImportError:  # older FastAPI: app.routes is flat
            routes = list(self.app.routes)
        return any(getattr(r, "path", None) == path and method in (getattr(r, "methods", None) or ())
                   for r in routes)


def build_plugins(root: Path) -> Path:
    plugins = root / "plugins"
    shutil.copytree(REPO / "plugins", plugins, ignore=shutil.ignore_patterns("__pycache__", "scratch"))
    slow = plugins / "workflows" / "slow_job"
    slow.mkdir()
    import json

    (slow / "config.json").write_text(json.dumps(SLOW_WORKFLOW))
    (slow / "main.py").write_text(SLOW_CODE)
    broken = plugins / "interfaces" / "broken_page"
    broken.mkdir()
    (broken / "main.py").write_text(BROKEN_INTERFACE)
    return plugins


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A test module may define ``extra_plugins(plugins: PluginDir)`` to add plugins to its own copy."""
    from moto.server import ThreadedMotoServer
    from support import PluginDir

    plugins = build_plugins(tmp_path_factory.mktemp("browser"))
    extra = getattr(request.module, "extra_plugins", None)
    if extra is not None:
        extra(PluginDir(plugins))

    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("WFP_", "AWS_")):
                mp.delenv(key)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": f"http://{host}:{port}", "WFP_STAGE": "browser", "WFP_PREFIX": "wfp-browser",
               "WFP_PLUGINS_DIR": str(plugins),
               "MON_OUTIL_DEMO_API_KEY": "demo-key"}
        for key, value in env.items():
            mp.setenv(key, value)
        reset_platform_state()
        from functions.http.app import create_app
        from functions.platform import Platform, use
        from functions.stores import create_tables

        core = Platform()
        use(core)  # what the tools a workflow builds reach
        create_tables(core.settings)
        core.registry.check_all()
        app = create_app(core)
        root, prod = ThreadedServer(app), ThreadedServer(StagePrefix(app, "/prod"))
        root_port, prod_port = root.start(), prod.start()
        try:
            yield Live(url=f"http://127.0.0.1:{root_port}", prod=f"http://127.0.0.1:{prod_port}/prod",
                       plugins_dir=Path(env["WFP_PLUGINS_DIR"]), app=app, core=core)
        finally:
            root.stop()
            prod.stop()
            moto.stop()
            reset_platform_state()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Page:
    """A Playwright page that records console errors (CSP violations land there) and takes screenshots."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console_errors: list[str] = []
        page.on("console", lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Page:
    return Page(context.new_page())


@pytest.fixture
def admin_token(live: Live) -> Iterator[str]:
    """Turn the admin token on for one test: the live server's platform gets settings with a token (the
    middleware reads them on every request), then its own back."""
    from pydantic import SecretStr

    token = "browser-test-token-5c1d0e"
    original = live.core.settings
    live.core.settings = original.model_copy(update={"admin_token": SecretStr(token)})
    yield token
    live.core.settings = original
