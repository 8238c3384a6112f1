"""The platform on AWS, one stack per stage (``wfp-dev``, ``wfp-prod``: separate tables, secrets, URLs).

    API Gateway (REST, stage = the stage name) ──► Lambda api ──┐
    EventBridge rules (one per scheduled workflow) ► Lambda scheduler ─┼─► DynamoDB tables (from the models)
    SQS queue (+ dead-letter queue) ─────────────► Lambda worker ──┘    Secrets Manager <prefix>/*
    EventBridge rate rule (every 5 minutes) ─────► Lambda scheduler: the stale-run sweep
    Lambda durable (infrastructure.durable) ◄── the engine (api, worker, scheduler): durable workflows' executions
    all four: Python 3.13 on arm64, the shared layer (dependencies + plugins + manifest)

What depends on the plugins (rules, webhook secrets and URLs, timeouts) is read from the plugin
registry given to the stack, i.e. from the layer's manifest: the stack schedules exactly the plugins
it deploys. Each function's role grants only what that function uses: on DynamoDB the operations its
stores declare (``functions.stores.base``), on Secrets Manager reads under ``<prefix>/``; the only
``Resource: "*"`` is X-Ray's (its actions have no resource-level permission).

Nothing fails silently: a queued run that failed every delivery goes to the runs dead-letter queue; a
scheduled event EventBridge could not deliver, or that the scheduler function failed on every retry,
goes to the scheduler dead-letter queue; every dead-letter queue and every function's errors and
throttles have a CloudWatch alarm on one SNS topic (``infrastructure.alarms``).

Static checks: cdk-nag on every synthesis, cfn-lint and checkov in the tests; each finding this stack
does not fix is answered next to its resource with the reason (``infrastructure.nag``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import (
    Annotations,
    ArnFormat,
    Aws,
    CfnOutput,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.usage import STACK_MEMORY_MB
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Registry
from functions.settings import TABLES, Settings
from functions.stores import all_models

from .alarms import Alarms
from .durable import DurableFunction, durable_workflows
from .durable import qualified_name as durable_function_name
from .limits import Limits
from .nag import acknowledge, checkov_skip
from .notices import grant_failure_handling, names_error_workflow
from .run_data import run_data_bucket
from .schedules import (
    Schedules,
    allow_rules_to_dead_letter,
    dead_letter_undelivered,
    schedule_workflows,
)
from .tables import TableSpec, grant_operations, model_table

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
#: API Gateway's REST integration limit: an api invocation never outlives the request.
API_TIMEOUT = Duration.seconds(29)
#: Seconds the scheduler and worker keep after a workflow's own timeout to record its run.
RUN_MARGIN_SECONDS = 30
MAX_LAMBDA_SECONDS = 900
#: Settings the stack decides itself (names it derives, what differs per function): the others come from
#: the environment the app is synthesized in (``WFP_MAX_ATTEMPTS=5 wfp deploy``), like the functions' own.
STACK_SETTINGS = frozenset({"stage", "prefix", *TABLES, "plugins_dir", "manifest", "queue_url", "admin_token",
                            "admin_token_secret", "require_webhook_secrets", "sync_overflow",
                            "durable_function"})


def deployed_settings(settings: Settings) -> dict[str, str]:
    """``WFP_<SETTING>`` for every setting the synthesis environment set (and the stack does not decide),
    so the deployed functions run with what the deployer asked for; ``max_attempts`` always, because
    the queue's redrive (its ``maxReceiveCount``) is built from it and the worker must agree."""
    names = (settings.model_fields_set - STACK_SETTINGS) | {"max_attempts"}
    return {f"WFP_{name.upper()}": str(getattr(settings, name)) for name in sorted(names)}
