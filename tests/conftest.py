"""Fixtures: a moto-backed platform in one line.

    def test_something(platform):            # the repo's example plugins
        run = platform.run("hello_world", {"name": "Ada"})
        response = platform.client.get("/api/workflows")

    def test_other(make_platform, plugin_dir):  # your own plugins folder
        plugin_dir.workflow("w", {...}, "def execute(data, tools): ...")
        platform = make_platform(plugin_dir.root)

Also: ``example_plugins`` (a private copy of the examples, to edit), ``aws_calls`` (every AWS call
the test makes, recorded by a botocore hook), ``put_secret(name, value)``. The local platform as
subprocesses (CLI, dev server) has its fixtures in ``tests/local_dev/local_platform.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "WFP_STAGE": "test",
    "WFP_PREFIX": "wfp-test",
}


def reset_platform_state() -> None:
    """Forget every process-wide cache the platform keeps (settings, engine, clients, secrets)."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import clear_caches

    from functions.engine import reset_engine
    from functions.settings import reset_settings
    from functions.tables import reset_connections

    reset_settings()
    reset_engine()
    reset_connections()
    clear_caches()
    boto3.DEFAULT_SESSION = None  # boto3.client() sessions are built anew (and see botocore hooks, below)


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


def put_secret(name: str, value: dict[str, Any] | str) -> None:
    """Create or overwrite a Secrets Manager secret (moto), as a user or the CDK would."""
    import boto3

    client = boto3.client("secretsmanager")
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=text)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=text)


@dataclass
class Platform:
    plugins_dir: Path
    app: Any
    client: Any

    @property
    def engine(self) -> Any:
        from functions.engine import get_engine

        return get_engine()

    def run(self, workflow: str, data: dict[str, Any] | None = None, trigger: str = "manual") -> Any:
        return self.engine.run(workflow, data or {}, trigger)


@pytest.fixture
def make_platform(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Platform]:
    """Build a platform over a plugins folder (default: the repo's examples), tables created."""
    from starlette.testclient import TestClient

    def make(plugins_dir: Path | None = None, **env: str) -> Platform:
        folder = Path(plugins_dir or REPO / "plugins")
        monkeypatch.setenv("WFP_PLUGINS_DIR", str(folder))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_platform_state()
        from functions.app import create_app
        from functions.tables import create_tables

        create_tables()
        app = create_app()
        return Platform(folder, app, TestClient(app, raise_server_exceptions=False))

    return make


@pytest.fixture
def platform(make_platform: Callable[..., Platform], monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The repo's example plugins on moto, with the profiles the examples use."""
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "demo-key")
    return make_platform()


class PluginDir:
    """A scratch plugins folder; helpers write tools, workflows and interfaces into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tools", "workflows", "interfaces"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for path, text in ((root / "__init__.py", ""), (root / "tools" / "__init__.py", ""),
                           (root / "tools" / "base.py", "from functions.base_tool import BaseTool\n")):
            if not path.exists():
                path.write_text(text)

    def _write(self, folder: Path, files: dict[str, str | dict[str, Any]]) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            text = json.dumps(content, indent=2) if isinstance(content, dict) else textwrap.dedent(content)
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return folder

    def workflow(self, name: str, config: dict[str, Any] | str | None = None, code: str | None = None) -> Path:
        files: dict[str, Any] = {}
        if config is not None:
            files["config.json"] = config
        files["main.py"] = code if code is not None else (
            "def execute(data, tools):\n    return {'status': 'success', 'data': data}\n")
        return self._write(self.root / "workflows" / name, files)

    def tool(self, name: str, config: dict[str, Any] | None = None, code: str | None = None) -> Path:
        config = config if config is not None else {"tool_name": name}
        code = code if code is not None else (
            "from ..base import BaseTool\n\n"
            "class T(BaseTool):\n"
            "    def execute(self, action, params=None):\n"
            "        return {'status': 'success', 'data': {'action': action, 'config': self.config}}\n")
        return self._write(self.root / "tools" / name, {"config.json": config, "main.py": code})

    def interface(self, name: str, code: str, files: dict[str, str] | None = None) -> Path:
        return self._write(self.root / "interfaces" / name, {"main.py": code, **(files or {})})


@pytest.fixture
def plugin_dir(tmp_path: Path) -> PluginDir:
    return PluginDir(tmp_path / "plugins")


def copy_examples(dest: Path) -> PluginDir:
    """A private copy of the repo's example plugins, to edit freely (reload, watcher tests)."""
    shutil.copytree(REPO / "plugins", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return PluginDir(dest)


@pytest.fixture
def example_plugins(tmp_path: Path) -> PluginDir:
    return copy_examples(tmp_path / "plugins")
