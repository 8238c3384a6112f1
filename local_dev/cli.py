"""``wfp``: the command line of the platform (also ``python -m local_dev.cli``).

Each command is a thin adapter: parse arguments, prepare the local environment, call the engine or
the registry, print, and exit non-zero when something failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

EXIT_FAILED = 1   # the workflow/tool ran and failed, or a plugin is broken
EXIT_REFUSED = 2  # the request was refused: unknown name, invalid inputs, inactive...


class UsageError(Exception):
    """A command line that cannot be run as written: ``main`` prints it in one line and exits 2, as
    argparse does for its own errors."""


def _pairs(values: list[str] | None, flag: str) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON (3, true, {"a": 1}) is used as such."""
    result: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} expects key=value, got {item!r}")
        try:
            result[key] = json.loads(raw)
        except ValueError:
            result[key] = raw
    return result


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def cmd_dev(args: argparse.Namespace) -> int:
    from .server import serve

    serve(args.host, args.port, watch=not args.no_watch)
    return 0


def _json_object(text: str | None, flag: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{flag} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag} expects a JSON object ({{\"key\": value}}), got {type(value).__name__}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    from functions.errors import PlatformError

    from .environment import prepare

    data = {**_json_object(args.json, "--json"), **_pairs(args.input, "-i")}  # before anything starts
    local = prepare()
    try:
        from functions.core.engine import UNTIL_DONE

        try:
            run = local.platform.engine.accept(args.workflow, data, args.trigger, wait=UNTIL_DONE).run
        except PlatformError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            if isinstance(exc.detail, list):
                for item in exc.detail:
                    print(f"  {item.get('field')}: {item.get('message')}", file=sys.stderr)
            return EXIT_REFUSED
        _print({"run_id": run.run_id, "status": run.status, "message": run.message, "output": run.output,
                "error": run.error, "duration_ms": run.duration_ms})
        if args.logs and run.logs:
            print("\n".join(run.logs), file=sys.stderr)
        if run.traceback:
            print(run.traceback, file=sys.stderr)
        print(f"run {run.run_id}: {run.status}", file=sys.stderr)
        return 0 if run.status == "success" else EXIT_FAILED
    finally:
        local.stop()


def _refused(exc: Any) -> int:
    print(f"error: {exc.message}", file=sys.stderr)
    if isinstance(exc.detail, list):
        for item in exc.detail:
            print(f"  {item.get('field')}: {item.get('message')}", file=sys.stderr)
    return EXIT_REFUSED


def cmd_rerun(args: argparse.Namespace) -> int:
    from functions.errors import PlatformError

    from .environment import prepare

    data = {**_json_object(args.json, "--json"), **_pairs(args.input, "-i")}  # before anything starts
    profiles = {tool: str(profile) for tool, profile in _pairs(args.profile, "--profile").items()}
    local = prepare()
    try:
        from functions.core.engine import UNTIL_DONE
        from functions.core.rerun import rerun

        try:
            run = rerun(local.platform.engine, args.run_id, data, profiles,
                        wait=None if args.run_async else UNTIL_DONE).run
        except PlatformError as exc:
            return _refused(exc)
        _print({"run_id": run.run_id, "rerun_of": run.rerun_of, "status": run.status, "message": run.message,
                "output": run.output, "error": run.error, "duration_ms": run.duration_ms, "profiles": run.profiles})
        if run.traceback:
            print(run.traceback, file=sys.stderr)
        print(f"run {run.run_id} (re-run of {args.run_id}): {run.status}", file=sys.stderr)
        if args.run_async:
            return 0
        return 0 if run.status == "success" else EXIT_FAILED
    finally:
        local.stop()


def cmd_resume(args: argparse.Namespace) -> int:
    """``wfp resume ID``: a failed durable run goes on from its failed step (``functions.core.durable``)."""
    from functions.errors import PlatformError

    from .environment import prepare

    data = {**_json_object(args.json, "--json"), **_pairs(args.input, "-i")}
    local = prepare()
    try:
        from functions.core.durable import resume
        from functions.core.engine import UNTIL_DONE

        try:
            run = resume(local.platform.engine, args.run_id, data, wait=UNTIL_DONE)
        except PlatformError as exc:
            return _refused(exc)
        _print({"run_id": run.run_id, "status": run.status, "message": run.message, "output": run.output,
                "error": run.error, "execution": run.durable_execution,
                "waiting_for": run.waiting_for.model_dump(mode="json") if run.waiting_for else None})
        if run.status == "waiting":
            print(f"run {run.run_id} waits ({run.waiting_for.kind if run.waiting_for else '?'}): the dev server "
                  "takes it over when it starts (wfp dev)", file=sys.stderr)
            return 0
        print(f"run {run.run_id} (resumed): {run.status}", file=sys.stderr)
        return 0 if run.status == "success" else EXIT_FAILED
    finally:
        local.stop()


def cmd_cancel(args: argparse.Namespace) -> int:
    from functions.errors import PlatformError

    from .environment import prepare

    local = prepare()
    try:
        from functions.core.cancel import cancel

        try:
            run = cancel(local.platform.runs, args.run_id)
        except PlatformError as exc:
            return _refused(exc)
        _print({"run_id": run.run_id, "status": run.status, "message": run.message})
        print(f"run {run.run_id}: {run.status}", file=sys.stderr)
        return 0
    finally:
        local.stop()


def cmd_tool(args: argparse.Namespace) -> int:
    from functions.errors import PlatformError

    from .environment import prepare

    params = _pairs(args.param, "-p")  # before anything starts
    local = prepare()
    try:
        try:
            tool = local.platform.registry.tool_class(args.tool)(profile=args.profile)
            tool.require_config()
        except PlatformError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return EXIT_REFUSED
        if not tool.authenticate():
            print(f"error: authentication failed for {args.tool} (profile {tool.profile}): "
                  f"{tool.last_error or 'authenticate() returned False'}", file=sys.stderr)
            status = tool.get_oauth_status()
            if status.get("auth_url"):
                print(f"connect it at: {status['auth_url']}", file=sys.stderr)
            return EXIT_FAILED
        result = tool.execute(args.action, params)
        _print(result)
        failed = not isinstance(result, dict) or result.get("status") == "error" or "error" in result
        return EXIT_FAILED if failed else 0
    finally:
        local.stop()


def cmd_new(args: argparse.Namespace) -> int:
    from functions.settings import Settings

    from .scaffold import create, next_steps

    try:
        folder = create(args.kind, args.name, Settings().plugins_dir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"created {folder}")
    print("\n".join(next_steps(args.kind, args.name, folder)))
    return 0


def cmd_plugins_check(args: argparse.Namespace) -> int:
    from functions.registry.discovery import Registry
    from functions.settings import Settings

    from .environment import load_env

    load_env()
    plugins_dir = Settings().plugins_dir.resolve()
    kinds = ("tools", "workflows", "interfaces")
    if not plugins_dir.is_dir() or not any((plugins_dir / kind).is_dir() for kind in kinds):
        what = "does not exist" if not plugins_dir.exists() else (
            "is not a folder" if not plugins_dir.is_dir() else "holds no tools/, workflows/ or interfaces/ folder")
        print(f"error: the plugins folder {plugins_dir} {what}: run this in the folder that holds plugins/, "
              "or set WFP_PLUGINS_DIR to it", file=sys.stderr)
        return EXIT_FAILED
    print(f"checking {plugins_dir}")
    registry = Registry.discover(plugins_dir).check_all(env=os.environ)
    for plugin in registry.plugins.values():
        mark = "ok   " if plugin.status == "ok" else "ERROR"
        print(f"{mark} {plugin.kind:<9} {plugin.name}")
        if plugin.error:
            print(f"      {plugin.error_file}: {plugin.error}")
        for warning in plugin.warnings:
            print(f"      warning: {warning}")
    errors = registry.errors()
    print(f"{len(registry.plugins)} plugin(s), {len(errors)} error(s)")
    return EXIT_FAILED if errors else 0


# ----- deployment (thin: the work is in local_dev.deploy) ------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from layers.build import main as build_main

    return build_main(["--no-deps"] * args.no_deps + ["--refresh"] * args.refresh + ["--out", str(args.out)])


def cmd_synth(args: argparse.Namespace) -> int:
    from .deploy import DeployError, stage_settings, synth

    try:
        result = synth(stage_settings(args.stage).stage, args.out, skip_build=args.skip_build,
                       build_dir=args.build_dir)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{result.template}: {sum(result.resources.values())} resources, cdk-nag AwsSolutions clean")
    for kind, count in sorted(result.resources.items()):
        print(f"  {count:3} {kind}")
    if result.lint:
        print(f"cfn-lint:\n{result.lint}", file=sys.stderr)
        return EXIT_FAILED
    print("cfn-lint: clean")
    return 0


def _target(args: argparse.Namespace) -> Any:
    from .deploy import Target

    return Target(profile=getattr(args, "profile", None), region=getattr(args, "region", None))


def _context(args: argparse.Namespace) -> dict[str, str]:
    pairs = {}
    for item in getattr(args, "context", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"-c expects KEY=VALUE (CDK context), got {item!r}")
        pairs[key] = value
    return pairs


def cmd_deploy(args: argparse.Namespace) -> int:
    from . import smoke
    from .deploy import (
        DeployError,
        check_prerequisites,
        deploy,
        stack_urls,
        stage_settings,
    )

    stage, target = stage_settings(args.stage).stage, _target(args)
    if args.rehearse:
        from .rehearsal.rehearse import rehearse

        result = rehearse(stage, args.region or "us-east-1", context=_context(args),
                          say=lambda line: print(line, file=sys.stderr))
        print(result.report())
        return 0 if result.ok else EXIT_FAILED
    try:
        found = check_prerequisites(target, bootstrap=not args.bootstrap)
        print(f"deploying stack wfp-{stage}\n{found.report()}", file=sys.stderr)
        if not found.ok:
            print("error: fix the prerequisites marked FAIL, then run 'wfp deploy' again", file=sys.stderr)
            return EXIT_REFUSED
        code = deploy(stage, target, bootstrap=args.bootstrap, approval=args.require_approval,
                      context=_context(args))
        if code:
            print(f"error: cdk deploy failed (exit code {code}); its output above says why", file=sys.stderr)
            return code
        _print_urls(stack_urls(stage, target.client("cloudformation")))
        if args.no_smoke:
            return 0
        report = smoke.run(smoke.stack_target(stage, target))
        print(report.text())
        if not report.ok:
            print(f"error: the stack is deployed but the smoke test failed; run 'wfp smoke --stage {stage}' again "
                  "once it is fixed", file=sys.stderr)
            return EXIT_FAILED
        return 0
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def cmd_smoke(args: argparse.Namespace) -> int:
    from . import smoke
    from .deploy import DeployError

    try:
        if args.url:
            target = smoke.SmokeTarget(base_url=args.url, token=args.token or os.environ.get("WFP_ADMIN_TOKEN"),
                                       webhook=None if args.no_webhook else args.webhook,
                                       webhook_secret=args.webhook_secret)
        else:
            target = smoke.stack_target(args.stage, _target(args), webhook=args.webhook,
                                        with_webhook=not args.no_webhook)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    report = smoke.run(target, wait_seconds=args.wait)
    print(report.text())
    return 0 if report.ok else EXIT_FAILED


def cmd_destroy(args: argparse.Namespace) -> int:
    from .deploy import DeployError, destroy, kept_after_destroy, stage_settings

    stage, target = stage_settings(args.stage).stage, _target(args)
    try:
        kept = kept_after_destroy(stage, target)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"destroying stack wfp-{stage}. Kept afterwards (delete them yourself if you mean to):")
    for kind, logical in kept.retained:
        print(f"  {kind:<28} {logical} (the stack retains it{': its data stays' if 'DynamoDB' in kind else ''})")
    for name in kept.outside:
        print(f"  {'AWS::SecretsManager::Secret':<28} {name} (pushed by 'wfp profiles push', not part of the stack)")
    print("  the CDK bootstrap stack CDKToolkit and its asset bucket (shared by every CDK app in the region)")
    code = destroy(stage, target, force=args.yes, context=_context(args))
    if code:
        print(f"error: cdk destroy failed (exit code {code})", file=sys.stderr)
    return code


def cmd_profiles_push(args: argparse.Namespace) -> int:
    from functions.errors import PlatformError
    from functions.settings import REPO_ROOT

    from .deploy import DeployError, push_profile

    env_file = args.env_file or Path(os.environ.get("WFP_ENV_FILE") or REPO_ROOT / ".env")
    try:
        from .deploy import Target

        client = Target(profile=args.aws_profile, region=args.region).client("secretsmanager")
        name, params, created = push_profile(args.tool, args.profile, args.stage, env_file, client=client)
    except (DeployError, PlatformError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{'created' if created else 'updated'} secret {name}: {', '.join(params)}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench.runner import main as bench_main

    return bench_main(args.bench_args)


def _print_urls(urls: Any) -> None:
    print(f"API        {urls.api}")
    print(f"dashboard  {urls.dashboard}")
    for workflow, url in urls.webhooks.items():
        print(f"webhook    {url}  ({workflow})")
    if urls.admin_token_secret:
        print(f"admin token: aws secretsmanager get-secret-value --secret-id {urls.admin_token_secret} "
              "--query SecretString --output text")


def cmd_urls(args: argparse.Namespace) -> int:
    from .deploy import DeployError, stack_urls

    try:
        urls = stack_urls(args.stage, _target(args).client("cloudformation"))
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        _print({"api": urls.api, "dashboard": urls.dashboard, "webhooks": urls.webhooks,
                "admin_token_secret": urls.admin_token_secret})
    else:
        _print_urls(urls)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wfp", description="Workflow Platform command line")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="start the platform locally (uvicorn + moto)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-watch", action="store_true", help="do not reload plugins when files change")
    dev.set_defaults(func=cmd_dev)

    run = sub.add_parser("run", help="run a workflow locally and print its result")
    run.add_argument("workflow")
    run.add_argument("-i", "--input", action="append", metavar="KEY=VALUE", help="an input (repeatable)")
    run.add_argument("--json", help="inputs as a JSON object")
    run.add_argument("--trigger", default="manual", choices=["manual", "api", "webhook", "schedule"])
    run.add_argument("--logs", action="store_true", help="print the run's log lines")
    run.set_defaults(func=cmd_run)

    rerun_cmd = sub.add_parser("rerun", help="run a recorded run again (same workflow and inputs; passwords are "
                               "not stored: give them again with -i)")
    rerun_cmd.add_argument("run_id")
    rerun_cmd.add_argument("-i", "--input", action="append", metavar="KEY=VALUE",
                           help="an input over the stored ones (repeatable)")
    rerun_cmd.add_argument("--json", help="inputs over the stored ones, as a JSON object")
    rerun_cmd.add_argument("--profile", action="append", metavar="TOOL=PROFILE",
                           help="a tool profile for this run only, e.g. mon_outil=TEST (repeatable)")
    rerun_cmd.add_argument("--async", dest="run_async", action="store_true",
                           help="queue it and return (the dev server's worker runs it)")
    rerun_cmd.set_defaults(func=cmd_rerun)

    resume_cmd = sub.add_parser("resume", help="resume a failed durable run from its failed step (its completed "
                                               "steps are not run again)")
    resume_cmd.add_argument("run_id")
    resume_cmd.add_argument("-i", "--input", action="append", metavar="KEY=VALUE",
                            help="an input over the stored ones (masked ones must be given again)")
    resume_cmd.add_argument("--json", help="inputs over the stored ones, as a JSON object")
    resume_cmd.set_defaults(func=cmd_resume)

    cancel_cmd = sub.add_parser("cancel", help="cancel a queued or running run (running code is not stopped: "
                                "its result is discarded)")
    cancel_cmd.add_argument("run_id")
    cancel_cmd.set_defaults(func=cmd_cancel)

    from .runs_cmd import add_parser as add_runs_parser

    add_runs_parser(sub)  # wfp runs: find runs (local_dev/runs_cmd.py)

    tool = sub.add_parser("tool", help="call one action of a tool with a profile")
    tool.add_argument("tool")
    tool.add_argument("action")
    tool.add_argument("--profile", default="DEFAULT")
    tool.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="an action parameter")
    tool.set_defaults(func=cmd_tool)

    new = sub.add_parser("new", help="create a plugin from a template")
    new.add_argument("kind", choices=["tool", "workflow", "interface"])
    new.add_argument("name")
    new.set_defaults(func=cmd_new)

    plugins = sub.add_parser("plugins", help="plugin commands")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True)
    check = plugins_sub.add_parser("check", help="import and validate every plugin")
    check.set_defaults(func=cmd_plugins_check)

    from functions.settings import REPO_ROOT

    stage_help = "deployment stage (default: $WFP_STAGE or dev); the stack is wfp-<stage>"
    build = sub.add_parser("build", help="build the Lambda layer (dependencies, plugins, manifest) and code")
    build.add_argument("--no-deps", action="store_true", help="plugins and manifest only (not deployable)")
    build.add_argument("--refresh", action="store_true", help="resolve dependencies again (newer versions)")
    build.add_argument("--out", type=Path, default=REPO_ROOT / "build", help="output folder (default build/)")
    build.set_defaults(func=cmd_build)

    synth = sub.add_parser("synth", help="synthesize the stack (cdk-nag checks) and cfn-lint it")
    synth.add_argument("--stage", default=None, help=stage_help)
    synth.add_argument("--out", type=Path, default=REPO_ROOT / "cdk.out", help="cloud assembly (default cdk.out/)")
    synth.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build", help="layer build (default build/)")
    synth.add_argument("--skip-build", action="store_true", help="use the build folder as it is")
    synth.set_defaults(func=cmd_synth)

    def aws_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--stage", default=None, help=stage_help)
        command.add_argument("--profile", default=None, help="AWS credentials profile (default: $AWS_PROFILE or default)")
        command.add_argument("--region", default=None, help="AWS region (default: $AWS_REGION or the profile's)")

    context_help = ("CDK context KEY=VALUE (repeatable): alarm_email=..., snapstart=off, reserved_concurrency=..., "
                    "api_rate=, api_burst=, worker_batch_size=, worker_batching_window=, worker_max_concurrency= "
                    "(SCALING.md)")
    deploy = sub.add_parser("deploy", help="check the prerequisites, deploy the stack with the CDK CLI, print its "
                            "URLs and smoke-test it")
    aws_options(deploy)
    deploy.add_argument("--bootstrap", action="store_true", help="run 'cdk bootstrap' first (once per account "
                        "and region)")
    deploy.add_argument("--require-approval", default="broadening", choices=["never", "any-change", "broadening"])
    deploy.add_argument("-c", "--context", action="append", metavar="KEY=VALUE", help=context_help)
    deploy.add_argument("--no-smoke", action="store_true", help="skip the smoke test after the deployment")
    deploy.add_argument("--rehearse", action="store_true", help="rehearse it all on this machine against a stand-in "
                        "AWS (moto): bootstrap, synth, deploy, verify the resources, urls, profiles push, destroy")
    deploy.set_defaults(func=cmd_deploy)

    smoke_cmd = sub.add_parser("smoke", help="smoke-test a deployed stack (health, auth, workflows, a signed "
                               "webhook run to the end)")
    aws_options(smoke_cmd)
    smoke_cmd.add_argument("--url", default=None, help="test this base URL instead of the stack's (e.g. the dev "
                           "server); with --token and --webhook-secret")
    smoke_cmd.add_argument("--token", default=None, help="admin token with --url (default: $WFP_ADMIN_TOKEN)")
    smoke_cmd.add_argument("--webhook", default=None, help="the workflow that receives the test delivery "
                           "(default: the stack's first webhook)")
    smoke_cmd.add_argument("--webhook-secret", default=None, help="its secret, with --url")
    smoke_cmd.add_argument("--no-webhook", action="store_true", help="skip the webhook delivery (it runs the workflow)")
    smoke_cmd.add_argument("--wait", type=float, default=90, help="seconds to wait for the test run to finish")
    smoke_cmd.set_defaults(func=cmd_smoke)

    destroy_cmd = sub.add_parser("destroy", help="delete the stack; says first what is kept (prod tables, pushed "
                                 "profiles, the CDK bootstrap)")
    aws_options(destroy_cmd)
    destroy_cmd.add_argument("-c", "--context", action="append", metavar="KEY=VALUE", help=context_help)
    destroy_cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    destroy_cmd.set_defaults(func=cmd_destroy)

    profiles_cmd = sub.add_parser("profiles", help="tool profiles on AWS")
    profiles_sub = profiles_cmd.add_subparsers(dest="profiles_command", required=True)
    push = profiles_sub.add_parser("push", help="upload a profile from .env to Secrets Manager")
    push.add_argument("tool")
    push.add_argument("--profile", required=True, help="the tool profile to push (TEST, PROD...)")
    push.add_argument("--stage", default=None, help=stage_help)
    push.add_argument("--aws-profile", dest="aws_profile", default=None, help="AWS credentials profile")
    push.add_argument("--region", default=None, help="AWS region (default: $AWS_REGION or the profile's)")
    push.add_argument("--env-file", type=Path, default=None, help="default: $WFP_ENV_FILE or .env")
    push.set_defaults(func=cmd_profiles_push)

    bench = sub.add_parser("bench", help="measure cold start, layer size, AWS requests per run, throughput, warm "
                           "requests and local start against their baselines (wfp bench --help)", add_help=False)
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="options of python -m local_dev.bench")
    bench.set_defaults(func=cmd_bench)

    urls = sub.add_parser("urls", help="print the deployed API, dashboard and webhook URLs")
    aws_options(urls)
    urls.add_argument("--json", action="store_true")
    urls.set_defaults(func=cmd_urls)
    return parser


def main(argv: list[str] | None = None) -> None:
    # Warnings go to stderr; plugin INFO lines belong to the run (--logs), not to the console. Only
    # this handler is quieted: others on the root logger (the run log capture) keep their levels.
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "wfp_console", False) for h in root.handlers):
        console.wfp_console = True  # type: ignore[attr-defined]
        root.addHandler(console)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # its options are the benchmark's own (argparse cannot pass "--only x" through)
        from .bench.runner import main as bench_main

        sys.exit(bench_main(argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except UsageError as exc:
        print(f"wfp {args.command}: error: {exc}", file=sys.stderr)
        code = EXIT_REFUSED
    sys.exit(code)


if __name__ == "__main__":
    main()
