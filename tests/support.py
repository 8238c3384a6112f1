"""Test helpers shared by every test package (importable as ``support``; ``conftest`` is not,
because each test folder may have its own conftest.py)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

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
    """Forget the process's platform (its settings, stores, clients and caches: one object) and boto3's
    default session, so the next test builds everything from its own environment."""
    import boto3

    from functions.platform import use
    from functions.stores.base import reset_connections

    previous = use(None)
    if previous is not None:
        previous.forget_clients()
    reset_connections()
    boto3.DEFAULT_SESSION = None  # boto3.client() sessions are built anew (and see botocore hooks, below)


def put_secret(name: str, value: dict[str, Any] | str) -> None:
    """Create or overwrite a Secrets Manager secret (moto), as a user or the CDK would."""
    import boto3

    client = boto3.client("secretsmanager")
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=text)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=text)


class PluginDir:
    """A scratch plugins folder; helpers write tools, workflows and interfaces into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tools", "workflows", "interfaces"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for path, text in ((root / "__init__.py", ""), (root / "tools" / "__init__.py", ""),
                           (root / "tools" / "base.py", "from functions.registry.base_tool import BaseTool\n")):
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


def copy_examples(dest: Path) -> PluginDir:
    """A private copy of the repo's example plugins, to edit freely (reload, watcher tests)."""
    shutil.copytree(REPO / "plugins", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return PluginDir(dest)


class _Context:
    """What the worker needs of a Lambda context: the time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def drain(platform: Any = None, rounds: int = 50) -> int:
    """Run every queued message through the worker (``functions.core.batch.process``), as the local worker
    and Lambda's event source do; returns how many messages were processed (acknowledged)."""
    from functions.core.batch import process
    from functions.platform import get_platform

    core = getattr(platform, "core", platform) or get_platform()
    queue = core.queue
    done = 0
    for _ in range(rounds):
        event = queue.receive_event(max_messages=10)
        if not event["Records"]:
            break
        done += queue.acknowledge(event, process(event, _Context(), core.queued, queue))
    return done


def artifact(name: str) -> Path:
    """Where a test saves a screenshot (``tests/artifacts/<name>.png``, git-ignored) for a person to look at."""
    folder = REPO / "tests" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
