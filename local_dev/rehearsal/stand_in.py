"""moto's server standing in for AWS in the deploy rehearsal, with the CloudFormation support it lacks.

    python -m local_dev.rehearsal.stand_in --port 5000     # serves until Ctrl-C
    with StandIn() as aws:
        subprocess.run([...cdk...], env=aws.client_env())   # a subprocess
        with aws.environment(): verify(...)                 # this process

moto's CloudFormation implementation silently skips resource types it has no model for (and reports
``CREATE_COMPLETE``), so the platform's template would come out without its alias (and then crash on
the permission that refers to it), its secrets and its API stage. Before the server starts, this
module registers models for those types, built on moto's own backends (a secret is created with the
Secrets Manager backend, an alias with the Lambda backend...), so that what the stack creates is
readable through the ordinary APIs and the verifier (``local_dev.rehearsal.verify``) can check it.

moto finds its models with ``CloudFormationModel.__subclasses__()`` (direct subclasses only), cached
by ``get_model_list()``: the classes below subclass it directly and the caches are cleared after they
are defined; for a type moto already has (Lambda Version, Permission) the later class wins the type map,
which ``install()`` checks. The models are defined only in the server's process (``install()``), never on
import: a test session that imports this module keeps moto as it is for its in-process mocks.

Each model is a rehearsal stand-in, never used by the platform: nothing in ``functions/`` or
``infrastructure/`` imports this module. Refs and attributes follow what CloudFormation documents for
the type; properties moto's backends cannot hold are ignored and listed in each docstring.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
#: What the rehearsal's clients must not inherit: a profile, a session, per-service endpoints.
UNSET_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                   "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CA_BUNDLE")


# ----- the CloudFormation models (defined in the server's process only) ----------------------------------
def _flag(value: Any, default: bool = False) -> bool:
    """A CloudFormation boolean: JSON true/false or the strings "true"/"false"."""
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _split_function(name_or_arn: str) -> tuple[str, str | None]:
    """(function name, qualifier) of ``name``, ``name:qualifier`` or a (qualified) function ARN."""
    name = name_or_arn.split(":function:", 1)[1] if name_or_arn.startswith("arn:") else name_or_arn
    function, _, qualifier = name.partition(":")
    return function, qualifier or None


@lru_cache(maxsize=1)
def install() -> tuple[str, ...]:
    """Define the stand-in models and make moto's CloudFormation use them; returns their types."""
    from moto.apigateway.models import apigateway_backends
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import get_backend as lambda_backend
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import (
        Dimension,
        Metric,
        MetricDataQuery,
        MetricStat,
        cloudwatch_backends,
    )
    from moto.core.common_models import CloudFormationModel
    from moto.scheduler.models import scheduler_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sns.models import sns_backends

    class StandInModel:
        """What every stand-in shares: a physical id (what ``Ref`` returns) and its documented attributes.
        A mixin, not a CloudFormationModel: moto would take it for a model of its own."""

        attributes: dict[str, str] = {}  # GetAtt name → instance attribute

        def __init__(self, physical_id: str, account_id: str, region: str) -> None:
            self.physical_id, self.account_id, self.region = physical_id, account_id, region

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in cls.attributes

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            from moto.cloudformation.exceptions import (
                UnformattedGetAttTemplateException,
            )

            if attribute_name not in self.attributes:
                raise UnformattedGetAttTemplateException()
            return getattr(self, self.attributes[attribute_name])

        def is_created(self) -> bool:
            return True

    class LambdaVersion(StandInModel, CloudFormationModel):
        """``AWS::Lambda::Version``, replacing moto's: a rehearsal stand-in, never used by the platform.

        moto's model publishes the version but has neither Ref nor attributes (``Fn::GetAtt [v, "Version"]``,
        which a CDK alias uses, raises). Ref and FunctionArn: the version's ARN; Version: its number.
        Published with the Lambda backend's ``publish_version``; deleted with the stack.
        Ignored: CodeSha256, ProvisionedConcurrencyConfig, RuntimePolicy.
        """

        attributes = {"FunctionArn": "physical_id", "Version": "version"}

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Version"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> LambdaVersion:
            props = cloudformation_json["Properties"]
            published = lambda_backend(account_id, region_name).publish_version(
                props["FunctionName"], props.get("Description", ""))
            if published is None:
                raise ValueError(f"Lambda version of {props['FunctionName']}: the function has no code to publish")
            version = cls(published.function_arn, account_id, region_name)
            version.function_name, version.version = published.function_name, str(published.version)
            return version

        def delete(self, account_id: str, region: str) -> None:
            try:
                lambda_backend(account_id, region).delete_function(self.function_name, self.version)
            except UnknownFunctionException:
                pass  # deleted with its function already

    class LambdaAlias(StandInModel, CloudFormationModel):
        """``AWS::Lambda::Alias``, which moto's CloudFormation skips: a rehearsal stand-in, never used by
        the platform. Ref and AliasArn: the alias ARN. Created with the Lambda backend's ``create_alias``,
        deleted with the stack. Ignored: ProvisionedConcurrencyConfig.
        """

        attributes = {"AliasArn": "physical_id"}

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Alias"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> LambdaAlias:
            props = cloudformation_json["Properties"]
            weights = (props.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or []
            routing = {"AdditionalVersionWeights": {w["FunctionVersion"]: float(w["FunctionWeight"]) for w in weights}}
            alias = lambda_backend(account_id, region_name).create_alias(
                resource_name, props["FunctionName"], str(props["FunctionVersion"]), props.get("Description", ""),
                routing if weights else None)  # type: ignore[arg-type]
            created = cls(alias.arn, account_id, region_name)
            created.name, created.function_name = resource_name, props["FunctionName"]
            return created

        def delete(self, account_id: str, region: str) -> None:
            try:
                lambda_backend(account_id, region).delete_alias(self.name, self.function_name)
            except UnknownFunctionException:
                pass

    class LambdaPermission(StandInModel, CloudFormationModel):
        """``AWS::Lambda::Permission``, replacing moto's: a rehearsal stand-in, never used by the platform.

        moto's model looks the function up but drops the qualifier of a ``FunctionName`` naming an alias
        or a version, so the statement's Resource would be the bare function. This one goes through the
        backend's ``add_permission`` with the qualifier, as the AddPermission API does (moto keeps one
        policy per function for all its versions and aliases). Ref: the statement id. Deleted with the stack.
        """

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Permission"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> LambdaPermission:
            props = dict(cloudformation_json["Properties"])
            function, qualifier = _split_function(props.pop("FunctionName"))
            props.setdefault("StatementId", resource_name)
            lambda_backend(account_id, region_name).add_permission(function, qualifier, json.dumps(props))  # type: ignore[arg-type]
            permission = cls(props["StatementId"], account_id, region_name)
            permission.function = f"{function}:{qualifier}" if qualifier else function
            return permission

        def delete(self, account_id: str, region: str) -> None:
            from moto.awslambda.exceptions import UnknownPolicyException

            try:
                lambda_backend(account_id, region).remove_permission(self.function, self.physical_id)
            except (UnknownFunctionException, UnknownPolicyException):
                pass

    class SecretsManagerSecret(StandInModel, CloudFormationModel):
        """``AWS::SecretsManager::Secret``, which moto's CloudFormation skips: a rehearsal stand-in, never
        used by the platform. Name, Description, Tags, KmsKeyId, and SecretString or GenerateSecretString
        (all of its options, the value drawn by the backend's GetRandomPassword; with SecretStringTemplate
        and GenerateStringKey, a JSON object). Ref and Id: the ARN. Deleted with the stack without a
        recovery window, so a new stack can reuse the name at once. Ignored: ReplicaRegions.
        """

        attributes = {"Id": "physical_id"}

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> SecretsManagerSecret:
            props = cloudformation_json["Properties"]
            backend = secretsmanager_backends[account_id][region_name]
            value = props.get("SecretString")
            generate = props.get("GenerateSecretString")
            if generate is not None:
                value = cls.generated(backend, generate)
            backend.create_secret(name=resource_name, secret_string=value, secret_binary=None,
                                  description=props.get("Description"), tags=props.get("Tags"),
                                  kms_key_id=props.get("KmsKeyId"), client_request_token=None,
                                  replica_regions=[], force_overwrite=False)
            return cls(backend.describe_secret(resource_name).arn, account_id, region_name)

        @staticmethod
        def generated(backend: Any, options: dict[str, Any]) -> str:
            """GenerateSecretString as CloudFormation documents it (length 32 and every type by default)."""
            password = json.loads(backend.get_random_password(
                password_length=int(options.get("PasswordLength", 32)),
                exclude_characters=options.get("ExcludeCharacters", ""),
                exclude_numbers=_flag(options.get("ExcludeNumbers")),
                exclude_punctuation=_flag(options.get("ExcludePunctuation")),
                exclude_uppercase=_flag(options.get("ExcludeUppercase")),
                exclude_lowercase=_flag(options.get("ExcludeLowercase")),
                include_space=_flag(options.get("IncludeSpace")),
                require_each_included_type=_flag(options.get("RequireEachIncludedType"), True)))["RandomPassword"]
            if "SecretStringTemplate" in options:
                document = json.loads(options["SecretStringTemplate"])
                document[options["GenerateStringKey"]] = password
                return json.dumps(document)
            return password

        def delete(self, account_id: str, region: str) -> None:
            secretsmanager_backends[account_id][region].delete_secret(
                self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True)

    class ApiGatewayStage(StandInModel, CloudFormationModel):
        """``AWS::ApiGateway::Stage``, which moto's CloudFormation skips (the API's URL, a Ref to the stage,
        would read ``.../None/``): a rehearsal stand-in, never used by the platform. RestApiId, StageName,
        DeploymentId, Description, Variables, CacheCluster*, TracingEnabled, Tags. Ref: the stage name.
        Deleted with the stack. Ignored: MethodSettings (throttling), AccessLogSetting, CanarySetting.
        """

        @staticmethod
        def cloudformation_name_type() -> str:
            return "StageName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::Stage"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> ApiGatewayStage:
            props = cloudformation_json["Properties"]
            deployment = props.get("DeploymentId")
            # moto's Deployment model has no physical id: its Ref is the object itself.
            deployment_id = getattr(deployment, "id", deployment)
            apigateway_backends[account_id][region_name].create_stage(
                props["RestApiId"], resource_name, deployment_id, variables=props.get("Variables"),
                description=props.get("Description", ""),
                cacheClusterEnabled=_flag(props.get("CacheClusterEnabled")),
                cacheClusterSize=props.get("CacheClusterSize"),
                tags={t["Key"]: t["Value"] for t in props.get("Tags") or []},
                tracing_enabled=_flag(props.get("TracingEnabled")))
            stage = cls(resource_name, account_id, region_name)
            stage.rest_api_id = props["RestApiId"]
            return stage

        def delete(self, account_id: str, region: str) -> None:
            from moto.apigateway.exceptions import (
                RestAPINotFound,
                StageNotFoundException,
            )

            try:
                apigateway_backends[account_id][region].delete_stage(self.rest_api_id, self.physical_id)
            except (RestAPINotFound, StageNotFoundException):
                pass

    class SchedulerSchedule(StandInModel, CloudFormationModel):
        """``AWS::Scheduler::Schedule``, which moto's CloudFormation skips: a rehearsal stand-in, never used
        by the platform. Every property of the type, through the Scheduler backend's ``create_schedule``.
        Ref: the name; Arn: the ARN. Deleted with the stack.
        """

        attributes = {"Arn": "arn"}

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::Schedule"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> SchedulerSchedule:
            props = cloudformation_json["Properties"]
            created = scheduler_backends[account_id][region_name].create_schedule(
                description=props.get("Description"), end_date=props.get("EndDate"),
                flexible_time_window=props["FlexibleTimeWindow"], group_name=props.get("GroupName"),
                kms_key_arn=props.get("KmsKeyArn"), name=resource_name,
                schedule_expression=props["ScheduleExpression"],
                schedule_expression_timezone=props.get("ScheduleExpressionTimezone"),
                start_date=props.get("StartDate"), state=props.get("State", "ENABLED"), target=props["Target"],
                action_after_completion=None)
            schedule = cls(resource_name, account_id, region_name)
            schedule.arn, schedule.group = created.arn, props.get("GroupName")
            return schedule

        def delete(self, account_id: str, region: str) -> None:
            from moto.scheduler.exceptions import ScheduleNotFound

            try:
                scheduler_backends[account_id][region].delete_schedule(self.group, self.physical_id)
            except ScheduleNotFound:
                pass

    class CloudWatchAlarm(StandInModel, CloudFormationModel):
        """``AWS::CloudWatch::Alarm``, which moto's CloudFormation skips: a rehearsal stand-in, never used by
        the platform. A metric alarm (a metric or ``Metrics`` queries) through the CloudWatch backend's
        ``put_metric_alarm``. Ref: the alarm name; Arn: its ARN. Deleted with the stack.
        """

        attributes = {"Arn": "arn"}

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def queries(metrics: list[dict[str, Any]]) -> list[Any]:
            """The ``Metrics`` property in the backend's objects (a metric math alarm)."""
            result = []
            for query in metrics:
                stat = query.get("MetricStat")
                metric_stat = None
                if stat:
                    metric = stat["Metric"]
                    dimensions = [Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions") or []]
                    metric_stat = MetricStat(Metric(metric["MetricName"], metric.get("Namespace"), dimensions),
                                             stat.get("Period"), stat.get("Stat"), stat.get("Unit"))
                result.append(MetricDataQuery(query["Id"], query.get("Label"), query.get("Period"),
                                              query.get("ReturnData"), query.get("Expression"), metric_stat))
            return result

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> CloudWatchAlarm:
            props = cloudformation_json["Properties"]
            threshold = props.get("Threshold")
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=resource_name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
                metric_data_queries=cls.queries(props["Metrics"]) if props.get("Metrics") else None,
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]), period=props.get("Period"),
                threshold=float(threshold) if threshold is not None else None,  # type: ignore[arg-type]
                statistic=props.get("Statistic"), description=props.get("AlarmDescription"),
                dimensions=props.get("Dimensions") or [], alarm_actions=props.get("AlarmActions") or [],
                datapoints_to_alarm=props.get("DatapointsToAlarm"),
                extended_statistic=props.get("ExtendedStatistic"), ok_actions=props.get("OKActions") or [],
                insufficient_data_actions=props.get("InsufficientDataActions") or [], unit=props.get("Unit"),
                actions_enabled=_flag(props.get("ActionsEnabled"), True),
                treat_missing_data=props.get("TreatMissingData"),
                evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
                threshold_metric_id=props.get("ThresholdMetricId"), tags=props.get("Tags"))
            created = cls(resource_name, account_id, region_name)
            created.arn = alarm.alarm_arn
            return created

        def delete(self, account_id: str, region: str) -> None:
            cloudwatch_backends[account_id][region].delete_alarms([self.physical_id])

    class SnsSubscription(StandInModel, CloudFormationModel):
        """``AWS::SNS::Subscription``, which moto's CloudFormation skips (only a topic's inline
        ``Subscription`` list is subscribed): a rehearsal stand-in, never used by the platform.

        Protocol, Endpoint and TopicArn, through the SNS backend's ``subscribe`` in the topic's region (the
        ARN's, which is what the Region property names). Ref and Arn: the subscription's ARN. moto confirms
        every subscription at once (AWS keeps an e-mail one pending until its link is followed). Deleted
        with the stack (``unsubscribe``). Ignored: FilterPolicy, FilterPolicyScope, RawMessageDelivery,
        DeliveryPolicy, RedrivePolicy, ReplayPolicy, SubscriptionRoleArn.
        """

        attributes = {"Arn": "physical_id"}

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                            account_id: str, region_name: str, **kwargs: Any) -> SnsSubscription:
            props = cloudformation_json["Properties"]
            topic_region = props["TopicArn"].split(":")[3] or region_name
            subscription = sns_backends[account_id][topic_region].subscribe(
                props["TopicArn"], props.get("Endpoint"), props["Protocol"])  # type: ignore[arg-type]
            created = cls(subscription.arn, account_id, region_name)
            created.topic_region = topic_region
            return created

        def delete(self, account_id: str, region: str) -> None:
            sns_backends[account_id][self.topic_region].unsubscribe(self.physical_id)

    models = (LambdaVersion, LambdaAlias, LambdaPermission, SecretsManagerSecret, ApiGatewayStage,
              SchedulerSchedule, CloudWatchAlarm, SnsSubscription)
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    model_map = parsing.get_model_map()
    for model in models:
        if model_map.get(model.cloudformation_type()) is not model:
            raise RuntimeError(f"moto's CloudFormation does not use the stand-in for {model.cloudformation_type()}")
    return tuple(model.cloudformation_type() for model in models)


