"""The deployment commands of ``wfp``: build, synth, deploy, profiles push, urls (AWS = moto)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from local_dev.cli import main

STACK_TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/test/"},
        "DashboardUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/test/dashboard/"},
        "AdminTokenSecret": {"Value": "wfp-test/admin-token"},
        "WebhookUrlHelloWorld": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/test/api/webhooks/hello_world"},
        "WebhookUrlIncomingWebhook": {
            "Value": "https://abc123.execute-api.us-east-1.amazonaws.com/test/api/webhooks/incoming_webhook"},
    },
}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def create_stack(name: str, template: dict | None = None, region: str | None = None) -> None:
    import boto3

    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name, TemplateBody=json.dumps(template or STACK_TEMPLATE))


# ----- profiles push -------------------------------------------------------------------------------------
@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text("MON_OUTIL_PROD_API_KEY=k-123-secret\nMON_OUTIL_PROD_TIMEOUT=45\n"
                    "MON_OUTIL_TEST_API_KEY=other\nHTTP_JSON_LOCAL_BASE_URL=http://127.0.0.1\n")
    return path


def test_profiles_push_uploads_the_profile_the_functions_then_read(aws, env_file, capsys, monkeypatch):
    import boto3

    code, out, _ = run_cli(capsys, "profiles", "push", "mon_outil", "--profile", "prod", "--stage", "test",
                           "--env-file", str(env_file))
    assert code == 0
    assert out.strip() == "created secret wfp-test/profiles/mon_outil/PROD: api_key, timeout"
    assert "k-123-secret" not in out  # names, never values
    stored = boto3.client("secretsmanager").get_secret_value(SecretId="wfp-test/profiles/mon_outil/PROD")
    assert json.loads(stored["SecretString"]) == {"api_key": "k-123-secret", "timeout": 45}

    # A deployed function (no .env, no variables) resolves the profile from the secret.
    from functions.platform import Platform

    for var in [v for v in os.environ if v.startswith("MON_OUTIL_")]:
        monkeypatch.delenv(var)
    deployed = Platform()
    config = deployed.registry.get("tool", "mon_outil").config
    resolved = deployed.profiles.resolve(config, "PROD").require()
    assert resolved.params["api_key"] == "k-123-secret" and resolved.params["timeout"] == 45

    env_file.write_text("MON_OUTIL_PROD_API_KEY=rotated\n")
    code, out, _ = run_cli(capsys, "profiles", "push", "mon_outil", "--profile", "PROD", "--stage", "test",
                           "--env-file", str(env_file))
    assert code == 0 and out.startswith("updated secret wfp-test/profiles/mon_outil/PROD")
    stored = boto3.client("secretsmanager").get_secret_value(SecretId="wfp-test/profiles/mon_outil/PROD")
    assert json.loads(stored["SecretString"]) == {"api_key": "rotated"}


def test_profiles_push_refuses_an_incomplete_profile_naming_the_variable(aws, tmp_path, capsys):
    import boto3

    env_file = tmp_path / ".env"
    env_file.write_text("MON_OUTIL_STAGING_TIMEOUT=10\n")
    code, _, err = run_cli(capsys, "profiles", "push", "mon_outil", "--profile", "staging", "--stage", "test",
                           "--env-file", str(env_file))
    assert code == 2
    assert "MON_OUTIL_STAGING_API_KEY" in err
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


@pytest.mark.parametrize("argv,message", [
    (["nope", "--profile", "PROD"], "no tool named 'nope'"),
    (["mon_outil", "--profile", "ABSENT"], "sets no MON_OUTIL_ABSENT_* variable"),
    (["mon_outil", "--profile", "bad-name"], "invalid profile name"),
])
def test_profiles_push_refusals_say_what_to_do(aws, env_file, capsys, argv, message):
    code, _, err = run_cli(capsys, "profiles", "push", *argv, "--stage", "test", "--env-file", str(env_file))
    assert code == 2 and message in err


# ----- urls ----------------------------------------------------------------------------------------------
def test_urls_prints_the_stacks_urls(aws, capsys):
    create_stack("wfp-test")
    code, out, _ = run_cli(capsys, "urls", "--stage", "test")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "API        https://abc123.execute-api.us-east-1.amazonaws.com/test/"
    assert lines[1] == "dashboard  https://abc123.execute-api.us-east-1.amazonaws.com/test/dashboard/"
    assert "webhook    https://abc123.execute-api.us-east-1.amazonaws.com/test/api/webhooks/hello_world  (hello_world)" in lines
    assert any("--secret-id wfp-test/admin-token" in line for line in lines)

    code, out, _ = run_cli(capsys, "urls", "--stage", "test", "--json")
    data = json.loads(out)
    assert data["webhooks"] == {
        "hello_world": "https://abc123.execute-api.us-east-1.amazonaws.com/test/api/webhooks/hello_world",
        "incoming_webhook": "https://abc123.execute-api.us-east-1.amazonaws.com/test/api/webhooks/incoming_webhook"}


def test_urls_of_a_stage_that_is_not_deployed(aws, capsys):
    code, _, err = run_cli(capsys, "urls", "--stage", "prod")
    assert code == 2 and "stack wfp-prod is not deployed" in err and "wfp deploy --stage prod" in err


# ----- deploy: prerequisites, then the CDK CLI ------------------------------------------------------------
@pytest.fixture
def fake_cdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in CDK CLI that records its arguments and environment (the real one is driven against a
    stand-in AWS by the deploy rehearsal, tests/local_dev/test_rehearsal.py)."""
    calls = tmp_path / "cdk-calls.jsonl"
    script = tmp_path / "cdk"
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                      f"open({str(calls)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
                      f"'region': os.environ.get('AWS_REGION'), 'profile': os.environ.get('AWS_PROFILE'), "
                      f"'path0': os.environ['PATH'].split(os.pathsep)[0]}}) + '\\n')\n")
    script.chmod(0o755)
    monkeypatch.setenv("WFP_CDK", str(script))
    return calls


