"""Nothing fails silently: every asynchronous path into the scheduler has a dead-letter queue, every
dead-letter queue and every function's errors and throttles have an alarm, all on one SNS topic
a user subscribes to with ``-c alarm_email=...``; reserved concurrency is an option, off by default."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from aws_cdk import App

from infrastructure.app import alarm_email_of, reserved_concurrency_of

HANDLERS = {"api": "functions.handlers.api.handler", "scheduler": "functions.handlers.scheduler.handler",
            "worker": "functions.handlers.worker.handler", "durable": "functions.handlers.durable.handler"}


def ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def function(synth, name: str) -> tuple[str, dict[str, Any]]:
    return next((k, f["Properties"]) for k, f in synth.resources("AWS::Lambda::Function").items()
                if f["Properties"]["Handler"] == HANDLERS[name])


def scheduler_dlq(synth) -> str:
    return ref(function(synth, "scheduler")[1]["DeadLetterConfig"]["TargetArn"])


def dead_letter_queues(synth) -> set[str]:
    """Every queue something sends its failures to: a redrive policy's, a function's, a target's."""
    found = {ref(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
             for q in synth.resources("AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]}
    found |= {ref(f["Properties"]["DeadLetterConfig"]["TargetArn"])
              for f in synth.resources("AWS::Lambda::Function").values() if "DeadLetterConfig" in f["Properties"]}
    found |= {ref(t["DeadLetterConfig"]["Arn"]) for r in synth.resources("AWS::Events::Rule").values()
              for t in r["Properties"]["Targets"] if "DeadLetterConfig" in t}
    found |= {ref(s["Properties"]["Target"]["DeadLetterConfig"]["Arn"])
              for s in synth.resources("AWS::Scheduler::Schedule").values()}
    return found


def queue_statements(synth, queue_id: str) -> list[dict[str, Any]]:
    (policy,) = [p["Properties"] for p in synth.resources("AWS::SQS::QueuePolicy").values()
                 if [ref(q) for q in p["Properties"]["Queues"]] == [queue_id]]
    return policy["PolicyDocument"]["Statement"]


# ----- dead-letter queues --------------------------------------------------------------------------------
def test_the_scheduler_function_sends_what_failed_every_retry_to_a_dead_letter_queue(dev, prod):
    for synth in (dev, prod):
        dlq = scheduler_dlq(synth)
        queue = synth.resources("AWS::SQS::Queue")[dlq]["Properties"]
        assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert queue["SqsManagedSseEnabled"] is True and "RedrivePolicy" not in queue
        deny = queue_statements(synth, dlq)[0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # API Gateway invokes the api synchronously, SQS's event source the worker: no function DLQ there,
        # the worker's failures go to the runs queue's redrive dead-letter queue.
        assert "DeadLetterConfig" not in function(synth, "api")[1]
        assert "DeadLetterConfig" not in function(synth, "worker")[1]
        assert dlq != ref(next(q for q in synth.resources("AWS::SQS::Queue").values()
                               if "RedrivePolicy" in q["Properties"])["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])


def test_every_rule_and_schedule_target_has_the_dead_letter_queue(dev, prod):
    for synth in (dev, prod):
        dlq = scheduler_dlq(synth)
        rules = synth.resources("AWS::Events::Rule").values()
        assert len(rules) >= 2  # the workflows' and the sweep
        for rule in rules:
            for target in rule["Properties"]["Targets"]:
                assert ref(target["DeadLetterConfig"]["Arn"]) == dlq, rule["Properties"]["Name"]
                assert target["RetryPolicy"]["MaximumRetryAttempts"] in (0, 4)
    (schedule,) = prod.resources("AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    assert ref(target["DeadLetterConfig"]["Arn"]) == scheduler_dlq(prod)
    # Scheduler delivers dead letters with the schedule's role: it may send to that queue, nothing more.
    role = ref(target["RoleArn"])
    sends = [s for p in prod.resources("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
             for s in p["Properties"]["PolicyDocument"]["Statement"] if "sqs" in json.dumps(s["Action"])]
    assert [(s["Action"], ref(s["Resource"])) for s in sends] == [("sqs:SendMessage", scheduler_dlq(prod))]


def test_one_queue_policy_statement_lets_every_rule_of_the_stage_dead_letter(prod):
    """One statement for all rules (an SQS policy holds at most 20), and it matches every rule's ARN."""
    dlq = scheduler_dlq(prod)
    allows = [s for s in queue_statements(prod, dlq) if s["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    pattern = "".join(p if isinstance(p, str) else "<token>" for p in
                      allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1])
    assert pattern.endswith(":rule/wfp-prod-*")
    names = [r["Properties"]["Name"] for r in prod.resources("AWS::Events::Rule").values()]
    assert len(names) == 6
    for name in names:
        assert fnmatch.fnmatch(name, "wfp-prod-*"), name


# ----- alarms --------------------------------------------------------------------------------------------
def alarms(synth) -> dict[str, dict[str, Any]]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()}


def topic(synth) -> tuple[str, dict[str, Any]]:
    ((topic_id, properties),) = [(k, t["Properties"]) for k, t in synth.resources("AWS::SNS::Topic").items()]
    return topic_id, properties


def test_every_dead_letter_queue_has_an_alarm_on_its_depth(dev, prod):
    for synth in (dev, prod):
        queues = dead_letter_queues(synth)
        assert len(queues) == 2
        watched = {}
        for alarm in alarms(synth).values():
            if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible":
                (dimension,) = alarm["Dimensions"]
                assert dimension["Name"] == "QueueName"
                watched[dimension["Value"]["Fn::GetAtt"][0]] = alarm
        assert set(watched) == queues
        for alarm in watched.values():
            assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == ("AWS/SQS", "Maximum", 0)
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_each_function_has_an_errors_and_a_throttles_alarm(dev):
    found = {(a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in alarms(dev).values()
             if a["Namespace"] == "AWS/Lambda"}
    functions = {function(dev, name)[0] for name in HANDLERS}
    assert found == {(metric, f) for metric in ("Errors", "Throttles") for f in functions}
    for alarm in alarms(dev).values():
        if alarm["Namespace"] == "AWS/Lambda":
            assert alarm["Dimensions"][0]["Name"] == "FunctionName"  # every version and alias together
            assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
                "Sum", 1, "GreaterThanOrEqualToThreshold")


def test_alarms_notify_one_topic_on_alarm_and_recovery_and_ignore_missing_data(dev, prod):
    for synth in (dev, prod):
        topic_id, _ = topic(synth)
        found = alarms(synth)
        assert len(found) == 2 + 2 * 4  # two dead-letter queues, each function's errors and throttles
        for name, alarm in found.items():
            assert name.startswith(f"{synth.stack.stack_name}-"), name
            assert [ref(a) for a in alarm["AlarmActions"]] == [topic_id] == [ref(a) for a in alarm["OKActions"]]
            assert alarm["TreatMissingData"] == "notBreaching"  # idle and empty publish nothing: healthy
            assert alarm["Period"] == 300 and alarm["EvaluationPeriods"] == 1 and alarm["DatapointsToAlarm"] == 1
            assert len(alarm["AlarmDescription"]) > 40


def test_the_topic_refuses_plain_http_and_lets_only_this_stages_alarms_publish(dev, deployed):
    for synth in (dev, deployed):
        topic_id, properties = topic(synth)
        # No key of its own (README, Alarms): nothing secret goes through it, and CloudWatch could not
        # publish under the AWS-managed one; a customer-managed key would cost as much as the idle stack.
        assert "KmsMasterKeyId" not in properties and synth.resources("AWS::KMS::Key") == {}
        (policy,) = [p["Properties"]["PolicyDocument"]["Statement"] for p in synth.resources("AWS::SNS::TopicPolicy").values()
                     if [ref(t) for t in p["Properties"]["Topics"]] == [topic_id]]
        deny, allow = policy
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
        assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        pattern = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1]
        assert pattern == f":alarm:{synth.stack.stack_name}-*"
        # a name outside the pattern would deploy and then publish nothing: every alarm matches it
        for name in alarms(synth):
            assert fnmatch.fnmatch(f"alarm:{name}", pattern.lstrip(":")), name
        assert ref(synth.template["Outputs"]["AlarmTopicArn"]["Value"]) == topic_id


def test_an_email_is_subscribed_only_when_given(dev, with_options):
    assert dev.resources("AWS::SNS::Subscription") == {}
    (subscription,) = [s["Properties"] for s in with_options.resources("AWS::SNS::Subscription").values()]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")
    assert ref(subscription["TopicArn"]) == topic(with_options)[0]


@pytest.mark.parametrize("value", ["ops", "ops@", "a b@example.com", "ops@example", "a@b.com,c@d.com"])
def test_an_alarm_email_that_is_not_one_is_refused(value):
    with pytest.raises(SystemExit, match="is not an e-mail address"):
        alarm_email_of(App(context={"alarm_email": value}))


def test_the_alarm_email_reads_the_context_then_the_environment(monkeypatch):
    monkeypatch.delenv("WFP_ALARM_EMAIL", raising=False)
    assert alarm_email_of(App()) is None
    monkeypatch.setenv("WFP_ALARM_EMAIL", "team@example.com")
    assert alarm_email_of(App()) == "team@example.com"
    assert alarm_email_of(App(context={"alarm_email": "ops@example.com"})) == "ops@example.com"


# ----- reserved concurrency ------------------------------------------------------------------------------
def test_no_reserved_concurrency_by_default(dev, prod):
    for synth in (dev, prod):
        for name in HANDLERS:
            assert "ReservedConcurrentExecutions" not in function(synth, name)[1], name
        (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
        assert "ScalingConfig" not in mapping["Properties"]


def test_reserved_concurrency_when_asked_and_the_worker_polls_no_more_than_it_may_run(with_options):
    assert {name: function(with_options, name)[1]["ReservedConcurrentExecutions"] for name in HANDLERS} == {
        "api": 20, "worker": 10, "scheduler": 2, "durable": 2}
    (mapping,) = with_options.resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 10}


@pytest.mark.parametrize("value, expected", [
    ("", {}),
    ("api=20", {"api": 20}),
    (" api = 20 , worker=2,scheduler=1 ", {"api": 20, "worker": 2, "scheduler": 1}),
    ({"worker": 5}, {"worker": 5}),  # as cdk.json's context may give it
])
def test_reserved_concurrency_is_read_from_the_context(value, expected, monkeypatch):
    monkeypatch.delenv("WFP_RESERVED_CONCURRENCY", raising=False)
    assert reserved_concurrency_of(App(context={"reserved_concurrency": value} if value else {})) == expected


def test_reserved_concurrency_falls_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("WFP_RESERVED_CONCURRENCY", "scheduler=3")
    assert reserved_concurrency_of(App()) == {"scheduler": 3}
    assert reserved_concurrency_of(App(context={"reserved_concurrency": "api=1"})) == {"api": 1}


@pytest.mark.parametrize("value, message", [
    ("api", "is not <function>=<number>"),
    ("web=5", "no function named 'web': the functions are api, scheduler, worker"),
    ("api=0", "api='0' must be a whole number of at least 1"),
    ("api=-3", "must be a whole number"),
    ("api=many", "must be a whole number"),
    ("worker=1", "whose lowest value is 2"),
    ("api=1,api=2", "api is given twice"),
])
def test_a_bad_reserved_concurrency_is_refused_with_what_to_write(value, message, monkeypatch):
    monkeypatch.delenv("WFP_RESERVED_CONCURRENCY", raising=False)
    with pytest.raises(SystemExit) as refused:
        reserved_concurrency_of(App(context={"reserved_concurrency": value}))
    assert message in str(refused.value)
    assert "e.g. -c reserved_concurrency=api=20,worker=10,scheduler=2" in str(refused.value)
