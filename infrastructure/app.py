"""The CDK app: ``python -m infrastructure.app`` (what ``cdk.json`` runs), one stack per stage.

    npx cdk synth -c stage=prod      # or: wfp synth --stage prod

Context: ``stage`` (default ``dev``) names the stack ``wfp-<stage>`` and everything in it;
``build=skip`` uses ``build/`` as it is instead of rebuilding it (the layer build is cached and takes a
second or two when nothing changed; the first one downloads the dependencies); ``build_dir=PATH``
builds there instead of ``build/`` (the deploy rehearsal and the tests keep the repository's own
build untouched); ``snapstart=off``
(or ``WFP_SNAPSTART=off`` in the environment) deploys the api function without Lambda SnapStart
(see README, Performance: it has a cost at rest).
The AwsSolutions checks of cdk-nag run on every synthesis: an unacknowledged finding fails it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aws_cdk import App, Environment, Tags

from functions.manifest import registry_from_manifest
from layers.build import MANIFEST_NAME, REPO, BuildError, build

from .nag import add_checks
from .stack import Artifacts, PlatformStack


def stage_of(app: App) -> str:
    stage = str(app.node.try_get_context("stage") or "dev")
    if not stage.isalnum() or not stage.islower():
        raise SystemExit(f"stage {stage!r} must be lower-case letters and digits (it names tables, secrets, URLs)")
    return stage


def snap_start_of(app: App) -> bool:
    """SnapStart on the api function unless context ``snapstart=off`` or ``WFP_SNAPSTART=off`` says so."""
    setting = app.node.try_get_context("snapstart") or os.environ.get("WFP_SNAPSTART") or "on"
    return str(setting).lower() not in ("off", "false", "0", "no")


def artifacts(app: App, out: Path = REPO / "build") -> Artifacts:
    if app.node.try_get_context("build") != "skip":
        try:
            print(build(out).summary(), file=sys.stderr)
        except BuildError as exc:
            raise SystemExit(f"the layer could not be built: {exc}") from None
    result = Artifacts(layer_dir=out / "layer", function_dir=out / "function")
    if not (result.layer_dir / MANIFEST_NAME).is_file():
        raise SystemExit(f"{result.layer_dir} has no {MANIFEST_NAME}: run 'wfp build' (python -m layers.build)")
    return result


def create_app(app: App | None = None, built: Artifacts | None = None,
               build_dir: Path = REPO / "build") -> tuple[App, PlatformStack]:
    app = app or App()
    stage = stage_of(app)
    build_dir = Path(app.node.try_get_context("build_dir") or build_dir)
    built = built or artifacts(app, build_dir)
    registry = registry_from_manifest(built.layer_dir / MANIFEST_NAME, built.layer_dir / "python" / "plugins")
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = PlatformStack(app, f"wfp-{stage}", stage=stage, registry=registry, artifacts=built,
                          snap_start=snap_start_of(app),
                          env=Environment(account=account, region=region) if account and region else None,
                          description=f"Workflow Platform, stage {stage}")
    Tags.of(stack).add("wfp:stage", stage)
    add_checks(app)
    return app, stack


def main() -> None:
    app, _ = create_app()
    app.synth()


if __name__ == "__main__":
    main()
