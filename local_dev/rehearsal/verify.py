"""Check what a deployed stack created against what the platform derives it from, not against its status.

moto's CloudFormation answers ``CREATE_COMPLETE`` for a stack whose resources it partly skipped or
simplified, so the rehearsal reads the created resources back through the ordinary APIs and compares
them with their sources:

* tables: the pynamodb models (``functions.stores.base.all_models()`` read by ``infrastructure.tables.spec_of``),
* rules, schedules, webhook secrets and URLs, timeouts: the plugin registry (the built layer's manifest)
  through ``functions.core.deployment.deployed_schedule`` and the workflows' configs,
* names: ``functions.settings.Settings``; queue redrive: the settings; batch size and the event source's
  maximum concurrency: ``infrastructure.limits`` (the deploy's context, else the deployed template);
* the durable function: its name (what every function's ``WFP_DURABLE_FUNCTION`` names, ``<name>:live``),
  its alias ``live`` on a published version, its ``DurableConfig`` (from the registry's durable workflows
  and the run retention; moto ignores it, so the deployed template's property is what is compared);
* the wiring: each function's environment names the tables and queue the stack created, the worker
  consumes the runs queue through its alias, the rules and schedules invoke the scheduler's alias, API
  Gateway invokes the api alias;
* the failure paths: every rule's and Scheduler schedule's target dead-letters to the scheduler
  dead-letter queue (with ``infrastructure.schedules``' retry policy), both dead-letter queues keep a
  message ``DEAD_LETTER_RETENTION`` and are encrypted;
* the alarms: one depth alarm per dead-letter queue and an Errors and a Throttles alarm per function, on
  the created queues and functions, notifying the stage's KMS-encrypted topic (``infrastructure.alarms``);
* what the deploy's CDK context asked (``context``: the ``-c`` values, as ``infrastructure.app`` reads
  them): the alarm topic's e-mail subscription, the functions' reserved concurrency and the worker's
  event source maximum concurrency. Without a context they are read from the deployed template.

    result = verify("wfp-dev", registry_from_layer(Path("build/layer")), context={"alarm_email": "ops@example.com"})
    print(result.report()); assert result.ok

Resources are found through the stack's own resource list (a construct's logical id is its CDK id plus
an 8-character hash); kinds this module does not know are listed, never fatal. What the stand-in cannot
show (moto ignores the property, or never runs anything) is reported as "not checkable here", never as
passed. The boto3 clients follow the environment (``AWS_ENDPOINT_URL``: the stand-in's ``client_env()``).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from functions.core.deployment import DeployedSchedule, deployed_schedule
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Registry
from functions.settings import Settings
from infrastructure.limits import WORKER_BATCH_SIZE, Limits

REPO = Path(__file__).resolve().parents[2]
#: CDK ids of the stack's constructs the checks look up (``infrastructure/stack.py`` names them).
RUNS_QUEUE, DEAD_LETTER_QUEUE, REST_API, SWEEP_RULE = "RunsQueue", "RunsDeadLetterQueue", "Api", "SweepRule"
SCHEDULER_DEAD_LETTER_QUEUE = "SchedulerDeadLetterQueue"
#: The alarm topic and its key (``infrastructure.alarms.Alarms`` under the id "Alarms": CDK ids "Alarms/Topic"...).
ALARM_TOPIC = "AlarmsTopic"
#: Each dead-letter queue's depth alarm, ``<prefix>-<name>``, by the queue's CDK id (``infrastructure/stack.py``).
DEAD_LETTER_ALARMS = {DEAD_LETTER_QUEUE: "runs-dead-letters", SCHEDULER_DEAD_LETTER_QUEUE: "scheduler-dead-letters"}
#: The platform's four Lambda entry points, by the CDK id of their function.
ENTRY_POINTS = {"ApiFunction": "functions.handlers.api.handler",
                "SchedulerFunction": "functions.handlers.scheduler.handler",
                "WorkerFunction": "functions.handlers.worker.handler",
                "DurableFunction": "functions.handlers.durable.handler"}
#: The scheduler's input for the stale-run sweep (``functions.handlers.scheduler.SWEEP_ACTION``).
SWEEP_INPUT = {"action": "sweep"}
#: What an EventBridge rule's event carries, to render input transformers as EventBridge would.
SAMPLE_EVENT = {"time": "2026-01-05T09:00:00Z", "id": "7bf73129-1428-4cd3-a780-95db273d1602"}
#: Resource kinds the checks below cover (others are listed as created, unchecked).
COVERED = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping",
           "AWS::Lambda::Alias", "AWS::Lambda::Version", "AWS::Lambda::Permission", "AWS::Lambda::LayerVersion",
           "AWS::Events::Rule", "AWS::Scheduler::Schedule", "AWS::SecretsManager::Secret",
           "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment",
           "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::SNS::Topic", "AWS::CloudWatch::Alarm",
           "AWS::SNS::Subscription", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"}


# ----- result --------------------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Verification:
    stack_name: str
    checks: list[Check] = field(default_factory=list)
    #: What the stand-in cannot show (moto ignores it, or nothing runs there): neither passed nor failed.
    not_checkable: list[str] = field(default_factory=list)
    #: Resources of kinds no check covers: created, not verified further.
    unchecked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> Check:
        check = Check(name, ok, detail)
        self.checks.append(check)
        return check

    def expect(self, name: str, expected: Any, found: Any, what: str = "") -> Check:
        """A check that ``found`` equals ``expected``; the detail says both when they differ."""
        if expected == found:
            return self.add(name, True, what or f"{found!r}")
        return self.add(name, False, f"expected {expected!r}, found {found!r}")

    def compare(self, name: str, expected: Mapping[str, Any], found: Mapping[str, Any], what: str = "") -> Check:
        """A check that each of ``expected``'s keys has its value in ``found``; the detail names each key
        that differs, with both values."""
        problems = differences(expected, found)
        return self.add(name, not problems, "; ".join(problems) if problems else what)

    def report(self) -> str:
        lines = [f"Stack {self.stack_name}: {len(self.checks)} checks, {len(self.failures)} failed"]
        lines += [f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}" + (f": {c.detail}" if c.detail else "")
                  for c in self.checks]
        if self.not_checkable:
            lines.append("Not checkable on the stand-in:")
            lines += [f"  - {note}" for note in self.not_checkable]
        if self.unchecked:
            lines.append("Created, not verified further (no check knows the kind):")
            lines += [f"  - {item}" for item in self.unchecked]
        return "\n".join(lines)


# ----- what the platform derives the stack from --------------------------------------------------------
def registry_from_layer(layer_dir: Path) -> Registry:
    """The plugin registry the stack was built from: the layer's manifest (``wfp build``)."""
    from functions.registry.manifest import registry_from_manifest
    from layers.build import MANIFEST_NAME

    return registry_from_manifest(layer_dir / MANIFEST_NAME, layer_dir / "python" / "plugins")


def workflows(registry: Registry) -> list[tuple[str, WorkflowConfig]]:
    """Workflows that load (a broken plugin deploys nothing)."""
    return [(p.name, p.config) for p in registry.of_kind("workflow")
            if not p.error and isinstance(p.config, WorkflowConfig)]


