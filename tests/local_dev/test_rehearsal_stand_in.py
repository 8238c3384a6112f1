"""The deploy rehearsal's two pieces: the stand-in (moto's server with the CloudFormation models it lacks)
and the verifier (what a stack created, read back and compared with what the platform derives it from).

The verifier's test deploys the platform's template with the real CDK CLI (``node_modules/.bin/cdk``,
``npm ci``): bootstrap, then ``deploy --method=direct`` of an in-process synthesis (a layer without
dependencies, the example plugins plus a timezone schedule and a paused one, an alarm e-mail and reserved
concurrency), about 20 s in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import REPO, copy_examples

from local_dev.rehearsal.stand_in import ACCOUNT_ID, StandIn, client_env

CDK = REPO / "node_modules" / ".bin" / "cdk"
CDK_ENV = {"CDK_DISABLE_CLI_TELEMETRY": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    with StandIn() as aws:
        yield aws


@pytest.fixture
def session(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 session whose clients talk to the stand-in (this process's environment switched to it)."""
    import boto3

    monkeypatch.setenv("AWS_PROFILE", "someone-elses")  # what the stand-in's environment must not keep
    with stand_in.environment():
        assert "AWS_PROFILE" not in os.environ
        yield boto3.session.Session()
    assert os.environ["AWS_PROFILE"] == "someone-elses"  # restored


# ----- the stand-in's CloudFormation models ----------------------------------------------------------------
SMALL_STACK = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.13", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return event\n"}}},
        "FnVersion": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "FunctionVersion": {"Fn::GetAtt": ["FnVersion", "Version"]}, "Name": "live"}},
        "InvokeLive": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Live"}, "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:abc123/*/*"}}},
        "Token": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": "rehearsal-test/token", "Description": "a generated token",
            "GenerateSecretString": {"PasswordLength": 24, "ExcludePunctuation": True}}},
        "Login": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": "rehearsal-test/login", "GenerateSecretString": {
                "SecretStringTemplate": '{"username": "admin"}', "GenerateStringKey": "password",
                "PasswordLength": 16, "ExcludeCharacters": "abc"}}},
        # On a topic the stack does not own (the test creates it), so that deleting the stack can only
        # unsubscribe, not delete the topic with its subscriptions. FilterPolicy is ignored (documented).
        "ByMail": {"Type": "AWS::SNS::Subscription", "Properties": {
            "Protocol": "email", "Endpoint": "ops@example.com", "FilterPolicy": {"severity": ["high"]},
            "TopicArn": {"Fn::Sub": "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:rehearsal-external"}}},
    },
    "Outputs": {
        "AliasRef": {"Value": {"Ref": "Live"}}, "AliasArn": {"Value": {"Fn::GetAtt": ["Live", "AliasArn"]}},
        "VersionRef": {"Value": {"Ref": "FnVersion"}}, "VersionNumber": {"Value": {"Fn::GetAtt": ["FnVersion", "Version"]}},
        "TokenRef": {"Value": {"Ref": "Token"}}, "TokenId": {"Value": {"Fn::GetAtt": ["Token", "Id"]}},
        "SubscriptionRef": {"Value": {"Ref": "ByMail"}}, "SubscriptionArn": {"Value": {"Fn::GetAtt": ["ByMail", "Arn"]}},
    },
}


def create_stack(cloudformation: Any, name: str, template: dict[str, Any]) -> dict[str, str]:
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_alias_version_permission_secrets_and_subscription_are_created_with_cloudformation_refs(session, stand_in):
    cloudformation, lambda_, secrets, sns = (session.client(s) for s in ("cloudformation", "lambda", "secretsmanager",
                                                                         "sns"))
    assert session.client("s3").meta.endpoint_url == f"http://localhost:{stand_in.port}"  # the stand-in, not moto in-process
    topic = sns.create_topic(Name="rehearsal-external")["TopicArn"]
    outputs = create_stack(cloudformation, "rehearsal-small", SMALL_STACK)
    function = cloudformation.describe_stack_resource(StackName="rehearsal-small", LogicalResourceId="Fn")[
        "StackResourceDetail"]["PhysicalResourceId"]

    # Version: Ref is its ARN, Version its number; Alias: Ref and AliasArn its ARN, on that version.
    alias = lambda_.get_alias(FunctionName=function, Name="live")
    assert outputs["AliasRef"] == outputs["AliasArn"] == alias["AliasArn"]
    assert alias["AliasArn"].endswith(f":function:{function}:live")
    assert outputs["VersionNumber"] == alias["FunctionVersion"] == "1"
    assert outputs["VersionRef"] == alias["AliasArn"].removesuffix(":live") + ":1"

    # The permission is on the alias (its statement's resource is the alias, as AddPermission writes it).
    policy = json.loads(lambda_.get_policy(FunctionName=function, Qualifier="live")["Policy"])
    [statement] = policy["Statement"]
    assert statement["Resource"] == alias["AliasArn"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:abc123/*/*"

    # Secrets: Ref and Id are the ARN; the values are generated as GenerateSecretString says.
    described = secrets.describe_secret(SecretId="rehearsal-test/token")
    assert outputs["TokenRef"] == outputs["TokenId"] == described["ARN"]
    assert described["Description"] == "a generated token"
    token = secrets.get_secret_value(SecretId="rehearsal-test/token")["SecretString"]
    assert len(token) == 24 and token.isalnum()
    login = json.loads(secrets.get_secret_value(SecretId="rehearsal-test/login")["SecretString"])
    assert login["username"] == "admin" and len(login["password"]) == 16
    assert not set("abc") & set(login["password"])

    # Subscription: Ref and Arn are the subscription's ARN, on the topic TopicArn names; the filter is not kept.
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert outputs["SubscriptionRef"] == outputs["SubscriptionArn"] == subscription["SubscriptionArn"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert "FilterPolicy" not in attributes

    # Deleting the stack deletes them, the secrets at once: a new stack reuses the names and draws new values.
    cloudformation.delete_stack(StackName="rehearsal-small")
    assert not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]  # unsubscribed, the topic kept
    assert function not in [f["FunctionName"] for f in lambda_.list_functions()["Functions"]]
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.describe_secret(SecretId="rehearsal-test/token")
    create_stack(cloudformation, "rehearsal-small", SMALL_STACK)
    assert secrets.get_secret_value(SecretId="rehearsal-test/token")["SecretString"] != token
    cloudformation.delete_stack(StackName="rehearsal-small")
    sns.delete_topic(TopicArn=topic)


