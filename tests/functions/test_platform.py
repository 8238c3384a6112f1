"""The composition root: one platform builds every part once, from one settings object, lazily."""

from __future__ import annotations

import json
import sys

import boto3
import pytest
from support import REPO

from functions.platform import PARTS, Platform, get_platform, use
from functions.settings import Settings


def test_every_part_reads_the_platforms_settings_not_the_environment(make_platform, monkeypatch):
    """One way to read settings: a platform built with its own settings runs, records and queues with
    those, whatever the environment says (the engine, the routes, the stores and the queue used to read
    the environment each on their own)."""
    from starlette.testclient import TestClient

    from functions.http.app import create_app
    from functions.stores import create_tables

    make_platform()  # the environment's platform: prefix wfp-test, its queue
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="another-runs")["QueueUrl"]
    settings = Settings(stage="alt", prefix="wfp-alt", queue_url=queue_url, sync_wait_seconds=3,
                        plugins_dir=REPO / "plugins")
    alt = Platform(settings)
    create_tables(settings)
    client = TestClient(create_app(alt))
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "demo-key")

    done = client.post("/api/workflows/execute/hello_world", json={"name": "Ada"}).json()
    assert done["status"] == "success"
    assert boto3.client("dynamodb").get_item(TableName="wfp-alt-runs", Key={"run_id": {"S": done["run_id"]}})["Item"]
    queued = client.post("/api/webhooks/incoming_webhook", json={"event": "push"}).json()
    (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["run_id"] == queued["run_id"]
    assert get_platform() is not alt  # the process's platform was not touched


def test_a_part_is_built_once_on_first_use_and_a_given_part_is_kept(aws):
    platform = Platform(Settings())
    assert "runs" not in platform.__dict__ and "clients" not in platform.__dict__  # nothing built yet
    assert platform.runs is platform.runs and platform.engine is platform.engine
    assert platform.engine.runs is platform.runs
    given = object()
    assert Platform(Settings(), toggler=given).toggler is given
    with pytest.raises(TypeError, match="unknown parts"):
        Platform(Settings(), store=given)
    assert set(PARTS) >= {"runs", "queue", "toggler", "secrets"}


def test_a_cold_start_builds_no_store_and_no_client():
    """Building the platform and its registry (what /docs and the workflow list need) imports neither
    pynamodb nor boto3."""
    import subprocess

    code = ("import sys\nfrom functions.platform import get_platform\np = get_platform()\np.registry\n"
            "p.engine\nprint(sorted(m for m in ('boto3', 'pynamodb', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PATH": "", "WFP_PLUGINS_DIR": str(REPO / "plugins")}).stdout
    assert out.strip() == "[]"


def test_use_installs_and_forgets_the_process_platform(aws):
    mine = Platform(Settings())
    previous = use(mine)
    try:
        assert get_platform() is mine
        use(None)
        assert get_platform() is not mine  # built again from the environment
    finally:
        use(previous)


def test_forget_clients_drops_every_client_and_cached_secret(platform):
    from support import put_secret

    put_secret("wfp-test/some-secret", "v1")
    core = platform.core
    assert core.secrets.text("wfp-test/some-secret") == "v1"
    core.clients.get("sqs")
    put_secret("wfp-test/some-secret", "v2")
    assert core.secrets.text("wfp-test/some-secret") == "v1"  # cached 5 minutes
    core.forget_clients()
    assert core.clients._clients == {}
    assert core.secrets.text("wfp-test/some-secret") == "v2"
