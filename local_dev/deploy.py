"""What the deployment commands of ``wfp`` do (build, synth, deploy, profiles push, urls).

These talk to the real AWS account of the current credentials (``AWS_PROFILE``, ``AWS_REGION``...),
not to the local moto: they are about the deployed stack ``wfp-<stage>``. The CDK CLI is the one
from ``npm install`` in the repository (``WFP_CDK`` overrides the command).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.settings import REPO_ROOT, Settings

BOOTSTRAP_STACK = "CDKToolkit"
CDK_ENV = {"CDK_DISABLE_CLI_TELEMETRY": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


class DeployError(RuntimeError):
    """Something the user must fix before the command can work; the message says what."""


def stage_settings(stage: str | None) -> Settings:
    stage = stage or os.environ.get("WFP_STAGE") or "dev"
    return Settings(stage=stage, prefix=f"wfp-{stage}")


def stack_name(stage: str | None) -> str:
    return stage_settings(stage).prefix


# ----- synth ---------------------------------------------------------------------------------------------
@dataclass
class SynthResult:
    template: Path
    resources: dict[str, int]
    lint: str | None  # cfn-lint's findings, None when clean


def synth(stage: str, out: Path, *, skip_build: bool = False, lint: bool = True,
          build_dir: Path = REPO_ROOT / "build") -> SynthResult:
    """Synthesize ``wfp-<stage>`` into ``out`` (cdk-nag runs; a finding fails), then cfn-lint it."""
    for key, value in CDK_ENV.items():
        os.environ.setdefault(key, value)
    from aws_cdk import App

    from infrastructure.app import create_app

    context: dict[str, Any] = {"stage": stage}
    if skip_build:
        context["build"] = "skip"
    try:
        app, stack = create_app(App(outdir=str(out), context=context), build_dir=build_dir)
    except SystemExit as exc:  # the app's own clear messages (no layer built, bad stage...)
        raise DeployError(str(exc)) from None
    try:
        app.synth()
    except Exception as exc:  # noqa: BLE001 - jsii wraps the validation failure in its own error type
        raise DeployError(f"synthesis failed: {exc}") from None
    template = out / f"{stack.stack_name}.template.json"
    data = json.loads(template.read_text())
    counts: dict[str, int] = {}
    for resource in data["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    findings = None
    if lint:
        from cfnlint.api import lint_file

        findings = "\n".join(str(match) for match in lint_file(template)) or None
    return SynthResult(template, counts, findings)


# ----- deploy --------------------------------------------------------------------------------------------
def cdk_command() -> list[str]:
    configured = os.environ.get("WFP_CDK")
    if configured:
        return shlex.split(configured)
    local = REPO_ROOT / "node_modules" / ".bin" / "cdk"
    if local.exists():
        return [str(local)]
    if shutil.which("cdk"):
        return ["cdk"]
    raise DeployError("the CDK CLI is not installed: run 'npm install' in the repository (it installs the "
                      "version package.json pins), or install it globally with 'npm install -g aws-cdk'")


def check_bootstrap(client: Any = None) -> str:
    """The region's CDK bootstrap stack must exist (it holds the asset bucket); returns its status."""
    import boto3
    from botocore.exceptions import ClientError, NoCredentialsError

    cloudformation = client or boto3.client("cloudformation")
    region = cloudformation.meta.region_name
    try:
        stacks = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except NoCredentialsError:
        raise DeployError("no AWS credentials: configure them (aws configure, AWS_PROFILE...)") from None
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise DeployError(f"the account is not bootstrapped for the CDK in {region}: run "
                              f"'npx cdk bootstrap' once (or 'wfp deploy --bootstrap')") from None
        raise
    status = stacks[0]["StackStatus"]
    if not status.endswith("_COMPLETE") or status.startswith(("DELETE", "ROLLBACK")):
        raise DeployError(f"the CDK bootstrap stack {BOOTSTRAP_STACK} in {region} is {status}: fix or "
                          "re-run 'npx cdk bootstrap'")
    return status


def deploy(stage: str, *, bootstrap: bool = False, approval: str = "broadening") -> int:
    """``cdk deploy wfp-<stage>`` after checking the bootstrap (or running it with ``bootstrap``)."""
    cdk = cdk_command()
    env = {**os.environ, **CDK_ENV}
    if bootstrap:
        result = subprocess.run([*cdk, "bootstrap", "-c", f"stage={stage}"], cwd=REPO_ROOT, env=env, check=False)
        if result.returncode:
            return result.returncode
    else:
        check_bootstrap()
    command = [*cdk, "deploy", stack_name(stage), "-c", f"stage={stage}", "--require-approval", approval]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode


