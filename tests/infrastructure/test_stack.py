"""The synthesized stack: tables = models, functions and layer, scoped IAM, queue, API, rules, secrets, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from synth_support import LONG_NAME, REPO, synthesize_with

from functions.stores import all_models

FUNCTIONS = {"functions.handlers.api.handler", "functions.handlers.scheduler.handler",
             "functions.handlers.worker.handler", "functions.handlers.durable.handler"}
DURABLE = "functions.handlers.durable.handler"
#: The functions with SnapStart (the durable one is deployed without it).
SNAPSTART = FUNCTIONS - {DURABLE}


def ref_of(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


def functions_by_handler(synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {r["Properties"]["Handler"]: (k, r["Properties"]) for k, r in synth.resources("AWS::Lambda::Function").items()}


def alias_of(synth, handler: str) -> tuple[str, dict[str, Any]]:
    """The alias "live" of the function with that handler (what its callers invoke) and its properties."""
    function_id = functions_by_handler(synth)[handler][0]
    (alias_id, alias), = [(k, r["Properties"]) for k, r in synth.resources("AWS::Lambda::Alias").items()
                          if ref_of(r["Properties"]["FunctionName"]) == function_id]
    return alias_id, alias


def api_alias(synth) -> tuple[str, dict[str, Any]]:
    """The api function's alias (what API Gateway invokes) and its properties."""
    return alias_of(synth, "functions.handlers.api.handler")


