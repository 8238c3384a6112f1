"""Failure handling deployed: the notices table from its model, granted to every function (a run fails
wherever it runs); ses:SendEmail only with WFP_NOTIFY_EMAIL_FROM, on that identity only; the scheduler may
queue error workflows only when one is named."""

from __future__ import annotations

import json
import os

import pytest
from conftest import workflow
from synth_support import synthesize

SENDER = "alerts@example.com"


@pytest.fixture(scope="session")
def notifying(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synth-notices")
    plugins = tmp / "plugins"
    for sub in ("tools", "workflows", "interfaces"):
        (plugins / sub).mkdir(parents=True)
    (plugins / "__init__.py").write_text("")
    workflow(plugins, "nightly", {"schedule": "0 2 * * *", "triggers": ["schedule"],
                                  "on_error": {"workflow": "notify_team", "notify": [{"type": "email", "to": [SENDER]}]}})
    workflow(plugins, "notify_team", {"triggers": ["manual"]})
    saved = os.environ.get("WFP_NOTIFY_EMAIL_FROM")
    os.environ["WFP_NOTIFY_EMAIL_FROM"] = SENDER
    try:
        return synthesize(tmp, "dev", plugins)
    finally:
        os.environ.pop("WFP_NOTIFY_EMAIL_FROM")
        if saved is not None:
            os.environ["WFP_NOTIFY_EMAIL_FROM"] = saved


def statements_of(synth, role_prefix: str) -> list[dict]:
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles"))
        if role_prefix in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def sends_to_runs_queue(synth) -> bool:
    return any("sqs:SendMessage" in json.dumps(s["Action"]) and "RunsQueue" in json.dumps(s["Resource"])
               and "DeadLetter" not in json.dumps(s["Resource"]) for s in statements_of(synth, "SchedulerRole"))


def ses_statements(synth, role_prefix: str) -> list[dict]:
    return [s for s in statements_of(synth, role_prefix) if "ses:SendEmail" in json.dumps(s["Action"])]


def test_the_notices_table_is_derived_and_granted_to_every_function(dev):
    tables = dev.resources("AWS::DynamoDB::Table")
    notices = [t for t in tables.values()
               if t["Properties"]["KeySchema"] == [{"AttributeName": "workflow", "KeyType": "HASH"}]
               and "TimeToLiveSpecification" not in t["Properties"]
               and not t["Properties"].get("GlobalSecondaryIndexes")]
    assert notices, "no table keyed by workflow alone"
    assert set(dev.stack.table_specs["notices_table"].actions) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    for name in ("ApiRole", "SchedulerRole", "WorkerRole"):
        text = json.dumps(statements_of(dev, name))
        assert "dynamodb:UpdateItem" in text
    env = dev.resources("AWS::Lambda::Function")
    assert all("WFP_NOTICES_TABLE" in f["Properties"]["Environment"]["Variables"] for f in env.values()
               if "Environment" in f["Properties"] and "WFP_RUNS_TABLE" in f["Properties"]["Environment"]["Variables"])


def test_no_email_grant_and_no_scheduler_queue_grant_without_them(dev):
    for name in ("ApiRole", "SchedulerRole", "WorkerRole"):
        assert ses_statements(dev, name) == []
    assert not sends_to_runs_queue(dev)


def test_email_is_granted_on_the_configured_identity_only(notifying):
    for name in ("ApiRole", "SchedulerRole", "WorkerRole"):
        [statement] = ses_statements(notifying, name)
        assert statement["Action"] == "ses:SendEmail"
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER}}
        resources = json.dumps(statement["Resource"])
        assert f"identity/{SENDER}" in resources and "identity/example.com" in resources and "*" not in resources
    variables = [f["Properties"]["Environment"]["Variables"] for f in
                 notifying.resources("AWS::Lambda::Function").values() if "Environment" in f["Properties"]]
    assert any(v.get("WFP_NOTIFY_EMAIL_FROM") == SENDER for v in variables)


def test_the_scheduler_may_queue_an_error_workflow_when_one_is_named(notifying):
    assert sends_to_runs_queue(notifying)