@dataclass
class Expected:
    settings: Settings
    specs: list[Any]  # infrastructure.tables.TableSpec, one per model
    models: dict[str, str]  # setting → model class name
    schedules: list[tuple[DeployedSchedule, WorkflowConfig]]
    schedule_errors: dict[str, str]
    webhooks: list[tuple[str, WorkflowConfig]]
    #: Every workflow config, a broken plugin's too: the stack sizes the worker's timeout on all of them.
    workflow_configs: list[WorkflowConfig]

    @classmethod
    def of(cls, registry: Registry, settings: Settings) -> Expected:
        from functions.registry.cron import CronError
        from functions.stores import all_models
        from infrastructure.tables import spec_of

        models = all_models()
        specs = [spec_of(m, settings) for m in models]
        loaded = workflows(registry)
        schedules, errors = [], {}
        for name, config in loaded:
            try:
                spec = deployed_schedule(name, config, settings.prefix)
            except CronError as exc:
                errors[name] = str(exc)
                continue
            if spec is not None:
                schedules.append((spec, config))
        return cls(settings, specs, {s.setting: m.__name__ for s, m in zip(specs, models, strict=True)},
                   schedules, errors, [(n, c) for n, c in loaded if "webhook" in c.triggers],
                   [p.config for p in registry.of_kind("workflow") if isinstance(p.config, WorkflowConfig)])