# ----- profiles ------------------------------------------------------------------------------------------
def profile_from_env_file(tool: str, profile: str, env_file: Path) -> tuple[dict[str, Any], str]:
    """The profile's parameters as ``.env`` sets them (typed like the tool's defaults), and its name."""
    from dotenv import dotenv_values

    from functions import profiles
    from functions.errors import ProfileError
    from functions.plugin_config import ToolConfig
    from functions.registry import Registry
    from functions.settings import get_settings

    if not env_file.is_file():
        raise DeployError(f"{env_file} does not exist: put the profile's variables there "
                          f"({tool.upper()}_{profile.upper()}_<PARAM>=...)")
    plugin = Registry.discover(get_settings().plugins_dir).get("tool", tool)
    if not isinstance(plugin.config, ToolConfig):
        raise DeployError(f"tool '{tool}' is broken: {plugin.error} ({plugin.error_file})")
    profile = profiles.normalize_profile(profile)
    prefix = f"{tool}_{profile}_".upper()
    values = {k: v for k, v in dotenv_values(env_file).items() if k.startswith(prefix) and v is not None}
    if not values:
        raise DeployError(f"{env_file} sets no {prefix}* variable: nothing to push")
    missing = [p for p in plugin.config.required_params if not values.get(profiles.env_var(tool, profile, p))]
    if missing:
        names = ", ".join(profiles.env_var(tool, profile, p) for p in missing)
        raise DeployError(f"profile {profile} of tool '{tool}' lacks required parameter(s): set {names} in {env_file}")
    saved = dict(os.environ)
    try:  # resolve exactly as a deployed function will: same names, same typing of values
        os.environ.update(values)
        resolved = profiles.resolve(plugin.config, profile)
        resolved.require()
    except ProfileError as exc:
        raise DeployError(exc.message) from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    params = {k: v for k, v in resolved.params.items() if resolved.sources.get(k, "").startswith("env:")}
    return params, profile


def push_profile(tool: str, profile: str, stage: str | None, env_file: Path, client: Any = None) -> tuple[str, list[str], bool]:
    """Create or update ``<prefix>/profiles/<tool>/<PROFILE>``, and record the name in the profile index;
    returns the secret's name, the parameter names, and whether it was created."""
    import boto3

    params, profile = profile_from_env_file(tool, profile, env_file)
    settings = stage_settings(stage)
    name = settings.profile_secret_name(tool, profile)
    secrets = client or boto3.client("secretsmanager")
    body = json.dumps(params)
    try:
        secrets.put_secret_value(SecretId=name, SecretString=body)
        created = False
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=name, SecretString=body,
                              Description=f"wfp profile {profile} of tool {tool} (wfp profiles push)")
        created = True
    record_in_profile_index(secrets, settings.prefix, tool, profile)
    return name, sorted(params), created


def record_in_profile_index(secrets: Any, prefix: str, tool: str, profile: str) -> bool:
    """Add ``profile`` to ``tool``'s names in ``<prefix>/profiles-index`` (``functions.profiles``), the
    secret the deployed API reads to list profiles its configuration does not name (it never lists
    secrets). Written only when the name is new; returns whether it was. Two pushes at the same moment
    could each miss the other's name (read, then write): push again to repair it."""
    from functions import profiles

    index_name = profiles.index_secret_name(prefix)
    try:
        current = json.loads(secrets.get_secret_value(SecretId=index_name)["SecretString"])
        index = profiles.parse_index(current)
    except secrets.exceptions.ResourceNotFoundException:
        current, index = None, {}
    except (ValueError, KeyError) as exc:
        raise DeployError(f"the profile index {index_name} is not a JSON object {{tool: [PROFILE, ...]}} ({exc}): "
                          "fix or delete it, then push again") from None
    if profile in index.get(tool, set()):
        return False
    index.setdefault(tool, set()).add(profile)
    body = json.dumps({t: sorted(names) for t, names in sorted(index.items())})
    if current is None:
        secrets.create_secret(Name=index_name, SecretString=body,
                              Description="wfp: profile names per tool, for the API's listing (wfp profiles push)")
    else:
        secrets.put_secret_value(SecretId=index_name, SecretString=body)
    return True


# ----- urls ----------------------------------------------------------------------------------------------
@dataclass
class StackUrls:
    api: str | None
    dashboard: str | None
    webhooks: dict[str, str]
    admin_token_secret: str | None


def stack_urls(stage: str | None, client: Any = None) -> StackUrls:
    import boto3
    from botocore.exceptions import ClientError

    name = stack_name(stage)
    cloudformation = client or boto3.client("cloudformation")
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise DeployError(f"stack {name} is not deployed in {cloudformation.meta.region_name}: "
                              f"run 'wfp deploy --stage {stack_name(stage).removeprefix('wfp-')}'") from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    webhooks = {value.rstrip("/").rsplit("/", 1)[-1]: value
                for key, value in sorted(outputs.items()) if key.startswith("WebhookUrl")}
    return StackUrls(api=outputs.get("ApiUrl"), dashboard=outputs.get("DashboardUrl"), webhooks=webhooks,
                     admin_token_secret=outputs.get("AdminTokenSecret"))
