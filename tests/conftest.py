"""Fixtures: a moto-backed platform in one line.

    def test_something(platform):            # the repo's example plugins
        run = platform.run("hello_world", {"name": "Ada"})
        response = platform.client.get("/api/workflows")

    def test_other(make_platform, plugin_dir):  # your own plugins folder
        plugin_dir.workflow("w", {...}, "def execute(data, tools): ...")
        platform = make_platform(plugin_dir.root)

Also: ``example_plugins`` (a private copy of the examples, to edit), ``aws_calls`` (every AWS call
the test makes, recorded by a botocore hook), ``put_secret(name, value)``. A platform has an SQS
queue (moto): webhooks and ``?async=1`` runs wait there until ``drain(platform)`` (support) runs them
through the worker. The local platform as
subprocesses (CLI, dev server) has its fixtures in ``tests/local_dev/local_platform.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import (  # noqa: F401
    REPO,
    TEST_ENV,
    PluginDir,
    copy_examples,
    drain,
    put_secret,
    reset_platform_state,
)


@pytest.fixture(autouse=True, scope="session")
def _shared_botocore_loader() -> Iterator[None]:
    """Speed only: every botocore session of the test run shares one data loader.

    Tests drop the platform's clients between tests (each test has its own settings), and a new
    botocore session re-reads and re-parses the service model JSON files: ~0.25 s per client. The
    files never change during a run, so one loader (which caches what it parsed) serves them all.
    """
    import botocore.session

    original = botocore.session.create_loader
    loaders: dict[Any, Any] = {}

    def shared(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = original(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared
    yield
    botocore.session.create_loader = original


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake AWS credentials and moto's in-process mock for every AWS call."""
    from moto import mock_aws

    for key in list(os.environ):
        if key.startswith(("WFP_", "AWS_")):
            monkeypatch.delenv(key)
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    reset_platform_state()
    with mock_aws():
        yield
    reset_platform_state()


@pytest.fixture
def aws_calls(aws: None) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every AWS API call made during the test as ``(service, operation, params)``, in order.

    A botocore ``before-parameter-build`` hook (it sees the API parameters: ``TableName``,
    ``IndexName``...), added to the handlers every new botocore session starts with;
    the platform's cached clients are dropped first so that pynamodb, Powertools and boto3 all
    build new ones that carry it. Nothing is mocked: the calls still reach moto.
    """
    from botocore.handlers import BUILTIN_HANDLERS

    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.service_model.service_name, model.name, params))

    entry = ("before-parameter-build", record)
    BUILTIN_HANDLERS.append(entry)
    reset_platform_state()
    try:
        yield calls
    finally:
        BUILTIN_HANDLERS.remove(entry)
        reset_platform_state()


@dataclass
class Platform:
    """A test's platform: the real composition root (``core``), the app serving it and a client."""

    plugins_dir: Path
    core: Any  # functions.platform.Platform
    app: Any
    client: Any

    @property
    def engine(self) -> Any:
        return self.core.engine

    def run(self, workflow: str, data: dict[str, Any] | None = None, trigger: str = "manual") -> Any:
        from functions.core.engine import UNTIL_DONE

        return self.engine.accept(workflow, data or {}, trigger, wait=UNTIL_DONE).run


def build_platform(**parts: Any) -> Any:
    """The composition root over this test's environment, with the local queue (``drain`` polls it),
    installed as the process's (what plugin code and the Lambda handlers reach) and returned."""
    from functions.aws.clients import Clients
    from functions.platform import Platform as Core
    from functions.platform import use
    from functions.settings import Settings
    from local_dev.queue import LocalQueue

    settings = Settings()
    clients = Clients()
    core = Core(settings, clients=clients, **{"queue": LocalQueue(clients, settings.queue_url), **parts})
    use(core)
    return core


@pytest.fixture
def make_platform(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Platform]:
    """Build a platform over a plugins folder (default: the repo's examples), tables created."""
    from starlette.testclient import TestClient

    def make(plugins_dir: Path | None = None, parts: dict[str, Any] | None = None, **env: str) -> Platform:
        """``parts``: what the platform is given instead of building it (a toggler, a store...)."""
        import boto3

        folder = Path(plugins_dir or REPO / "plugins")
        monkeypatch.setenv("WFP_PLUGINS_DIR", str(folder))
        if "WFP_QUEUE_URL" not in env and not os.environ.get("WFP_QUEUE_URL"):
            # Webhooks and ?async=1 queue their runs; `drain(platform)` (support) runs them.
            env["WFP_QUEUE_URL"] = boto3.client("sqs").create_queue(QueueName="wfp-test-runs")["QueueUrl"]
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_platform_state()
        from functions.http.app import create_app
        from functions.stores import create_tables

        core = build_platform(**(parts or {}))
        create_tables(core.settings)
        app = create_app(core)  # the FastAPI way: the app's get_platform dependency is overridden
        return Platform(folder, core, app, TestClient(app, raise_server_exceptions=False))

    return make


@pytest.fixture
def platform(make_platform: Callable[..., Platform], monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The repo's example plugins on moto, with the profiles the examples use."""
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "demo-key")
    return make_platform()


@pytest.fixture
def plugin_dir(tmp_path: Path) -> PluginDir:
    return PluginDir(tmp_path / "plugins")


@pytest.fixture
def example_plugins(tmp_path: Path) -> PluginDir:
    return copy_examples(tmp_path / "plugins")


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fake Google (OAuth and the Calendar, Drive and Sheets APIs) on 127.0.0.1."""
    from tests.fakes.google import FakeGoogle

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks http://; tests only
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture
def durable_backend() -> Iterator[Any]:
    """The local durable backend on the SDK runner's virtual clock (waits pass at once, nothing sleeps);
    give it to a platform: ``make_platform(dir, parts={"durable": durable_backend})``."""
    from local_dev.durable import LocalDurableBackend

    backend = LocalDurableBackend(skip_time=True, poll_interval=0.02)
    yield backend
    backend.close()
