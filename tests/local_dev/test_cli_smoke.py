"""``wfp smoke`` against a real platform: the dev server as a subprocess, locked with an admin token and a
webhook secret like a deployed stack, and the stack-reading side (outputs, secrets) against moto."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from local_platform import dev_server, local  # noqa: F401 - fixtures
from support import REPO

TOKEN = "smoke-admin-token-0123456789"
SECRET = "smoke-webhook-secret-0123456789"


@pytest.fixture
def locked_server(local, dev_server):  # noqa: F811
    local.env_file.write_text(local.env_file.read_text() + f"WFP_ADMIN_TOKEN={TOKEN}\n"
                              f"WFP_WEBHOOK_SECRET_INCOMING_WEBHOOK={SECRET}\n")
    return dev_server.start()


def smoke(local, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: F811
    return subprocess.run([sys.executable, "-m", "local_dev.cli", "smoke", *args], cwd=REPO, env=local.env,
                          capture_output=True, text=True, timeout=120)


def test_smoke_passes_against_a_locked_platform_and_runs_the_webhook_to_the_end(local, locked_server):  # noqa: F811
    result = smoke(local, "--url", locked_server.url + "/", "--token", TOKEN,
                   "--webhook", "incoming_webhook", "--webhook-secret", SECRET)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"smoke test of {locked_server.url}/" and lines[-1] == "passed"
    steps = {line.split()[1] + (" " + line.split()[2] if line.split()[1] in ("auth", "webhook", "run") else ""):
             line for line in lines[1:-1]}
    assert set(steps) == {"health", "auth required", "workflows", "webhook refused", "webhook accepted",
                          "run finished"}, lines
    assert all(line.lstrip().startswith("ok") for line in steps.values())
    run_id = steps["run finished"].split("run ")[-1].split()[0]
    status, run = locked_server.request("GET", f"/api/runs/{run_id}")
    assert status == 401  # the platform is locked: the smoke test read it with the token
    # the test delivery is the run's input, recognisable by the workflow
    request = __import__("urllib.request").request.Request(
        f"{locked_server.url}/api/runs/{run_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    with __import__("urllib.request").request.urlopen(request) as answer:
        run = json.loads(answer.read())
    assert run["status"] == "success" and run["trigger"] == "webhook"
    assert run["inputs"]["event"] == "wfp.smoke" and str(run["inputs"]["wfp_smoke"]) == "1"


@pytest.mark.parametrize("args,failed,says", [
    (["--token", "wrong-token"], "workflows", "wrong admin token?"),
    (["--token", TOKEN, "--webhook", "incoming_webhook", "--webhook-secret", "not-it"], "webhook accepted",
     "HTTP 401"),
    (["--token", TOKEN, "--webhook", "hello_world", "--webhook-secret", SECRET], "webhook refused", "HTTP 4"),
])
def test_smoke_fails_and_says_where(local, locked_server, args, failed, says):  # noqa: F811
    result = smoke(local, "--url", locked_server.url, *args)
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("  FAIL ")]
    assert failed in line and says in line, result.stdout
    assert result.stdout.rstrip().endswith("FAILED")


def test_smoke_says_the_api_is_open_when_it_is(local, dev_server):  # noqa: F811
    server = dev_server.start()  # no admin token configured: the local platform is open
    result = smoke(local, "--url", server.url, "--token", "anything", "--no-webhook")
    assert result.returncode == 1
    assert "the API is open to anyone" in result.stdout


def test_smoke_of_a_platform_that_does_not_answer(local):  # noqa: F811
    result = smoke(local, "--url", "http://127.0.0.1:9/", "--no-webhook")
    assert result.returncode == 1 and "no answer from http://127.0.0.1:9/api/health" in result.stdout


def test_the_stack_target_reads_outputs_token_and_webhook_secret(aws):
    import boto3

    from local_dev import smoke as smoke_module

    url = "https://abc123.execute-api.us-east-1.amazonaws.com/test/"
    boto3.client("cloudformation").create_stack(StackName="wfp-test", TemplateBody=json.dumps({
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"ApiUrl": {"Value": url}, "AdminTokenSecret": {"Value": "wfp-test/admin-token"},
                    "WebhookUrlIncomingWebhook": {"Value": url + "api/webhooks/incoming_webhook"}}}))
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="wfp-test/admin-token", SecretString=json.dumps({"token": "t0k"}))
    secrets.create_secret(Name="wfp-test/webhooks/incoming_webhook", SecretString="s3cr3t")
    target = smoke_module.stack_target("test")
    assert (target.base_url, target.token, target.webhook, target.webhook_secret) == (
        url, "t0k", "incoming_webhook", "s3cr3t")
    assert smoke_module.stack_target("test", with_webhook=False).webhook is None
    with pytest.raises(smoke_module.DeployError, match="has no webhook in stack wfp-test"):
        smoke_module.stack_target("test", webhook="hello_world")
    secrets.delete_secret(SecretId="wfp-test/admin-token", ForceDeleteWithoutRecovery=True)
    with pytest.raises(smoke_module.DeployError, match="cannot read the secret wfp-test/admin-token"):
        smoke_module.stack_target("test")
