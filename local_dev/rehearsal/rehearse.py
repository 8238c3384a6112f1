"""``wfp deploy --rehearse``: the deploy a user runs, rehearsed on this machine against a stand-in AWS.

Nothing is mocked on the platform's side: the pinned CDK CLI resolves credentials through the
stand-in's STS (so it sets ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` exactly as it does with a
real account), synthesizes the account-specific stack (cdk-nag runs), bootstraps the account, builds
and uploads the assets to the bootstrap bucket and creates the stack; the created resources are then
read back and compared with what the platform derives them from (``verify``), ``wfp urls`` and
``wfp profiles push`` run against it, and ``cdk destroy`` removes it.

The stand-in is moto's server (``stand_in``). Two workarounds, both here and nowhere in the real
deploy path: ``--method=direct`` (moto's change sets ignore ``DependsOn``; a real deploy uses change
sets), and the stand-in's extra CloudFormation models for types moto skips. What only a real account
can prove (IAM enforcement, invocations, updates, the alias's SnapStart) is listed in ``LIMITS``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..deploy import (
    DeployError,
    Target,
    check_prerequisites,
    destroy,
    push_profile,
    run_cdk,
    stack_name,
    stack_urls,
    stage_settings,
)
from ..deploy import deploy as cdk_deploy

REPO = Path(__file__).resolve().parents[2]

#: What the rehearsal cannot show, printed with every report (and in the README's Deploy section).
LIMITS = (
    "IAM: moto does not enforce policies; least privilege is checked on the template (tests/infrastructure)",
    "invocations: no function runs (moto's Lambda needs Docker): run 'wfp smoke' against a real stack",
    "updates: moto's UpdateStack fails, so only a first deployment is rehearsed (a real redeploy uses a change set)",
    "change sets: the rehearsal deploys with --method=direct (moto's change sets ignore DependsOn)",
)


@dataclass
class Phase:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Rehearsal:
    stage: str
    region: str
    phases: list[Phase] = field(default_factory=list)
    verification: Any = None  # local_dev.rehearsal.verify.Verification
    log: Path | None = None  # the folder of the CDK CLI's and the stand-in's logs

    @property
    def ok(self) -> bool:
        return bool(self.phases) and all(p.ok for p in self.phases)

    def report(self) -> str:
        lines = [f"deploy rehearsal of {stack_name(self.stage)} in {self.region} (stand-in AWS: moto)"]
        lines += [f"  {'ok  ' if p.ok else 'FAIL'} {p.name:<16} {p.detail} ({p.seconds:.1f} s)" for p in self.phases]
        if self.verification is not None:
            lines.append(self.verification.report())
        lines.append("Not proven by a rehearsal (a real account only):")
        lines += [f"  - {limit}" for limit in LIMITS]
        if self.log:
            lines.append(f"CDK CLI and stand-in logs: {self.log}/")
        lines.append("rehearsal passed" if self.ok else "rehearsal FAILED")
        return "\n".join(lines)


class Rehearse:
    """The phases, in order; a phase that fails stops the ones that need it (destroy always runs once
    the stack may exist)."""

    def __init__(self, stage: str, region: str, workdir: Path, context: dict[str, str] | None = None,
                 say: Callable[[str], None] = print) -> None:
        self.stage, self.region, self.workdir = stage, region, workdir
        self.context = dict(context or {})
        if self.context.get("build_dir"):  # the CLI runs the app from the repository: no relative path
            self.context["build_dir"] = str(Path(self.context["build_dir"]).resolve())
        #: Where the app builds the layer (``-c build_dir=...``, as for ``cdk deploy``), read back to verify.
        self.layer = Path(self.context.get("build_dir") or REPO / "build") / "layer"
        self.say = say
        self.result = Rehearsal(stage, region, log=workdir)
        self.target = Target(region=region)
        self.account: str | None = None
        self.stack_may_exist = False

    def phase(self, name: str, action: Callable[[], str]) -> bool:
        started = time.perf_counter()
        try:
            detail, ok = action(), True
        except (DeployError, AssertionError) as exc:
            detail, ok = str(exc), False
        except Exception as exc:  # noqa: BLE001 - a surprise is a failed phase, reported with its type
            detail, ok = f"{type(exc).__name__}: {exc}", False
        phase = Phase(name, ok, detail, time.perf_counter() - started)
        self.result.phases.append(phase)
        self.say(f"  {'ok  ' if ok else 'FAIL'} {name:<16} {detail.splitlines()[0] if detail else ''}")
        return ok

    def log(self, command: str) -> Path:
        return self.workdir / f"cdk-{command}.log"

    def cli(self, *args: str, cwd: Path = REPO) -> None:
        """The pinned CDK CLI, its output in ``cdk-<command>.log`` (the tail is in the error)."""
        code = run_cdk(list(args), self.target, self.log(args[0]), cwd=cwd)
        if code:
            raise DeployError(f"cdk {args[0]} exited with {code}:\n{self.log_tail(args[0])}")

    def log_tail(self, command: str, lines: int = 25) -> str:
        log = self.log(command)
        return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else ""

    # ----- phases --------------------------------------------------------------------------------------
    def prerequisites(self) -> str:
        found = check_prerequisites(self.target, bootstrap=False)
        if not found.ok:
            raise DeployError("prerequisites missing:\n" + found.report())
        self.account = found.account
        return f"node, CDK CLI, credentials: account {found.account} (the stand-in's STS), region {found.region}"

    def bootstrap(self) -> str:
        # From the rehearsal's folder: in the repository the CLI would synthesize the app first, for nothing.
        self.cli("bootstrap", f"aws://{self.account}/{self.region}", cwd=self.workdir)
        return f"CDKToolkit created in aws://{self.account}/{self.region}"

    def synth(self) -> str:
        """``cdk synth`` as ``cdk deploy`` runs it: the CLI found the account, so the stack is specific."""
        self.assembly = self.workdir / "cdk.out"
        args = ["synth", stack_name(self.stage), "-o", str(self.assembly), "-q"]
        for key, value in {"stage": self.stage, **self.context}.items():
            args += ["-c", f"{key}={value}"]
        self.cli(*args)
        manifest = json.loads((self.assembly / "manifest.json").read_text())
        environment = manifest["artifacts"][stack_name(self.stage)]["environment"]
        expected = f"aws://{self.account}/{self.region}"
        assert environment == expected, f"the CLI synthesized for {environment}, not {expected}"
        report = json.loads((self.assembly / "validation-report.json").read_text())
        failed = [r["pluginName"] for r in report.get("pluginReports", []) if r.get("conclusion") != "success"]
        assert not failed, f"cdk-nag: {failed}"
        return f"stack for {environment}, cdk-nag clean"

    def deploy(self) -> str:
        """The same ``wfp deploy`` code path, deploying the assembly just synthesized."""
        self.stack_may_exist = True
        code = cdk_deploy(self.stage, self.target, approval="never", context=self.context,
                          extra_args=["--app", str(self.assembly), "--method=direct"], log=self.log("deploy"))
        if code:
            raise DeployError(f"cdk deploy exited with {code}:\n{self.log_tail('deploy')}")
        cloudformation = self.target.client("cloudformation")
        stack = cloudformation.describe_stacks(StackName=stack_name(self.stage))["Stacks"][0]
        resources = cloudformation.list_stack_resources(StackName=stack_name(self.stage))["StackResourceSummaries"]
        return f"{stack['StackStatus']}, {len(resources)} resources; assets uploaded to the bootstrap bucket"

    def verify(self) -> str:
        from .verify import registry_from_layer, verify

        self.result.verification = verification = verify(stack_name(self.stage), registry_from_layer(self.layer),
                                                         settings=stage_settings(self.stage), context=self.context)
        if not verification.ok:
            raise AssertionError(f"{len(verification.failures)} of {len(verification.checks)} checks failed: "
                                 + "; ".join(f"{c.name}: {c.detail}" for c in verification.failures[:5]))
        return f"{len(verification.checks)} checks against the models, plugins and settings"

    def urls(self) -> str:
        urls = stack_urls(self.stage, self.target.client("cloudformation"))
        assert urls.api and urls.api.startswith("https://") and urls.api.endswith(f"/{self.stage}/"), urls.api
        assert urls.dashboard == f"{urls.api}dashboard/", urls.dashboard
        return f"API {urls.api}, {len(urls.webhooks)} webhook URL(s)"

    def profiles_push(self) -> str:
        """``wfp profiles push`` of a profile made up for the rehearsal, read back as a function would."""
        from functions.registry.config import ToolConfig

        from .verify import registry_from_layer

        tools = [p for p in registry_from_layer(self.layer).of_kind("tool")
                 if isinstance(p.config, ToolConfig) and p.config.required_params and not p.config.oauth]
        if not tools:
            return "no tool with required parameters: nothing to push"
        tool = tools[0]
        assert isinstance(tool.config, ToolConfig)
        env_file = self.workdir / "rehearsal.env"
        env_file.write_text("".join(f"{tool.name}_REHEARSAL_{param}=rehearsal-{param}\n".upper()
                                    for param in tool.config.required_params))
        secrets = self.target.client("secretsmanager")
        name, params, created = push_profile(tool.name, "REHEARSAL", self.stage, env_file, client=secrets)
        stored = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
        assert set(stored) == set(tool.config.required_params), f"secret {name} holds {sorted(stored)}"
        self.pushed = name
        return f"{'created' if created else 'updated'} {name} ({', '.join(params)})"

    def destroy(self) -> str:
        code = destroy(self.stage, self.target, force=True, extra_args=["--app", str(self.assembly)],
                       log=self.log("destroy"))
        if code:
            raise DeployError(f"cdk destroy exited with {code}:\n{self.log_tail('destroy')}")
        from botocore.exceptions import ClientError

        try:
            status = self.target.client("cloudformation").describe_stacks(
                StackName=stack_name(self.stage))["Stacks"][0]["StackStatus"]
        except ClientError:
            status = "gone"
        assert status in ("gone", "DELETE_COMPLETE"), f"stack {stack_name(self.stage)} is {status} after destroy"
        tables = self.target.client("dynamodb").list_tables()["TableNames"]
        prefix = stack_name(self.stage)
        left = [t for t in tables if t.startswith(prefix)]
        retained = self.stage == "prod"
        assert bool(left) == retained, (f"tables left after destroy: {left}" if left else
                                        "the prod stage's tables should have been kept")
        return f"stack deleted; tables {'kept (prod)' if retained else 'deleted'}"

    def run(self) -> Rehearsal:
        if self.phase("prerequisites", self.prerequisites):
            # Independent (the bucket vs. the app's synthesis): side by side, as two terminals would.
            with ThreadPoolExecutor(2) as pool:
                done = list(pool.map(lambda step: self.phase(*step), [("bootstrap", self.bootstrap),
                                                                       ("synth", self.synth)]))
            if all(done):
                for name, action in (("deploy", self.deploy), ("verify", self.verify), ("urls", self.urls),
                                     ("profiles push", self.profiles_push)):
                    if not self.phase(name, action):
                        break
        if self.stack_may_exist:
            self.phase("destroy", self.destroy)
        return self.result


def rehearse(stage: str = "dev", region: str = "us-east-1", *, context: dict[str, str] | None = None,
             workdir: Path | None = None, say: Callable[[str], None] = print) -> Rehearsal:
    """Start the stand-in, rehearse, stop it; the report says what passed and what was not provable."""
    from .stand_in import StandIn

    workdir = workdir or Path(tempfile.mkdtemp(prefix="wfp-rehearsal-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with StandIn(region=region, log_path=workdir / "stand-in.log") as aws:
        say(f"stand-in AWS at {aws.endpoint} (moto); logs in {workdir}")
        with aws.environment():
            return Rehearse(stage, region, workdir, context, say).run()