def named(value: Any) -> set[str]:
    """Every resource a property refers to (Ref, GetAtt), however CDK wrapped it (an alias's function name
    is ``Fn::Join`` of a ``Fn::Split`` of its ARN)."""
    found = {ref_of(value)} - {None}
    if isinstance(value, dict):
        for inner in value.values():
            found |= named(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= named(inner)
    return found  # type: ignore[return-value]


# ----- tables = models -----------------------------------------------------------------------------------
def expected_table(model: Any) -> dict[str, Any]:
    """What the model says, read straight from pynamodb (not through the stack's own derivation)."""
    schema = model._get_schema()
    ordered = lambda keys: sorted(keys, key=lambda k: k["KeyType"])  # noqa: E731 - HASH before RANGE
    gsis = {i["index_name"]: {"keys": ordered(i["key_schema"]),
                              "projection": {k: (sorted(v) if isinstance(v, list) else v)
                                             for k, v in i["projection"].items()}}
            for i in schema["global_secondary_indexes"]}
    ttl = model._ttl_attribute()
    return {"keys": ordered(schema["key_schema"]),
            "attributes": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
            "gsis": gsis, "ttl": ttl.attr_name if ttl else None}


def actual_table(properties: dict[str, Any]) -> dict[str, Any]:
    ordered = lambda keys: sorted(keys, key=lambda k: k["KeyType"])  # noqa: E731
    gsis = {i["IndexName"]: {"keys": ordered(i["KeySchema"]),
                             "projection": {k: (sorted(v) if isinstance(v, list) else v)
                                            for k, v in i["Projection"].items()}}
            for i in properties.get("GlobalSecondaryIndexes", [])}
    ttl = properties.get("TimeToLiveSpecification")
    return {"keys": ordered(properties["KeySchema"]),
            "attributes": sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            "gsis": gsis, "ttl": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None}


def test_one_table_per_model_with_the_models_keys_indexes_and_ttl(dev):
    tables = dev.resources("AWS::DynamoDB::Table")
    models = all_models()
    assert len(tables) == len(models)
    env = functions_by_handler(dev)["functions.handlers.api.handler"][1]["Environment"]["Variables"]
    for model in models:
        setting = model.Meta.__dict__["table_name"].setting
        logical_id = ref_of(env[f"WFP_{setting.upper()}"])
        assert logical_id in tables, f"{model.__name__}: WFP_{setting.upper()} does not name a table"
        assert actual_table(tables[logical_id]["Properties"]) == expected_table(model), model.__name__


def test_tables_are_on_demand_recoverable_and_kms_encrypted(dev, prod):
    for synth, policy in ((dev, "Delete"), (prod, "Retain")):
        for table in synth.resources("AWS::DynamoDB::Table").values():
            properties = table["Properties"]
            assert properties["BillingMode"] == "PAY_PER_REQUEST"
            assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert properties["SSESpecification"]["SSEEnabled"] is True  # KMS, the AWS-managed key
            assert "TableName" not in properties  # named by CloudFormation, per stack
            assert table["DeletionPolicy"] == policy


def test_the_derivation_covers_local_indexes_and_keys_of_every_type():
    """A model with a range key, a number key, a KEYS_ONLY index and a local index derives too."""
    from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.indexes import (
        GlobalSecondaryIndex,
        KeysOnlyProjection,
        LocalSecondaryIndex,
    )
    from pynamodb.models import Model

    from functions.stores.base import TableName
    from infrastructure.tables import spec_of

    class ByScore(GlobalSecondaryIndex):
        class Meta:
            index_name = "by_score"
            projection = KeysOnlyProjection()

        score = NumberAttribute(hash_key=True)

    class ByBlob(LocalSecondaryIndex):
        class Meta:
            index_name = "by_blob"
            projection = KeysOnlyProjection()

        owner = UnicodeAttribute(hash_key=True)
        blob = BinaryAttribute(range_key=True, legacy_encoding=False)

    class Thing(Model):
        class Meta:
            table_name = TableName("things_table", operations=("GetItem", "Query"))

        owner = UnicodeAttribute(hash_key=True)
        at = NumberAttribute(range_key=True)
        score = NumberAttribute()
        blob = BinaryAttribute(legacy_encoding=False)
        by_score = ByScore()
        by_blob = ByBlob()

    spec = spec_of(Thing)
    assert (spec.partition_key, spec.sort_key, spec.ttl_attribute) == (("owner", "S"), ("at", "N"), None)
    assert spec.global_indexes == [{"name": "by_score", "partition_key": ("score", "N"), "sort_key": None,
                                    "projection": "KEYS_ONLY", "non_key_attributes": []}]
    assert spec.local_indexes[0]["sort_key"] == ("blob", "B")
    assert spec.env_var == "WFP_THINGS_TABLE" and spec.construct_id == "ThingsTable"
    assert spec.actions == ["dynamodb:GetItem", "dynamodb:Query"] and spec.has_indexes

    class Fixed(Model):
        class Meta:
            table_name = "fixed-name"

        key = UnicodeAttribute(hash_key=True)

    with pytest.raises(TypeError, match="TableName"):
        spec_of(Fixed)


# ----- functions and layer -------------------------------------------------------------------------------
def test_four_functions_python_313_arm64_all_with_the_shared_layer(dev):
    layers = dev.resources("AWS::Lambda::LayerVersion")
    assert len(layers) == 2  # the shared one, and the durable execution SDK's for the durable function
    layer_id = next(k for k in layers if k.startswith("SharedLayer"))
    durable_layer_id = next(k for k in layers if k.startswith("DurableLayer"))
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    functions = functions_by_handler(dev)
    assert set(functions) == FUNCTIONS
    for handler, (_, properties) in functions.items():
        assert properties["Runtime"] == "python3.13" and properties["Architectures"] == ["arm64"], handler
        expected_layers = [layer_id, durable_layer_id] if handler == DURABLE else [layer_id]
        assert [ref_of(x) for x in properties["Layers"]] == expected_layers, handler
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["LoggingConfig"]["LogFormat"] == "JSON"
        env = properties["Environment"]["Variables"]
        assert env["WFP_STAGE"] == "dev" and env["WFP_PREFIX"] == "wfp-dev"
        assert env["WFP_MANIFEST"] == "/opt/wfp-manifest.json"
        assert env["WFP_PLUGINS_DIR"] == "/opt/python/plugins"
        assert ref_of(env["WFP_QUEUE_URL"]) in dev.resources("AWS::SQS::Queue")
    assert functions["functions.handlers.api.handler"][1]["Timeout"] == 29  # API Gateway's limit


def test_timeouts_follow_the_longest_workflow(prod):
    functions = functions_by_handler(prod)
    # monthly_report's timeout_seconds is 300: plus 30 s to record the run
    assert functions["functions.handlers.scheduler.handler"][1]["Timeout"] == 330
    assert functions["functions.handlers.worker.handler"][1]["Timeout"] == 330
    queue = next(q for q in prod.resources("AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"])
    assert queue["Properties"]["VisibilityTimeout"] == 6 * 330


# ----- least privilege -----------------------------------------------------------------------------------
def role_statements(synth, handler: str) -> list[dict[str, Any]]:
    _, properties = functions_by_handler(synth)[handler]
    role_id = ref_of(properties["Role"])
    role = synth.template["Resources"][role_id]
    assert "ManagedPolicyArns" not in role["Properties"], "function roles carry no managed policy"
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if role_id in [ref_of(r) for r in policy["Properties"]["Roles"]]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


def resources(statement: dict[str, Any]) -> list[Any]:
    value = statement["Resource"]
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("handler", sorted(FUNCTIONS))
def test_each_function_role_grants_only_its_tables_secrets_queue_and_logs(dev, handler):
    statements = role_statements(dev, handler)
    tables = set(dev.resources("AWS::DynamoDB::Table"))
    states_table = next(k for k, t in dev.resources("AWS::DynamoDB::Table").items()
                        if t["Properties"]["KeySchema"] == [{"AttributeName": "state", "KeyType": "HASH"}])
    if not handler.endswith("api.handler"):  # only the HTTP API handles OAuth sign-ins
        tables.discard(states_table)
    queues = dev.resources("AWS::SQS::Queue")
    main_queue = next(k for k, q in queues.items() if "RedrivePolicy" in q["Properties"])
    scheduler_dlq = ref_of(functions_by_handler(dev)["functions.handlers.scheduler.handler"][1]
                           ["DeadLetterConfig"]["TargetArn"])
    log_group = ref_of(functions_by_handler(dev)[handler][1]["LoggingConfig"]["LogGroup"])
    seen = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in actions(statement):
            service = action.split(":")[0]
            seen.add(service)
            assert not action.endswith(":*"), action
            targets = resources(statement)
            if service == "dynamodb":
                for target in targets:
                    base = target["Fn::Join"][1][0] if "Fn::Join" in target else target
                    assert ref_of(base) in tables, target
            elif service == "secretsmanager":
                assert action in ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"), action
                assert len(targets) == 1 and json.dumps(targets[0]).endswith(':secret:wfp-dev/*"]]}'), targets
            elif service == "sqs" and handler.endswith("scheduler.handler"):
                # its own asynchronous invocations that failed every retry (DeadLetterConfig)
                assert action == "sqs:SendMessage" and [ref_of(t) for t in targets] == [scheduler_dlq]
            elif service == "sqs":
                assert [ref_of(t) for t in targets] == [main_queue]
            elif service == "logs":
                assert [ref_of(t) for t in targets] == [log_group]
            elif service == "xray":
                assert targets == ["*"]
            elif service == "s3":  # the run-data bucket's objects under runs/, written and read, nothing else
                assert action in ("s3:PutObject", "s3:GetObject"), action
                assert json.dumps(targets).endswith('"/runs/*"]]}]') and "RunData" in json.dumps(targets), targets
            elif service == "lambda":  # durable executions (test_durable_function.py checks them exactly)
                assert action.startswith("lambda:") and "wfp-dev-durable:" in json.dumps(targets), (action, targets)
            elif service in ("events", "scheduler") and handler.endswith("api.handler"):
                assert action in ("events:EnableRule", "events:DisableRule"), action  # dev has UTC rules only
                assert json.dumps(targets).endswith(':rule/wfp-dev-*"]]}]'), targets
            else:
                pytest.fail(f"unexpected grant {action} on {targets}")
    sqs_actions = {a for s in statements for a in actions(s) if a.startswith("sqs:")}
    if handler.endswith("worker.handler"):
        assert "sqs:ReceiveMessage" in sqs_actions and "sqs:DeleteMessage" in sqs_actions
        assert "sqs:ChangeMessageVisibility" in sqs_actions  # a platform failure is retried in seconds
        assert "sqs:SendMessage" in sqs_actions  # retry_on_error sends the next attempt
    elif handler.endswith("api.handler"):
        assert sqs_actions == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    elif handler == DURABLE:  # an error workflow queued from a failed durable run, when one is named
        assert sqs_actions <= {"sqs:SendMessage"}
    else:
        assert sqs_actions == {"sqs:SendMessage"}
    assert {"dynamodb", "secretsmanager", "logs", "xray"} <= seen


# ----- queue ---------------------------------------------------------------------------------------------
def test_queue_has_a_dead_letter_queue_and_feeds_the_worker_with_partial_failures(dev):
    queues = dev.resources("AWS::SQS::Queue")
    assert len(queues) == 3  # runs, its dead-letter queue, the scheduler's dead-letter queue
    main_id, main = next((k, q) for k, q in queues.items() if "RedrivePolicy" in q["Properties"])
    dlq_id = ref_of(main["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
    assert dlq_id in queues and dlq_id != main_id
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    policies = dev.resources("AWS::SQS::QueuePolicy").values()
    assert {ref_of(q) for p in policies for q in p["Properties"]["Queues"]} == set(queues)
    for policy in policies:
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Action"] == "sqs:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (mapping,) = dev.resources("AWS::Lambda::EventSourceMapping").values()
    assert ref_of(mapping["Properties"]["EventSourceArn"]) == main_id
    worker_alias = alias_of(dev, "functions.handlers.worker.handler")[0]
    assert named(mapping["Properties"]["FunctionName"]) == {worker_alias}  # the alias "live" (SnapStart)
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# ----- API Gateway ---------------------------------------------------------------------------------------
def test_api_gateway_sends_every_path_to_the_api_function_with_throttling_and_access_logs(dev):
    (api_id, api), = dev.resources("AWS::ApiGateway::RestApi").items()
    assert api["Properties"]["Name"] == "wfp-dev-api"
    assert api["Properties"]["BinaryMediaTypes"] == ["*/*"]
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    methods = dev.resources("AWS::ApiGateway::Method").values()
    api_function = functions_by_handler(dev)["functions.handlers.api.handler"][0]
    paths = set()
    for method in methods:
        properties = method["Properties"]
        assert properties["HttpMethod"] == "ANY"
        assert properties["Integration"]["Type"] == "AWS_PROXY"
        assert api_alias(dev)[0] in json.dumps(properties["Integration"]["Uri"])  # the alias of...
        assert ref_of(api_alias(dev)[1]["FunctionName"]) == api_function  # ...the api function
        resource = ref_of(properties["ResourceId"])
        paths.add("/" if resource == api_id else
                  dev.template["Resources"][resource]["Properties"]["PathPart"])
    assert paths == {"/", "{proxy+}"}
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "dev"
    (settings,) = properties["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert settings["DataTraceEnabled"] is False and settings["LoggingLevel"] == "ERROR"
    assert ref_of(properties["AccessLogSetting"]["DestinationArn"]) in dev.resources("AWS::Logs::LogGroup")
    assert "$context.requestId" in properties["AccessLogSetting"]["Format"]


def test_every_function_uses_snapstart_through_an_alias_of_its_published_version(dev, prod):
    for synth in (dev, prod):
        functions = functions_by_handler(synth)
        versions = {ref_of(v["Properties"]["FunctionName"]): (k, v) for k, v in
                    synth.resources("AWS::Lambda::Version").items()}
        assert len(versions) == len(synth.resources("AWS::Lambda::Version")) == len(FUNCTIONS)
        for handler in SNAPSTART:
            function_id, function = functions[handler]
            assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}, handler
            alias_id, alias = alias_of(synth, handler)
            assert alias["Name"] == "live"
            version_id, _ = versions[function_id]
            assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
            assert synth.template["Resources"][version_id]["DeletionPolicy"] == "Delete"  # no snapshot left billed
        alias_id = api_alias(synth)[0]
        # API Gateway may invoke the alias (the permission names the alias, not the bare function)
        permissions = [r["Properties"] for r in synth.resources("AWS::Lambda::Permission").values()
                       if r["Properties"]["Principal"] == "apigateway.amazonaws.com"]
        assert permissions and all(ref_of(p["FunctionName"]) == alias_id for p in permissions)


def test_snapstart_can_be_turned_off_or_kept_for_the_api_alone(tmp_path):
    for setting, expected in (("off", set()), ("api", {"functions.handlers.api.handler"})):
        synth = synthesize_with(tmp_path / setting, "dev", snapstart=setting)
        for handler, (_, function) in functions_by_handler(synth).items():
            assert ("SnapStart" in function) == (handler in expected), (setting, handler)
            assert alias_of(synth, handler)[1]["Name"] == "live"  # the same entry point either way


# ----- schedules -----------------------------------------------------------------------------------------
def rules_by_workflow(synth) -> dict[str, dict[str, Any]]:
    found = {}
    for rule in synth.resources("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        if "InputTransformer" not in target:  # the stale-run sweep
            continue
        template = json.loads(target["InputTransformer"]["InputTemplate"].replace("<time>", '"T"')
                              .replace("<id>", '"I"'))
        found[template["workflow"]] = rule["Properties"]
    return found


def test_one_rule_per_scheduled_workflow_with_its_expression(dev, prod):
    assert {w: r["ScheduleExpression"] for w, r in rules_by_workflow(dev).items()} == {
        "daily_digest": "cron(0 9 ? * 2-6 *)"}
    assert {w: r["ScheduleExpression"] for w, r in rules_by_workflow(prod).items()} == {
        "every_quarter": "cron(0/15 * * * ? *)",
        "monthly_report": "cron(30 6 1 * ? *)",
        "weekend": "cron(0 8 ? * 1,7 *)",
        "paused": "cron(0 0 * * ? *)",
        LONG_NAME: "cron(0 3 ? * 2 *)",
    }


def test_rules_target_the_scheduler_with_the_workflow_time_and_id(dev, prod):
    for synth in (dev, prod):
        scheduler = alias_of(synth, "functions.handlers.scheduler.handler")[0]  # its alias "live" (SnapStart)
        for workflow, rule in rules_by_workflow(synth).items():
            (target,) = rule["Targets"]
            assert ref_of(target["Arn"]) == scheduler
            transformer = target["InputTransformer"]
            assert transformer["InputPathsMap"] == {"time": "$.time", "id": "$.id"}
            assert json.loads(transformer["InputTemplate"].replace("<time>", '"2026-01-01T00:00:00Z"')
                              .replace("<id>", '"e"')) == {"workflow": workflow, "time": "2026-01-01T00:00:00Z",
                                                           "id": "e"}
        permissions = [p["Properties"] for p in synth.resources("AWS::Lambda::Permission").values()
                       if p["Properties"]["Principal"] == "events.amazonaws.com"]
        assert len(permissions) == len(rules_by_workflow(synth)) + 1  # and the stale-run sweep's
        assert all(ref_of(p["FunctionName"]) == scheduler for p in permissions)


def test_rule_names_states_and_what_is_not_scheduled(prod):
    from functions.core.deployment import schedule_name

    rules = rules_by_workflow(prod)
    # the names pausing through the API looks for (functions.core.deployment owns the convention)
    assert rules["every_quarter"]["Name"] == "wfp-prod-every_quarter" == schedule_name("every_quarter", "wfp-prod")
    assert rules[LONG_NAME]["Name"] == schedule_name(LONG_NAME, "wfp-prod") and len(rules[LONG_NAME]["Name"]) <= 64
    assert rules["paused"]["State"] == "DISABLED"
    assert rules["every_quarter"]["State"] == "ENABLED"
    assert not {"paris_morning", "cron_not_triggered", "broken", "hook_open"} & set(rules)


def test_a_workflow_in_another_timezone_gets_a_scheduler_schedule(dev, prod):
    from functions.core.deployment import scheduler_input

    assert dev.resources("AWS::Scheduler::Schedule") == {}
    (schedule,) = [r["Properties"] for r in prod.resources("AWS::Scheduler::Schedule").values()]
    assert schedule["Name"] == "wfp-prod-paris_morning" and schedule["GroupName"] == "default"
    assert schedule["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert json.loads(target["Input"]) == json.loads(scheduler_input("paris_morning"))
    scheduler = alias_of(prod, "functions.handlers.scheduler.handler")[0]  # its alias "live" (SnapStart)
    assert ref_of(target["Arn"]) == scheduler
    # the role EventBridge Scheduler assumes may invoke the scheduler function's alias, and only that
    role_id = ref_of(target["RoleArn"])
    role = prod.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    invoke = [st for p in prod.resources("AWS::IAM::Policy").values()
              if any(ref_of(r) == role_id for r in p["Properties"]["Roles"])
              for st in p["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "lambda:InvokeFunction"]
    assert [named(st["Resource"]) for st in invoke] == [{scheduler}]


def test_the_api_may_pause_exactly_this_stages_schedules(prod):
    api_role = functions_by_handler(prod)["functions.handlers.api.handler"][1]["Role"]
    statements = [s for p in prod.resources("AWS::IAM::Policy").values()
                  if any(ref_of(r) == ref_of(api_role) for r in p["Properties"]["Roles"])
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    by_action = {a: s for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "rule/wfp-prod-*" in json.dumps(by_action["events:DisableRule"]["Resource"])
    assert "schedule/default/wfp-prod-*" in json.dumps(by_action["scheduler:UpdateSchedule"]["Resource"])
    assert "iam:PassRole" in by_action


class LambdaContext:
    function_name, memory_limit_in_mb, aws_request_id = "wfp-dev-scheduler", 512, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:wfp-dev-scheduler"


def test_the_rule_input_runs_the_scheduled_workflow(dev, platform):
    """EventBridge's substitution of the generated scheduled event into the rule's template, handed to
    the scheduler handler: one run of that workflow for that time."""
    from functions.handlers import scheduler

    event = json.loads((REPO / "tests" / "events" / "scheduled-event.json").read_text())
    (target,) = rules_by_workflow(dev)["daily_digest"]["Targets"]
    text = target["InputTransformer"]["InputTemplate"]
    for name, path in target["InputTransformer"]["InputPathsMap"].items():
        text = text.replace(f"<{name}>", json.dumps(event[path.removeprefix("$.")]))
    result = scheduler.handler(json.loads(text), LambdaContext())

    assert result["status"] == "success"
    run = platform.engine.runs.get(result["run_id"])
    assert (run.workflow, run.trigger, run.scheduled_time) == ("daily_digest", "schedule", "1970-01-01T00:00:00+00:00")


# ----- secrets and outputs -------------------------------------------------------------------------------
def secret_names(synth) -> set[str]:
    return {s["Properties"]["Name"] for s in synth.resources("AWS::SecretsManager::Secret").values()}


def test_admin_token_and_webhook_secrets_are_generated_per_stage(dev, prod):
    assert secret_names(dev) == {"wfp-dev/admin-token", "wfp-dev/webhooks/incoming_webhook"}  # hello_world: "none"
    assert secret_names(prod) == {"wfp-prod/admin-token", "wfp-prod/webhooks/hook_signed"}
    for secret in dev.resources("AWS::SecretsManager::Secret").values():
        generated = secret["Properties"]["GenerateSecretString"]
        assert generated["PasswordLength"] >= 32 and "SecretString" not in secret["Properties"]


def output_value(synth, key: str) -> str:
    """An output's URL with the API's tokens written as placeholders."""
    parts = synth.template["Outputs"][key]["Value"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "{" + (ref_of(p) or next(iter(p.values()))) + "}" for p in parts)


def test_outputs_api_dashboard_and_one_webhook_url_per_webhook_workflow(dev, prod):
    api_url = output_value(dev, "ApiUrl")
    assert api_url.startswith("https://{Api") and ".execute-api." in api_url and api_url.endswith("/")
    assert output_value(dev, "DashboardUrl") == api_url + "dashboard/"
    webhooks = {k: output_value(dev, k) for k in dev.template["Outputs"] if k.startswith("WebhookUrl")}
    assert webhooks == {"WebhookUrlHelloWorld": api_url + "api/webhooks/hello_world",
                        "WebhookUrlIncomingWebhook": api_url + "api/webhooks/incoming_webhook"}
    prod_hooks = sorted(k for k in prod.template["Outputs"] if k.startswith("WebhookUrl"))
    assert prod_hooks == ["WebhookUrlHookOpen", "WebhookUrlHookSigned"]
    assert dev.template["Outputs"]["AdminTokenSecret"]["Value"] == "wfp-dev/admin-token"


def test_stages_are_separate_stacks(dev, prod):
    assert (dev.stack.stack_name, prod.stack.stack_name) == ("wfp-dev", "wfp-prod")
    (stage,) = prod.resources("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "prod"
    (api,) = prod.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["Name"] == "wfp-prod-api"


# ----- the same facts through aws_cdk.assertions ---------------------------------------------------------
def test_template_assertions(dev):
    from aws_cdk.assertions import Match

    template = dev.assertions()
    template.resource_count_is("AWS::Lambda::Function", 4)
    template.resource_count_is("AWS::DynamoDB::Table", len(all_models()))
    layer_id = next(k for k in dev.resources("AWS::Lambda::LayerVersion") if k.startswith("SharedLayer"))
    template.all_resources_properties("AWS::Lambda::Function", {
        "Runtime": "python3.13", "Architectures": ["arm64"], "Layers": Match.array_with([{"Ref": layer_id}]),
        "Environment": {"Variables": Match.object_like({"WFP_STAGE": "dev", "WFP_PREFIX": "wfp-dev"})}})
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "KeySchema": [{"AttributeName": "run_id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": Match.array_with([Match.object_like({
            "IndexName": "by_workflow",
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": Match.array_with(["status"])}})]),
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True}})
    template.has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "cron(0 9 ? * 2-6 *)",
        "Targets": [Match.object_like({"InputTransformer": {
            "InputPathsMap": {"time": "$.time", "id": "$.id"},
            "InputTemplate": '{"workflow":"daily_digest","time":<time>,"id":<id>}'}})]})
    template.has_resource_properties("AWS::SQS::Queue", {
        "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3}})
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 5})
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "dev", "AccessLogSetting": Match.object_like({"Format": Match.any_value()}),
        "MethodSettings": [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100})]})
    template.has_output("ApiUrl", Match.any_value())
    template.has_output("WebhookUrlIncomingWebhook", Match.any_value())


def test_the_deployed_api_always_requires_the_generated_admin_token(dev, prod):
    for synth, stage in ((dev, "dev"), (prod, "prod")):
        env = functions_by_handler(synth)["functions.handlers.api.handler"][1]["Environment"]["Variables"]
        (secret,) = [s["Properties"] for s in synth.resources("AWS::SecretsManager::Secret").values()
                     if s["Properties"]["Name"] == env["WFP_ADMIN_TOKEN_SECRET"]]
        assert env["WFP_ADMIN_TOKEN_SECRET"] == f"wfp-{stage}/admin-token"
        assert secret["GenerateSecretString"]["PasswordLength"] >= 32


def test_the_snapstart_setting_reads_the_context_then_the_environment(monkeypatch):
    from aws_cdk import App

    from infrastructure.app import snap_start_of

    every = {"api", "scheduler", "worker"}
    monkeypatch.delenv("WFP_SNAPSTART", raising=False)
    assert snap_start_of(App()) == every
    assert snap_start_of(App(context={"snapstart": "off"})) == set()
    assert snap_start_of(App(context={"snapstart": "api"})) == {"api"}  # the cheaper choice: api only
    assert snap_start_of(App(context={"snapstart": "api, worker"})) == {"api", "worker"}
    monkeypatch.setenv("WFP_SNAPSTART", "off")
    assert snap_start_of(App()) == set()
    assert snap_start_of(App(context={"snapstart": "on"})) == every  # the context wins
    with pytest.raises(SystemExit, match="function names among api, scheduler, worker"):
        snap_start_of(App(context={"snapstart": "apii"}))


# ----- reliability ---------------------------------------------------------------------------------------
def test_a_rate_rule_sweeps_stale_runs_through_the_scheduler_function(dev):
    sweeps = [r["Properties"] for r in dev.resources("AWS::Events::Rule").values()
              if "InputTransformer" not in r["Properties"]["Targets"][0]]
    (sweep,) = sweeps
    assert sweep["ScheduleExpression"] == "rate(5 minutes)" and sweep["Name"] == "wfp-dev-stale-run-sweep"
    (target,) = sweep["Targets"]
    assert json.loads(target["Input"]) == {"action": "sweep"}
    assert ref_of(target["Arn"]) == alias_of(dev, "functions.handlers.scheduler.handler")[0]


def test_the_api_refuses_webhooks_without_secrets_and_hands_long_sync_runs_to_the_worker(dev):
    from functions.settings import Settings

    env = functions_by_handler(dev)["functions.handlers.api.handler"][1]["Environment"]["Variables"]
    assert env["WFP_REQUIRE_WEBHOOK_SECRETS"] == "1" and env["WFP_SYNC_OVERFLOW"] == "worker"
    assert float(env["WFP_SYNC_WAIT_SECONDS"]) < 29  # answered before API Gateway gives up
    worker_env = functions_by_handler(dev)["functions.handlers.worker.handler"][1]["Environment"]["Variables"]
    queue = next(q for q in dev.resources("AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"])
    assert int(worker_env["WFP_MAX_ATTEMPTS"]) == queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] \
        == Settings.model_fields["max_attempts"].default


def test_a_deployment_takes_its_settings_from_the_environment_it_is_synthesized_in(tmp_path, monkeypatch):
    """``WFP_MAX_ATTEMPTS=5 wfp deploy``: the queue redrives after 5 deliveries and every function runs
    with 5; other settings the deployer sets reach the functions too, the stack's own names never."""
    monkeypatch.setenv("WFP_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("WFP_RUN_RETENTION_DAYS", "30")
    monkeypatch.setenv("WFP_PREFIX", "not-the-stages")  # the stack names its resources itself
    synth = synthesize_with(tmp_path, "dev")
    queue = next(q for q in synth.resources("AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"])
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    for handler in FUNCTIONS:
        env = functions_by_handler(synth)[handler][1]["Environment"]["Variables"]
        assert env["WFP_MAX_ATTEMPTS"] == "5" and env["WFP_RUN_RETENTION_DAYS"] == "30", handler
        assert env["WFP_PREFIX"] == "wfp-dev"


def test_the_runs_table_has_a_sparse_open_runs_index(dev):
    runs = next(t["Properties"] for t in dev.resources("AWS::DynamoDB::Table").values()
                if t["Properties"]["KeySchema"] == [{"AttributeName": "run_id", "KeyType": "HASH"}])
    (index,) = [i for i in runs["GlobalSecondaryIndexes"] if i["IndexName"] == "open_runs"]
    assert index["KeySchema"] == [{"AttributeName": "lease_shard", "KeyType": "HASH"},
                                  {"AttributeName": "lease_until", "KeyType": "RANGE"}]
    idempotency = [t["Properties"] for t in dev.resources("AWS::DynamoDB::Table").values()
                   if t["Properties"]["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]]
    assert idempotency and idempotency[0]["TimeToLiveSpecification"] == {"AttributeName": "expires_at",
                                                                          "Enabled": True}


def test_functions_know_the_stages_public_url_for_the_links_runs_carry(dev):
    """A run's error names where to reconnect a tool (a Google sign-in): absolute, as /api/oauth/status
    gives it, so the functions are told the stage's URL, built from the API's id (no cycle with the
    deployment that invokes them)."""
    (api_id,) = dev.resources("AWS::ApiGateway::RestApi")
    for handler in FUNCTIONS:
        url = functions_by_handler(dev)[handler][1]["Environment"]["Variables"]["WFP_PUBLIC_URL"]
        parts = url["Fn::Join"][1]
        assert parts[0] == "https://" and ref_of(parts[1]) == api_id, handler
        assert parts[-1] == "/dev" and {"Ref": "AWS::Region"} in parts and {"Ref": "AWS::URLSuffix"} in parts


def test_a_public_url_given_at_synthesis_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("WFP_PUBLIC_URL", "https://automations.example.com")
    synth = synthesize_with(tmp_path, "dev")
    for handler in FUNCTIONS:
        env = functions_by_handler(synth)[handler][1]["Environment"]["Variables"]
        assert env["WFP_PUBLIC_URL"] == "https://automations.example.com", handler
