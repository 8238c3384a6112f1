"""The durable function (infrastructure/durable.py): runtime, layers, DurableConfig, alias, the variable the
engine reads, and each role's durable execution grants, exactly."""

from __future__ import annotations

import json
from typing import Any

from synth_support import synthesize_with
from test_stack import actions, functions_by_handler, ref_of, resources, role_statements

DURABLE = "functions.handlers.durable.handler"
CALLERS = ("functions.handlers.api.handler", "functions.handlers.worker.handler",
           "functions.handlers.scheduler.handler")
CALLBACK_ACTIONS = {"lambda:SendDurableExecutionCallbackSuccess", "lambda:SendDurableExecutionCallbackFailure",
                    "lambda:ListDurableExecutionsByFunction"}
SELF_ACTIONS = {"lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"}


def arn(resource_name: str) -> dict[str, Any]:
    """A Lambda ARN in the stack's account and region, as the stack writes it."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":lambda:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":function:{resource_name}"]]}


def plugins_with(tmp_path, workflows: dict[str, dict[str, Any]]):
    """A plugins folder with these workflows (a durable one's execute takes the context)."""
    plugins = tmp_path / "plugins"
    for sub in ("tools", "workflows", "interfaces"):
        (plugins / sub).mkdir(parents=True)
    (plugins / "__init__.py").write_text("")
    for name, config in workflows.items():
        folder = plugins / "workflows" / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        params = "data, tools, ctx" if config.get("durable") else "data, tools"
        (folder / "main.py").write_text(f"def execute({params}):\n    return {{'status': 'success'}}\n")
    return plugins


def lambda_grants(synth, handler: str) -> dict[str, list[Any]]:
    """action → resources of every ``lambda:`` statement of the function's role."""
    found: dict[str, list[Any]] = {}
    for statement in role_statements(synth, handler):
        for action in actions(statement):
            if action.startswith("lambda:"):
                found.setdefault(action, []).extend(resources(statement))
    return found


def test_the_durable_function_runs_python_313_on_arm64_with_the_shared_layer_and_the_sdks(dev):
    _, properties = functions_by_handler(dev)[DURABLE]
    assert properties["Runtime"] == "python3.13" and properties["Architectures"] == ["arm64"]
    assert properties["FunctionName"] == "wfp-dev-durable"
    shared, sdk = (ref_of(layer) for layer in properties["Layers"])
    assert shared.startswith("SharedLayer") and sdk.startswith("DurableLayer")
    assert "SnapStart" not in properties
    assert properties["TracingConfig"] == {"Mode": "Active"} and properties["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = ref_of(properties["LoggingConfig"]["LogGroup"])
    others = {ref_of(functions_by_handler(dev)[h][1]["LoggingConfig"]["LogGroup"]) for h in CALLERS}
    assert log_group in dev.resources("AWS::Logs::LogGroup") and log_group not in others  # its own
    roles = {ref_of(functions_by_handler(dev)[h][1]["Role"]) for h in CALLERS}
    assert ref_of(properties["Role"]) not in roles  # its own role


def test_durable_config_covers_the_longest_durable_workflow_and_keeps_history_as_long_as_runs(dev):
    # the repository's durable examples: approval_request 7 days, multi_step_report 1 day; runs kept 90 days
    _, properties = functions_by_handler(dev)[DURABLE]
    assert properties["DurableConfig"] == {"ExecutionTimeout": 7 * 86400, "RetentionPeriodInDays": 90}


def test_durable_config_follows_the_registry_and_the_run_retention(tmp_path, monkeypatch):
    plugins = plugins_with(tmp_path, {
        "plain": {"triggers": ["manual"], "timeout_seconds": 600},
        "month_long": {"triggers": ["manual"], "durable": True, "durable_timeout_seconds": 30 * 86400,
                       "timeout_seconds": 120},
        "short": {"triggers": ["manual"], "durable": True, "durable_timeout_seconds": 3600}})
    monkeypatch.setenv("WFP_RUN_RETENTION_DAYS", "30")
    synth = synthesize_with(tmp_path, "dev", plugins)
    _, properties = functions_by_handler(synth)[DURABLE]
    assert properties["DurableConfig"] == {"ExecutionTimeout": 30 * 86400, "RetentionPeriodInDays": 30}
    assert properties["Timeout"] == 120 + 30  # one invocation: the longest timeout_seconds, plus the margin


def test_the_durable_function_is_published_with_an_alias_live(dev):
    function_id, _ = functions_by_handler(dev)[DURABLE]
    (alias,) = [r["Properties"] for r in dev.resources("AWS::Lambda::Alias").values()
                if ref_of(r["Properties"]["FunctionName"]) == function_id]
    assert alias["Name"] == "live"
    (version_id,) = [k for k, v in dev.resources("AWS::Lambda::Version").items()
                     if ref_of(v["Properties"]["FunctionName"]) == function_id]
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_the_four_functions_name_the_durable_functions_alias(dev):
    for handler in (*CALLERS, DURABLE):
        variables = functions_by_handler(dev)[handler][1]["Environment"]["Variables"]
        assert variables["WFP_DURABLE_FUNCTION"] == "wfp-dev-durable:live", handler
        assert "WFP_PUBLIC_URL" in variables, handler  # callback URLs are built from it


def test_api_worker_and_scheduler_start_call_back_and_list_durable_executions_only(dev):
    for handler in CALLERS:
        grants = lambda_grants(dev, handler)
        assert grants == {"lambda:InvokeFunction": [arn("wfp-dev-durable:live")],
                          **{action: [arn("wfp-dev-durable:*")] for action in CALLBACK_ACTIONS}}, handler


def test_the_durable_function_checkpoints_and_reads_its_own_executions_only(dev):
    assert lambda_grants(dev, DURABLE) == {action: [arn("wfp-dev-durable:*")] for action in SELF_ACTIONS}


def test_the_durable_function_may_start_a_named_error_workflow(tmp_path):
    plugins = plugins_with(tmp_path, {
        "on_call": {"triggers": ["manual"]},
        "risky": {"triggers": ["manual"], "durable": True, "on_error": {"workflow": "on_call"}}})
    synth = synthesize_with(tmp_path, "dev", plugins)
    grants = lambda_grants(synth, DURABLE)
    assert grants == {"lambda:InvokeFunction": [arn("wfp-dev-durable:live")],
                      **{action: [arn("wfp-dev-durable:*")] for action in SELF_ACTIONS}}
    sqs = {a for s in role_statements(synth, DURABLE) for a in actions(s) if a.startswith("sqs:")}
    assert "sqs:SendMessage" in sqs  # the error workflow is queued


def test_no_role_carries_the_managed_durable_execution_policy(dev):
    for role in dev.resources("AWS::IAM::Role").values():
        assert "AWSLambdaBasicDurableExecutionRolePolicy" not in json.dumps(role["Properties"].get("ManagedPolicyArns"))
    for handler in (*CALLERS, DURABLE):
        for statement in role_statements(dev, handler):  # no durable action on "*"
            if any(a.startswith("lambda:") for a in actions(statement)):
                assert "*" not in resources(statement), (handler, statement)


def test_the_durable_wildcard_is_acknowledged_with_its_reason(dev):
    wildcard = "function:wfp-dev-durable:*"
    found = {path.split("/")[2] for path, rules in dev.metadata("aws:cdk:acknowledged-rules")
             for rule, reason in rules.items()
             if rule.startswith("Annotation::AwsSolutions-IAM5") and wildcard in rule and "durable-execution" in reason}
    assert {"ApiRole", "WorkerRole", "SchedulerRole", "DurableRole"} <= found, acknowledged[:3]
