"""``wfp profiles push`` records each profile name in ``<prefix>/profiles-index``, which the deployed API
reads to list profiles its configuration does not name (it never lists secrets: no ListSecrets)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support import put_secret

from local_dev.deploy import DeployError, push_profile

INDEX = "wfp-test/profiles-index"


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text("MON_OUTIL_STAGING_API_KEY=k-staging\nMON_OUTIL_PROD_API_KEY=k-prod\n"
                    "HTTP_JSON_NIGHTLY_BASE_URL=http://127.0.0.1\n")
    return path


def index() -> dict:
    import boto3

    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=INDEX)["SecretString"])


def test_push_records_the_profile_name_once(aws_calls, env_file):
    push_profile("mon_outil", "staging", "test", env_file)
    assert index() == {"mon_outil": ["STAGING"]}
    push_profile("mon_outil", "PROD", "test", env_file)
    push_profile("http_json", "nightly", "test", env_file)
    assert index() == {"http_json": ["NIGHTLY"], "mon_outil": ["PROD", "STAGING"]}

    aws_calls.clear()
    push_profile("mon_outil", "PROD", "test", env_file)  # an update of a known name: the index stays as it is
    writes = [(op, params.get("SecretId") or params.get("Name")) for service, op, params in aws_calls
              if op in ("PutSecretValue", "CreateSecret")]
    assert writes == [("PutSecretValue", "wfp-test/profiles/mon_outil/PROD")]


def test_the_index_is_beside_the_profile_secrets_not_among_them():
    from functions.core import profiles

    assert profiles.index_secret_name("wfp-dev") == "wfp-dev/profiles-index"
    assert not profiles.index_secret_name("wfp-dev").startswith("wfp-dev/profiles/")


def test_a_pushed_profile_the_configuration_does_not_name_is_listed_by_the_api(aws, env_file, make_platform,
                                                                                monkeypatch):
    push_profile("mon_outil", "staging", "test", env_file)
    for var in [v for v in os.environ if v.startswith("MON_OUTIL_")]:
        monkeypatch.delenv(var)  # as deployed: no .env, only the secrets
    platform = make_platform()
    (mon_outil,) = [t for t in platform.client.get("/api/tools").json() if t["name"] == "mon_outil"]
    assert mon_outil["profiles"] == ["STAGING"]


def test_a_refused_push_records_nothing(aws, tmp_path):
    import boto3

    env_file = tmp_path / ".env"
    env_file.write_text("MON_OUTIL_STAGING_TIMEOUT=10\n")  # the required api_key is missing
    with pytest.raises(DeployError):
        push_profile("mon_outil", "staging", "test", env_file)
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


def test_an_index_that_is_not_json_is_explained(aws, env_file):
    put_secret(INDEX, "not json")
    with pytest.raises(DeployError, match="profile index wfp-test/profiles-index is not a JSON object"):
        push_profile("mon_outil", "staging", "test", env_file)
