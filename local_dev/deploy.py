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
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.settings import REPO_ROOT, Settings

BOOTSTRAP_STACK = "CDKToolkit"
CDK_ENV = {"CDK_DISABLE_CLI_TELEMETRY": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


class DeployError(RuntimeError):
    """Something the user must fix before the command can work; the message says what."""


def stage_settings(stage: str | None) -> Settings:
    """A deployed stage's settings: ``--stage``, else ``WFP_STAGE``, else dev."""
    return Settings.of_stage(stage or os.environ.get("WFP_STAGE") or "dev")


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


# ----- where: the AWS profile and region -----------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """The AWS credentials profile and region a command acts on (``--profile``, ``--region``); ``None``
    leaves the SDKs' own resolution (``AWS_PROFILE``, ``AWS_REGION``, ``~/.aws/config``...).

    The same choice reaches boto3 here and the CDK CLI in its subprocess (as ``AWS_PROFILE`` and
    ``AWS_REGION``), so the prerequisites are checked against the account the CLI then deploys to.
    """

    profile: str | None = None
    region: str | None = None

    def session(self) -> Any:
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            return boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound:
            raise DeployError(f"AWS profile {self.profile!r} is not configured: add it with "
                              f"'aws configure --profile {self.profile}' (or 'aws configure sso'), or pick "
                              "another with --profile") from None

    def client(self, service: str) -> Any:
        return self.session().client(service)

    def environment(self) -> dict[str, str]:
        """The environment of the CDK CLI: this target, no telemetry, and this interpreter first on PATH
        (``cdk.json`` runs ``python3 -m infrastructure.app``: it must find the CDK libraries installed here)."""
        env = {**os.environ, **CDK_ENV}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        if self.profile:
            env["AWS_PROFILE"] = self.profile
            env.pop("AWS_ACCESS_KEY_ID", None)  # explicit keys would win over the profile
            env.pop("AWS_SECRET_ACCESS_KEY", None)
            env.pop("AWS_SESSION_TOKEN", None)
        if self.region:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.region
        return env


# ----- prerequisites ---------------------------------------------------------------------------------------
#: The CDK CLI's own floor (``engines`` of the aws-cdk package).
MIN_NODE = (18, 0)


@dataclass
class Check:
    """One prerequisite: what was found when ``ok``, otherwise what to do."""

    name: str
    ok: bool
    detail: str


@dataclass
class Prerequisites:
    checks: list[Check]
    account: str | None = None
    region: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self, name: str) -> bool:
        return any(c.name == name and not c.ok for c in self.checks)

    def report(self) -> str:
        return "\n".join(f"  {'ok  ' if c.ok else 'FAIL'} {c.name:<12} {c.detail}" for c in self.checks)


def check_node() -> Check:
    node = shutil.which("node")
    if not node:
        return Check("node", False, "Node.js is not installed: the CDK CLI runs on it; install Node.js 18 or "
                     "newer (https://nodejs.org, or your package manager: apt-get install nodejs)")
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
        numbers = tuple(int(part) for part in version.lstrip("v").split(".")[:2])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return Check("node", False, f"{node} --version did not answer: reinstall Node.js 18 or newer")
    if numbers < MIN_NODE:
        return Check("node", False, f"Node.js {version} is too old for the CDK CLI: install 18 or newer")
    return Check("node", True, f"Node.js {version}")


def cdk_command() -> list[str]:
    configured = os.environ.get("WFP_CDK")
    if configured:
        return shlex.split(configured)
    local = REPO_ROOT / "node_modules" / ".bin" / "cdk"
    if local.exists():
        return [str(local)]
    if shutil.which("cdk"):
        return ["cdk"]
    raise DeployError("the CDK CLI is not installed: run 'npm ci' in the repository (it installs the "
                      "version package.json pins), or install it globally with 'npm install -g aws-cdk'")


def check_cdk() -> Check:
    try:
        return Check("cdk", True, " ".join(cdk_command()))
    except DeployError as exc:
        return Check("cdk", False, str(exc))


def check_credentials(target: Target) -> tuple[Check, str | None, str | None]:
    """Ask STS who we are (what the CDK CLI does first); returns the check, the account and the region."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
    )

    where = f" (profile {target.profile})" if target.profile else ""
    try:
        session = target.session()
    except DeployError as exc:
        return Check("credentials", False, str(exc)), None, None
    region = session.region_name
    if not region:
        return (Check("region", False, "no AWS region: pass --region (e.g. --region eu-west-3), or set AWS_REGION, "
                      "or 'region' in ~/.aws/config"), None, None)
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        return (Check("credentials", False, f"no AWS credentials{where}: run 'aws configure' (or 'aws sso login'), "
                      "set AWS_PROFILE, or pass --profile"), None, region)
    except NoRegionError:
        return Check("region", False, "no AWS region: pass --region or set AWS_REGION"), None, None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return (Check("credentials", False, f"AWS refused the credentials{where} ({code}): they may have expired; "
                      f"renew them (aws sso login{' --profile ' + target.profile if target.profile else ''}) "
                      "or configure others"), None, region)
    except BotoCoreError as exc:
        return Check("credentials", False, f"could not reach AWS STS{where}: {exc}"), None, region
    account = str(identity["Account"])
    return Check("credentials", True, f"account {account} as {identity.get('Arn', '?')}, region {region}"), account, region


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
                              f"'wfp deploy --bootstrap' (or 'npx cdk bootstrap') once per account and region") from None
        raise
    status = stacks[0]["StackStatus"]
    if not status.endswith("_COMPLETE") or status.startswith(("DELETE", "ROLLBACK")):
        raise DeployError(f"the CDK bootstrap stack {BOOTSTRAP_STACK} in {region} is {status}: fix or "
                          "re-run 'npx cdk bootstrap'")
    return status


