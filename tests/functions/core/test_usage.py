"""What a run cost (``functions.core.usage``, ``functions.core.pricing``): its AWS requests counted by
botocore's hook as they reach moto, its Lambda GB-seconds, summed over its parts, priced, shown on the run
page and summed per workflow in the metrics view."""

from __future__ import annotations

from collections import Counter

import pytest

from functions.core.pricing import PRICES, cost
from functions.core.usage import kind_of
from tests.support import drain

CODE = """import time

import boto3


def execute(data, tools):
    time.sleep(data.get("sleep", 0))
    if data.get("upload"):
        boto3.client("s3").put_object(Bucket=data["upload"], Key="mine.txt", Body=b"hello")
    return {"status": "error" if data.get("fail") else "success", "data": "x" * data.get("size", 1)}
"""


@pytest.fixture
def platform(make_platform, plugin_dir):
    plugin_dir.workflow("priced", {"triggers": ["manual", "webhook"], "webhook_auth": "none"}, CODE)
    return make_platform(plugin_dir.root)


def kinds(calls) -> Counter:
    return Counter(kind_of(service, operation) for service, operation, _ in calls)


def test_a_sync_run_counts_the_requests_it_made(platform, aws_calls):
    aws_calls.clear()
    answer = platform.client.post("/api/workflows/execute/priced", json={})
    made = kinds(aws_calls)
    assert made == {"dynamodb.writes": 2}  # create and save: what the hook saw reach moto
    run = platform.client.get(f"/api/runs/{answer.json()['run_id']}").json()
    usage = run["usage"]
    assert usage["dynamodb.writes"] == 2 and usage["lambda.invocations"] == 1
    assert {k for k in usage if k not in ("lambda.gb_seconds", "lambda.invocations")} == set(made)
    assert 0 < usage["lambda.gb_seconds"] < 5
    assert run["cost_usd"] == pytest.approx(cost(usage), rel=1e-4) and run["cost_usd"] > 0


def test_the_workflows_own_aws_requests_and_large_outputs_count_too(platform):
    answer = platform.client.post("/api/workflows/execute/priced",
                                  json={"upload": platform.core.settings.run_data_bucket, "size": 100_000})
    usage = platform.client.get(f"/api/runs/{answer.json()['run_id']}").json()["usage"]
    # its own PutObject (from the workflow's thread) and the output kept in the run-data bucket
    assert usage["s3.writes"] == 2 and usage["dynamodb.writes"] == 2


def test_gb_seconds_are_the_runs_time_at_the_functions_memory(platform, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    answer = platform.client.post("/api/workflows/execute/priced", json={"sleep": 0.4})
    usage = platform.client.get(f"/api/runs/{answer.json()['run_id']}").json()["usage"]
    assert 0.8 <= usage["lambda.gb_seconds"] < 0.8 + 1.0  # 0.4 s at 2 GB, and the platform's own time


def test_a_queued_run_adds_the_api_part_and_the_worker_part(platform, aws_calls):
    aws_calls.clear()
    accepted = platform.client.post("/api/webhooks/priced", json={})
    assert drain(platform) == 1
    run = platform.client.get(f"/api/runs/{accepted.json()['run_id']}").json()
    usage = run["usage"]
    # create + claim + save; the send; one invocation of the api, one of the worker
    assert usage["dynamodb.writes"] == 3 and usage["sqs.requests"] == 1 and usage["lambda.invocations"] == 2
    made = kinds(aws_calls)
    assert made["dynamodb.writes"] == 3 and made["sqs.requests"] >= 1  # the test's drain also receives/deletes


def test_the_metrics_view_sums_the_runs_usage_and_cost(platform):
    ids = [platform.client.post("/api/workflows/execute/priced", json={"fail": i == 2}).json()["run_id"]
           for i in range(3)]
    runs = [platform.client.get(f"/api/runs/{run_id}").json() for run_id in ids]
    view = platform.client.get("/api/workflows/priced/metrics?window=24h").json()
    totals = view["totals"]
    assert totals["metered_runs"] == 3 and totals["runs"] == 3
    assert totals["usage"]["dynamodb.writes"] == 6
    assert totals["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in runs), rel=1e-6)
    assert sum(b["cost_usd"] or 0 for b in view["buckets"]) == pytest.approx(totals["cost_usd"], rel=1e-6)

    page = platform.client.get("/dashboard/workflows/priced").text
    assert 'data-metric="cost">$' in page and "6 DynamoDB writes over 3 measured runs" in page
    run_page = platform.client.get(f"/dashboard/runs/{ids[0]}").text
    assert "<dt>Cost</dt>" in run_page and "2 DynamoDB writes" in run_page and "Lambda GB-s" in run_page


def test_every_kind_the_platform_makes_is_priced():
    for service, operation in [("dynamodb", "PutItem"), ("dynamodb", "Query"), ("sqs", "SendMessage"),
                               ("s3", "PutObject"), ("s3", "GetObject"), ("secrets-manager", "GetSecretValue"),
                               ("sesv2", "SendEmail")]:
        assert kind_of(service, operation) in PRICES, (service, operation)
    assert cost({"dynamodb.writes": 1_000_000}) == pytest.approx(0.625)
    assert cost({"unknown.requests": 5}) == 0
