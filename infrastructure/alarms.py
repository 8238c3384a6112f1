"""CloudWatch alarms of a stage, all publishing to one encrypted SNS topic: nothing fails silently.

What is watched (each alarm is named ``<prefix>-<what>`` so its e-mail says which stage and what):

* every dead-letter queue's depth (``ApproximateNumberOfMessagesVisible`` > 0): a message there is a
  run or a scheduled tick that did not happen, kept 14 days until someone reads it;
* each function's ``Errors`` and ``Throttles`` (>= 1): the platform records a workflow's own failure
  as a run, so a Lambda error is the platform itself failing (a crash, a timeout, out of memory), and a
  throttle means the account's or the function's concurrency is exhausted.

Thresholds and periods: any occurrence counts (these are not rates of user errors: each one is worth a
look), summed over 5 minutes and alarming on the first such period, so a problem is known within about
5 minutes and one burst is one notification, not one per minute. Missing data is "not breaching": an
idle function or an empty queue publishes nothing, which is the healthy state, not an unknown one. The
topic also gets each alarm's return to OK, so whoever was told about a problem is told when it ends.

Not encrypted with a key of its own, on purpose: the topic carries alarm names, states and metric
values, never run data or secrets; CloudWatch cannot publish to a topic encrypted with the AWS-managed
``alias/aws/sns`` key (its policy cannot let CloudWatch in: alarms would reach no one, silently); and a
customer-managed key costs $1 a month plus rotations, as much as the rest of the idle stack without
SnapStart. The topic's own policy lets CloudWatch publish only for this account's alarms named after
this stage; SSL is enforced.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .nag import acknowledge, checkov_skip

#: Every alarm sums (or takes the maximum of) its metric over this period and fires on the first one.
PERIOD = Duration.minutes(5)
CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


class Alarms(Construct):
    """The alarm topic (with an optional e-mail subscription) and helpers that add alarms to it."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, email: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        stack = Stack.of(self)
        self.topic = sns.Topic(self, "Topic", topic_name=f"{prefix}-alarms", display_name=f"{prefix} alarms",
                               enforce_ssl=True)
        reason = ("Alarm notifications carry alarm names, states and metric values, no run data or secret; "
                  "CloudWatch cannot publish to a topic under the AWS-managed aws/sns key, and a customer-"
                  "managed key would cost $1/month, as much as the idle stack without SnapStart.")
        acknowledge(self.topic, "SNS2", reason)
        checkov_skip(self.topic, "CKV_AWS_26", reason)
        alarms = stack.format_arn(service="cloudwatch", resource="alarm", resource_name=f"{prefix}-*",
                                  region=Aws.REGION, account=Aws.ACCOUNT_ID,
                                  arn_format=ArnFormat.COLON_RESOURCE_NAME)
        # A topic policy replaces SNS's default one, which is what let CloudWatch publish: say it again,
        # for this account's alarms of this stage only.
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="ThisStagesAlarmsPublish", principals=[CLOUDWATCH], actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"ArnLike": {"aws:SourceArn": alarms}, "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(self, construct_id: str, name: str, metric: cloudwatch.IMetric, threshold: float,
               comparison: cloudwatch.ComparisonOperator, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, construct_id, alarm_name=f"{self.prefix}-{name}", alarm_description=description, metric=metric,
            threshold=threshold, comparison_operator=comparison, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def on_dead_letters(self, queue: sqs.IQueue, name: str, description: str) -> cloudwatch.Alarm:
        """Any message waiting in ``queue`` (a dead-letter queue): ``description`` says what it means."""
        metric = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
        return self._alarm(f"{_camel(name)}Depth", name, metric, 0,
                           cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, description)

    def on_function(self, function: lambda_.IFunction, name: str) -> list[cloudwatch.Alarm]:
        """The function's errors and throttles (all versions and aliases: the metrics' FunctionName)."""
        at_least_one = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        return [
            self._alarm(f"{_camel(name)}Errors", f"{name}-errors", function.metric_errors(period=PERIOD, statistic="Sum"),
                        1, at_least_one,
                        f"The {name} function failed (an exception the platform did not turn into a recorded run, "
                        f"a timeout, out of memory): read its log group ({self.prefix} {name}) for the traceback."),
            self._alarm(f"{_camel(name)}Throttles", f"{name}-throttles",
                        function.metric_throttles(period=PERIOD, statistic="Sum"), 1, at_least_one,
                        f"Lambda refused to run the {name} function: the account's concurrency (or the function's "
                        f"reserved concurrency) is used up. Raise the quota or the reservation."),
        ]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