ALARM_STACK = {
    "Resources": {
        "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "rehearsal-alerts"}},
        "DeadLetters": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "rehearsal-dead-letters", "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible", "Statistic": "Maximum", "Period": 300,
            "Dimensions": [{"Name": "QueueName", "Value": "runs-dlq"}], "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [{"Ref": "Alerts"}]}},
    },
    "Outputs": {"AlarmRef": {"Value": {"Ref": "DeadLetters"}}, "AlarmArn": {"Value": {"Fn::GetAtt": ["DeadLetters", "Arn"]}}},
}


def test_alarms_are_created_and_the_verifier_checks_them_on_any_stack(session):
    """An alarm (moto's CloudFormation has no model for it) on the CloudWatch backend; the verifier, given
    a stack that is not the platform's, fails each section with what it looked for and still checks them."""
    from functions.registry.discovery import Registry
    from local_dev.rehearsal.verify import verify

    cloudformation, cloudwatch = session.client("cloudformation"), session.client("cloudwatch")
    outputs = create_stack(cloudformation, "rehearsal-alarms", ALARM_STACK)
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["rehearsal-dead-letters"])["MetricAlarms"]
    assert outputs == {"AlarmRef": "rehearsal-dead-letters", "AlarmArn": alarm["AlarmArn"]}
    topic = cloudformation.describe_stack_resource(StackName="rehearsal-alarms", LogicalResourceId="Alerts")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert alarm["AlarmActions"] == [topic] and alarm["Threshold"] == 0 and alarm["Dimensions"][0]["Value"] == "runs-dlq"

    result = verify("rehearsal-alarms", Registry(REPO / "plugins"), session=session)
    checks = {c.name: c for c in result.checks}
    assert checks["alarm rehearsal-dead-letters"].ok and checks["SNS topic Alerts"].ok, result.report()
    assert not result.ok
    assert "no AWS::DynamoDB::Table RunsTable<hash> in the stack (created AWS::DynamoDB::Table: none)" in result.report()

    cloudformation.delete_stack(StackName="rehearsal-alarms")
    assert not cloudwatch.describe_alarms(AlarmNames=["rehearsal-dead-letters"])["MetricAlarms"]


