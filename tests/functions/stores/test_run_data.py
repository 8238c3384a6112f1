"""Outputs and log lines beyond a run record's budget go whole to the run-data bucket (moto's S3) and come
back whole through the API and the dashboard (``functions.stores.run_data``)."""

from __future__ import annotations

import json

import pytest

from tests.support import drain

BIG = ("import logging\nlog = logging.getLogger(__name__)\n\n"
       "def execute(data, tools):\n"
       "    for i in range(data.get('lines', 0)):\n"
       "        log.info('line %d %s', i, 'y' * 80)\n"
       "    items = [{'n': i, 'text': 'x' * 90, 'quote': '\"<&>\"'} for i in range(data.get('items', 0))]\n"
       "    return {'status': 'success', 'data': {'items': items, 'token': data.get('token')}}\n")


@pytest.fixture
def platform(make_platform, plugin_dir):
    plugin_dir.workflow("big", {"triggers": ["manual", "webhook"], "webhook_auth": "none",
                                "inputs_schema": [{"name": "items", "type": "integer"},
                                                  {"name": "lines", "type": "integer"},
                                                  {"name": "token", "type": "password"}]}, BIG)
    return make_platform(plugin_dir.root)


def s3_object(platform, key):
    import boto3

    return boto3.client("s3").get_object(Bucket=platform.core.settings.run_data_bucket, Key=key)["Body"].read()


def test_a_2_mb_output_is_read_back_whole(platform):
    answer = platform.client.post("/api/workflows/execute/big", json={"items": 17000})
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["run_id"]
    items = answer.json()["output"]["data"]["items"]
    assert len(items) == 17000

    from functions.stores.runs import RunModel

    item = RunModel.get(run_id)
    assert item.output_ref == f"runs/{run_id}/output.json"
    assert isinstance(item.output, str) and len(item.output.encode()) <= 64 * 1024  # the record's preview
    whole = json.loads(s3_object(platform, item.output_ref))
    assert len(json.dumps(whole).encode()) > 2 * 1024 * 1024

    run = platform.client.get(f"/api/runs/{run_id}").json()
    assert run["output"] == whole and run["output_truncated"] is False
    download = platform.client.get(f"/api/runs/{run_id}/output")
    assert download.status_code == 200 and download.headers["content-type"] == "application/json"
    assert download.json() == whole

    page = platform.client.get(f"/dashboard/runs/{run_id}")
    assert page.status_code == 200
    assert len(page.content) < 2 * 1024 * 1024  # the beginning inline, the rest one click away
    assert f'/api/runs/{run_id}/output" download>the whole output</a>' in page.text
    assert "The first 256 KB of 2." in page.text


def test_a_small_run_touches_no_bucket(platform, aws_calls):
    answer = platform.client.post("/api/workflows/execute/big", json={"items": 3, "lines": 5})
    assert answer.status_code == 200
    assert not [call for call in aws_calls if call[0] == "s3"]
    run = platform.client.get(f"/api/runs/{answer.json()['run_id']}").json()
    assert len(run["output"]["data"]["items"]) == 3 and len(run["logs"]) == 5


def test_a_long_log_is_kept_whole_and_the_record_keeps_its_beginning(platform):
    answer = platform.client.post("/api/workflows/execute/big", json={"lines": 3000})
    run_id = answer.json()["run_id"]
    from functions.stores.runs import RunModel

    item = RunModel.get(run_id)
    assert len(item.logs) <= 200 and item.logs[-1].startswith("... ")
    assert item.logs[-1].endswith("more line(s): the whole log is kept with the run")
    run = platform.client.get(f"/api/runs/{run_id}").json()
    assert len(run["logs"]) == 3000
    assert run["logs"][-1].endswith(f"line 2999 {'y' * 80}")
    text = platform.client.get(f"/api/runs/{run_id}/logs")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines() == run["logs"]


def test_a_queued_run_keeps_its_large_output_too(platform):
    accepted = platform.client.post("/api/webhooks/big", json={"items": 5000})
    assert accepted.status_code == 202, accepted.text
    assert drain(platform) == 1
    run = platform.client.get(f"/api/runs/{accepted.json()['run_id']}").json()
    assert run["status"] == "success" and len(run["output"]["data"]["items"]) == 5000


def test_secrets_are_scrubbed_before_they_reach_the_bucket(platform):
    secret = "pw-" + "s3cr3t" * 4
    answer = platform.client.post("/api/workflows/execute/big", json={"items": 2000, "token": secret})
    run_id = answer.json()["run_id"]
    body = s3_object(platform, f"runs/{run_id}/output.json").decode()
    assert secret not in body and '"token": "***"' in body or '"token":"***"' in body


def test_an_object_gone_from_the_bucket_leaves_the_records_preview(platform, caplog):
    import boto3

    run_id = platform.client.post("/api/workflows/execute/big", json={"items": 3000}).json()["run_id"]
    boto3.client("s3").delete_object(Bucket=platform.core.settings.run_data_bucket, Key=f"runs/{run_id}/output.json")
    run = platform.client.get(f"/api/runs/{run_id}").json()
    assert run["output_truncated"] is True
    assert isinstance(run["output"], str) and run["output"].endswith("...")
    assert "no longer in the run-data bucket" in caplog.text


def test_an_output_over_the_largest_kept_is_cut_and_says_so(make_platform, plugin_dir):
    plugin_dir.workflow("big", {"inputs_schema": [{"name": "items", "type": "integer"}]}, BIG)
    platform = make_platform(plugin_dir.root, WFP_MAX_OUTPUT_BYTES=str(200 * 1024))
    run_id = platform.client.post("/api/workflows/execute/big", json={"items": 4000}).json()["run_id"]
    run = platform.client.get(f"/api/runs/{run_id}").json()
    assert run["output_truncated"] is True
    assert len(run["output"].encode()) <= 200 * 1024  # the 200 KB kept (in the bucket), not the record's 64
    assert len(run["output"].encode()) > 100 * 1024
