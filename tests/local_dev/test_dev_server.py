"""The local dev server as a user runs it (``python -m local_dev --port P`` subprocesses): runs over
HTTP, runs that survive a clean stop and a kill -9, plugin edits picked up without a restart, the
CLI sharing the server's local AWS; and the journal behind it (replay, torn lines, compaction)."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_platform import DevServer, LocalSetup, dev_server, local  # noqa: F401 - fixtures

from local_dev.aws import Journal, LocalAws


def wait_for(check, timeout: float = 20, interval: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something truthy (the watcher polls once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ----- the server -------------------------------------------------------------------------------------------
def test_runs_survive_a_restart_and_a_kill(dev_server: DevServer):
    server = dev_server.start()
    status, first = server.request("POST", "/api/workflows/execute/hello_world", {"name": "Ada"})
    assert status == 200 and first["status"] == "success" and first["message"] == "Hello, Ada!"
    status, second = server.request("GET", "/api/workflows/trigger/incoming_webhook?event=push")
    assert status == 200 and second["data"] == {"event": "push", "fields": ["event"]}
    status, refused = server.request("POST", "/api/workflows/execute/hello_world", {})
    assert status == 422 and refused["detail"][0]["field"] == "name"
    assert server.request("GET", "/api/plugins")[1]["errors"] == 0

    assert server.stop() == 0  # SIGTERM: a clean shutdown
    assert not (dev_server.setup.state / "aws.json").exists()  # the local AWS was stopped, not abandoned
    assert f"Workflow Platform on http://127.0.0.1:{server.port}" in server.output()
    server.start()
    status, run = server.request("GET", f"/api/runs/{first['run_id']}")
    assert status == 200 and run["status"] == "success" and run["inputs"]["name"] == "Ada"
    assert any("greeting Ada" in line for line in run["logs"])
    history = server.request("GET", "/api/workflows/logs/incoming_webhook")[1]
    assert [r["run_id"] for r in history["runs"]] == [second["run_id"]]

    status, third = server.request("POST", "/api/workflows/execute/hello_world", {"name": "Bob"})
    assert status == 200  # acknowledged: it must survive anything from now on
    server.kill()
    server.start()
    status, run = server.request("GET", f"/api/runs/{third['run_id']}")
    assert status == 200 and run["status"] == "success" and run["output"]["message"] == "Hello, Bob!"
    runs = server.request("GET", "/api/workflows/logs/hello_world")[1]["runs"]
    assert [r["run_id"] for r in runs] == [third["run_id"], first["run_id"]]


def test_plugin_edits_are_picked_up_without_a_restart(dev_server: DevServer, local: LocalSetup):
    server = dev_server.start()
    greet = lambda: server.request("GET", "/api/workflows/trigger/hello_world?name=Ada")[1]["message"]  # noqa: E731
    assert greet() == "Hello, Ada!"

    hello = local.plugins.root / "workflows" / "hello_world" / "main.py"
    hello.write_text(hello.read_text().replace('"en": "Hello"', '"en": "Howdy"'))
    assert wait_for(lambda: greet() == "Howdy, Ada!"), server.output()

    local.plugins.workflow("added", {"name": "Added"},
                           "def execute(data, tools):\n    return {'status': 'success', 'message': 'new one'}\n")
    local.plugins.workflow("broken", {"name": "Broken"}, "def execute(data, tools)\n")
    assert wait_for(lambda: server.request("GET", "/api/plugins")[1]["errors"] == 1), server.output()
    assert server.request("POST", "/api/workflows/execute/added", {})[1]["message"] == "new one"
    status, body = server.request("POST", "/api/workflows/execute/broken", {})
    assert status == 409 and "SyntaxError" in body["error"]
    assert greet() == "Howdy, Ada!"
    assert "plugin error: workflow broken" in server.output()

    # `wfp run` while the server runs uses the server's local AWS: its run shows in the server's API
    done = local.cli("run", "added")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    status, run = server.request("GET", f"/api/runs/{run_id}")
    assert status == 200 and run["trigger"] == "manual" and run["message"] == "new one"
    assert server.stop() == 0


# ----- the journal, in process ------------------------------------------------------------------------------
def clients(endpoint: str) -> tuple[Any, Any]:
    options = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing"}
    return boto3.client("dynamodb", **options), boto3.client("secretsmanager", **options)


def aws_state(endpoint: str) -> dict[str, Any]:
    """Everything a local AWS holds that the platform uses: tables (schema, TTL, items) and secrets."""
    ddb, sm = clients(endpoint)
    state: dict[str, Any] = {"tables": {}, "secrets": {}}
    names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    for name in names:
        desc = ddb.describe_table(TableName=name)["Table"]
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=name):
            items += page["Items"]
        state["tables"][name] = {
            "keys": desc["KeySchema"], "attributes": sorted(desc["AttributeDefinitions"], key=str),
            "indexes": sorted((i["IndexName"], json.dumps(i["KeySchema"]), json.dumps(i["Projection"], sort_keys=True))
                              for i in desc.get("GlobalSecondaryIndexes", [])),
            "billing": desc.get("BillingModeSummary", {}).get("BillingMode"),
            "ttl": ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
            "items": sorted(json.dumps(i, sort_keys=True) for i in items),
        }
    for page in sm.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            state["secrets"][secret["Name"]] = sm.get_secret_value(SecretId=secret["ARN"])["SecretString"]
    return state


def write_a_history(endpoint: str, runs: int) -> None:
    """Creates, overwrites, updates and deletes items; creates, updates and deletes secrets."""
    ddb, sm = clients(endpoint)
    ddb.create_table(
        TableName="runs", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"},
                              {"AttributeName": "workflow", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_workflow",
                                 "KeySchema": [{"AttributeName": "workflow", "KeyType": "HASH"},
                                               {"AttributeName": "run_id", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}}])
    ddb.update_time_to_live(TableName="runs", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    for i in range(runs):
        item = {"run_id": {"S": f"r{i:04d}"}, "workflow": {"S": f"w{i % 3}"}, "status": {"S": "running"},
                "expires_at": {"N": str(2_000_000_000 + i)}, "logs": {"L": [{"S": "é ü 🎉"}]}}
        ddb.put_item(TableName="runs", Item=item)
        ddb.put_item(TableName="runs", Item={**item, "status": {"S": "success"}})  # completed
    ddb.update_item(TableName="runs", Key={"run_id": {"S": "r0001"}}, UpdateExpression="SET #s = :s",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "error"}})
    ddb.delete_item(TableName="runs", Key={"run_id": {"S": "r0002"}})
    ddb.create_table(TableName="scratch", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    ddb.delete_table(TableName="scratch")
    sm.create_secret(Name="wfp-dev/profiles/crm/PROD", SecretString=json.dumps({"api_key": "v1"}))
    sm.put_secret_value(SecretId="wfp-dev/profiles/crm/PROD", SecretString=json.dumps({"api_key": "v2"}))
    sm.create_secret(Name="wfp-dev/profiles/crm/OLD", SecretString="{}")
    sm.delete_secret(SecretId="wfp-dev/profiles/crm/OLD", ForceDeleteWithoutRecovery=True)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@contextmanager
def local_aws(state_dir: Path, compact_after: int = 1000) -> Iterator[LocalAws]:
    """A local AWS in this process, as the dev server starts it. moto's state is process-wide: it is
    reset (moto's own reset endpoint) before stopping, as a new process would start empty."""
    aws = LocalAws(state_dir)
    aws.compact_after = compact_after
    aws.start()
    try:
        yield aws
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{aws.endpoint}/moto-api/reset", method="POST"))
        aws.stop()


def test_a_refused_write_is_not_journaled(state_dir):
    with local_aws(state_dir) as aws:
        ddb, _ = clients(aws.endpoint)
        write_a_history(aws.endpoint, runs=2)
        lines = len(list(aws.journal.entries()))
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(TableName="runs", Item={"run_id": {"S": "r0000"}, "workflow": {"S": "w0"}},
                         ConditionExpression="attribute_not_exists(run_id)")
        ddb.get_item(TableName="runs", Key={"run_id": {"S": "r0000"}})  # reads are not journaled either
        ddb.query(TableName="runs", IndexName="by_workflow", KeyConditionExpression="workflow = :w",
                  ExpressionAttributeValues={":w": {"S": "w0"}})
        assert len(list(aws.journal.entries())) == lines


def test_replay_rebuilds_the_state_and_skips_a_torn_last_line(state_dir):
    with local_aws(state_dir) as aws:
        write_a_history(aws.endpoint, runs=5)
        before = aws_state(aws.endpoint)
    assert before["tables"]["runs"]["items"] and before["secrets"]
    with open(state_dir / "aws-journal.jsonl", "a") as journal:
        journal.write('{"path": "/", "headers": {"HTTP_X_AMZ_TAR')  # a write cut short by kill -9
    with local_aws(state_dir) as aws:
        assert aws_state(aws.endpoint) == before
        ddb, _ = clients(aws.endpoint)  # and the journal still takes writes after the torn line
        ddb.put_item(TableName="runs", Item={"run_id": {"S": "after"}, "workflow": {"S": "w9"}})
    with local_aws(state_dir) as aws:
        assert len(aws_state(aws.endpoint)["tables"]["runs"]["items"]) == len(before["tables"]["runs"]["items"]) + 1


def test_compaction_rebuilds_an_identical_state_from_far_fewer_lines(state_dir):
    with local_aws(state_dir) as aws:
        write_a_history(aws.endpoint, runs=20)
        before = aws_state(aws.endpoint)
    journal = Journal(state_dir / "aws-journal.jsonl")
    written = len(list(journal.entries()))
    assert written > 40

    with local_aws(state_dir, compact_after=30) as aws:  # replays, then rewrites the journal as the state
        assert aws_state(aws.endpoint) == before
    compacted = list(journal.entries())
    targets = [e["headers"]["HTTP_X_AMZ_TARGET"].split(".")[1] for e in compacted]
    assert targets.count("CreateTable") == 1 and targets.count("UpdateTimeToLive") == 1
    assert targets.count("PutItem") == 19 and targets.count("CreateSecret") == 1
    assert len(compacted) == 22 < written
    bodies = [json.loads(base64.b64decode(e["body"])) for e in compacted]
    assert {"api_key": "v2"} in [json.loads(b["SecretString"]) for b in bodies if "SecretString" in b]

    with local_aws(state_dir) as aws:  # the compacted journal replays to the same state, and keeps growing
        assert aws_state(aws.endpoint) == before
        clients(aws.endpoint)[0].delete_item(TableName="runs", Key={"run_id": {"S": "r0003"}})
    with local_aws(state_dir) as aws:
        assert len(aws_state(aws.endpoint)["tables"]["runs"]["items"]) == 18


def test_snapshot_pages_through_more_than_100_tables_and_secrets():
    """ListTables and ListSecrets answer 100 at a time: a snapshot must not stop at the first page."""
    from moto import mock_aws
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    from local_dev.compaction import _call, _secrets, _table_names

    with mock_aws():  # moto's backends are process-wide: start and end empty
        app = DomainDispatcherApplication(create_backend_app)
        for i in range(101):
            _call(app, "secretsmanager", "secretsmanager.CreateSecret",
                  {"Name": f"wfp-dev/profiles/tool{i:03d}/PROD", "SecretString": "{}"}, "us-east-1")
            _call(app, "dynamodb", "DynamoDB_20120810.CreateTable",
                  {"TableName": f"t{i:03d}", "BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}, "us-east-1")
        tables = list(_table_names(app, "us-east-1"))
        secrets = [s["Name"] for s in _secrets(app, "us-east-1")]
    assert sorted(tables) == [f"t{i:03d}" for i in range(101)]
    assert sorted(secrets) == [f"wfp-dev/profiles/tool{i:03d}/PROD" for i in range(101)]


def test_the_run_data_bucket_survives_a_restart_and_a_compaction(state_dir):
    """S3 writes are journaled too (large outputs and logs live there): replayed, then compacted into one
    PutObject per object, byte for byte, whatever botocore's upload encoding (aws-chunked, checksums)."""
    body = bytes(range(256)) * 1200  # 300 KB, every byte value

    def s3(endpoint):
        return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    with local_aws(state_dir) as aws:
        client = s3(aws.endpoint)
        client.create_bucket(Bucket="wfp-dev-run-data")
        client.put_object(Bucket="wfp-dev-run-data", Key="runs/abc/output.json", Body=body,
                          ContentType="application/json")
        client.put_object(Bucket="wfp-dev-run-data", Key="runs/abc/logs.json", Body=b'["one line"]')
        write_a_history(aws.endpoint, runs=30)
    with local_aws(state_dir, compact_after=30) as aws:  # replayed, then compacted
        got = s3(aws.endpoint).get_object(Bucket="wfp-dev-run-data", Key="runs/abc/output.json")
        assert got["Body"].read() == body and got["ContentType"] == "application/json"
    compacted = list(Journal(state_dir / "aws-journal.jsonl").entries())
    puts = [e["path"] for e in compacted if e.get("method") == "PUT"]
    assert puts == ["/wfp-dev-run-data", "/wfp-dev-run-data/runs/abc/logs.json",
                    "/wfp-dev-run-data/runs/abc/output.json"] or \
        sorted(puts) == ["/wfp-dev-run-data", "/wfp-dev-run-data/runs/abc/logs.json",
                         "/wfp-dev-run-data/runs/abc/output.json"]
    with local_aws(state_dir) as aws:  # the compacted journal gives the same objects
        client = s3(aws.endpoint)
        assert client.get_object(Bucket="wfp-dev-run-data", Key="runs/abc/output.json")["Body"].read() == body
        assert client.get_object(Bucket="wfp-dev-run-data", Key="runs/abc/logs.json")["Body"].read() == b'["one line"]'


def test_a_state_from_an_older_release_gets_the_bucket_and_the_indexes_at_start(state_dir, monkeypatch):
    """The local AWS's start (``aws_server.ensure_tables``) creates what a state kept from an older release
    lacks although its tables are there: the run-data bucket, an index, a projection grown."""
    from local_dev.aws_server import ensure_tables
    from tests.support import reset_platform_state

    with local_aws(state_dir) as aws:
        for key, value in {"AWS_ENDPOINT_URL": aws.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "WFP_STAGE": "dev"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("WFP_PREFIX", raising=False)
        reset_platform_state()
        ensure_tables()
        ddb, _ = clients(aws.endpoint)
        s3 = boto3.client("s3", endpoint_url=aws.endpoint, region_name="us-east-1")
        s3.delete_bucket(Bucket="wfp-dev-run-data")
        ddb.update_table(TableName="wfp-dev-runs", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_day"}}])
        ensure_tables()  # the tables are all there: only what they lack is added
        names = {i["IndexName"] for i in ddb.describe_table(TableName="wfp-dev-runs")["Table"]["GlobalSecondaryIndexes"]}
        assert names >= {"by_day", "by_workflow", "open_runs"}
        assert "wfp-dev-run-data" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    reset_platform_state()
