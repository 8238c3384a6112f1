"""Names shared by the infrastructure fixtures and tests (a conftest cannot be imported by name):
the synthesis itself, so a test can synthesize with other context (``synthesize_with``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: A workflow whose rule name (wfp-prod-cron-<name>) would pass EventBridge's 64 characters.
LONG_NAME = "quarterly_compliance_evidence_collection_for_auditors_x"


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
    return synthesize_with(tmp, stage, plugins_dir)


#: What the CDK CLI sets before it runs the app when it has credentials (``cdk deploy``, ``cdk synth``).
DEPLOY_ENV_VARS = ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")


def synthesize_with(tmp: Path, stage: str, plugins_dir: Path | None = None,
                    account: str | None = None, region: str | None = None, **context: str) -> Synth:
    """A synthesis with more CDK context (``snapstart="off"``...); with ``account`` and ``region`` it runs
    as under ``cdk deploy``: the CLI's ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` set in the environment."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    from aws_cdk import App

    from infrastructure.app import create_app
    from infrastructure.stack import Artifacts
    from layers.build import build

    result = build(tmp / "build", with_deps=False, plugins_dir=plugins_dir)
    saved = {k: os.environ.pop(k, None) for k in DEPLOY_ENV_VARS}
    try:
        if account and region:
            os.environ.update(CDK_DEFAULT_ACCOUNT=account, CDK_DEFAULT_REGION=region)
        app, stack = create_app(App(outdir=str(tmp / "cdk.out"), context={"stage": stage, **context}),
                                built=Artifacts(result.layer_dir, result.function_dir,
                                                        durable_layer_dir=result.durable_layer_dir))
        app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value
    template_file = tmp / "cdk.out" / f"{stack.stack_name}.template.json"
    return Synth(stack, json.loads(template_file.read_text()), tmp / "cdk.out", template_file)
