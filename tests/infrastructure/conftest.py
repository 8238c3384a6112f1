"""Synthesized stacks, once per test session (a synthesis takes seconds and ~900 MB).

The layer is built without dependencies (plugins + manifest only: offline and fast); what the stack
derives from (models, plugins, manifest) is the same as with the full layer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from synth_support import LONG_NAME

@dataclass
class Synth:
    stack: Any
    template: dict[str, Any]
    outdir: Path
    template_file: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def assertions(self) -> Any:
        from aws_cdk.assertions import Template

        return Template.from_json(self.template)

    def metadata(self, kind: str) -> list[tuple[str, Any]]:
        """(construct path, data) of every metadata entry of ``kind`` the synthesis recorded."""
        data = json.loads((self.outdir / f"{self.stack.stack_name}.metadata.json").read_text())
        return [(path, e["data"]) for path, entries in data.items() for e in entries if e["type"] == kind]

    def annotations(self, kind: str = "aws:cdk:warning") -> list[str]:
        return [str(data) for _, data in self.metadata(kind)]


def synthesize(tmp: Path, stage: str, plugins_dir: Path | None = None) -> Synth:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    from aws_cdk import App

    from infrastructure.app import create_app
    from infrastructure.stack import Artifacts
    from layers.build import build

    result = build(tmp / "build", with_deps=False, plugins_dir=plugins_dir)
    app, stack = create_app(App(outdir=str(tmp / "cdk.out"), context={"stage": stage}),
                            built=Artifacts(result.layer_dir, result.function_dir))
    app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    template_file = tmp / "cdk.out" / f"{stack.stack_name}.template.json"
    return Synth(stack, json.loads(template_file.read_text()), tmp / "cdk.out", template_file)


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
