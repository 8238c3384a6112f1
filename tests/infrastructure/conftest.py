"""Synthesized stacks, once per test session (a synthesis takes seconds and ~900 MB).

The layer is built without dependencies (plugins + manifest only: offline and fast); what the stack
derives from (models, plugins, manifest) is the same as with the full layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synth_support import LONG_NAME, Synth, synthesize, synthesize_with


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Stage dev over the repository's example plugins."""
    return synthesize(tmp_path_factory.mktemp("synth-dev"), "dev")


def workflow(root: Path, name: str, config: dict[str, Any] | str) -> None:
    folder = root / "workflows" / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    (folder / "main.py").write_text("def execute(data, tools):\n    return {'status': 'success'}\n")


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Stage prod over plugins that exercise every scheduling and webhook case."""
    tmp = tmp_path_factory.mktemp("synth-prod")
    plugins = tmp / "plugins"
    for sub in ("tools", "workflows", "interfaces"):
        (plugins / sub).mkdir(parents=True)
    (plugins / "__init__.py").write_text("")
    workflow(plugins, "every_quarter", {"schedule": "*/15 * * * *", "triggers": ["schedule"]})
    workflow(plugins, "monthly_report", {"schedule": "30 6 1 * *", "triggers": ["schedule", "manual"],
                                         "timeout_seconds": 300})
    workflow(plugins, "weekend", {"schedule": "0 8 * * SAT,SUN", "triggers": ["schedule"]})
    workflow(plugins, "paused", {"schedule": "0 0 * * *", "triggers": ["schedule"], "active": False})
    workflow(plugins, "paris_morning", {"schedule": "0 9 * * *", "timezone": "Europe/Paris",
                                        "triggers": ["schedule"]})
    workflow(plugins, "cron_not_triggered", {"schedule": "0 1 * * *", "triggers": ["manual"]})
    workflow(plugins, "broken", "{not json")
    workflow(plugins, "hook_open", {"triggers": ["webhook"], "webhook_auth": "none"})
    workflow(plugins, "hook_signed", {"triggers": ["webhook", "manual"]})
    workflow(plugins, LONG_NAME, {"schedule": "0 3 * * 1", "triggers": ["schedule"]})
    return synthesize(tmp, "prod", plugins)


#: Where ``cdk deploy`` synthesizes: the CLI resolved the account and region from the credentials.
DEPLOY_TARGETS = {"us-east-1": ("123456789012", "us-east-1", "dev"),
                  "eu-west-3": ("210987654321", "eu-west-3", "staging")}


@pytest.fixture(scope="session", params=sorted(DEPLOY_TARGETS))
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack as ``cdk deploy`` synthesizes it: account- and region-specific, in two regions, the
    second with a non-default stage."""
    account, region, stage = DEPLOY_TARGETS[request.param]
    return synthesize_with(tmp_path_factory.mktemp(f"synth-{region}"), stage, account=account, region=region)


#: The options a user may add at deploy time (``-c alarm_email=... -c reserved_concurrency=...``).
OPTIONS = {"alarm_email": "ops@example.com", "reserved_concurrency": "api=20,worker=10,scheduler=2,durable=2"}


@pytest.fixture(scope="session")
def with_options(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Stage dev with an alarm e-mail and reserved concurrency for every function."""
    return synthesize_with(tmp_path_factory.mktemp("synth-options"), "dev", **OPTIONS)
