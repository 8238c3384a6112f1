"""The platform on AWS, one stack per stage (``wfp-dev``, ``wfp-prod``: separate tables, secrets, URLs).

    API Gateway (REST, stage = the stage name) ──► Lambda api ──┐
    EventBridge rules (one per scheduled workflow) ► Lambda scheduler ─┼─► DynamoDB tables (from the models)
    SQS queue (+ dead-letter queue) ─────────────► Lambda worker ──┘    Secrets Manager <prefix>/*
    EventBridge rate rule (every 5 minutes) ─────► Lambda scheduler: the stale-run sweep
    all three: Python 3.12 on arm64, the shared layer (dependencies + plugins + manifest)

What depends on the plugins (rules, webhook secrets and URLs, timeouts) is read from the plugin
registry given to the stack, i.e. from the layer's manifest: the stack schedules exactly the plugins
it deploys. Each function's role grants only what that function uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack
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

from functions.plugin_config import WorkflowConfig
from functions.registry import Registry
from functions.settings import Settings
from functions.tables import all_models

from .nag import acknowledge
from .schedules import Schedules, schedule_workflows
from .tables import model_table

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
#: API Gateway's REST integration limit: an api invocation never outlives the request.
API_TIMEOUT = Duration.seconds(29)
#: Seconds the scheduler and worker keep after a workflow's own timeout to record its run.
RUN_MARGIN_SECONDS = 30
MAX_LAMBDA_SECONDS = 900
WORKER_BATCH_SIZE = 5
#: Deliveries of a queued run before its message goes to the dead-letter queue: the worker reads the
#: same setting (WFP_MAX_ATTEMPTS) to close the run as failed on the last one.
MAX_RECEIVE_COUNT = Settings.max_attempts
#: How often the stale-run sweep runs (``functions.sweep``); it costs one Query of an empty index at rest.
SWEEP_RATE = Duration.minutes(5)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
#: Tables only the HTTP API touches (the OAuth sign-in's pending states, Idempotency-Key records); runs,
#: schedules and tokens are used wherever workflows run.
API_ONLY_TABLES = {"oauth_states_table", "idempotency_table"}


@dataclass(frozen=True)
class Artifacts:
    """What ``layers.build`` produced: the layer folder (mounted at /opt) and the functions' code."""

    layer_dir: Path
    function_dir: Path
    manifest_name: str = "wfp-manifest.json"


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
                 snap_start: bool = True, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.stage = stage
        self.settings = Settings(stage=stage, prefix=f"wfp-{stage}")
        self.prefix = self.settings.prefix
        self.registry = registry
        removal = RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY

        # ----- data ------------------------------------------------------------------------------------------
        self.tables: dict[str, dynamodb.Table] = {}
        table_env: dict[str, str] = {}
        for model in all_models():
            table, spec = model_table(self, model, removal)
            self.tables[spec.setting] = table
            table_env[spec.env_var] = table.table_name

        self.admin_token = secretsmanager.Secret(
            self, "AdminToken", secret_name=self.settings.admin_token_secret_name,
            description=f"{self.prefix}: the admin token of the dashboard and API",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                        password_length=40),
            removal_policy=removal)
        acknowledge(self.admin_token, "SMG4", "The admin token is handed to people, who would be locked out "
                    "by an automatic rotation; rotate it by hand (put-secret-value) when someone leaves.")
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
            self.webhook_secrets[name] = secret

        self.dead_letters = sqs.Queue(
            self, "RunsDeadLetterQueue", retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, removal_policy=removal)
        workflows = [p.config for p in registry.of_kind("workflow") if isinstance(p.config, WorkflowConfig)]
        worker_timeout = run_timeout(workflows)
        self.queue = sqs.Queue(
            self, "RunsQueue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            # AWS's advice for a Lambda event source: six times the function's timeout.
            visibility_timeout=Duration.seconds(min(12 * 3600, 6 * worker_timeout.to_seconds())),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
            removal_policy=removal)

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
            # Deployed, the admin token is always required (functions.auth reads this secret).
            "WFP_ADMIN_TOKEN_SECRET": self.settings.admin_token_secret_name,
            "POWERTOOLS_SERVICE_NAME": "workflow-platform",
            "POWERTOOLS_METRICS_NAMESPACE": "WorkflowPlatform",
        }
        scheduled = scheduled_workflows(registry)
        api_environment = {
            **environment,
            # A webhook whose secret is missing is refused, never open (functions.webhook_auth).
            "WFP_REQUIRE_WEBHOOK_SECRETS": "1",
            # A Lambda cannot keep working once it has answered: a sync run that may outlast the wait
            # bound runs on the worker from the start, and the API answers 202 past the bound.
            "WFP_SYNC_OVERFLOW": "worker",
            "WFP_SYNC_WAIT_SECONDS": str(Settings.sync_wait_seconds),
            "WFP_MAX_ATTEMPTS": str(MAX_RECEIVE_COUNT),
        }
        self.api_function = self._function("Api", "functions.handlers.api.handler", code, api_environment,
                                           API_TIMEOUT, memory=1024, removal=removal,
                                           description="HTTP API and dashboard (API Gateway)", snap_start=snap_start)
        # API Gateway calls the alias "live", i.e. the version published for this deployment: with
        # SnapStart a cold start restores that version's snapshot (taken after functions.handlers.api
        # imported and primed the app, see functions.handlers.snapstart) instead of importing anything.
        # Replaced versions are deleted: a SnapStart version's snapshot is billed while it exists.
        self.api_alias = lambda_.Alias(self, "ApiLive", alias_name="live", version=self.api_function.current_version,
                                       description="The version API Gateway invokes (SnapStart applies to versions)")
        self.scheduler_function = self._function(
            "Scheduler", "functions.handlers.scheduler.handler", code, environment,
            run_timeout([c for _, c in scheduled]), memory=512, removal=removal,
            description="Scheduled runs (EventBridge rules)")
        self.worker_function = self._function("Worker", "functions.handlers.worker.handler", code,
                                              {**environment, "WFP_MAX_ATTEMPTS": str(MAX_RECEIVE_COUNT)},
                                              worker_timeout, memory=512, removal=removal,
                                              description="Queued runs (SQS)")

        # ----- permissions: each function what it uses --------------------------------------------------------
        for function in (self.api_function, self.scheduler_function, self.worker_function):
            for setting, table in self.tables.items():
                if function is self.api_function or setting not in API_ONLY_TABLES:
                    table.grant_read_write_data(function)
            self._grant_secrets(function, list_profiles=function is self.api_function)
        self.queue.grant_send_messages(self.api_function)
        # The worker re-sends a run whose workflow asked for retries on error (retry_on_error).
        self.queue.grant_send_messages(self.worker_function)
        self.worker_function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=WORKER_BATCH_SIZE, report_batch_item_failures=True))

        # ----- entry points ----------------------------------------------------------------------------------
        self.api = self._rest_api(throttle_rate, throttle_burst, removal)
        self.schedules = schedule_workflows(self, scheduled, self.scheduler_function, self.prefix)
        self.rules: dict[str, events.Rule] = self.schedules.rules
        self._grant_pause_resume(self.schedules)
        # Named with hyphens, which no workflow name has: pausing a workflow never touches it.
        self.sweep_rule = events.Rule(
            self, "SweepRule", rule_name=f"{self.prefix}-stale-run-sweep", schedule=events.Schedule.rate(SWEEP_RATE),
            description="close runs whose process died (functions.sweep)")
        self.sweep_rule.add_target(targets.LambdaFunction(
            self.scheduler_function, event=events.RuleTargetInput.from_object({"action": "sweep"}),
            retry_attempts=0))  # the next sweep is minutes away

        # ----- outputs ---------------------------------------------------------------------------------------
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API")
        CfnOutput(self, "DashboardUrl", value=f"{self.api.url}dashboard/", description="The dashboard")
        CfnOutput(self, "AdminTokenSecret", value=self.settings.admin_token_secret_name,
                  description="Secrets Manager secret holding the admin token")
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

    def _function(self, name: str, handler: str, code: lambda_.Code, environment: dict[str, str],
                  timeout: Duration, *, memory: int, removal: RemovalPolicy, description: str,
                  snap_start: bool = False) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{name}Logs", retention=LOG_RETENTION, removal_policy=removal)
        # Its own role, without the AWSLambdaBasicExecutionRole managed policy (logs:* on every group):
        # writing to its own log group is granted below, and every other grant is added explicitly.
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"{self.prefix} {name.lower()} function")
        log_group.grant_write(role)
        function = lambda_.Function(
            self, f"{name}Function", runtime=RUNTIME, architecture=ARCHITECTURE, handler=handler, code=code,
            layers=[self.layer], role=role, timeout=timeout, memory_size=memory, environment=environment,
            tracing=lambda_.Tracing.ACTIVE, log_group=log_group, logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
            description=f"{self.prefix}: {description}")
        # CDK makes the function depend on its role's whole subtree: the policy (which matters: no
        # invocation before its permissions exist) and the role, which the GetAtt on its ARN already
        # orders. cfn-lint's W3005 is about that redundant half; tell it here, on this resource only.
        function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        if snap_start:
            # The warning says SnapStart applies to published versions only: the alias "live" below
            # points at current_version, published on every deployment, and is what API Gateway invokes.
            Annotations.of(function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "API Gateway invokes the alias 'live' of the version this deployment publishes")
        acknowledge(function, "L1", "Python 3.12 on purpose: the shared layer's compiled wheels (pydantic-core, "
                    "cryptography) are built for cp312; move runtime and layer build together.")
        star = ["X-Ray's PutTraceSegments/PutTelemetryRecords (tracing)"]
        if name == "Api":
            star.append("secretsmanager:ListSecrets (profile names shown by GET /api/tools)")
        acknowledge(role, "IAM5", f"{' and '.join(star)} support no resource-level permission: Resource '*' is "
                    "the only form AWS accepts for these actions.", "Resource::*")
        for table in self.tables.values():
            acknowledge(role, "IAM5", "Queries go through the table's secondary indexes (run history by "
                        "workflow); index/* covers the indexes of this table only.",
                        f"Resource::<{self.get_logical_id(table.node.default_child)}.Arn>/index/*")  # type: ignore[arg-type]
        return function

    def _grant_secrets(self, function: lambda_.Function, *, list_profiles: bool) -> None:
        """Read ``<prefix>/*`` (profiles, admin token, webhook secrets); the API also lists profile names."""
        pattern = self.stage_arn(service="secretsmanager", resource="secret", resource_name=f"{self.prefix}/*",
                                 arn_format=ArnFormat.COLON_RESOURCE_NAME)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources=[pattern]))
        acknowledge(function.role, "IAM5",  # type: ignore[arg-type]
                    f"Profiles are secrets created after deployment ({self.prefix}/profiles/<tool>/<PROFILE>, "
                    f"'wfp profiles push'); the grant is limited to this stage's prefix.",
                    f"Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
                    f"{self.prefix}/*")
        if list_profiles:
            function.add_to_role_policy(iam.PolicyStatement(actions=["secretsmanager:ListSecrets"],
                                                            resources=["*"]))

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
        acknowledge(api, "APIG2", "A catch-all proxy to FastAPI, which validates every request (422 with one "
                    "error per field); API Gateway has no per-route model to check against.")
        acknowledge(api, "APIG3", "No WAF by default: a web ACL costs about $5/month at rest; attach one to "
                    "the stage when the API is exposed to abuse. Throttling is on.")
        acknowledge(api, "IAM4", "API Gateway's account-level CloudWatch role uses the AWS-managed "
                    "AmazonAPIGatewayPushToCloudWatchLogs policy, the documented setup for access logs.",
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        return api