def check_prerequisites(target: Target, *, bootstrap: bool = True) -> Prerequisites:
    """Node, the CDK CLI, credentials and region, and (``bootstrap``) the CDK bootstrap stack: each with
    what to do when it is missing. The later checks need the earlier ones."""
    checks = [check_node(), check_cdk()]
    credentials, account, region = check_credentials(target)
    checks.append(credentials)
    if credentials.ok and bootstrap:
        try:
            status = check_bootstrap(target.client("cloudformation"))
            checks.append(Check("bootstrap", True, f"{BOOTSTRAP_STACK} {status} in {region}"))
        except DeployError as exc:
            checks.append(Check("bootstrap", False, str(exc)))
    return Prerequisites(checks, account, region)


# ----- deploy and destroy ----------------------------------------------------------------------------------
def context_args(stage: str, context: dict[str, str] | None = None) -> list[str]:
    args = ["-c", f"stage={stage}"]
    for key, value in (context or {}).items():
        args += ["-c", f"{key}={value}"]
    return args


def run_cdk(args: list[str], target: Target, log: Path | None = None, cwd: Path = REPO_ROOT) -> int:
    """The CDK CLI in the repository (``cdk.json``: the app); its output to the console, or appended to
    ``log``. From another ``cwd`` the CLI finds no app and synthesizes nothing (bootstrap needs none)."""
    command = [*cdk_command(), *args]
    if log is None:
        return subprocess.run(command, cwd=cwd, env=target.environment(), check=False).returncode
    with log.open("a") as out:
        out.write(f"\n$ cdk {' '.join(args)}\n")
        out.flush()
        return subprocess.run(command, cwd=cwd, env=target.environment(), stdout=out, stderr=subprocess.STDOUT,
                              check=False).returncode


