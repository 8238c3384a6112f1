"""Each scheduled workflow's EventBridge resource, built from ``functions.core.deployment.deployed_schedule``.

That function owns the naming convention (``<prefix>-<workflow>``), the expression and the target
input, because pausing through the API must find the same resource by name: nothing is restated here.

* UTC workflows get an EventBridge **rule** (rules only know UTC) whose target is an input transformer
  ``{"workflow": "<name>", "time": <time>, "id": <id>}``: the scheduler handler receives the tick's own
  time, which is what makes a duplicate delivery of the same tick recognisable.
* Other timezones get an EventBridge **Scheduler** schedule with ``ScheduleExpressionTimezone``
  (DST-correct: 09:00 Europe/Paris stays 09:00 in summer), invoking the function through a role.

Both retry a delivery that fails (4 times, for up to 2 hours); an event that still could not be
delivered (the function throttled all along, deleted, a missing permission) goes to the stage's
scheduler dead-letter queue instead of vanishing. Failures *inside* the function are the function's
own dead-letter queue's business (the same queue, see ``infrastructure.stack``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Annotations, Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.deployment import DeployedSchedule, deployed_schedule
from functions.registry.config import WorkflowConfig
from functions.registry.cron import CronError

from .nag import acknowledge

RETRY_ATTEMPTS = 4
MAX_EVENT_AGE = Duration.hours(2)


@dataclass
class Schedules:
    """What the stack created, so it can grant the API the right to pause and resume them."""

    rules: dict[str, events.Rule] = field(default_factory=dict)
    schedules: dict[str, scheduler.CfnSchedule] = field(default_factory=dict)
    deployed: dict[str, DeployedSchedule] = field(default_factory=dict)
    role: iam.Role | None = None


def schedule_input(workflow: str) -> events.RuleTargetInput:
    return events.RuleTargetInput.from_object(
        {"workflow": workflow, "time": events.EventField.time, "id": events.EventField.event_id})


def dead_letter_undelivered(rule: events.Rule, queue: sqs.IQueue) -> None:
    """Events ``rule`` could not deliver to its target go to ``queue`` (the target's DeadLetterConfig).

    Set on the CloudFormation target rather than with ``LambdaFunction(dead_letter_queue=...)``, which
    would also add one statement per rule to the queue's policy: an SQS policy holds at most 20
    statements (and 8 KB), so a stage with more than about 18 UTC schedules could not deploy.
    ``allow_rules_to_dead_letter`` writes one statement for all the stage's rules instead.
    """
    rule.node.default_child.add_property_override(  # type: ignore[union-attr]
        "Targets.0.DeadLetterConfig.Arn", queue.queue_arn)


def allow_rules_to_dead_letter(queue: sqs.IQueue, prefix: str) -> None:
    """EventBridge may send to ``queue`` the events of this stage's rules (all named ``<prefix>-...``)."""
    rules = Stack.of(queue).format_arn(service="events", resource="rule", resource_name=f"{prefix}-*",
                                       region=Aws.REGION, account=Aws.ACCOUNT_ID)
    queue.add_to_resource_policy(iam.PolicyStatement(
        sid="ThisStagesRulesDeadLetter", principals=[iam.ServicePrincipal("events.amazonaws.com")],
        actions=["sqs:SendMessage"], resources=[queue.queue_arn], conditions={"ArnLike": {"aws:SourceArn": rules}}))


def _rule(scope: Construct, spec: DeployedSchedule, config: WorkflowConfig, target: lambda_.IFunction,
          dead_letters: sqs.IQueue) -> events.Rule:
    rule = events.Rule(
        scope, f"Schedule-{spec.workflow}", rule_name=spec.name,
        description=f"run workflow {spec.workflow} at '{config.schedule}' (UTC)",
        schedule=events.Schedule.expression(spec.expression), enabled=config.active)
    rule.add_target(targets.LambdaFunction(target, event=schedule_input(spec.workflow),
                                           retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE))
    dead_letter_undelivered(rule, dead_letters)
    return rule


def _scheduler_role(scope: Construct, target: lambda_.IFunction, dead_letters: sqs.IQueue) -> iam.Role:
    role = iam.Role(scope, "SchedulerInvokeRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                    description="EventBridge Scheduler: invoke the scheduler function for timezone schedules")
    target.grant_invoke(role)
    # Scheduler sends an event it could not deliver to the dead-letter queue with this role (not with a
    # queue policy, unlike rules).
    dead_letters.grant(role, "sqs:SendMessage")
    if isinstance(target, lambda_.Function):  # an alias's grant names the alias alone: no wildcard
        acknowledge(role, "IAM5", "lambda:InvokeFunction on the scheduler function and its versions (<arn>:*), "
                    "as CDK's grant_invoke writes it; nothing else.",
                    f"Resource::<{Stack.of(scope).get_logical_id(target.node.default_child)}.Arn>:*")  # type: ignore[arg-type]
    return role


def _schedule(scope: Construct, spec: DeployedSchedule, config: WorkflowConfig, target: lambda_.IFunction,
              role: iam.Role, dead_letters: sqs.IQueue) -> scheduler.CfnSchedule:
    return scheduler.CfnSchedule(
        scope, f"Schedule-{spec.workflow}", name=spec.name, group_name=spec.group,
        description=f"run workflow {spec.workflow} at '{config.schedule}' ({spec.timezone})",
        schedule_expression=spec.expression, schedule_expression_timezone=spec.timezone,
        flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
        state="ENABLED" if config.active else "DISABLED",
        target=scheduler.CfnSchedule.TargetProperty(
            arn=target.function_arn, role_arn=role.role_arn, input=spec.target_input["input"],
            dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS,
                maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()))))


def schedule_workflows(scope: Construct, workflows: list[tuple[str, WorkflowConfig]], target: lambda_.IFunction,
                       prefix: str, dead_letters: sqs.IQueue) -> Schedules:
    """One rule or Scheduler schedule per workflow; an expression EventBridge refuses fails the synth.
    Events that could not be delivered go to ``dead_letters`` (the caller lets the rules send there with
    ``allow_rules_to_dead_letter``)."""
    created = Schedules()
    for workflow, config in workflows:
        try:
            spec = deployed_schedule(workflow, config, prefix)
        except CronError as exc:
            Annotations.of(scope).add_error(f"workflow '{workflow}': {exc}")
            continue
        if spec is None:
            continue
        created.deployed[workflow] = spec
        if spec.kind == "rule":
            created.rules[workflow] = _rule(scope, spec, config, target, dead_letters)
        else:
            created.role = created.role or _scheduler_role(scope, target, dead_letters)
            created.schedules[workflow] = _schedule(scope, spec, config, target, created.role, dead_letters)
    return created