@dataclass
class Options:
    """What the deploy's CDK context asked of the stack beyond the plugins (``infrastructure.app``)."""

    alarm_email: str | None
    #: Function name (``infrastructure.stack.FUNCTION_NAMES``) → reserved concurrency; none by default.
    reserved_concurrency: dict[str, int]
    #: Where they were read, for the checks' details.
    source: str
    #: The API stage's throttle and the worker's event source (``infrastructure.limits``): today's by default.
    limits: Limits = field(default_factory=lambda: Limits())

    @classmethod
    def of_context(cls, context: Mapping[str, Any]) -> Options:
        """Read as the app reads them: the project's ``cdk.json`` context under the ``-c`` values, then
        ``infrastructure.app``'s own parsers (with their environment fallbacks, ``WFP_ALARM_EMAIL`` and
        ``WFP_RESERVED_CONCURRENCY``, which the CDK CLI's environment passes on to the app)."""
        from infrastructure.app import alarm_email_of, reserved_concurrency_of
        from infrastructure.limits import limits_of

        try:
            project = json.loads((REPO / "cdk.json").read_text(encoding="utf-8")).get("context") or {}
        except (OSError, ValueError):
            project = {}
        app: Any = _ContextOnly({**project, **context})
        reserved = reserved_concurrency_of(app)
        return cls(alarm_email_of(app), reserved, "the deploy's context", limits_of(app.try_get_context, reserved))

    @classmethod
    def of_template(cls, stack: StackView) -> Options:
        """Read from the deployed template, when no context is given: the alarm topic's e-mail subscription
        and the functions' ReservedConcurrentExecutions as the stack wrote them."""
        from infrastructure.stack import FUNCTION_NAMES

        topic = {"Ref": stack.template_id(ALARM_TOPIC)}
        subscriptions = [r.get("Properties") or {} for r in stack.template.values()
                         if r.get("Type") == "AWS::SNS::Subscription"]
        emails = [p.get("Endpoint") for p in subscriptions
                  if p.get("Protocol") == "email" and p.get("TopicArn") == topic]
        reserved = {}
        for name in FUNCTION_NAMES:
            function = stack.template.get(stack.template_id(f"{name.capitalize()}Function") or "") or {}
            value = (function.get("Properties") or {}).get("ReservedConcurrentExecutions")
            if value is not None:
                reserved[name] = int(value)
        mappings = [r.get("Properties") or {} for r in stack.template.values()
                    if r.get("Type") == "AWS::Lambda::EventSourceMapping"]
        mapping = mappings[0] if len(mappings) == 1 else {}
        limits = Limits(
            worker_batch_size=int(mapping.get("BatchSize") or WORKER_BATCH_SIZE),
            worker_batching_window=int(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            worker_max_concurrency=(mapping.get("ScalingConfig") or {}).get("MaximumConcurrency"))
        return cls(emails[0] if emails else None, reserved, "the deployed template (no deploy context given)",
                   limits)


class _ContextOnly:
    """What ``infrastructure.app``'s parsers read of their ``App``: ``app.node.try_get_context(key)``."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.node, self.context = self, dict(context)

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


# ----- what the stack created --------------------------------------------------------------------------
class StackView:
    """The stack's created resources (logical id → summary), its outputs, and the template's resources."""

    def __init__(self, cloudformation: Any, stack_name: str) -> None:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        self.status = stack["StackStatus"]
        self.outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs") or []}
        listed = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        # moto lists a resource it skipped without id or type: only the created ones are kept.
        self.resources = {r["LogicalResourceId"]: r for r in listed if r.get("LogicalResourceId")}
        body = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
        self.template = (json.loads(body) if isinstance(body, str) else body).get("Resources", {})

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if r.get("ResourceType") == kind]

    def find(self, kind: str, construct_id: str) -> dict[str, Any] | None:
        """The resource CDK named ``<construct_id><8-hex hash>`` (a construct at the stack's top level)."""
        pattern = re.compile(re.escape(construct_id) + "[0-9A-F]{8}")
        found = [r for r in self.of_type(kind) if pattern.fullmatch(r["LogicalResourceId"])]
        return found[0] if len(found) == 1 else None

    def template_id(self, construct_id: str) -> str | None:
        """The logical id of the template's ``<construct_id><hash>`` resource, created or not."""
        pattern = re.compile(re.escape(construct_id) + "[0-9A-F]{8}")
        found = [logical_id for logical_id in self.template if pattern.fullmatch(logical_id)]
        return found[0] if len(found) == 1 else None

    def logical_ids(self, kind: str, construct_ids: Iterable[str]) -> set[str]:
        """The logical ids of the constructs found among ``construct_ids``."""
        return {r["LogicalResourceId"] for r in (self.find(kind, c) for c in construct_ids) if r is not None}

    def physical_id(self, kind: str, construct_id: str) -> str:
        resource = self.find(kind, construct_id)
        if resource is None or not resource.get("PhysicalResourceId"):
            known = ", ".join(sorted(r["LogicalResourceId"] for r in self.of_type(kind))) or "none"
            raise LookupError(f"no {kind} {construct_id}<hash> in the stack (created {kind}: {known})")
        return str(resource["PhysicalResourceId"])

    def not_created(self) -> dict[str, int]:
        """Template resources the stack did not create (moto has no model for them): type → count."""
        counts: dict[str, int] = {}
        for logical_id, resource in self.template.items():
            if logical_id not in self.resources:
                counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
        return counts


# ----- the checks --------------------------------------------------------------------------------------
class Verifier:
    def __init__(self, stack_name: str, registry: Registry, *, settings: Settings | None = None,
                 session: Any = None, context: Mapping[str, Any] | None = None) -> None:
        import boto3

        self.stack_name = stack_name
        self.context = None if context is None else dict(context)
        #: Alarm names the alarms section compared (the others are checked generically).
        self.covered_alarms: set[str] = set()
        self.settings = settings or Settings.of_stage(stack_name.removeprefix("wfp-"))
        self.registry = registry
        self.session = session or boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self.result = Verification(stack_name)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def region(self) -> str:
        return str(self.client("cloudformation").meta.region_name)

    def run(self) -> Verification:
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        from botocore.exceptions import ClientError

        self.expected = Expected.of(self.registry, self.settings)
        try:
            self.stack = StackView(self.client("cloudformation"), self.stack_name)
        except ClientError as exc:
            self.result.add(f"stack {self.stack_name}", False, f"expected a deployed stack, found: {exc}")
            return self.result
        self.result.add("stack status", self.stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"),
                        f"{self.stack.status} (moto reports it even for what it skipped: the checks below "
                        "read the resources)")
        sections: list[tuple[str, Callable[[], None]]] = [
            ("tables", self.tables), ("queues", self.queues), ("functions", self.functions),
            ("event source", self.event_source), ("rules", self.rules), ("schedules", self.scheduler_schedules),
            ("failure paths", self.failure_paths), ("alarms", self.alarms), ("concurrency", self.concurrency),
            ("secrets", self.secrets), ("API", self.api), ("run data", self.run_data), ("outputs", self.outputs),
            ("other resources", self.others)]
        for name, section in sections:
            try:
                section()
            except Exception as exc:  # noqa: BLE001 - one section's surprise must not hide the others' findings
                self.result.add(f"{name}: could not be verified", False, f"{type(exc).__name__}: {exc}")
        self.notes()
        return self.result

    # ----- lookups (what the checks compare with one another) -------------------------------------------
    def table_name(self, spec: Any) -> str:
        return self.stack.physical_id("AWS::DynamoDB::Table", spec.construct_id)

    @cached_property
    def queue_url(self) -> str:
        return self.stack.physical_id("AWS::SQS::Queue", RUNS_QUEUE)

    @cached_property
    def queue_arn(self) -> str:
        return self.queue_attributes(self.queue_url)["QueueArn"]

    def queue_attributes(self, url: str) -> dict[str, str]:
        return self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    @cached_property
    def function_configs(self) -> dict[str, dict[str, Any]]:
        lambda_ = self.client("lambda")
        return {cid: lambda_.get_function_configuration(
            FunctionName=self.stack.physical_id("AWS::Lambda::Function", cid)) for cid in ENTRY_POINTS}

    @cached_property
    def rest_api_id(self) -> str:
        return self.stack.physical_id("AWS::ApiGateway::RestApi", REST_API)

    @cached_property
    def timeouts(self) -> dict[str, int]:
        """Each function's timeout as the stack derives it (the API's limit; the workflows' timeouts)."""
        from infrastructure.stack import API_TIMEOUT, run_timeout

        scheduled = [config for _, config in self.expected.schedules]
        from infrastructure.durable import durable_workflows

        return {"ApiFunction": int(API_TIMEOUT.to_seconds()),
                "SchedulerFunction": int(run_timeout(scheduled).to_seconds()),
                "WorkerFunction": int(run_timeout(self.expected.workflow_configs).to_seconds()),
                "DurableFunction": int(run_timeout(durable_workflows(self.registry)).to_seconds())}

    @cached_property
    def options(self) -> Options:
        """What the deploy asked (``alarm_email``, ``reserved_concurrency``): its context, else the template."""
        if self.context is None:
            return Options.of_template(self.stack)
        try:
            return Options.of_context(self.context)
        except SystemExit as exc:  # the app's parsers refuse a value this way
            raise ValueError(f"the deploy's context: {exc}") from None

    @cached_property
    def scheduler_dead_letter_arn(self) -> str:
        return self.queue_attributes(self.stack.physical_id("AWS::SQS::Queue", SCHEDULER_DEAD_LETTER_QUEUE))["QueueArn"]

    def created(self, kind: str, construct_id: str) -> str:
        """The physical id, or a placeholder that names the absence (for comparisons that go on)."""
        resource = self.stack.find(kind, construct_id)
        return str(resource.get("PhysicalResourceId")) if resource else f"<no {construct_id} in the stack>"

    # ----- data --------------------------------------------------------------------------------------
    def tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for spec in self.expected.specs:
            name = self.table_name(spec)
            table = dynamodb.describe_table(TableName=name)["Table"]
            problems = table_differences(spec, table)
            model = self.expected.models[spec.setting]
            self.result.add(f"table {spec.setting} ({name})", not problems,
                            "; ".join(problems) or f"keys, attribute types, {len(spec.global_indexes)} global and "
                            f"{len(spec.local_indexes)} local indexes as model {model} says")
            if spec.ttl_attribute:
                self.time_to_live(spec, name)
        known = self.stack.logical_ids("AWS::DynamoDB::Table", [s.construct_id for s in self.expected.specs])
        extra = sorted(r["LogicalResourceId"] for r in self.stack.of_type("AWS::DynamoDB::Table")
                       if r["LogicalResourceId"] not in known)
        self.result.add("every table comes from a model", not extra,
                        f"tables no model describes: {', '.join(extra)}" if extra else
                        f"{len(known)} tables, {len(self.expected.specs)} models")

    def time_to_live(self, spec: Any, name: str) -> None:
        """The model's TTL attribute, when the stand-in shows one (moto's CloudFormation ignores it)."""
        ttl = self.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            self.result.expect(f"table {spec.setting} TTL", spec.ttl_attribute, ttl.get("AttributeName"))
        else:
            self.result.not_checkable.append(
                f"table {spec.setting}: TTL on {spec.ttl_attribute} (the model's) reads {ttl.get('TimeToLiveStatus')}: "
                "moto's CloudFormation ignores TimeToLiveSpecification")

    def queues(self) -> None:
        deliveries = self.settings.max_attempts
        attributes = self.queue_attributes(self.queue_url)
        dead_arn = self.queue_attributes(self.stack.physical_id("AWS::SQS::Queue", DEAD_LETTER_QUEUE))["QueueArn"]
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        self.result.expect("runs queue redrives to its dead-letter queue",
                           {"deadLetterTargetArn": dead_arn, "maxReceiveCount": deliveries},
                           {"deadLetterTargetArn": redrive.get("deadLetterTargetArn"),
                            "maxReceiveCount": int(redrive.get("maxReceiveCount", 0)) or None},
                           f"after {deliveries} deliveries (the deployment's WFP_MAX_ATTEMPTS)")
        worker_timeout = self.timeouts["WorkerFunction"]
        visibility = int(attributes.get("VisibilityTimeout", 0))
        self.result.add("runs queue visibility timeout covers the worker's timeout", visibility >= worker_timeout,
                        f"{visibility} s for a worker timeout of {worker_timeout} s")

    # ----- code --------------------------------------------------------------------------------------
    def functions(self) -> None:
        from infrastructure.durable import qualified_name
        from infrastructure.stack import RUNTIME
        from layers.build import MANIFEST_NAME

        settings = self.settings
        tables = {s.env_var: self.created("AWS::DynamoDB::Table", s.construct_id) for s in self.expected.specs}
        common = {"WFP_STAGE": settings.stage, "WFP_PREFIX": settings.prefix, **tables,
                  "WFP_QUEUE_URL": self.created("AWS::SQS::Queue", RUNS_QUEUE),
                  "WFP_ADMIN_TOKEN_SECRET": settings.admin_token_secret_name,
                  "WFP_MANIFEST": f"/opt/{MANIFEST_NAME}", "WFP_PLUGINS_DIR": "/opt/python/plugins",
                  "WFP_MAX_ATTEMPTS": str(settings.max_attempts),
                  # durable runs start on the durable function's alias (functions.aws.durable)
                  "WFP_DURABLE_FUNCTION": qualified_name(settings.prefix)}
        extra = {"ApiFunction": {"WFP_REQUIRE_WEBHOOK_SECRETS": "1"}}
        for cid, config in self.function_configs.items():
            label = f"function {cid.removesuffix('Function').lower()}"
            variables = (config.get("Environment") or {}).get("Variables") or {}
            wanted = {**common, **extra.get(cid, {})}
            problems = [f"{k}: expected {v!r}, found {variables.get(k, '<unset>')!r}"
                        for k, v in wanted.items() if variables.get(k) != v]
            self.result.add(f"{label} environment", not problems, "; ".join(problems) or
                            f"{len(wanted)} variables name this stack's tables, queue, secret and stage")
            self.result.expect(f"{label} handler", ENTRY_POINTS[cid], config.get("Handler"))
            self.result.expect(f"{label} runtime", RUNTIME.name, config.get("Runtime"))
            self.result.expect(f"{label} timeout", self.timeouts[cid], config.get("Timeout"),
                               f"{config.get('Timeout')} s" + ("" if cid == "ApiFunction" else
                                                              " (the longest workflow timeout + the margin)"))
            self.code_package(label, config)
        self.durable_function()

    def durable_function(self) -> None:
        """The durable function: named as the others' WFP_DURABLE_FUNCTION says, its alias ``live`` on a
        published version, its DurableConfig (the template's, when the stand-in shows none)."""
        from infrastructure.durable import ALIAS, durable_workflows, execution_timeout, function_name, retention

        config = self.function_configs["DurableFunction"]
        self.result.expect("function durable name", function_name(self.settings.prefix), config.get("FunctionName"),
                           "what WFP_DURABLE_FUNCTION names (<name>:live)")
        version = self.live_version("DurableFunction")
        self.result.add(f"durable function alias {ALIAS} points at a published version",
                        version is not None and not version.endswith(":$LATEST"),
                        f"{version}" if version else f"expected an alias {ALIAS} of {config.get('FunctionName')}, "
                        "found none")
        configs = durable_workflows(self.registry)
        wanted = {"ExecutionTimeout": int(execution_timeout(configs).to_seconds()),
                  "RetentionPeriodInDays": int(retention(self.settings.run_retention_days).to_days())}
        what = (f"executions up to {wanted['ExecutionTimeout']} s (the longest durable_timeout_seconds), history "
                f"kept {wanted['RetentionPeriodInDays']} days")
        found = config.get("DurableConfig")
        if found:
            self.result.compare("durable function DurableConfig", wanted, found, what)
            return
        template_id = self.stack.template_id("DurableFunction")
        declared = ((self.stack.template.get(template_id or "") or {}).get("Properties") or {}).get("DurableConfig")
        self.result.compare("durable function DurableConfig (the deployed template's)", wanted, declared or {}, what)
        self.result.not_checkable.append(
            "the durable function's DurableConfig: moto's Lambda ignores it (GetFunctionConfiguration shows none), "
            "so only the deployed template's property was checked; nothing runs a durable execution here")

    def code_package(self, label: str, config: dict[str, Any]) -> None:
        """The uploaded code (the S3 object whose SHA-256 the function reports) defines the handler."""
        package = find_package(self.client("s3"), int(config.get("CodeSize") or 0), config.get("CodeSha256") or "")
        if package is None:
            self.result.not_checkable.append(f"{label}: its code package is not in the stand-in's S3 (CodeSha256 "
                                             f"{config.get('CodeSha256')}), so its handler was not looked up in it")
            return
        module, _, attribute = str(config.get("Handler")).rpartition(".")
        path = module.replace(".", "/") + ".py"
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            source = archive.read(path).decode() if path in archive.namelist() else None
        defined = source is not None and attribute in top_level_names(source)
        self.result.add(f"{label} code package defines its handler", defined,
                        f"{path} defines {attribute}" if defined else
                        f"expected {path} defining {attribute!r} in the uploaded package, "
                        f"found {'no ' + path if source is None else 'no such name'}")

    def event_source(self) -> None:
        batch = self.options.limits.worker_batch_size
        worker = self.live_alias("WorkerFunction")  # the alias "live" (SnapStart applies to versions)
        # moto resolves an alias in a mapping to the version it points at; AWS keeps the alias ARN.
        version = self.live_version("WorkerFunction")
        # Listed by queue: moto filters FunctionName on the exact string the mapping was created with.
        mappings = self.client("lambda").list_event_source_mappings(
            EventSourceArn=self.queue_arn)["EventSourceMappings"]
        found = [m for m in mappings if m.get("FunctionArn") in (worker, version)]
        if len(found) != 1 or len(mappings) != 1:
            self.result.add("worker consumes the runs queue", False,
                            f"expected one event source mapping {self.queue_arn} → {worker}, found "
                            f"{[m.get('FunctionArn') for m in mappings] or 'none'}")
            return
        mapping = found[0]
        if mapping.get("FunctionArn") == version:
            self.result.not_checkable.append(
                f"the runs queue's event source invokes the worker's alias live: moto lists the mapping with the "
                f"version the alias points at ({version}); the template's FunctionName names the alias")
        self.result.expect("worker consumes the runs queue", {
            "BatchSize": batch, "State": "Enabled", "ReportBatchItemFailures": True}, {
            "BatchSize": mapping.get("BatchSize"), "State": mapping.get("State"),
            "ReportBatchItemFailures": "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])},
            f"batches of {batch}, partial failures reported")

    def live_alias(self, function: str) -> str:
        """The ARN of a function's alias ``live``: what the stack's event source, rules and schedules invoke."""
        return f"{self.function_configs[function]['FunctionArn']}:live"

    def live_version(self, function: str) -> str | None:
        arn = self.function_configs[function]["FunctionArn"]
        aliases = self.client("lambda").list_aliases(FunctionName=self.function_configs[function]["FunctionName"])["Aliases"]
        versions = [a["FunctionVersion"] for a in aliases if a.get("Name") == "live"]
        return f"{arn}:{versions[0]}" if versions else None

    # ----- entry points ----------------------------------------------------------------------------------
    def rules(self) -> None:
        from functions.core.deployment import RULE_INPUT_PATHS
        from infrastructure.stack import SWEEP_RATE

        events = self.client("events")
        scheduler_arn = self.live_alias("SchedulerFunction")  # the alias "live" (SnapStart applies to versions)
        for workflow, error in self.expected.schedule_errors.items():
            self.result.add(f"rule of {workflow}", False, f"its schedule cannot be deployed: {error}")
        expected_names = set()
        stack_rules = {r.get("PhysicalResourceId") for r in self.stack.of_type("AWS::Events::Rule")}
        for spec, config in self.expected.schedules:
            if spec.kind != "rule":
                continue
            expected_names.add(spec.name)
            label = f"rule {spec.name}"
            try:
                rule = events.describe_rule(Name=spec.name)
            except events.exceptions.ResourceNotFoundException:
                self.result.add(f"{label} schedule", False, f"expected a rule named {spec.name} for workflow "
                                f"{spec.workflow}, found none")
                continue
            targets = events.list_targets_by_rule(Rule=spec.name)["Targets"]
            self.result.expect(f"{label} schedule",
                               (spec.expression, "ENABLED" if config.active else "DISABLED", "created by the stack"),
                               (rule.get("ScheduleExpression"), rule.get("State"),
                                "created by the stack" if spec.name in stack_rules else "not a resource of the stack"),
                               f"{spec.expression}, {rule.get('State')}")
            wanted = {"Arn": scheduler_arn, "InputPathsMap": RULE_INPUT_PATHS,
                      "renders": render(spec.target_input["input_template"], RULE_INPUT_PATHS)}
            self.result.expect(f"{label} target", [wanted], [
                {"Arn": t.get("Arn"), "InputPathsMap": (t.get("InputTransformer") or {}).get("InputPathsMap"),
                 "renders": render((t.get("InputTransformer") or {}).get("InputTemplate"),
                                   (t.get("InputTransformer") or {}).get("InputPathsMap") or {})} for t in targets],
                f"the scheduler receives {json.dumps(wanted['renders'])} for an event at {SAMPLE_EVENT['time']}")
        sweep_name = self.stack.physical_id("AWS::Events::Rule", SWEEP_RULE)
        expected_names.add(sweep_name)
        minutes = int(SWEEP_RATE.to_minutes())
        rule = events.describe_rule(Name=sweep_name)
        targets = events.list_targets_by_rule(Rule=sweep_name)["Targets"]
        self.result.expect(f"sweep rule {sweep_name}",
                           (f"rate({minutes} minute{'s' if minutes != 1 else ''})", "ENABLED",
                            [{"Arn": scheduler_arn, "Input": SWEEP_INPUT}]),
                           (rule.get("ScheduleExpression"), rule.get("State"),
                            [{"Arn": t.get("Arn"), "Input": json.loads(t["Input"]) if t.get("Input") else None}
                             for t in targets]),
                           f"every {minutes} minutes, {json.dumps(SWEEP_INPUT)} to the scheduler")
        extra = sorted(r["PhysicalResourceId"] for r in self.stack.of_type("AWS::Events::Rule")
                       if r.get("PhysicalResourceId") not in expected_names)
        if extra:
            self.result.unchecked.append(f"AWS::Events::Rule not derived from a workflow: {', '.join(extra)}")

    def scheduler_schedules(self) -> None:
        wanted = [(spec, config) for spec, config in self.expected.schedules if spec.kind == "schedule"]
        if not wanted:
            return
        scheduler = self.client("scheduler")
        scheduler_arn = self.live_alias("SchedulerFunction")
        roles = {r["PhysicalResourceId"] for r in self.stack.of_type("AWS::IAM::Role")}
        in_stack = {r.get("PhysicalResourceId") for r in self.stack.of_type("AWS::Scheduler::Schedule")}
        for spec, config in wanted:
            try:
                found = scheduler.get_schedule(Name=spec.name, GroupName=spec.group or "default")
            except scheduler.exceptions.ResourceNotFoundException:
                self.result.add(f"schedule {spec.name}", False, f"expected a Scheduler schedule named {spec.name} "
                                f"in group {spec.group or 'default'} for workflow {spec.workflow}, found none")
                continue
            target = found.get("Target") or {}
            self.result.expect(f"schedule {spec.name}", {
                "expression": spec.expression, "timezone": spec.timezone,
                "state": "ENABLED" if config.active else "DISABLED",
                "target": scheduler_arn, "input": json.loads(spec.target_input["input"]), "role of the stack": True,
                "created by the stack": True}, {
                "expression": found.get("ScheduleExpression"), "timezone": found.get("ScheduleExpressionTimezone"),
                "state": found.get("State"), "target": target.get("Arn"),
                "input": json.loads(target["Input"]) if target.get("Input") else None,
                "role of the stack": str(target.get("RoleArn")).rsplit("/", 1)[-1] in roles,
                "created by the stack": spec.name in in_stack},
                f"{spec.expression} in {spec.timezone}, invoking the scheduler")

    # ----- failure paths ---------------------------------------------------------------------------------
    def failure_paths(self) -> None:
        """Where an event that did not become a run goes: the scheduler dead-letter queue, from every rule's
        and Scheduler schedule's target and from the scheduler function; both dead-letter queues keep it
        two weeks, encrypted. A missing rule or schedule is the rules' and schedules' finding, not repeated."""
        from infrastructure.schedules import MAX_EVENT_AGE, RETRY_ATTEMPTS

        dead_letters = self.scheduler_dead_letter_arn
        retry = {"MaximumRetryAttempts": RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds())}
        events = self.client("events")
        rules = [(f"rule {spec.name}", spec.name, retry) for spec, _ in self.expected.schedules if spec.kind == "rule"]
        sweep = self.stack.find("AWS::Events::Rule", SWEEP_RULE)
        if sweep is not None:  # the rules section names its absence; its retries are the sweep's own (none)
            rules.append((f"sweep rule {sweep['PhysicalResourceId']}", sweep["PhysicalResourceId"], None))
        for label, name, retry_policy in rules:
            try:
                targets = events.list_targets_by_rule(Rule=name)["Targets"]
            except events.exceptions.ResourceNotFoundException:
                continue
            wanted = {"DeadLetterConfig.Arn": dead_letters, **({"RetryPolicy": retry_policy} if retry_policy else {})}
            self.target_dead_letters(f"{label} dead-letter queue", wanted, targets)
        self.schedule_dead_letters(dead_letters, retry)
        self.function_dead_letters(dead_letters)
        self.dead_letter_queues()

    def target_dead_letters(self, name: str, wanted: dict[str, Any], targets: list[dict[str, Any]]) -> None:
        problems = [f"target {t.get('Id')}: {problem}" for t in targets for problem in differences(wanted, {
            "DeadLetterConfig.Arn": (t.get("DeadLetterConfig") or {}).get("Arn"), "RetryPolicy": t.get("RetryPolicy")})]
        if not targets:
            problems = [f"expected a target dead-lettering to {wanted['DeadLetterConfig.Arn']}, found no target"]
        retries = wanted.get("RetryPolicy")
        self.result.add(name, not problems, "; ".join(problems) or (
            f"undeliverable events go to {wanted['DeadLetterConfig.Arn'].rsplit(':', 1)[-1]}" + (
                f" after {retries['MaximumRetryAttempts']} retries within {retries['MaximumEventAgeInSeconds']} s"
                if retries else "")))

    def schedule_dead_letters(self, dead_letters: str, retry: dict[str, int]) -> None:
        scheduler = self.client("scheduler")
        roles: set[str] = set()
        for spec, _ in self.expected.schedules:
            if spec.kind != "schedule":
                continue
            try:
                target = scheduler.get_schedule(Name=spec.name, GroupName=spec.group or "default").get("Target") or {}
            except scheduler.exceptions.ResourceNotFoundException:
                continue
            target.setdefault("Id", "of the schedule")
            self.target_dead_letters(f"schedule {spec.name} dead-letter queue",
                                     {"DeadLetterConfig.Arn": dead_letters, "RetryPolicy": retry}, [target])
            if target.get("RoleArn"):
                roles.add(str(target["RoleArn"]).rsplit("/", 1)[-1])
        for role in sorted(roles):
            self.role_may_send(role, dead_letters)

    def role_may_send(self, role: str, queue_arn: str) -> None:
        """Scheduler sends an undeliverable event with the schedule's role: its policies must allow
        sqs:SendMessage on the queue (read, not evaluated: moto evaluates no policy)."""
        iam = self.client("iam")
        documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                     for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            documents.append(iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy[
                "DefaultVersionId"])["PolicyVersion"]["Document"])
        documents = [json.loads(d) if isinstance(d, str) else d for d in documents]
        statements = [s for d in documents for s in _listed(d.get("Statement"))]
        allowed = [s for s in statements if s.get("Effect") == "Allow" and queue_arn in _listed(s.get("Resource"))
                   and {"sqs:SendMessage", "sqs:*", "*"} & {str(a) for a in _listed(s.get("Action"))}]
        self.result.add(f"schedule role {role} may send to the scheduler dead-letter queue", bool(allowed),
                        "sqs:SendMessage on it (the statement was read; moto evaluates no policy)" if allowed else
                        f"expected a statement allowing sqs:SendMessage on {queue_arn}, found "
                        f"{[(s.get('Action'), s.get('Resource')) for s in statements] or 'no statement'}")

    def function_dead_letters(self, dead_letters: str) -> None:
        """The scheduler function's failed asynchronous invocations: its DeadLetterConfig, when the
        stand-in keeps it; else what the deployed template asks, and a note."""
        config = self.function_configs["SchedulerFunction"]
        if "DeadLetterConfig" in config:
            self.result.expect("function scheduler dead-letter queue", dead_letters,
                               (config.get("DeadLetterConfig") or {}).get("TargetArn"),
                               "failed asynchronous invocations go to the scheduler dead-letter queue")
            return
        function_id = self.stack.template_id("SchedulerFunction") or "SchedulerFunction<hash>"
        queue_id = self.stack.template_id(SCHEDULER_DEAD_LETTER_QUEUE) or f"{SCHEDULER_DEAD_LETTER_QUEUE}<hash>"
        asked = ((self.stack.template.get(function_id, {}).get("Properties") or {}).get("DeadLetterConfig") or {}).get(
            "TargetArn")
        self.result.expect("function scheduler dead-letter queue, as the deployed template asks it",
                           {"Fn::GetAtt": [queue_id, "Arn"]}, asked,
                           f"TargetArn: {queue_id}'s ARN (moto drops the property: see the note)")
        self.result.not_checkable.append(
            "the scheduler function's DeadLetterConfig (failed asynchronous invocations → the scheduler dead-letter "
            "queue): moto's Lambda drops it (its CloudFormation model passes CreateFunction only Description, "
            "MemorySize, Publish, Timeout, VpcConfig, Environment and ReservedConcurrentExecutions, and its "
            "functions have no DeadLetterConfig at all), so GetFunctionConfiguration shows none; only the deployed "
            "template's property was checked")

    def dead_letter_queues(self) -> None:
        from infrastructure.stack import DEAD_LETTER_RETENTION

        seconds = int(DEAD_LETTER_RETENTION.to_seconds())
        for label, construct_id in (("runs", DEAD_LETTER_QUEUE), ("scheduler", SCHEDULER_DEAD_LETTER_QUEUE)):
            attributes = self.queue_attributes(self.stack.physical_id("AWS::SQS::Queue", construct_id))
            self.result.compare(f"{label} dead-letter queue retention and encryption", {
                "MessageRetentionPeriod": seconds, "SqsManagedSseEnabled": "true"}, {
                "MessageRetentionPeriod": int(attributes.get("MessageRetentionPeriod") or 0) or None,
                "SqsManagedSseEnabled": attributes.get("SqsManagedSseEnabled")},
                f"keeps a message {seconds} s ({seconds // 86400} days), SSE-SQS (also moto's and AWS's default "
                "for a new queue: this shows it is encrypted, not that the template asked it)")

    # ----- alarms ----------------------------------------------------------------------------------------
    @cached_property
    def alarm_topic(self) -> str:
        return self.stack.physical_id("AWS::SNS::Topic", ALARM_TOPIC)

    def expected_alarms(self) -> dict[str, dict[str, Any]]:
        """Alarm name → what it must watch and notify, derived from the stack (``infrastructure.alarms``):
        each dead-letter queue's depth > 0, each function's Errors and Throttles >= 1, on the created
        queues and functions, one 5-minute period, missing data not breaching, the topic told of both
        ALARM and OK."""
        from infrastructure.alarms import PERIOD

        common = {"Period": int(PERIOD.to_seconds()), "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
                  "TreatMissingData": "notBreaching", "ActionsEnabled": True,
                  "AlarmActions": [self.alarm_topic], "OKActions": [self.alarm_topic], "created by the stack": True}
        alarms = {}
        for construct_id, name in DEAD_LETTER_ALARMS.items():
            queue = self.created("AWS::SQS::Queue", construct_id).rsplit("/", 1)[-1]
            alarms[f"{self.settings.prefix}-{name}"] = {
                "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": {"QueueName": queue}, "Statistic": "Maximum",
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, **common}
        for construct_id in ENTRY_POINTS:
            function = self.function_configs[construct_id]["FunctionName"]
            for metric in ("Errors", "Throttles"):
                alarms[f"{self.settings.prefix}-{_short(construct_id)}-{metric.lower()}"] = {
                    "Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": {"FunctionName": function},
                    "Statistic": "Sum", "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1,
                    **common}
        return alarms

    def alarms(self) -> None:
        topic = self.alarm_topic
        expected = self.expected_alarms()
        self.covered_alarms = set(expected)
        found = {a["AlarmName"]: a for a in self.client("cloudwatch").describe_alarms(
            AlarmNames=sorted(expected))["MetricAlarms"]}
        in_stack = {r.get("PhysicalResourceId") for r in self.stack.of_type("AWS::CloudWatch::Alarm")}
        for name, wanted in expected.items():
            alarm = found.get(name)
            watched = f"{wanted['Namespace']} {wanted['MetricName']} {json.dumps(wanted['Dimensions'])}"
            if alarm is None:
                self.result.add(f"alarm {name}", False, f"expected an alarm named {name} on {watched}, "
                                f"notifying {topic}, found none")
                continue
            self.result.compare(f"alarm {name}", wanted, {
                **{key: alarm.get(key) for key in wanted},
                "Dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
                "created by the stack": name in in_stack},
                f"{watched} {'>' if wanted['Threshold'] == 0 else '>='} {wanted['Threshold']}, notifies the topic")
        self.alarm_topic_checks(topic)
        self.subscriptions(topic)

    def alarm_topic_checks(self, topic: str) -> None:
        """The topic the alarms notify: its name, and no key of its own (infrastructure.alarms says why)."""
        attributes = self.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
        self.result.compare(f"alarm topic {topic.rsplit(':', 1)[-1]}", {
            "name": f"{self.settings.prefix}-alarms", "KmsMasterKeyId": None}, {
            "name": topic.rsplit(":", 1)[-1], "KmsMasterKeyId": attributes.get("KmsMasterKeyId")},
            "named after the stage, no customer-managed key (alarm names and states only)")

    def subscriptions(self, topic: str) -> None:
        """The e-mail subscription the deploy asked (``alarm_email``), and no other."""
        email = self.options.alarm_email
        in_stack = {r.get("PhysicalResourceId") for r in self.stack.of_type("AWS::SNS::Subscription")}
        found = [{"Protocol": s.get("Protocol"), "Endpoint": s.get("Endpoint"),
                  "created by the stack": s.get("SubscriptionArn") in in_stack}
                 for s in self.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
        wanted = [{"Protocol": "email", "Endpoint": email, "created by the stack": True}] if email else []
        self.result.expect("alarm topic subscriptions", wanted, found,
                           f"e-mail to {email}, as {self.options.source} asks" if email else
                           f"none, as {self.options.source} asks")
        if email:
            self.result.not_checkable.append(f"the e-mail subscription of {email}: moto confirms it at once and "
                                             "sends nothing (AWS e-mails a confirmation link first)")

    # ----- concurrency -----------------------------------------------------------------------------------
    def concurrency(self) -> None:
        """Each function's reserved concurrency as the deploy asked (none by default), and the worker's event
        source polling no more batches at once than the worker may run (its MaximumConcurrency)."""
        reserved, source = self.options.reserved_concurrency, self.options.source
        lambda_ = self.client("lambda")
        for construct_id, config in self.function_configs.items():
            name = _short(construct_id)
            found = lambda_.get_function_concurrency(FunctionName=config["FunctionName"]).get(
                "ReservedConcurrentExecutions")
            self.result.expect(f"function {name} reserved concurrency", reserved.get(name), found,
                               f"{found if found is not None else 'none'}, as {source} asks")
        worker = (self.live_alias("WorkerFunction"), self.live_version("WorkerFunction"))
        mappings = [m for m in lambda_.list_event_source_mappings(EventSourceArn=self.queue_arn)["EventSourceMappings"]
                    if m.get("FunctionArn") in worker]
        if len(mappings) == 1:  # otherwise the event source section says what it found
            found = (mappings[0].get("ScalingConfig") or {}).get("MaximumConcurrency")
            self.result.expect("worker event source maximum concurrency", self.options.limits.worker_max_concurrency,
                               found, f"{found if found is not None else 'unbounded'} (worker_max_concurrency, else "
                               f"the worker's reservation), as {source} asks")

    def secrets(self) -> None:
        secretsmanager = self.client("secretsmanager")
        created = {r["PhysicalResourceId"] for r in self.stack.of_type("AWS::SecretsManager::Secret")}
        wanted = [("admin token secret", self.settings.admin_token_secret_name)] + [
            (f"webhook secret of {name}:", self.settings.webhook_secret_name(name))
            for name, config in self.expected.webhooks if config.webhook_auth != "none"]
        for label, name in wanted:
            try:
                described = secretsmanager.describe_secret(SecretId=name)
                value = secretsmanager.get_secret_value(SecretId=name).get("SecretString") or ""
            except secretsmanager.exceptions.ResourceNotFoundException:
                self.result.add(f"{label} {name}", False, f"expected a secret named {name}, found none")
                continue
            in_stack = described["ARN"] in created
            self.result.add(f"{label} {name}", bool(value) and in_stack,
                            f"created by the stack, a generated value of {len(value)} characters" if value and in_stack
                            else f"expected a stack-created secret with a value, found "
                                 f"{'no value' if not value else 'a secret the stack did not create'}")

    def api(self) -> None:
        apigateway = self.client("apigateway")
        stage = apigateway.get_stage(restApiId=self.rest_api_id, stageName=self.settings.stage)
        deployments = {d["id"] for d in apigateway.get_deployments(restApiId=self.rest_api_id)["items"]}
        self.result.add(f"API stage {self.settings.stage}", stage.get("deploymentId") in deployments,
                        f"deployment {stage.get('deploymentId')}" if stage.get("deploymentId") in deployments
                        else f"expected one of the API's deployments {sorted(deployments)}, found "
                             f"{stage.get('deploymentId')!r}")
        api_function = self.function_configs["ApiFunction"]
        aliases = {a["AliasArn"]: a for a in self.client("lambda").list_aliases(
            FunctionName=api_function["FunctionName"])["Aliases"]}
        resources = apigateway.get_resources(restApiId=self.rest_api_id, embed=["methods"])["items"]
        uris = {f"{r['path']} {method}": ((spec.get("methodIntegration") or {}).get("uri") or "")
                for r in resources for method, spec in (r.get("resourceMethods") or {}).items()}
        invoked = {key: uri.split("/functions/", 1)[-1].removesuffix("/invocations") for key, uri in uris.items()}
        wrong = {key: arn for key, arn in invoked.items() if arn not in aliases}
        targets = ", ".join(sorted(set(invoked.values())))
        self.result.add("API Gateway invokes the api function's alias", bool(invoked) and not wrong,
                        f"{', '.join(sorted(invoked))} → {targets}" if invoked and not wrong else
                        f"expected every method to invoke one of {sorted(aliases) or 'no alias'}, "
                        f"found {wrong or 'no method'}")
        for arn in sorted(set(invoked.values()) & set(aliases)):
            version = aliases[arn]["FunctionVersion"]
            self.result.add(f"alias {arn.rsplit(':', 1)[1]} points at a published version", version != "$LATEST",
                            f"version {version} (SnapStart applies to published versions)")
            self.alias_permission(arn)

    def alias_permission(self, alias_arn: str) -> None:
        function, alias = alias_arn.rsplit(":", 1)
        policy = json.loads(self.client("lambda").get_policy(FunctionName=function, Qualifier=alias)["Policy"])
        source = f":{self.rest_api_id}/"
        allowed = [s for s in policy["Statement"] if s.get("Resource") == alias_arn
                   and (s.get("Principal") or {}).get("Service") == "apigateway.amazonaws.com"
                   and source in json.dumps(s.get("Condition") or {})]
        self.result.add(f"API Gateway may invoke alias {alias}", bool(allowed),
                        f"{len(allowed)} statements for API {self.rest_api_id}" if allowed else
                        f"expected an apigateway.amazonaws.com statement on {alias_arn} for API {self.rest_api_id}, "
                        f"found {[s.get('Resource') for s in policy['Statement']]}")

    def run_data(self) -> None:
        """The run-data bucket as S3 answers for it (private, encrypted, expiring with the runs, TLS only), or
        as the deployed template asks it where moto's CloudFormation drops the property; and named in every
        function's environment and in the stack's outputs."""
        from botocore.exceptions import ClientError

        from infrastructure.run_data import MARGIN_DAYS

        bucket = self.created("AWS::S3::Bucket", "RunData")
        template_id = self.stack.template_id("RunData") or "RunData<hash>"
        asked = (self.stack.template.get(template_id, {}).get("Properties") or {})
        s3 = self.client("s3")
        days = self.settings.run_retention_days + MARGIN_DAYS
        checks: list[tuple[str, Callable[[], Any], Any, Callable[[dict[str, Any]], Any], str]] = [
            ("blocks public access", lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
             dict.fromkeys(("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True),
             lambda props: props.get("PublicAccessBlockConfiguration"), "PublicAccessBlockConfiguration"),
            ("encryption", lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
                "Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256",
             lambda props: props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [{}])[0].get(
                 "ServerSideEncryptionByDefault", {}).get("SSEAlgorithm"), "BucketEncryption"),
            ("lifecycle", lambda: [(r.get("Status"), r.get("Expiration", {}).get("Days"),
                                    r.get("Prefix", (r.get("Filter") or {}).get("Prefix")))
                                   for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]],
             [("Enabled", days, "runs/")],
             lambda props: [(r.get("Status"), r.get("ExpirationInDays"), r.get("Prefix"))
                            for r in props.get("LifecycleConfiguration", {}).get("Rules", [])], "LifecycleConfiguration"),
        ]
        for what, read, wanted, from_template, prop in checks:
            try:
                self.result.expect(f"run-data bucket {what}", wanted, read())
            except ClientError as exc:
                self.result.expect(f"run-data bucket {what}, as the deployed template asks it", wanted,
                                   from_template(asked), f"{prop} (moto's S3 has none: see the note)")
                self.result.not_checkable.append(
                    f"the run-data bucket's {prop}: moto's CloudFormation does not apply it to the bucket "
                    f"({exc.response['Error']['Code']}); only the deployed template's property was checked")
        try:
            statements, where = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"], ""
        except ClientError as exc:
            statements = [st for r in self.stack.template.values() if r.get("Type") == "AWS::S3::BucketPolicy"
                          for st in r["Properties"]["PolicyDocument"]["Statement"]]
            where = ", as the deployed template asks it"
            self.result.not_checkable.append(
                f"the run-data bucket's policy: moto's CloudFormation does not attach it ({exc.response['Error']['Code']}); "
                "only the deployed template's AWS::S3::BucketPolicy was checked")
        denies = [st for st in statements if st.get("Effect") == "Deny"
                  and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        self.result.add(f"run-data bucket refuses requests without TLS{where}", bool(denies),
                        "a Deny on aws:SecureTransport false" if denies else f"bucket policy: {statements}")
        named = {cid.removesuffix("Function").lower(): (c.get("Environment") or {}).get("Variables", {}).get(
            "WFP_RUN_DATA_BUCKET") for cid, c in self.function_configs.items()}
        self.result.expect("functions name the run-data bucket", dict.fromkeys(named, bucket), named)
        self.result.expect("output RunDataBucket", bucket, self.stack.outputs.get("RunDataBucket", "<missing>"))

    def outputs(self) -> None:
        from infrastructure.stack import output_id

        base = f"https://{self.rest_api_id}.execute-api.{self.region}.amazonaws.com/{self.settings.stage}/"
        wanted = {"ApiUrl": base, "DashboardUrl": f"{base}dashboard/",
                  "AdminTokenSecret": self.settings.admin_token_secret_name}
        wanted.update({output_id("WebhookUrl", name): f"{base}api/webhooks/{name}"
                       for name, _ in self.expected.webhooks})
        for key, value in wanted.items():
            self.result.expect(f"output {key}", value, self.stack.outputs.get(key, "<missing>"))

    def others(self) -> None:
        """Kinds other parts of the stack add (SNS topics, alarms...) that no section above compared: each
        exists, or is listed."""
        alarm_topic = self.stack.find("AWS::SNS::Topic", ALARM_TOPIC) if "alarm_topic" in self.__dict__ else None
        for topic in self.stack.of_type("AWS::SNS::Topic"):
            if topic is alarm_topic:
                continue
            arn = topic["PhysicalResourceId"]
            self.client("sns").get_topic_attributes(TopicArn=arn)
            self.result.add(f"SNS topic {topic['LogicalResourceId']}", True, arn)
        topics = {t["PhysicalResourceId"] for t in self.stack.of_type("AWS::SNS::Topic")}
        for alarm in self.stack.of_type("AWS::CloudWatch::Alarm"):
            name = alarm["PhysicalResourceId"]
            if name in self.covered_alarms:
                continue
            found = self.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
            actions = [a for f in found for a in f.get("AlarmActions") or []]
            dangling = [a for a in actions if a.startswith("arn:aws:sns:") and a not in topics]
            self.result.add(f"alarm {name}", bool(found) and not dangling,
                            f"notifies {', '.join(actions) or 'nobody'}" if found and not dangling else
                            f"expected an alarm notifying existing topics, found "
                            f"{'no alarm' if not found else 'actions on unknown topics ' + ', '.join(dangling)}")
        if self.stack.of_type("AWS::Lambda::LayerVersion"):
            layers = self.client("lambda").list_layers()["Layers"]
            names = [layer["LayerName"] for layer in layers]
            self.result.add("layers published (the shared one, the durable function's)",
                            any("SharedLayer" in n for n in names) and any("DurableLayer" in n for n in names),
                            ", ".join(names) or "none")
        runs_queues = self.stack.logical_ids("AWS::SQS::Queue", [RUNS_QUEUE, DEAD_LETTER_QUEUE,
                                                                 SCHEDULER_DEAD_LETTER_QUEUE])
        for queue in self.stack.of_type("AWS::SQS::Queue"):
            if queue["LogicalResourceId"] not in runs_queues:
                arn = self.queue_attributes(queue["PhysicalResourceId"])["QueueArn"]
                self.result.add(f"queue {queue['LogicalResourceId']}", True, arn)
        kinds: dict[str, int] = {}
        for resource in self.stack.resources.values():
            kind = resource.get("ResourceType", "?")
            if kind not in COVERED and kind != "AWS::SQS::Queue":
                kinds[kind] = kinds.get(kind, 0) + 1
        self.result.unchecked += [f"{kind} ×{count}" for kind, count in sorted(kinds.items())]

    # ----- what the stand-in cannot show -------------------------------------------------------------------
    def notes(self) -> None:
        notes = self.result.not_checkable
        for kind, count in sorted(self.stack.not_created().items()):
            if kind == "AWS::CDK::Metadata":
                continue  # the CDK's version report, no part of the platform
            notes.append(f"{kind} ×{count}: in the template, not created (moto has no CloudFormation model for it)")
        notes.append("tables' point-in-time recovery and encryption: moto's CloudFormation ignores "
                     "PointInTimeRecoverySpecification and SSESpecification")
        if "function_configs" in self.__dict__:  # read by a check above
            from infrastructure.stack import ARCHITECTURE

            found = sorted({a for c in self.function_configs.values() for a in c.get("Architectures") or []})
            notes.append(f"functions' architecture ({ARCHITECTURE.name} asked; moto reads {', '.join(found)}), "
                         "layers, SnapStart, tracing and log configuration: moto's CloudFormation ignores them")
        notes.append("API stage throttling, access logs and method settings: the stand-in's Stage keeps none of them")
        notes.append("IAM: moto does not evaluate policies, so no grant was tested; nothing was invoked "
                     "(moto runs Lambda code only with Docker)")


def verify(stack_name: str, registry: Registry, *, settings: Settings | None = None,
           session: Any = None, context: Mapping[str, Any] | None = None) -> Verification:
    """Verify ``stack_name`` (``wfp-<stage>``) against the platform; see the module docstring.

    ``context``: the CDK context the stack was deployed with (the ``-c`` values, without the stage), from
    which the alarm e-mail and reserved concurrency checks take what was asked; without it they take it
    from the deployed template (which then checks only that moto created what the template says)."""
    return Verifier(stack_name, registry, settings=settings, session=session, context=context).run()


# ----- helpers ------------------------------------------------------------------------------------------
def _short(construct_id: str) -> str:
    """A function's name as ``reserved_concurrency`` and the alarms write it: "WorkerFunction" → "worker"."""
    return construct_id.removesuffix("Function").lower()


def _listed(value: Any) -> list[Any]:
    """A policy element that is one value or a list of them, as a list."""
    return value if isinstance(value, list) else [] if value is None else [value]


def differences(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """``key: expected X, found Y`` for each key of ``expected`` whose value ``found`` does not have."""
    return [f"{key}: expected {value!r}, found {found.get(key)!r}" for key, value in expected.items()
            if found.get(key) != value]


def _index_view(index: dict[str, Any]) -> dict[str, Any]:
    keys = {k["KeyType"]: k["AttributeName"] for k in index.get("KeySchema") or []}
    projection = index.get("Projection") or {}
    return {"keys": (keys.get("HASH"), keys.get("RANGE")), "projection": projection.get("ProjectionType"),
            "non_key_attributes": sorted(projection.get("NonKeyAttributes") or [])}


def _spec_index_view(index: dict[str, Any]) -> dict[str, Any]:
    return {"keys": (index["partition_key"][0], index["sort_key"][0] if index["sort_key"] else None),
            "projection": index["projection"], "non_key_attributes": sorted(index["non_key_attributes"])}


def table_differences(spec: Any, table: dict[str, Any]) -> list[str]:
    """What differs between a model's table (``TableSpec``) and DescribeTable's answer, readably."""
    problems = []
    keys = {k["KeyType"]: k["AttributeName"] for k in table.get("KeySchema") or []}
    wanted_keys = (spec.partition_key[0], spec.sort_key[0] if spec.sort_key else None)
    if (keys.get("HASH"), keys.get("RANGE")) != wanted_keys:
        problems.append(f"keys: expected {wanted_keys}, found {(keys.get('HASH'), keys.get('RANGE'))}")
    types = dict(k for k in [spec.partition_key, spec.sort_key] if k)
    for index in spec.global_indexes + spec.local_indexes:
        types.update(dict(k for k in [index["partition_key"], index["sort_key"]] if k))
    found_types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions") or []}
    if found_types != types:
        problems.append(f"attribute types: expected {types}, found {found_types}")
    for kind, wanted, found in (("global index", spec.global_indexes, table.get("GlobalSecondaryIndexes")),
                                ("local index", spec.local_indexes, table.get("LocalSecondaryIndexes"))):
        wanted_views = {i["name"]: _spec_index_view(i) for i in wanted}
        found_views = {i["IndexName"]: _index_view(i) for i in found or []}
        for name in sorted(set(wanted_views) | set(found_views)):
            if wanted_views.get(name) != found_views.get(name):
                problems.append(f"{kind} {name}: expected {wanted_views.get(name) or 'none'}, "
                                f"found {found_views.get(name) or 'none'}")
    return problems


def render(template: str | None, paths: dict[str, str], event: dict[str, Any] = SAMPLE_EVENT) -> Any:
    """An input transformer's output for ``event``, as EventBridge builds it: ``<name>`` takes the JSON
    value at the name's path, ``"<name>"`` its text (the same for a string). None when it is not JSON."""
    if template is None:
        return None

    def value(name: str) -> Any:
        current: Any = event
        for part in paths.get(name, "").removeprefix("$.").split("."):
            current = current.get(part) if isinstance(current, dict) else None
        return current

    text = re.sub(r'"<([A-Za-z0-9_.-]+)>"', lambda m: json.dumps(str(value(m.group(1)))), template)
    text = re.sub(r"<([A-Za-z0-9_.-]+)>", lambda m: json.dumps(value(m.group(1))), text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def top_level_names(source: str) -> set[str]:
    """Names a module defines at its top level (functions, classes, assignments), without importing it."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def find_package(s3: Any, size: int, sha256_b64: str, buckets: Iterable[str] | None = None) -> bytes | None:
    """The S3 object of ``size`` bytes whose SHA-256 (base64, Lambda's CodeSha256) matches, if any."""
    if not size or not sha256_b64:
        return None
    for bucket in buckets if buckets is not None else [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if item["Size"] != size:
                    continue
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                if base64.b64encode(hashlib.sha256(body).digest()).decode() == sha256_b64:
                    return body
    return None