def deploy(stage: str, target: Target | None = None, *, bootstrap: bool = False, approval: str = "broadening",
           context: dict[str, str] | None = None, extra_args: list[str] | None = None,
           log: Path | None = None) -> int:
    """``cdk deploy wfp-<stage>`` after checking the prerequisites (running ``cdk bootstrap`` first with
    ``bootstrap``). ``extra_args`` go to ``cdk deploy`` as they are (the rehearsal's ``--method=direct``)."""
    target = target or Target()
    found = check_prerequisites(target, bootstrap=not bootstrap)
    if not found.ok:
        raise DeployError("prerequisites missing:\n" + found.report())
    if bootstrap:
        code = run_cdk(["bootstrap", f"aws://{found.account}/{found.region}", *context_args(stage, context)], target,
                       log)
        if code:
            return code
    return run_cdk(["deploy", stack_name(stage), *context_args(stage, context), "--require-approval", approval,
                    *(extra_args or [])], target, log)


@dataclass
class Kept:
    """What outlives ``wfp destroy``: resources the stack retains, and what was never in the stack."""

    retained: list[tuple[str, str]]  # (type, logical id) with DeletionPolicy Retain
    outside: list[str]  # secrets created after deployment (profiles, their index)


def kept_after_destroy(stage: str, target: Target | None = None) -> Kept:
    """Read from the deployed template (not restated here): what CloudFormation will keep."""
    from botocore.exceptions import ClientError

    target = target or Target()
    name = stack_name(stage)
    cloudformation = target.client("cloudformation")
    try:
        body = cloudformation.get_template(StackName=name)["TemplateBody"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise DeployError(f"stack {name} is not deployed in {cloudformation.meta.region_name}: nothing to "
                              "destroy") from None
        raise
    template = body if isinstance(body, dict) else json.loads(body)
    retained = sorted((r["Type"], logical) for logical, r in template.get("Resources", {}).items()
                      if r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"))
    prefix = f"{stage_settings(stage).prefix}/profiles"
    outside: list[str] = []
    try:  # the operator's credentials may list secrets (the functions' roles may not)
        pages = target.client("secretsmanager").get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [prefix]}])
        outside = sorted(s["Name"] for page in pages for s in page.get("SecretList", []))
    except ClientError:
        pass
    return Kept(retained, outside)


def destroy(stage: str, target: Target | None = None, *, force: bool = False,
            context: dict[str, str] | None = None, extra_args: list[str] | None = None,
            log: Path | None = None) -> int:
    """``cdk destroy wfp-<stage>`` (it asks for confirmation unless ``force``)."""
    target = target or Target()
    return run_cdk(["destroy", stack_name(stage), *context_args(stage, context), *(["--force"] if force else []),
                    *(extra_args or [])], target, log)


# ----- profiles ------------------------------------------------------------------------------------------
def profile_from_env_file(tool: str, profile: str, env_file: Path) -> tuple[dict[str, Any], str]:
    """The profile's parameters as ``.env`` sets them (typed like the tool's defaults), and its name."""
    from dotenv import dotenv_values

    from functions.core.profiles import from_env
    from functions.registry import profile as profiles
    from functions.registry.config import ToolConfig
    from functions.registry.discovery import Registry

    if not env_file.is_file():
        raise DeployError(f"{env_file} does not exist: put the profile's variables there "
                          f"({tool.upper()}_{profile.upper()}_<PARAM>=...)")
    plugin = Registry.discover(Settings().plugins_dir).get("tool", tool)
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
    try:  # read exactly as a deployed function's profile resolution does: same names, same typing of values
        os.environ.update(values)
        params, _ = from_env(plugin.config, profile)
    finally:
        os.environ.clear()
        os.environ.update(saved)
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
    """Add ``profile`` to ``tool``'s names in ``<prefix>/profiles-index`` (``functions.core.profiles``), the
    secret the deployed API reads to list profiles its configuration does not name (it never lists
    secrets). Written only when the name is new; returns whether it was. Two pushes at the same moment
    could each miss the other's name (read, then write): push again to repair it."""
    from functions.core import profiles

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