#: How often the stale-run sweep runs (``functions.core.sweep``); at rest it costs one Query of each (empty)
#: open-runs shard: ``WFP_OPEN_RUN_SHARDS`` + 1 (65 by default), about 9,000 read units a day.
SWEEP_RATE = Duration.minutes(5)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
#: How long a dead-letter queue keeps a message (SQS's maximum): two weeks to notice and act.
DEAD_LETTER_RETENTION = Duration.days(14)
#: The functions, by the name ``reserved_concurrency`` uses (``-c reserved_concurrency=api=20,...``).
FUNCTION_NAMES = ("api", "scheduler", "worker", "durable")
#: The functions SnapStart may apply to (``snap_start``): the durable function is invoked by the durable
#: execution service on each resume, and is deployed without it.
SNAPSTART_FUNCTIONS = ("api", "scheduler", "worker")
#: Tables only the HTTP API touches (the OAuth sign-in's pending states, Idempotency-Key records, the
#: metrics views' hour aggregates); runs,
#: schedules and tokens are used wherever workflows run.
API_ONLY_TABLES = {"oauth_states_table", "idempotency_table", "metrics_table"}


@dataclass(frozen=True)
class Artifacts:
    """What ``layers.build`` produced: the layer folder (mounted at /opt) and the functions' code."""

    layer_dir: Path
    function_dir: Path
    manifest_name: str = "wfp-manifest.json"
    #: The durable function's own layer (the durable execution SDK), loaded after the shared one; None:
    #: the durable function gets the shared layer only (an app that built nothing for it).
    durable_layer_dir: Path | None = None


def webhook_workflows(registry: Registry) -> list[tuple[str, WorkflowConfig]]:
    return [(p.name, p.config) for p in registry.of_kind("workflow")
            if not p.error and isinstance(p.config, WorkflowConfig) and "webhook" in p.config.triggers]


def scheduled_workflows(registry: Registry) -> list[tuple[str, WorkflowConfig]]:
    return [(p.name, p.config) for p in registry.of_kind("workflow")
            if not p.error and isinstance(p.config, WorkflowConfig) and p.config.scheduled]


def run_timeout(configs: list[WorkflowConfig]) -> Duration:
    """Long enough for the longest workflow timeout plus the time to record the run (Lambda max 900 s)."""
    longest = max((c.timeout_seconds for c in configs), default=60)
    return Duration.seconds(min(MAX_LAMBDA_SECONDS, longest + RUN_MARGIN_SECONDS))


def output_id(prefix: str, name: str) -> str:
    return prefix + "".join(part.capitalize() for part in name.split("_"))


class PlatformStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, registry: Registry,
                 artifacts: Artifacts, throttle_rate: float = 50, throttle_burst: int = 100,
                 snap_start: bool | Collection[str] = True, reserved_concurrency: Mapping[str, int] | None = None,
                 alarm_email: str | None = None, settings: Settings | None = None, limits: Limits | None = None,
                 **kwargs: object) -> None:
        """``reserved_concurrency``: ``{"api": 20, ...}`` for the functions that get a reservation (none by
        default, see ``infrastructure.app``); ``alarm_email``: subscribed to the alarm topic when given;
        ``settings``: the deployment's (default: the stage's, with what the environment sets); ``limits``: the
        API stage's throttle and the worker's event source (``infrastructure.limits``; default: the throttle
        given and today's event source, bounded by the worker's reservation)."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.stage = stage
        #: The functions deployed with SnapStart (``snap_start``: True for all, False for none, or their names).
        self.snap_start = frozenset(SNAPSTART_FUNCTIONS if snap_start is True else () if snap_start is False else snap_start)
        self.settings = settings or Settings.of_stage(stage)
        #: Deliveries of a queued run before its message goes to the dead-letter queue: the worker reads
        #: the same setting (WFP_MAX_ATTEMPTS) to close the run as failed on the last one.
        self.max_receive_count = self.settings.max_attempts
        self.prefix = self.settings.prefix
        self.registry = registry
        self.reserved_concurrency = dict(reserved_concurrency or {})
        unknown = sorted(set(self.reserved_concurrency) - set(FUNCTION_NAMES))
        if unknown:
            raise ValueError(f"reserved_concurrency: no function named {', '.join(unknown)} "
                             f"(the functions are {', '.join(FUNCTION_NAMES)})")
        self.limits = limits or Limits(api_rate=float(throttle_rate), api_burst=throttle_burst,
                                       worker_max_concurrency=self.reserved_concurrency.get("worker"))
        removal = RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY

        # ----- data ------------------------------------------------------------------------------------------
        self.tables: dict[str, dynamodb.Table] = {}
        self.table_specs: dict[str, TableSpec] = {}
        table_env: dict[str, str] = {}
        for model in all_models():
            table, spec = model_table(self, model, removal, self.settings)
            self.tables[spec.setting] = table
            self.table_specs[spec.setting] = spec
            table_env[spec.env_var] = table.table_name

        self.admin_token = secretsmanager.Secret(
            self, "AdminToken", secret_name=self.settings.admin_token_secret_name,
            description=f"{self.prefix}: the admin token of the dashboard and API",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                        password_length=40),
            removal_policy=removal)
        acknowledge(self.admin_token, "SMG4", "The admin token is handed to people, who would be locked out "
                    "by an automatic rotation; rotate it by hand (put-secret-value) when someone leaves.")
        self._default_secret_key(self.admin_token)
        self.webhook_secrets: dict[str, secretsmanager.Secret] = {}
        for name, config in webhook_workflows(registry):
            if config.webhook_auth == "none":
                continue
            secret = secretsmanager.Secret(
                self, output_id("WebhookSecret", name), secret_name=self.settings.webhook_secret_name(name),
                description=f"{self.prefix}: what callers of the {name} webhook present (token or HMAC key)",
                generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                            password_length=40),
                removal_policy=removal)
            acknowledge(secret, "SMG4", "A webhook secret is configured in the calling service; an automatic "
                        "rotation would break it silently. Rotate it by hand with the caller.")
            self._default_secret_key(secret)
            self.webhook_secrets[name] = secret

        self.dead_letters = self._queue("RunsDeadLetterQueue", removal, retention_period=DEAD_LETTER_RETENTION)
        workflows = [p.config for p in registry.of_kind("workflow") if isinstance(p.config, WorkflowConfig)]
        worker_timeout = run_timeout(workflows)
        self.queue = self._queue(
            "RunsQueue", removal,
            # AWS's advice for a Lambda event source: six times the function's timeout, plus the batching window.
            visibility_timeout=Duration.seconds(min(12 * 3600, 6 * worker_timeout.to_seconds()
                                                    + self.limits.worker_batching_window)),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=self.max_receive_count))
        # Scheduled events that did not become a run: the scheduler function failed on them after Lambda's
        # two retries of an asynchronous invocation (the function's DeadLetterConfig), or EventBridge could
        # not deliver them at all (each rule's and Scheduler schedule's target DeadLetterConfig). One queue,
        # one alarm, one place to look; each message says which: Lambda keeps the event as the body and adds
        # the attributes ErrorCode and ErrorMessage, a rule adds RULE_ARN, ERROR_CODE and ERROR_MESSAGE,
        # Scheduler sends a JSON "dead-letter event" with the invocation's details.
        self.scheduler_dead_letters = self._queue("SchedulerDeadLetterQueue", removal,
                                                  retention_period=DEAD_LETTER_RETENTION)
        acknowledge(self.scheduler_dead_letters, "SQS3", "This queue is itself a dead-letter queue (of the "
                    "scheduler function and of the schedule targets); a message that lands here is kept 14 days "
                    "and raises an alarm, it is never redriven automatically.")
        allow_rules_to_dead_letter(self.scheduler_dead_letters, self.prefix)

        # ----- code ------------------------------------------------------------------------------------------
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer", code=lambda_.Code.from_asset(str(artifacts.layer_dir)),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
            description=f"{self.prefix}: dependencies, plugins and plugin manifest")
        code = lambda_.Code.from_asset(str(artifacts.function_dir))
        environment = {
            "WFP_STAGE": stage,
            "WFP_PREFIX": self.prefix,
            **table_env,
            "WFP_QUEUE_URL": self.queue.queue_url,
            "WFP_MANIFEST": f"/opt/{artifacts.manifest_name}",
            "WFP_PLUGINS_DIR": "/opt/python/plugins",
            # Deployed, the admin token is always required (functions.http.middleware.auth reads this secret).
            "WFP_ADMIN_TOKEN_SECRET": self.settings.admin_token_secret_name,
            "POWERTOOLS_SERVICE_NAME": "workflow-platform",
            "POWERTOOLS_METRICS_NAMESPACE": "WorkflowPlatform",
            **deployed_settings(self.settings),
        }
        scheduled = scheduled_workflows(registry)
        api_environment = {
            **environment,
            # A webhook whose secret is missing is refused, never open (functions.http.webhooks.auth).
            "WFP_REQUIRE_WEBHOOK_SECRETS": "1",
            # A Lambda cannot keep working once it has answered: a sync run that may outlast the wait
            # bound runs on the worker from the start, and the API answers 202 past the bound.
            "WFP_SYNC_OVERFLOW": "worker",
            "WFP_SYNC_WAIT_SECONDS": str(self.settings.sync_wait_seconds),
        }
        self.api_function = self._function("Api", "functions.handlers.api.handler", code, api_environment,
                                           API_TIMEOUT, memory=STACK_MEMORY_MB["api"], removal=removal,
                                           description="HTTP API and dashboard (API Gateway)",
                                           snap_start="api" in self.snap_start)
        checkov_skip(self.api_function, "CKV_AWS_116", "Only API Gateway invokes the api function, synchronously: "
                     "the caller gets the error. A function dead-letter queue applies to asynchronous invocations "
                     "only (long sync runs go to the worker through the runs queue, not by Lambda invoke).")
        # API Gateway calls the alias "live", i.e. the version published for this deployment: with
        # SnapStart a cold start restores that version's snapshot (taken after functions.handlers.api
        # imported and primed the app, see functions.handlers.snapstart) instead of importing anything.
        # Replaced versions are deleted: a SnapStart version's snapshot is billed while it exists.
        self.api_alias = lambda_.Alias(self, "ApiLive", alias_name="live", version=self.api_function.current_version,
                                       description="The version API Gateway invokes (SnapStart applies to versions)")
        # EventBridge invokes the scheduler asynchronously: Lambda retries a failed invocation twice, then
        # sends the event (its body: the tick or the sweep request) to the dead-letter queue. A
        # DeadLetterConfig rather than an on-failure destination (EventInvokeConfig): it is a property of
        # the function, which checkov (CKV_AWS_116) and moto's CloudFormation both understand, and the
        # message is the event itself, ready to be sent again; the traceback is in the function's log.
        self.scheduler_function = self._function(
            "Scheduler", "functions.handlers.scheduler.handler", code, environment,
            run_timeout([c for _, c in scheduled]), memory=STACK_MEMORY_MB["scheduler"], removal=removal,
            description="Scheduled runs (EventBridge rules)", dead_letter_queue=self.scheduler_dead_letters,
            snap_start="scheduler" in self.snap_start)
        self.worker_function = self._function("Worker", "functions.handlers.worker.handler", code,
                                              environment,
                                              worker_timeout, memory=STACK_MEMORY_MB["worker"], removal=removal,
                                              description="Queued runs (SQS)", snap_start="worker" in self.snap_start)
        # The worker and the scheduler are invoked through an alias "live" too (the SQS event source, the
        # rules and schedules): with SnapStart their cold starts restore a snapshot taken after the import
        # and functions.handlers.snapstart.prime_background (README, Performance: what it costs).
        self.scheduler_alias = lambda_.Alias(
            self, "SchedulerLive", alias_name="live", version=self.scheduler_function.current_version,
            description="The version the rules and schedules invoke (SnapStart applies to versions)")
        self.worker_alias = lambda_.Alias(
            self, "WorkerLive", alias_name="live", version=self.worker_function.current_version,
            description="The version the runs queue's event source invokes (SnapStart applies to versions)")
        # Durable workflows' executions (infrastructure.durable): the shared layer and the SDK's own.
        durable_layers: list[lambda_.ILayerVersion] = [self.layer]
        if artifacts.durable_layer_dir is not None:
            durable_layers.append(lambda_.LayerVersion(
                self, "DurableLayer", code=lambda_.Code.from_asset(str(artifacts.durable_layer_dir)),
                compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
                description=f"{self.prefix}: the durable execution SDK (the durable function only)"))
        durable_environment = {**environment, "WFP_DURABLE_FUNCTION": durable_function_name(self.prefix)}
        self.durable = DurableFunction(
            self, code, durable_environment, durable_layers, run_timeout(durable_workflows(registry)),
            memory=STACK_MEMORY_MB["durable"], removal=removal)
        self.durable_function = self.durable.function
        self.durable_alias = self.durable.alias
        for function in (self.api_function, self.scheduler_function, self.worker_function):
            function.add_environment("WFP_DURABLE_FUNCTION", durable_function_name(self.prefix))
        self.functions = {"api": self.api_function, "scheduler": self.scheduler_function,
                          "worker": self.worker_function, "durable": self.durable_function}
        checkov_skip(self.worker_function, "CKV_AWS_116", "The worker is invoked by its SQS event source mapping, "
                     "synchronously: a message it fails on returns to the runs queue and, after "
                     f"{self.max_receive_count} deliveries, goes to the queue's redrive dead-letter queue (alarmed).")

        # ----- permissions: each function what it uses --------------------------------------------------------
        for function in self.functions.values():
            for setting, table in self.tables.items():
                if function is self.api_function or setting not in API_ONLY_TABLES:
                    grant_operations(table, self.table_specs[setting], function)
            self._grant_secrets(function)
        self.queue.grant_send_messages(self.api_function)
        # The worker re-sends a run whose workflow asked for retries on error (retry_on_error).
        self.queue.grant_send_messages(self.worker_function)
        # Durable runs: started, called back and looked up by the three, checkpointed by the durable one.
        self.durable.grant_callers([self.api_function, self.worker_function, self.scheduler_function])
        self.durable.grant_self(starts_error_workflows=names_error_workflow(registry, self.settings))
        # on_error: the scheduler queues error workflows when one is named; SES for email notices.
        grant_failure_handling(self)
        # Outputs and logs too large for a run record: a bucket, expired with the runs.
        self.run_data = run_data_bucket(self)
        # With a reservation, the event source never polls more batches than the worker may run at once:
        # a batch Lambda throttles would go back to the queue and count as a delivery (three, and a run
        # that never started lands in the dead-letter queue). MaximumConcurrency is what AWS advises; it is
        # also the deployer's bound on the worker (``-c worker_max_concurrency``, infrastructure.limits).
        window = self.limits.worker_batching_window
        self.worker_alias.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=self.limits.worker_batch_size, report_batch_item_failures=True,
            max_batching_window=Duration.seconds(window) if window else None,
            max_concurrency=self.limits.worker_max_concurrency))

        # ----- entry points ----------------------------------------------------------------------------------
        self.api = self._rest_api(self.limits.api_rate, self.limits.api_burst, removal)
        # Where people reach the platform, for the links runs carry (a Google tool's sign-in URL in a
        # run's error): the stage's URL, built from the API's id (``api.url`` names the deployment, which
        # depends on the functions it invokes: a cycle). WFP_PUBLIC_URL at synthesis (a custom domain) wins.
        if "public_url" not in self.settings.model_fields_set:
            public_url = Fn.join("", ["https://", self.api.rest_api_id, ".execute-api.", Aws.REGION, ".",
                                      Aws.URL_SUFFIX, f"/{stage}"])
            # The durable function's too: a durable run's callback URLs are built from it.
            for function in (self.api_function, self.worker_function, self.scheduler_function,
                             self.durable_function):
                function.add_environment("WFP_PUBLIC_URL", public_url)
        self.schedules = schedule_workflows(self, scheduled, self.scheduler_alias, self.prefix,
                                            self.scheduler_dead_letters)
        self.rules: dict[str, events.Rule] = self.schedules.rules
        self._grant_pause_resume(self.schedules)
        # Named with hyphens, which no workflow name has: pausing a workflow never touches it.
        self.sweep_rule = events.Rule(
            self, "SweepRule", rule_name=f"{self.prefix}-stale-run-sweep", schedule=events.Schedule.rate(SWEEP_RATE),
            description="close runs whose process died (functions.core.sweep)")
        self.sweep_rule.add_target(targets.LambdaFunction(
            self.scheduler_alias, event=events.RuleTargetInput.from_object({"action": "sweep"}),
            retry_attempts=0))  # the next sweep is minutes away
        dead_letter_undelivered(self.sweep_rule, self.scheduler_dead_letters)

        # ----- alarms ----------------------------------------------------------------------------------------
        self.alarms = Alarms(self, "Alarms", prefix=self.prefix, email=alarm_email)
        self.alarms.on_dead_letters(
            self.dead_letters, "runs-dead-letters",
            f"A queued run failed on every delivery ({self.max_receive_count}); its record says error. Read the "
            "message (the run id) and the worker's log, then delete it or redrive it once fixed.")
        self.alarms.on_dead_letters(
            self.scheduler_dead_letters, "scheduler-dead-letters",
            "A scheduled tick or sweep did not run: the scheduler function failed on it three times, or "
            "EventBridge could not deliver it. The message attributes say which; the body is the event.")
        for name, function in self.functions.items():
            self.alarms.on_function(function, name)

        # ----- outputs ---------------------------------------------------------------------------------------
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API")
        CfnOutput(self, "DashboardUrl", value=f"{self.api.url}dashboard/", description="The dashboard")
        CfnOutput(self, "AdminTokenSecret", value=self.settings.admin_token_secret_name,
                  description="Secrets Manager secret holding the admin token")
        CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn,
                  description="SNS topic of every alarm (subscribe with -c alarm_email=... or in the console)")
        for name, _ in webhook_workflows(registry):
            CfnOutput(self, output_id("WebhookUrl", name), value=f"{self.api.url}api/webhooks/{name}",
                      description=f"Webhook URL of workflow {name}")

    # ----- helpers -----------------------------------------------------------------------------------------
    def stage_arn(self, **components: Any) -> str:
        """An ARN in this stack's account and region written with the pseudo-parameters
        (``${AWS::Region}``, ``${AWS::AccountId}``), never the literal values.

        ``format_arn`` writes literals once the stack has an environment, which is what ``cdk deploy``
        gives it (the CLI sets CDK_DEFAULT_ACCOUNT/REGION from the credentials): the ARN, and so the
        cdk-nag finding about its wildcard, would then differ per account and region, and an
        acknowledgment written for one would not match another. CloudFormation resolves both forms
        to the same ARN.
        """
        return self.format_arn(region=Aws.REGION, account=Aws.ACCOUNT_ID, **components)

    def _queue(self, construct_id: str, removal: RemovalPolicy, **options: Any) -> sqs.Queue:
        """An SQS queue encrypted with SQS-managed keys (SSE-SQS: no key to pay for or to grant) that refuses
        requests without TLS."""
        queue = sqs.Queue(self, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                          removal_policy=removal, **options)
        checkov_skip(queue, "CKV_AWS_27", "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled: true); "
                     "checkov only recognises KmsMasterKeyId. A KMS key would cost $1/month and need key-policy "
                     "grants for EventBridge, Scheduler and Lambda; who may read stays decided by IAM either way.")
        return queue

    def _default_secret_key(self, secret: secretsmanager.Secret) -> None:
        checkov_skip(secret, "CKV_AWS_149", "Encrypted with Secrets Manager's AWS-managed key (aws/secretsmanager), "
                     "like the profile secrets 'wfp profiles push' creates; reading it takes GetSecretValue on "
                     f"{self.prefix}/*, which only this stage's function roles have. A customer-managed key "
                     "would cost $1/month and a key policy.")

    def _function(self, name: str, handler: str, code: lambda_.Code, environment: dict[str, str],
                  timeout: Duration, *, memory: int, removal: RemovalPolicy, description: str,
                  snap_start: bool = False, dead_letter_queue: sqs.IQueue | None = None,
                  layers: list[lambda_.ILayerVersion] | None = None, **options: Any) -> lambda_.Function:
        """``layers``: the shared layer and, for the durable function, its own after it; ``options``: more
        ``lambda_.Function`` properties (the durable function's ``durable_config`` and name)."""
        log_group = logs.LogGroup(self, f"{name}Logs", retention=LOG_RETENTION, removal_policy=removal)
        self._log_group_encryption(log_group)
        reserved = self.reserved_concurrency.get(name.lower())
        # Its own role, without the AWSLambdaBasicExecutionRole managed policy (logs:* on every group):
        # writing to its own log group is granted below, and every other grant is added explicitly.
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"{self.prefix} {name.lower()} function")
        log_group.grant_write(role)
        function = lambda_.Function(
            self, f"{name}Function", runtime=RUNTIME, architecture=ARCHITECTURE, handler=handler, code=code,
            layers=layers or [self.layer], role=role, timeout=timeout, memory_size=memory, environment=environment,
            tracing=lambda_.Tracing.ACTIVE, log_group=log_group, logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
            dead_letter_queue=dead_letter_queue, reserved_concurrent_executions=reserved,
            description=f"{self.prefix}: {description}", **options)
        if reserved is None:
            checkov_skip(function, "CKV_AWS_115", "Reserved concurrency is an option (-c reserved_concurrency="
                         "api=20,worker=10,...), off by default: a new account's quota is 10 concurrent executions "
                         "and 10 must stay unreserved, so any reservation there fails the deployment.")
        checkov_skip(function, "CKV_AWS_117", "No VPC on purpose: the function reaches only AWS APIs over TLS with IAM "
                     "(DynamoDB, SQS, Secrets Manager, EventBridge) and the plugins' internet APIs; in a VPC that "
                     "needs a NAT gateway (about $32/month) or interface endpoints (about $7/month each per AZ).")
        checkov_skip(function, "CKV_AWS_173", "The environment holds names only (stage, table and queue names, the "
                     "admin token's secret name, never its value: tests check it), which Lambda encrypts at rest "
                     "with its AWS-managed key; checkov asks for a customer-managed key (KmsKeyArn).")
        # CDK makes the function depend on its role's whole subtree: the policy (which matters: no
        # invocation before its permissions exist) and the role, which the GetAtt on its ARN already
        # orders. cfn-lint's W3005 is about that redundant half; tell it here, on this resource only.
        function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        if snap_start:
            # The warning says SnapStart applies to published versions only: the alias "live" points at
            # current_version, published on every deployment, and is what API Gateway, the runs queue's
            # event source and the rules invoke.
            Annotations.of(function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "its callers invoke the alias 'live' of the version this deployment publishes")
        # cdk-nag's L1 wants the family's newest runtime (python3.14 in this aws-cdk-lib): checked by
        # synthesizing without this acknowledgment, it still flags python3.13.
        acknowledge(function, "L1", "Python 3.13 on purpose: Lambda durable functions need 3.13+, every function "
                    "shares one layer whose compiled wheels (pydantic-core, cryptography) and byte code are built "
                    "for cp313; move runtime and layer build together.")
        acknowledge(role, "IAM5", "X-Ray's PutTraceSegments/PutTelemetryRecords (tracing) support no "
                    "resource-level permission: Resource '*' is the only form AWS accepts for these actions.",
                    "Resource::*")
        for setting, table in self.tables.items():
            if self.table_specs[setting].has_indexes:
                acknowledge(role, "IAM5", "Queries go through the table's secondary indexes (run history by "
                            "workflow, open runs); index/* covers the indexes of this table only.",
                            f"Resource::<{self.get_logical_id(table.node.default_child)}.Arn>/index/*")  # type: ignore[arg-type]
        return function

    def _log_group_encryption(self, log_group: logs.LogGroup) -> None:
        checkov_skip(log_group, "CKV_AWS_158", "CloudWatch Logs encrypts every log group at rest with its own keys; "
                     "the platform masks profile values, tokens, webhook secrets and password inputs before "
                     "anything is logged (functions.core.redaction). A KMS key would cost $1/month and a logs grant.")

    def _grant_secrets(self, function: lambda_.Function) -> None:
        """Read ``<prefix>/*``: profiles (and their index, ``<prefix>/profiles-index``), the admin token and
        the webhook secrets. No ListSecrets: profile names are read by exact name (``functions.core.profiles``)."""
        pattern = self.stage_arn(service="secretsmanager", resource="secret", resource_name=f"{self.prefix}/*",
                                 arn_format=ArnFormat.COLON_RESOURCE_NAME)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources=[pattern]))
        acknowledge(function.role, "IAM5",  # type: ignore[arg-type]
                    f"Profiles are secrets created after deployment ({self.prefix}/profiles/<tool>/<PROFILE>, "
                    f"'wfp profiles push'); the grant is limited to this stage's prefix.",
                    f"Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
                    f"{self.prefix}/*")

    def _grant_pause_resume(self, schedules: Schedules) -> None:
        """Pausing a schedule through the API disables its rule or Scheduler schedule, by name."""
        prefix = f"{self.prefix}-*"
        if schedules.rules:
            rules = self.stage_arn(service="events", resource="rule", resource_name=prefix)
            self.api_function.add_to_role_policy(iam.PolicyStatement(
                actions=["events:EnableRule", "events:DisableRule"], resources=[rules]))
            acknowledge(self.api_function.role, "IAM5",  # type: ignore[arg-type]
                        "Pause/resume toggles this stage's schedule rules, all named <prefix>-<workflow>.",
                        f"Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/{prefix}")
        if schedules.schedules and schedules.role is not None:
            group = next(iter(schedules.deployed.values())).group or "default"
            arns = self.stage_arn(service="scheduler", resource="schedule", resource_name=f"{group}/{prefix}")
            self.api_function.add_to_role_policy(iam.PolicyStatement(
                actions=["scheduler:GetSchedule", "scheduler:UpdateSchedule"], resources=[arns]))
            # UpdateSchedule re-sends the whole target, role included.
            schedules.role.grant_pass_role(self.api_function.role)  # type: ignore[arg-type]
            acknowledge(self.api_function.role, "IAM5",  # type: ignore[arg-type]
                        "Pause/resume toggles this stage's Scheduler schedules, all named <prefix>-<workflow>.",
                        f"Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
                        f"{group}/{prefix}")

    def _rest_api(self, rate: float, burst: int, removal: RemovalPolicy) -> apigw.LambdaRestApi:
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=LOG_RETENTION, removal_policy=removal)
        self._log_group_encryption(access_logs)
        api = apigw.LambdaRestApi(
            self, "Api", handler=self.api_alias, proxy=True,  # ANY / and ANY /{proxy+}
            rest_api_name=f"{self.prefix}-api",
            description=f"{self.prefix}: workflow platform API and dashboard",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=["*/*"],  # Mangum base64-encodes binary bodies; text stays text
            cloud_watch_role=True, cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=self.stage,
                throttling_rate_limit=rate, throttling_burst_limit=burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log bodies: they carry inputs and webhook payloads
                tracing_enabled=True, metrics_enabled=False),
        )
        reason_auth = ("Authentication is the application's: the admin token on the API and dashboard, "
                       "each workflow's secret (token or HMAC signature) on webhooks, and the OAuth "
                       "callback must stay public; an API Gateway authorizer cannot express that.")
        acknowledge(api, "APIG4", reason_auth)
        acknowledge(api, "COG4", reason_auth)
        for method in api.methods:
            checkov_skip(method, "CKV_AWS_59", reason_auth)
        checkov_skip(api.deployment_stage, "CKV_AWS_120", "No API Gateway cache: responses are per caller and "
                     "change by the second (run states, the dashboard behind a session); a cache would serve "
                     "stale runs, and its smallest size (0.5 GB) costs about $14/month.")
        acknowledge(api, "APIG2", "A catch-all proxy to FastAPI, which validates every request (422 with one "
                    "error per field); API Gateway has no per-route model to check against.")
        acknowledge(api, "APIG3", "No WAF by default: a web ACL costs about $5/month at rest; attach one to "
                    "the stage when the API is exposed to abuse. Throttling is on.")
        acknowledge(api, "IAM4", "API Gateway's account-level CloudWatch role uses the AWS-managed "
                    "AmazonAPIGatewayPushToCloudWatchLogs policy, the documented setup for access logs.",
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        return api