# ----- the server ----------------------------------------------------------------------------------------
def serve(host: str, port: int, stop_on_stdin_eof: bool = False, out: IO[str] = sys.stdout) -> int:
    """Install the models, serve moto on ``host:port`` (0: a free port), print one JSON line
    (``{"endpoint", "port", "cloudformation_types"}``) once it listens, and serve until stopped."""
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    installed = install()
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    print(json.dumps({"endpoint": f"http://localhost:{port}", "port": port,
                      "cloudformation_types": list(installed)}), file=out, flush=True)
    if stop_on_stdin_eof:  # the parent holds the other end: it closes it to stop us, or dies
        threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    stopped.wait()
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_dev.rehearsal.stand_in",
                                     description="moto's server with the CloudFormation support the deploy "
                                                 "rehearsal needs (clients: AWS_ENDPOINT_URL=http://localhost:PORT)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port (printed)")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help="stop when standard input closes")
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.stop_on_stdin_eof)


# ----- the client side: a stand-in in a subprocess -------------------------------------------------------
def client_env(endpoint: str, region: str = DEFAULT_REGION,
               base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment whose AWS clients (boto3, pynamodb, the CDK CLI's JS SDK) talk to ``endpoint`` with
    moto's fake credentials, and nothing of the caller's AWS configuration (profile, session, per-service
    endpoints) can send them elsewhere."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in UNSET_VARIABLES and not k.startswith("AWS_ENDPOINT_URL_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION=region, AWS_DEFAULT_REGION=region, AWS_EC2_METADATA_DISABLED="true")
    return env


class StandInError(RuntimeError):
    """The stand-in did not start (its log's tail is in the message)."""


class StandIn:
    """The stand-in server in a subprocess on a free port: ``with StandIn() as aws: ...``.

    ``endpoint`` is ``http://localhost:PORT`` (``localhost``, not 127.0.0.1: the CDK CLI passes template
    URLs ``http://<host>/<bucket>/<key>`` and moto reads path-style S3 URLs only for hosts containing
    "localhost"). The server's log (every request, and moto's tracebacks) goes to ``log_path``.
    """

    def __init__(self, region: str = DEFAULT_REGION, log_path: Path | None = None,
                 python: str = sys.executable, start_timeout: float = 60.0) -> None:
        self.region = region
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="wfp-stand-in-", suffix=".log")[1])
        self.python = python
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.cloudformation_types: list[str] = []

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise StandInError("the stand-in is not started")
        return f"http://localhost:{self.port}"

    def client_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) pointed at the stand-in; see ``client_env()``."""
        return client_env(self.endpoint, self.region, base)

    @contextmanager
    def environment(self) -> Iterator[dict[str, str]]:
        """This process's environment pointed at the stand-in while the block runs, then restored: for
        in-process clients (``verify()``, the ``wfp`` commands). Create boto3 sessions inside the block:
        boto3's default session keeps the credentials it resolved first."""
        saved = dict(os.environ)
        env = self.client_env(saved)
        for key in set(saved) - set(env):
            del os.environ[key]
        os.environ.update(env)
        try:
            yield env
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self) -> StandIn:
        repo = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [self.python, "-m", "local_dev.rehearsal.stand_in", "--port", "0", "--stop-on-stdin-eof"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=repo)
        announced = json.loads(self._first_line())
        self.port, self.cloudformation_types = int(announced["port"]), announced["cloudformation_types"]
        self._wait_until_it_answers()
        return self

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.start_timeout)
        if not result or not result[0].strip():
            code = self.process.poll()
            self.stop()
            why = f"exited with code {code}" if code is not None else f"did not start within {self.start_timeout:.0f} s"
            raise StandInError(f"the stand-in {why}; its log ({self.log_path}) ends with:\n{self.log_tail()}")
        return result[0]

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # an HTTP answer, whatever its status, is an answer
            except (urllib.error.URLError, socket.timeout, ConnectionError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise StandInError(f"the stand-in on port {self.port} does not answer") from None
                time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Close its standard input (it stops), then terminate, then kill, whichever works first."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        finally:
            if process.stdout:
                process.stdout.close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    # Run the module under its own name: moto files each model class under the second part of its
    # module's name (``local_dev.rehearsal...`` → "rehearsal"), which "__main__" does not have.
    from local_dev.rehearsal import stand_in

    sys.exit(stand_in.main())
