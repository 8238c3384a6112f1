"""The CDK app: ``python -m infrastructure.app`` (what ``cdk.json`` runs), one stack per stage.

    npx cdk synth -c stage=prod      # or: wfp synth --stage prod

Context: ``stage`` (default ``dev``) names the stack ``wfp-<stage>`` and everything in it;
``build=skip`` uses ``build/`` as it is instead of rebuilding it (the layer build is cached and takes a
second or two when nothing changed; the first one downloads the dependencies); ``build_dir=PATH``
builds there instead of ``build/`` (the deploy rehearsal and the tests keep the repository's own
build untouched); ``snapstart=off``
(or ``WFP_SNAPSTART=off`` in the environment) deploys the three functions without Lambda SnapStart
(see README, Performance: it has a cost at rest);
``alarm_email=ops@example.com`` (or ``WFP_ALARM_EMAIL``) subscribes that address to the alarm topic
(AWS sends it a confirmation e-mail first); ``reserved_concurrency=api=20,worker=10,scheduler=2`` (or
``WFP_RESERVED_CONCURRENCY``) reserves concurrency for the functions named, none by default;
``api_rate``, ``api_burst``, ``worker_batch_size``, ``worker_batching_window``, ``worker_max_concurrency`` (or
``WFP_API_RATE``...) set the API stage's throttle and the worker's event source (``infrastructure.limits``,
SCALING.md), today's values by default.
The AwsSolutions checks of cdk-nag run on every synthesis: an unacknowledged finding fails it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from aws_cdk import App, Environment, Tags

from functions.registry.manifest import registry_from_manifest
from functions.settings import Settings, as_bool
from layers.build import DURABLE_LAYER, MANIFEST_NAME, REPO, BuildError, build

from .limits import limits_of
from .nag import add_checks
from .stack import FUNCTION_NAMES, SNAPSTART_FUNCTIONS, Artifacts, PlatformStack

#: Enough to catch a typo or a missing value; AWS sends a confirmation e-mail, which settles the rest.
EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
#: Lambda's lowest MaximumConcurrency of an SQS event source (the worker's reservation sets it too).
MIN_WORKER_CONCURRENCY = 2


def stage_of(app: App) -> str:
    stage = str(app.node.try_get_context("stage") or "dev")
    if not stage.isalnum() or not stage.islower():
        raise SystemExit(f"stage {stage!r} must be lower-case letters and digits (it names tables, secrets, URLs)")
    return stage


def snap_start_of(app: App) -> frozenset[str]:
    """The functions deployed with SnapStart: all three unless context ``snapstart`` (or ``WFP_SNAPSTART``)
    says ``off`` (none) or names some (``api``, ``api,worker``). Each costs its snapshot's cache at rest
    (README, Performance)."""
    setting = str(app.node.try_get_context("snapstart") or os.environ.get("WFP_SNAPSTART") or "on")
    try:
        return frozenset(SNAPSTART_FUNCTIONS) if as_bool(setting) else frozenset()
    except ValueError:
        named = frozenset(part.strip() for part in setting.split(",") if part.strip())
        if not named or not named <= set(SNAPSTART_FUNCTIONS):
            raise SystemExit(f"snapstart={setting!r}: use on, off or function names among "
                             f"{', '.join(SNAPSTART_FUNCTIONS)} (snapstart=api)") from None
        return named


def alarm_email_of(app: App) -> str | None:
    """The address to subscribe to the alarm topic: context ``alarm_email``, else ``WFP_ALARM_EMAIL``."""
    email = str(app.node.try_get_context("alarm_email") or os.environ.get("WFP_ALARM_EMAIL") or "").strip()
    if email and not EMAIL_RE.match(email):
        raise SystemExit(f"alarm_email {email!r} is not an e-mail address (e.g. -c alarm_email=ops@example.com)")
    return email or None


def reserved_concurrency_of(app: App) -> dict[str, int]:
    """Reserved concurrency per function: context ``reserved_concurrency``, else ``WFP_RESERVED_CONCURRENCY``,
    written ``api=20,worker=10,scheduler=2`` (any of them; a dict in cdk.json works too). None by default.

    A reservation takes that much of the account's concurrency for the function alone, and Lambda keeps
    10 unreserved: on a new account (quota 10) any reservation fails the deployment. The worker's value
    also caps how many batches its SQS event source runs at once, so it must be at least 2.
    """
    raw = app.node.try_get_context("reserved_concurrency") or os.environ.get("WFP_RESERVED_CONCURRENCY") or ""
    example = "e.g. -c reserved_concurrency=api=20,worker=10,scheduler=2"
    if isinstance(raw, dict):
        pairs = [(str(k), str(v)) for k, v in raw.items()]
    else:
        pairs = []
        for item in filter(None, (part.strip() for part in str(raw).split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise SystemExit(f"reserved_concurrency: {item!r} is not <function>=<number> ({example})")
            pairs.append((name.strip(), value.strip()))
    result: dict[str, int] = {}
    for name, value in pairs:
        if name not in FUNCTION_NAMES:
            raise SystemExit(f"reserved_concurrency: no function named {name!r}: the functions are "
                             f"{', '.join(FUNCTION_NAMES)} ({example})")
        if name in result:
            raise SystemExit(f"reserved_concurrency: {name} is given twice ({example})")
        lowest = MIN_WORKER_CONCURRENCY if name == "worker" else 1
        if not value.isdigit() or int(value) < lowest:
            raise SystemExit(f"reserved_concurrency: {name}={value!r} must be a whole number of at least {lowest}"
                             + (" (it is also the SQS event source's maximum concurrency, whose lowest value "
                                "is 2)" if name == "worker" else "") + f" ({example})")
        result[name] = int(value)
    return result


def settings_of(stage: str) -> Settings:
    """The deployment's settings: the stage's names, and whatever ``WFP_`` setting the environment the app
    is synthesized in sets (``WFP_MAX_ATTEMPTS=5 wfp deploy``): the stack hands those to the functions."""
    from pydantic import ValidationError

    try:
        return Settings.of_stage(stage)
    except ValidationError as exc:
        problems = "; ".join(f"WFP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"invalid setting in this environment: {problems}") from None


def artifacts(app: App, out: Path = REPO / "build") -> Artifacts:
    if app.node.try_get_context("build") != "skip":
        try:
            print(build(out, durable=True).summary(), file=sys.stderr)
        except BuildError as exc:
            raise SystemExit(f"the layer could not be built: {exc}") from None
    result = Artifacts(layer_dir=out / "layer", function_dir=out / "function",
                       durable_layer_dir=out / DURABLE_LAYER)
    if not (result.layer_dir / MANIFEST_NAME).is_file():
        raise SystemExit(f"{result.layer_dir} has no {MANIFEST_NAME}: run 'wfp build' (python -m layers.build)")
    return result


def create_app(app: App | None = None, built: Artifacts | None = None,
               build_dir: Path = REPO / "build") -> tuple[App, PlatformStack]:
    app = app or App()
    stage = stage_of(app)
    reserved, email = reserved_concurrency_of(app), alarm_email_of(app)  # refused before any build
    limits = limits_of(app.node.try_get_context, reserved)
    build_dir = Path(app.node.try_get_context("build_dir") or build_dir)
    built = built or artifacts(app, build_dir)
    registry = registry_from_manifest(built.layer_dir / MANIFEST_NAME, built.layer_dir / "python" / "plugins")
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = PlatformStack(app, f"wfp-{stage}", stage=stage, registry=registry, artifacts=built,
                          snap_start=snap_start_of(app), reserved_concurrency=reserved, alarm_email=email,
                          settings=settings_of(stage), limits=limits,
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