def cdk_calls(calls: Path) -> list[dict]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_deploy_stops_when_the_account_is_not_bootstrapped(aws, fake_cdk, capsys):
    code, _, err = run_cli(capsys, "deploy", "--stage", "test")
    assert code == 2 and "not bootstrapped" in err and "wfp deploy --bootstrap" in err
    assert "FAIL bootstrap" in err and "ok   credentials  account 123456789012" in err
    assert cdk_calls(fake_cdk) == []


def test_deploy_runs_cdk_deploy_for_the_stage_then_prints_the_urls(aws, fake_cdk, capsys):
    create_stack("CDKToolkit", {"Resources": {"Bucket": {"Type": "AWS::SQS::Queue"}}})
    create_stack("wfp-test")  # what the (fake) deployment leaves behind
    code, out, err = run_cli(capsys, "deploy", "--stage", "test", "--no-smoke", "-c", "alarm_email=ops@example.com")
    assert code == 0, err
    (call,) = cdk_calls(fake_cdk)
    assert call["argv"] == ["deploy", "wfp-test", "-c", "stage=test", "-c", "alarm_email=ops@example.com",
                            "--require-approval", "broadening"]
    # cdk.json runs `python3 -m infrastructure.app`: the interpreter with the CDK libraries comes first
    assert call["path0"] == str(Path(sys.executable).parent)
    assert "API        https://abc123.execute-api.us-east-1.amazonaws.com/test/" in out
    for name in ("node", "cdk", "credentials", "bootstrap"):
        assert f"ok   {name}" in err


def test_deploy_with_bootstrap_bootstraps_the_account_and_region_of_the_credentials(aws, fake_cdk, capsys):
    create_stack("wfp-test", region="eu-west-3")
    code, _, err = run_cli(capsys, "deploy", "--stage", "test", "--bootstrap", "--require-approval", "never",
                           "--region", "eu-west-3", "--no-smoke")
    assert code == 0, err
    calls = cdk_calls(fake_cdk)
    assert [c["argv"] for c in calls] == [
        ["bootstrap", "aws://123456789012/eu-west-3", "-c", "stage=test"],
        ["deploy", "wfp-test", "-c", "stage=test", "--require-approval", "never"]]
    assert {c["region"] for c in calls} == {"eu-west-3"}  # --region reaches the CLI


