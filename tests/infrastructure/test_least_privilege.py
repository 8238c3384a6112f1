"""Least privilege, read from every policy of the synthesized templates (dev, prod, as deployed):
``Resource: "*"`` only for X-Ray's actions, no ListSecrets, DynamoDB only the operations the models
declare (never a Scan or a DeleteItem), index ARNs only for tables that have indexes.

The tests take ``dev, prod, deployed``: they run once per deployment target (``deployed`` has two), each
time over dev, prod and that target (the checks are dictionary reads, the syntheses are shared)."""

from __future__ import annotations

from typing import Any

from functions.stores import all_models

XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
#: Resource types whose properties hold policy documents, and where.
IDENTITY_POLICIES = {"AWS::IAM::Policy": "PolicyDocument", "AWS::IAM::ManagedPolicy": "PolicyDocument"}
RESOURCE_POLICIES = {"AWS::SQS::QueuePolicy": "PolicyDocument", "AWS::SNS::TopicPolicy": "PolicyDocument",
                     "AWS::S3::BucketPolicy": "PolicyDocument"}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any], kinds: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in kinds:
            found += [(logical_id, s) for s in resource["Properties"][kinds[resource["Type"]]]["Statement"]]
        if resource["Type"] == "AWS::IAM::Role" and kinds is IDENTITY_POLICIES:  # inline policies of roles
            for policy in resource["Properties"].get("Policies", []):
                found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def every_statement(template: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [s for _, s in statements(template, IDENTITY_POLICIES) + statements(template, RESOURCE_POLICIES)]
    return keys + [s for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"
                   for s in r["Properties"]["KeyPolicy"]["Statement"]]


def test_every_policy_document_of_the_template_is_one_this_test_reads(dev, prod, deployed):
    """A new kind of policy (an S3 bucket policy, a managed policy...) must be added above, not missed."""
    known = {*IDENTITY_POLICIES, *RESOURCE_POLICIES, "AWS::KMS::Key", "AWS::IAM::Role"}
    for synth in (dev, prod, deployed):
        holders = {r["Type"] for r in synth.template["Resources"].values()
                   if {"PolicyDocument", "KeyPolicy", "Policies"} & set(r.get("Properties", {}))}
        assert holders <= known, holders - known


def test_the_only_wildcard_resource_is_xray(dev, prod, deployed):
    for synth in (dev, prod, deployed):
        granted = statements(synth.template, IDENTITY_POLICIES)
        assert len(granted) > 20
        wildcards = [(who, s) for who, s in granted if "*" in listed(s.get("Resource", []))]
        assert wildcards, "the functions trace with X-Ray: its grant on '*' should be there"
        for who, statement in wildcards:
            assert set(listed(statement["Action"])) == XRAY, (who, statement)
        for who, statement in granted:
            assert "NotResource" not in statement and "NotAction" not in statement, (who, statement)


def test_resource_policies_name_their_resource(dev, prod, deployed):
    """Queue, topic and bucket policies apply to one queue, topic or bucket."""
    for synth in (dev, prod, deployed):
        check_resource_policies(synth)


def check_resource_policies(synth: Any) -> None:
    for who, statement in statements(synth.template, RESOURCE_POLICIES):
        assert "*" not in listed(statement["Resource"]), (who, statement)
    assert synth.resources("AWS::KMS::Key") == {}  # AWS-managed keys only (README, What it costs)


def test_nothing_may_scan_delete_or_list_secrets(dev, prod, deployed):
    for synth in (dev, prod, deployed):
        actions = {a for s in every_statement(synth.template) if s["Effect"] == "Allow" for a in listed(s["Action"])}
        assert "dynamodb:GetItem" in actions, "no statement read"
        for forbidden in ("dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable",
                          "secretsmanager:ListSecrets", "dynamodb:*", "secretsmanager:*"):
            assert forbidden not in actions
        streams = [a for a in actions if a.startswith("dynamodb:") and a.endswith(("Records", "ShardIterator"))]
        assert streams == []


def table_ids(synth) -> dict[str, str]:
    """Logical id of each model's table, by setting (the functions' WFP_<SETTING> variables name them)."""
    env = next(f["Properties"]["Environment"]["Variables"] for f in synth.resources("AWS::Lambda::Function").values()
               if f["Properties"]["Handler"] == "functions.handlers.api.handler")
    result = {}
    for model in all_models():
        setting = model.Meta.__dict__["table_name"].setting
        result[setting] = env[f"WFP_{setting.upper()}"]["Ref"]
    return result


def base_table(resource: dict[str, Any]) -> str:
    """The table a DynamoDB grant is about: ``<table>.Arn`` or ``<table>.Arn + "/index/*"``."""
    arn = resource["Fn::Join"][1][0] if "Fn::Join" in resource else resource
    return arn["Fn::GetAtt"][0]


def test_each_table_is_granted_exactly_the_operations_its_model_declares(dev, prod, deployed):
    for synth in (dev, prod, deployed):
        check_table_grants(synth)


def check_table_grants(synth: Any) -> None:
    from infrastructure.stack import API_ONLY_TABLES

    ids = table_ids(synth)
    declared = {setting: {f"dynamodb:{op}" for op in m.Meta.__dict__["table_name"].operations}
                for m in all_models() for setting in [m.Meta.__dict__["table_name"].setting]}
    indexed = {m.Meta.__dict__["table_name"].setting for m in all_models()
               if m._get_schema().get("global_secondary_indexes") or m._get_schema().get("local_secondary_indexes")}
    roles = {f["Properties"]["Handler"].split(".")[2]: f["Properties"]["Role"]["Fn::GetAtt"][0]
             for f in synth.resources("AWS::Lambda::Function").values()}
    for function, role in roles.items():
        granted: dict[str, set[str]] = {}
        for policy in synth.resources("AWS::IAM::Policy").values():
            if {"Ref": role} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = [a for a in listed(statement["Action"]) if a.startswith("dynamodb:")]
                if not actions:
                    continue
                resources = listed(statement["Resource"])
                (table,) = {base_table(r) for r in resources}
                setting = next(s for s, i in ids.items() if i == table)
                assert granted.setdefault(setting, set(actions)) == set(actions)
                index_arns = [r for r in resources if "Fn::Join" in r]
                assert bool(index_arns) == (setting in indexed), (function, setting, resources)
                assert all(r["Fn::Join"][1][1] == "/index/*" for r in index_arns)
        expected = {s: ops for s, ops in declared.items() if function == "api" or s not in API_ONLY_TABLES}
        assert granted == expected, function