def test_the_platform_never_imports_the_rehearsal():
    """The stand-in's models are for the rehearsal only: what runs on Lambda or builds the stack never sees them."""
    import ast

    def imported(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    offenders = [str(path.relative_to(REPO)) for folder in ("functions", "infrastructure", "layers")
                 for path in (REPO / folder).rglob("*.py")
                 if any(m.startswith("local_dev.rehearsal") for m in imported(path))]
    assert not offenders


def test_the_stand_in_environment_leaves_nothing_of_the_callers_aws_configuration():
    env = client_env("http://localhost:4566", base={
        "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "t", "AWS_ENDPOINT_URL_S3": "https://x", "AWS_REGION": "eu-west-3",
        "PATH": "/bin"})
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert not {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"} & set(env)
    assert env["PATH"] == "/bin"


# ----- the verifier, against the platform's template deployed by the CDK CLI --------------------------------
#: The ``-c`` values the platform's stack is deployed with (besides the stage), as ``wfp deploy`` passes them.
DEPLOY_CONTEXT = {"alarm_email": "ops@example.com", "reserved_concurrency": "api=20,worker=10,scheduler=2"}


def synthesize(tmp: Path, stage: str) -> Any:
    """The platform's stack as ``cdk deploy`` synthesizes it (tests/infrastructure/synth_support.py)."""
    sys.path.insert(0, str(REPO / "tests" / "infrastructure"))
    try:
        from synth_support import synthesize_with
    finally:
        sys.path.remove(str(REPO / "tests" / "infrastructure"))
    plugins = copy_examples(tmp / "plugins")
    plugins.workflow("paris_morning", {"schedule": "0 9 * * *", "timezone": "Europe/Paris", "triggers": ["schedule"]})
    plugins.workflow("paused_nightly", {"schedule": "30 2 * * *", "triggers": ["schedule"], "active": False})
    return synthesize_with(tmp, stage, plugins.root, account=ACCOUNT_ID, region="us-east-1", **DEPLOY_CONTEXT)


def cdk(stand_in: StandIn, *args: str, cwd: Path) -> None:
    """The CDK CLI against the stand-in; run outside the repository, so it does not synthesize the app."""
    result = subprocess.run([str(CDK), *args], cwd=cwd, env={**stand_in.client_env(), **CDK_ENV},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (f"cdk {' '.join(args)} failed:\n{result.stderr[-3000:]}\n"
                                    f"stand-in log:\n{stand_in.log_tail()}")


@pytest.fixture
def deployed(stand_in: StandIn, tmp_path: Path) -> tuple[str, Path, Any]:
    """``wfp-rehearsal`` deployed on the stand-in by the real CLI: (stack name, layer folder, synthesis)."""
    if not CDK.exists():
        pytest.fail(f"the CDK CLI is not installed ({CDK} is missing): run 'npm ci' in the repository")
    synth = synthesize(tmp_path, "rehearsal")
    cdk(stand_in, "bootstrap", f"aws://{ACCOUNT_ID}/us-east-1", cwd=tmp_path)
    cdk(stand_in, "deploy", "--app", str(synth.outdir), synth.stack.stack_name, "--method=direct",
        "--require-approval", "never", cwd=tmp_path)
    return synth.stack.stack_name, tmp_path / "build" / "layer", synth


def test_verifier_passes_on_the_deployed_stack_and_names_what_differs(deployed, session, stand_in, tmp_path):
    from local_dev.rehearsal.verify import registry_from_layer, verify

    stack_name, layer, synth = deployed
    registry = registry_from_layer(layer)
    result = verify(stack_name, registry, session=session, context=DEPLOY_CONTEXT)
    assert result.ok, result.report()
    passed = {c.name for c in result.checks}
    for name in ("table runs_table", "function worker environment", "worker consumes the runs queue",
                 "rule wfp-rehearsal-daily_digest target", "rule wfp-rehearsal-paused_nightly schedule",
                 "schedule wfp-rehearsal-paris_morning", "admin token secret wfp-rehearsal/admin-token",
                 "webhook secret of incoming_webhook: wfp-rehearsal/webhooks/incoming_webhook",
                 "API Gateway invokes the api function's alias", "output ApiUrl", "output WebhookUrlIncomingWebhook",
                 # the failure paths
                 "rule wfp-rehearsal-daily_digest dead-letter queue", "rule wfp-rehearsal-paused_nightly dead-letter queue",
                 "sweep rule wfp-rehearsal-stale-run-sweep dead-letter queue",
                 "schedule wfp-rehearsal-paris_morning dead-letter queue",
                 "schedule role wfp-rehearsal-SchedulerInvokeRole", "function scheduler dead-letter queue",
                 "runs dead-letter queue retention and encryption",
                 "scheduler dead-letter queue retention and encryption",
                 # the alarms, their topic and what the context asked
                 *(f"alarm wfp-rehearsal-{name}" for name in (
                     "runs-dead-letters", "scheduler-dead-letters", "api-errors", "api-throttles", "scheduler-errors",
                     "scheduler-throttles", "worker-errors", "worker-throttles")),
                 "alarm topic wfp-rehearsal-alarms", "alarm topic subscriptions", "function api reserved concurrency",
                 "function worker reserved concurrency", "worker event source maximum concurrency"):
        assert any(p.startswith(name) for p in passed), f"no check {name!r} in\n{result.report()}"
    checks = {c.name: c for c in result.checks}
    assert checks["alarm topic subscriptions"].detail == "e-mail to ops@example.com, as the deploy's context asks"
    assert checks["worker event source maximum concurrency"].detail.startswith("10 ")
    assert any("TTL" in note for note in result.not_checkable)
    assert any(note.startswith("the scheduler function's DeadLetterConfig") for note in result.not_checkable)
    assert not [c for c in result.checks if c.name.startswith("alarm ") and c.detail.startswith("notifies")], (
        "the platform's alarms are compared, not only listed")
    # Without the deploy's context, what it asked is read from the deployed template: the same checks pass.
    from_template = verify(stack_name, registry, session=session)
    assert from_template.ok and {c.name for c in from_template.checks} == passed, from_template.report()
    assert {c.name: c for c in from_template.checks}["alarm topic subscriptions"].detail.endswith(
        "as the deployed template (no deploy context given) asks")

    # Changed behind the stack's back, through the stand-in's ordinary APIs: each change is named.
    dynamodb, lambda_, scheduler = (session.client(s) for s in ("dynamodb", "lambda", "scheduler"))
    runs = next(t for t in dynamodb.list_tables()["TableNames"] if "RunsTable" in t)
    dynamodb.update_table(TableName=runs, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "open_runs"}}])
    api = next(f for f in lambda_.list_functions()["Functions"] if "ApiFunction" in f["FunctionName"])
    queue_url = api["Environment"]["Variables"]["WFP_QUEUE_URL"]
    variables = {**api["Environment"]["Variables"], "WFP_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/other"}
    lambda_.update_function_configuration(FunctionName=api["FunctionName"], Environment={"Variables": variables})
    paris = scheduler.get_schedule(Name="wfp-rehearsal-paris_morning", GroupName="default")
    scheduler.delete_schedule(Name="wfp-rehearsal-paris_morning", GroupName="default")

    result = verify(stack_name, registry, session=session, context=DEPLOY_CONTEXT)
    report = result.report()
    failed = {c.name.split(" (")[0]: c.detail for c in result.failures}
    assert set(failed) == {"table runs_table", "function api environment", "schedule wfp-rehearsal-paris_morning"}, report
    assert failed["table runs_table"].startswith("global index open_runs: expected {'keys': ('lease_shard', "
                                                 "'lease_until')"), report
    assert failed["table runs_table"].endswith("found none")
    assert failed["function api environment"] == (
        f"WFP_QUEUE_URL: expected {queue_url!r}, found 'https://sqs.us-east-1.amazonaws.com/1/other'")
    assert failed["schedule wfp-rehearsal-paris_morning"].endswith("found none")
    assert "FAIL  table runs_table" in report and not result.ok

    # The failure paths and the alarms, changed the same way: each change is named, expected and found.
    cloudwatch, events, sns, sqs = (session.client(s) for s in ("cloudwatch", "events", "sns", "sqs"))
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":wfp-rehearsal-alarms"))
    elsewhere = sns.create_topic(Name="rehearsal-elsewhere")["TopicArn"]
    cloudwatch.delete_alarms(AlarmNames=["wfp-rehearsal-worker-throttles"])
    [errors] = cloudwatch.describe_alarms(AlarmNames=["wfp-rehearsal-api-errors"])["MetricAlarms"]
    cloudwatch.put_metric_alarm(**{k: errors[k] for k in (
        "AlarmName", "AlarmDescription", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
        "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
        "OKActions")}, AlarmActions=[elsewhere])
    [target] = events.list_targets_by_rule(Rule="wfp-rehearsal-daily_digest")["Targets"]
    dead_letters = target.pop("DeadLetterConfig")["Arn"]
    events.put_targets(Rule="wfp-rehearsal-daily_digest", Targets=[target])
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=dead_letters.rsplit(":", 1)[1])["QueueUrl"],
                             Attributes={"MessageRetentionPeriod": "345600"})
    worker = next(f["FunctionName"] for f in lambda_.list_functions()["Functions"] if "WorkerFunction" in f["FunctionName"])
    lambda_.delete_function_concurrency(FunctionName=worker)
    # The schedule made again by hand, as it was but without its dead-letter queue.
    scheduler.create_schedule(**{k: paris[k] for k in ("Name", "GroupName", "ScheduleExpression",
                                                       "ScheduleExpressionTimezone", "State", "FlexibleTimeWindow")},
                              Target={k: v for k, v in paris["Target"].items() if k != "DeadLetterConfig"})

    result = verify(stack_name, registry, session=session, context=DEPLOY_CONTEXT)
    report = result.report()
    failed = {c.name.split(" (")[0]: c.detail for c in result.failures}
    assert set(failed) == {
        "table runs_table", "function api environment",  # still changed
        "alarm wfp-rehearsal-worker-throttles", "alarm wfp-rehearsal-api-errors",
        "rule wfp-rehearsal-daily_digest dead-letter queue", "alarm topic subscriptions",
        "scheduler dead-letter queue retention and encryption", "function worker reserved concurrency",
        "schedule wfp-rehearsal-paris_morning dead-letter queue"}, report
    assert failed["alarm wfp-rehearsal-worker-throttles"] == (
        f"expected an alarm named wfp-rehearsal-worker-throttles on AWS/Lambda Throttles "
        f'{{"FunctionName": "{worker}"}}, notifying {topic}, found none')
    assert failed["alarm wfp-rehearsal-api-errors"] == f"AlarmActions: expected [{topic!r}], found [{elsewhere!r}]"
    assert failed["rule wfp-rehearsal-daily_digest dead-letter queue"] == (
        f"target Target0: DeadLetterConfig.Arn: expected {dead_letters!r}, found None")
    assert failed["schedule wfp-rehearsal-paris_morning dead-letter queue"] == (
        f"target of the schedule: DeadLetterConfig.Arn: expected {dead_letters!r}, found None")
    assert failed["alarm topic subscriptions"] == (
        "expected [{'Protocol': 'email', 'Endpoint': 'ops@example.com', 'created by the stack': True}], found []")
    assert failed["scheduler dead-letter queue retention and encryption"] == (
        "MessageRetentionPeriod: expected 1209600, found 345600")
    assert failed["function worker reserved concurrency"] == "expected 10, found None"
    sns.delete_topic(TopicArn=elsewhere)

    # cdk destroy deletes what the stand-in's models created, the secrets included (the names are free again).
    cdk(stand_in, "destroy", "--app", str(synth.outdir), stack_name, "--force", cwd=tmp_path)
    names = [s["Name"] for s in session.client("secretsmanager").list_secrets()["SecretList"]]
    assert not [n for n in names if n.startswith(f"{stack_name}/")]
    assert not session.client("scheduler").list_schedules(NamePrefix=stack_name)["Schedules"]
    assert not [f for f in lambda_.list_functions()["Functions"] if f["FunctionName"].startswith(stack_name)]
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{stack_name}-alarms")]
    assert not [a for a in cloudwatch.describe_alarms()["MetricAlarms"] if a["AlarmName"].startswith(stack_name)]
