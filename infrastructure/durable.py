"""The durable function: where durable workflows' runs execute (``"durable": true``; README, "Durable
workflows"; ARCHITECTURE.md, "Durable runs").

- ``functions.handlers.durable.handler``, Python 3.13 on arm64 like the others, the shared layer and a
  second one of its own (``layers.build.DURABLE_ONLY``: the durable execution SDK, which the other
  functions never import), its own log group and role (``PlatformStack._function``).
- ``DurableConfig``: the execution timeout is the longest ``durable_timeout_seconds`` of the durable
  workflows deployed (the config's default, 7 days, when there is none), so the service never stops an
  execution the platform still counts as open (the sweep closes it ``timed_out`` after that, plus the lease
  grace); the retention of a closed execution's history is the runs' own (``WFP_RUN_RETENTION_DAYS``),
  at most the service's 90 days.
- Published with an alias ``live``: the engine starts executions on ``<name>:live``
  (``WFP_DURABLE_FUNCTION``, ``functions.aws.durable``), on the api, worker, scheduler and durable
  functions (an error workflow may itself be durable).
- Named ``<prefix>-durable`` (not a generated name): its own environment and its own role's policy name it,
  which a reference to itself could not (a circular dependency in CloudFormation).

IAM, written out (not the managed ``AWSLambdaBasicDurableExecutionRolePolicy``, which grants on ``*``).
Lambda authorizes the durable execution actions against the execution's ARN,
``<function ARN>:<version>/durable-execution/<name>/<id>`` (the version an alias resolved to, never the
alias), so they are granted on ``<function ARN>:*``, the form AWS documents
(https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html):

- api, worker, scheduler (they start runs and answer approvals and callbacks): ``lambda:InvokeFunction`` on
  the alias only; ``lambda:SendDurableExecutionCallbackSuccess``/``Failure`` and
  ``lambda:ListDurableExecutionsByFunction`` on ``<function ARN>:*`` (every call ``functions.aws.durable``
  makes; it calls no ``GetDurableExecution``).
- durable: ``lambda:CheckpointDurableExecution`` and ``lambda:GetDurableExecutionState`` on
  ``<function ARN>:*`` (the SDK's two calls); ``lambda:InvokeFunction`` on its alias when an error workflow
  is named (``on_error`` accepts it from the failed run's own function). Its tables, secrets, queue,
  bucket and SES grants are the worker's (``PlatformStack``: it runs workflows as the worker does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Registry

from .nag import acknowledge, checkov_skip

if TYPE_CHECKING:
    from infrastructure.stack import PlatformStack

ALIAS = "live"
#: The service's bounds (DurableConfig): an execution runs at most 366 days; a closed one's history is
#: kept 1 to 90 days.
MAX_EXECUTION_SECONDS = 366 * 86400
MAX_RETENTION_DAYS = 90
#: What the api, worker and scheduler do to durable executions (``functions.aws.durable``).
CALLER_ACTIONS = ("lambda:SendDurableExecutionCallbackSuccess", "lambda:SendDurableExecutionCallbackFailure",
                  "lambda:ListDurableExecutionsByFunction")
#: What the durable execution SDK calls from inside the durable function.
SELF_ACTIONS = ("lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState")


def durable_workflows(registry: Registry) -> list[WorkflowConfig]:
    return [p.config for p in registry.of_kind("workflow")
            if not p.error and isinstance(p.config, WorkflowConfig) and p.config.durable]


def execution_timeout(configs: list[WorkflowConfig]) -> Duration:
    """The longest ``durable_timeout_seconds`` of the durable workflows (the config's default without any)."""
    default = WorkflowConfig.model_fields["durable_timeout_seconds"].default
    longest = max((c.durable_timeout_seconds for c in configs), default=default)
    return Duration.seconds(min(MAX_EXECUTION_SECONDS, longest))


def retention(run_retention_days: int) -> Duration:
    return Duration.days(max(1, min(MAX_RETENTION_DAYS, run_retention_days)))


def function_name(prefix: str) -> str:
    return f"{prefix}-durable"


def qualified_name(prefix: str) -> str:
    """``WFP_DURABLE_FUNCTION``: what ``functions.aws.durable`` invokes (``name:alias``)."""
    return f"{function_name(prefix)}:{ALIAS}"


class DurableFunction:
    """The durable function, its alias and its grants; built by ``PlatformStack`` (``add_durable``)."""

    def __init__(self, stack: PlatformStack, code: lambda_.Code, environment: dict[str, str],
                 layers: list[lambda_.ILayerVersion], timeout: Duration, *, memory: int,
                 removal: RemovalPolicy) -> None:
        self.stack = stack
        self.name = function_name(stack.prefix)
        self.configs = durable_workflows(stack.registry)
        self.durable_config = lambda_.DurableConfig(
            execution_timeout=execution_timeout(self.configs),
            retention_period=retention(stack.settings.run_retention_days))
        self.function = stack._function(
            "Durable", "functions.handlers.durable.handler", code, environment, timeout, memory=memory,
            removal=removal, description="Durable workflows' executions (Lambda durable functions)",
            layers=layers, durable_config=self.durable_config, function_name=self.name)
        self.alias = lambda_.Alias(stack, "DurableLive", alias_name=ALIAS, version=self.function.current_version,
                                   description="The version the engine starts durable executions on")
        checkov_skip(self.function, "CKV_AWS_116", "The engine invokes the durable function asynchronously "
                     "with a DurableExecutionName; the service retries and checkpoints the execution, and a "
                     "failed one is recorded on its run (error, resume from the failed step), not dead-lettered.")
        #: ``<function ARN>:*``: the durable executions of every version (what Lambda authorizes against).
        self.executions_arn = stack.stage_arn(service="lambda", resource="function",
                                              resource_name=f"{self.name}:*", arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.alias_arn = stack.stage_arn(service="lambda", resource="function",
                                         resource_name=qualified_name(stack.prefix),
                                         arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def _acknowledge_executions(self, function: lambda_.Function) -> None:
        acknowledge(function.role, "IAM5",  # type: ignore[arg-type]
                    "Lambda authorizes durable execution actions against the execution's ARN "
                    "(<function ARN>:<version>/durable-execution/<name>/<id>, a version, never the alias): "
                    f"':*' covers the executions of {self.name} only, the form AWS documents.",
                    f"Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{self.name}:*")

    def grant_callers(self, callers: list[lambda_.Function]) -> None:
        """Start executions (the alias), answer callbacks and read executions' states."""
        for function in callers:
            function.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                            resources=[self.alias_arn]))
            function.add_to_role_policy(iam.PolicyStatement(actions=list(CALLER_ACTIONS),
                                                            resources=[self.executions_arn]))
            self._acknowledge_executions(function)

    def grant_self(self, starts_error_workflows: bool) -> None:
        self.function.add_to_role_policy(iam.PolicyStatement(actions=list(SELF_ACTIONS),
                                                             resources=[self.executions_arn]))
        self._acknowledge_executions(self.function)
        if starts_error_workflows:
            self.function.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                                 resources=[self.alias_arn]))