def test_deploy_prerequisites_say_what_to_do(aws, fake_cdk, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no node on PATH
    monkeypatch.delenv("WFP_CDK")
    monkeypatch.setattr("local_dev.deploy.REPO_ROOT", tmp_path)  # no node_modules/.bin/cdk
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = run_cli(capsys, "deploy", "--stage", "test")
    assert code == 2
    assert "FAIL node" in err and "install Node.js 18 or newer" in err
    assert "FAIL cdk" in err and "run 'npm ci'" in err
    assert "FAIL credentials" in err and "no AWS credentials" in err and "--profile" in err

    code, _, err = run_cli(capsys, "deploy", "--stage", "test", "--profile", "nosuch")
    assert code == 2 and "AWS profile 'nosuch' is not configured" in err

    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = run_cli(capsys, "deploy", "--stage", "test")
    assert code == 2 and "FAIL region" in err and "--region" in err


# ----- destroy -----------------------------------------------------------------------------------------------
def test_destroy_says_what_it_keeps_then_runs_cdk_destroy(aws, fake_cdk, capsys):
    import boto3

    create_stack("wfp-test", {"Resources": {
        "RunsTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                      "Properties": {"KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                                     "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                                     "BillingMode": "PAY_PER_REQUEST"}},
        "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"}}})
    boto3.client("secretsmanager").create_secret(Name="wfp-test/profiles/mon_outil/PROD", SecretString="{}")
    boto3.client("secretsmanager").create_secret(Name="wfp-other/profiles/mon_outil/PROD", SecretString="{}")
    code, out, err = run_cli(capsys, "destroy", "--stage", "test", "--yes")
    assert code == 0, err
    assert "AWS::DynamoDB::Table         RunsTable (the stack retains it: its data stays)" in out
    assert "Queue" not in out
    assert "wfp-test/profiles/mon_outil/PROD (pushed by 'wfp profiles push'" in out
    assert "wfp-other" not in out and "CDKToolkit" in out
    (call,) = cdk_calls(fake_cdk)
    assert call["argv"] == ["destroy", "wfp-test", "-c", "stage=test", "--force"]


def test_destroy_of_a_stage_that_is_not_deployed(aws, fake_cdk, capsys):
    code, _, err = run_cli(capsys, "destroy", "--stage", "nope")
    assert code == 2 and "stack wfp-nope is not deployed" in err
    assert cdk_calls(fake_cdk) == []


# ----- build and synth -----------------------------------------------------------------------------------
def test_build_and_synth(tmp_path, capsys):
    code, out, err = run_cli(capsys, "build", "--no-deps", "--out", str(tmp_path / "build"))
    assert code == 0, err
    assert "no dependencies (--no-deps)" in out
    assert (tmp_path / "build" / "layer" / "wfp-manifest.json").is_file()

    code, out, err = run_cli(capsys, "synth", "--stage", "qa", "--build-dir", str(tmp_path / "build"),
                             "--skip-build", "--out", str(tmp_path / "cdk.out"))
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{tmp_path / 'cdk.out' / 'wfp-qa.template.json'}: ")
    assert "cdk-nag AwsSolutions clean" in out and out.rstrip().endswith("cfn-lint: clean")
    template = json.loads((tmp_path / "cdk.out" / "wfp-qa.template.json").read_text())
    assert any(r["Type"] == "AWS::Events::Rule" for r in template["Resources"].values())


def test_synth_without_a_build_says_to_build(tmp_path, capsys):
    code, _, err = run_cli(capsys, "synth", "--build-dir", str(tmp_path / "nothing"), "--skip-build",
                           "--out", str(tmp_path / "cdk.out"))
    assert code == 1 and "run 'wfp build'" in err
