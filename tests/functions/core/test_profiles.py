"""Tool profiles: environment variables, Secrets Manager (moto), precedence, types, the message a user
gets when a parameter is missing, and profile listings that never leak a value."""

from __future__ import annotations

import json

import pytest
from support import put_secret

from functions.core import profiles
from functions.errors import BadRequest, ProfileError
from functions.registry.config import ToolConfig
from functions.registry.profile import normalize_profile

CRM = ToolConfig(tool_name="crm", required_params=["api_key", "account"],
                 optional_params={"timeout": 30, "ratio": 0.5, "verbose": False, "base_url": "https://default",
                                  "region": "eu"})
SECRET = "wfp-test/profiles/crm/PROD"


def secret_calls(calls):
    return [op for service, op, _ in calls if service == "secretsmanager"]


@pytest.fixture
def source(aws):
    """This test's profile source, over its own Secrets Manager reader (a new client, a new cache)."""
    from functions.aws.clients import Clients
    from functions.aws.secrets import SecretsManager
    from functions.settings import Settings

    secrets = SecretsManager(Clients())
    return profiles.Profiles(Settings(), lambda: secrets)


def test_environment_variables_name_tool_profile_and_param(source, aws, monkeypatch):
    monkeypatch.setenv("CRM_TEST_API_KEY", "k-test")
    monkeypatch.setenv("CRM_TEST_ACCOUNT", "acme")
    monkeypatch.setenv("CRM_PROD_API_KEY", "k-prod")  # another profile: not mixed in
    resolved = source.resolve(CRM, "test")
    assert resolved.profile == "TEST"
    assert resolved.params == {"api_key": "k-test", "account": "acme", "timeout": 30, "ratio": 0.5,
                               "verbose": False, "base_url": "https://default", "region": "eu"}
    assert resolved.sources["api_key"] == "env:CRM_TEST_API_KEY"
    assert resolved.sources["timeout"] == "default"
    assert resolved.missing == []


def test_a_profile_set_entirely_in_the_environment_costs_no_aws_call(source, aws_calls, monkeypatch):
    monkeypatch.setenv("CRM_TEST_API_KEY", "k")
    monkeypatch.setenv("CRM_TEST_ACCOUNT", "a")
    source.resolve(CRM, "TEST").require()
    assert secret_calls(aws_calls) == []


def test_secret_holds_the_profile(source, aws_calls):
    put_secret(SECRET, {"api_key": "s-key", "account": "s-acct", "timeout": 5})
    resolved = source.resolve(CRM, "PROD").require()
    assert resolved.params["api_key"] == "s-key" and resolved.params["account"] == "s-acct"
    assert resolved.params["timeout"] == 5 and resolved.params["region"] == "eu"
    assert resolved.sources["api_key"] == f"secret:{SECRET}"
    assert "GetSecretValue" in secret_calls(aws_calls)


def test_secret_is_cached_by_powertools(source, aws_calls):
    put_secret(SECRET, {"api_key": "s-key", "account": "s-acct"})
    for _ in range(3):
        source.resolve(CRM, "PROD").require()
    assert secret_calls(aws_calls).count("GetSecretValue") == 1


def test_precedence_env_over_secret_over_defaults(source, aws, monkeypatch):
    put_secret(SECRET, {"api_key": "s-key", "account": "s-acct", "base_url": "https://secret", "timeout": 7})
    monkeypatch.setenv("CRM_PROD_ACCOUNT", "env-acct")   # env beats the secret
    monkeypatch.setenv("CRM_PROD_TIMEOUT", "3")          # env beats secret and default, typed like the default
    resolved = source.resolve(CRM, "PROD").require()
    assert resolved.params == {"api_key": "s-key", "account": "env-acct", "base_url": "https://secret",
                               "timeout": 3, "ratio": 0.5, "verbose": False, "region": "eu"}
    assert resolved.sources == {"api_key": f"secret:{SECRET}", "account": "env:CRM_PROD_ACCOUNT",
                                "base_url": f"secret:{SECRET}", "timeout": "env:CRM_PROD_TIMEOUT",
                                "ratio": "default", "verbose": "default", "region": "default"}


@pytest.mark.parametrize("param, raw, expected", [
    ("timeout", "12", 12),
    ("timeout", " 12 ", 12),
    ("ratio", "0.25", 0.25),
    ("ratio", "2", 2.0),
    ("verbose", "true", True),
    ("verbose", "YES", True),
    ("verbose", "1", True),
    ("verbose", "off", False),
    ("verbose", "0", False),
    ("base_url", "https://x", "https://x"),
    ("timeout", "soon", "soon"),       # not a number: left as written, the tool decides
    ("api_key", "007", "007"),         # no default to copy a type from: stays a string
    ("extra_param", "42", "42"),       # undeclared parameters are passed along as strings
])
def test_environment_values_take_the_type_of_the_default(source, aws, monkeypatch, param, raw, expected):
    monkeypatch.setenv("CRM_T_API_KEY", "k")
    monkeypatch.setenv("CRM_T_ACCOUNT", "a")
    monkeypatch.setenv(f"CRM_T_{param.upper()}", raw)
    value = source.resolve(CRM, "T").params[param]
    assert value == expected and type(value) is type(expected)


def test_missing_parameter_names_the_exact_variable_and_secret(source, aws):
    with pytest.raises(ProfileError) as raised:
        source.resolve(CRM, "prod").require()
    error = raised.value
    assert error.status_code == 424
    assert "CRM_PROD_API_KEY" in error.message and "CRM_PROD_ACCOUNT" in error.message
    assert f"'{SECRET}'" in error.message
    assert error.detail == {"tool": "crm", "profile": "PROD", "missing": ["api_key", "account"],
                            "variables": ["CRM_PROD_API_KEY", "CRM_PROD_ACCOUNT"], "secret": SECRET}


def test_only_the_missing_parameter_is_named(source, aws, monkeypatch):
    monkeypatch.setenv("CRM_PROD_API_KEY", "k")
    monkeypatch.setenv("CRM_PROD_ACCOUNT", "")  # empty counts as missing
    with pytest.raises(ProfileError) as raised:
        source.resolve(CRM, "PROD").require()
    assert raised.value.detail["variables"] == ["CRM_PROD_ACCOUNT"]
    assert "CRM_PROD_API_KEY" not in raised.value.message


def test_an_unreadable_secret_is_explained_not_fatal(source, aws, monkeypatch):
    put_secret(SECRET, "not json at all")
    monkeypatch.setenv("CRM_PROD_API_KEY", "k")
    resolved = source.resolve(CRM, "PROD")
    assert resolved.missing == ["account"] and resolved.secret_error
    with pytest.raises(ProfileError, match="the secret could not be read"):
        resolved.require()


def test_a_secret_that_is_not_an_object_is_explained(source, aws):
    put_secret(SECRET, json.dumps(["api_key"]))
    resolved = source.resolve(CRM, "PROD")
    assert "must hold a JSON object" in (resolved.secret_error or "")


@pytest.mark.parametrize("bad", ["", "PR OD", "prod/x", "../etc", "é"])
def test_invalid_profile_names_are_refused(bad):
    with pytest.raises(BadRequest, match="invalid profile name"):
        normalize_profile(bad)


# ----- tools built with profiles ------------------------------------------------------------------------
TOOL_CODE = """
from ..base import BaseTool

class CrmTool(BaseTool):
    def execute(self, action, params=None):
        return {"status": "success", "data": self.config}
"""


def crm_tool(plugin_dir, make_platform):
    plugin_dir.tool("crm", CRM.model_dump(exclude_none=True), TOOL_CODE)
    return make_platform(plugin_dir.root).engine.registry.tool_class("crm")


def test_tool_instance_gets_the_merged_profile(plugin_dir, make_platform, monkeypatch):
    cls = crm_tool(plugin_dir, make_platform)
    put_secret(SECRET, {"api_key": "s-key", "account": "s-acct"})
    monkeypatch.setenv("CRM_PROD_REGION", "us")
    tool = cls(profile="PROD")
    assert tool.profile == "PROD" and tool.tool_name == "crm"
    assert tool.config["api_key"] == "s-key" and tool.config["region"] == "us" and tool.config["timeout"] == 30
    assert tool.validate_config() and tool.authenticate() and tool.is_authenticated()
    assert tool.get_oauth_status() == {"tool": "crm", "profile": "PROD", "requires_oauth": False,
                                       "connected": True, "missing_params": []}


def test_tool_with_an_incomplete_profile_constructs_but_says_what_to_set(plugin_dir, make_platform, caplog):
    cls = crm_tool(plugin_dir, make_platform)
    tool = cls(profile="TEST")  # the seed's `if tool.authenticate():` pattern needs construction to succeed
    assert tool.authenticate() is False and tool.is_authenticated() is False
    assert "CRM_TEST_API_KEY" in tool.last_error and "CRM_TEST_API_KEY" in caplog.text
    assert tool.get_oauth_status()["missing_params"] == ["api_key", "account"]
    with pytest.raises(ProfileError, match="CRM_TEST_ACCOUNT"):
        tool.require_config()


def test_explicit_config_skips_environment_and_secrets(plugin_dir, make_platform, monkeypatch, aws_calls):
    cls = crm_tool(plugin_dir, make_platform)
    monkeypatch.setenv("CRM_DEFAULT_API_KEY", "from-env")
    tool = cls(config={"api_key": "explicit", "account": "a"})
    assert tool.config["api_key"] == "explicit" and tool.config["timeout"] == 30
    assert secret_calls(aws_calls) == []


# ----- listings -----------------------------------------------------------------------------------------
def test_profiles_in_env_finds_names_from_declared_parameters(monkeypatch):
    monkeypatch.setenv("CRM_TEST_API_KEY", "x")
    monkeypatch.setenv("CRM_STAGING_EU_TIMEOUT", "3")
    monkeypatch.setenv("CRM_NOTHING", "x")           # no parameter: not a profile
    monkeypatch.setenv("CRMX_PROD_API_KEY", "x")     # another tool
    assert profiles.profiles_in_env(CRM) == {"TEST", "STAGING_EU"}


INDEX = "wfp-test/profiles-index"


def test_profiles_in_secrets_lists_this_deployments_profiles_only(source, aws_calls):
    """Exact names only: the candidates given and the index's, each asked with one DescribeSecret; never
    a ListSecrets (it needs Resource "*"), never a secret's value but the index's."""
    import boto3

    put_secret("wfp-test/profiles/crm/PROD", {"api_key": "x"})
    put_secret("wfp-test/profiles/crm/TEST", {"api_key": "y"})
    put_secret("wfp-test/profiles/mail/PROD", {})        # named by the index only
    put_secret("wfp-test/profiles/mail/HIDDEN", {})      # named by nothing: not looked for
    put_secret("wfp-test/profiles/crm/GONE", {})
    boto3.client("secretsmanager").delete_secret(SecretId="wfp-test/profiles/crm/GONE", RecoveryWindowInDays=7)
    put_secret("wfp-other/profiles/crm/OTHER", {})       # another deployment
    put_secret("wfp-test/profiles/crm/PROD/extra", {})   # not a profile secret
    put_secret(INDEX, {"mail": ["PROD", "not a name", 3], "crm": ["prod"]})
    aws_calls.clear()

    found = source.in_secrets({"crm": {"PROD", "TEST", "OTHER", "GONE", "DEFAULT"}, "mail": {"DEFAULT"}})

    assert found == {"crm": {"PROD", "TEST"}, "mail": {"PROD"}}
    calls = [(op, params.get("SecretId")) for service, op, params in aws_calls if service == "secretsmanager"]
    assert ("GetSecretValue", INDEX) in calls
    described = sorted(name for op, name in calls if op == "DescribeSecret")
    assert described == sorted(f"wfp-test/profiles/{name}" for name in (
        "crm/DEFAULT", "crm/GONE", "crm/OTHER", "crm/PROD", "crm/TEST", "mail/DEFAULT", "mail/PROD"))
    assert {op for op, _ in calls} == {"GetSecretValue", "DescribeSecret"}
    assert [name for op, name in calls if op == "GetSecretValue"] == [INDEX]


def test_a_listing_is_cached_five_minutes_and_costs_one_call_per_name(source, aws_calls, monkeypatch):
    put_secret("wfp-test/profiles/crm/PROD", {"api_key": "x"})
    aws_calls.clear()
    candidates = {"crm": {"PROD", "TEST", "DEFAULT"}}
    assert source.in_secrets(candidates) == {"crm": {"PROD"}}
    first = secret_calls(aws_calls)
    assert sorted(first) == ["DescribeSecret"] * 3 + ["GetSecretValue"]  # the (absent) index, then each name
    for _ in range(3):
        assert source.in_secrets(candidates) == {"crm": {"PROD"}}
    assert secret_calls(aws_calls) == first  # absent names and the absent index are cached too

    # Five minutes later, every answer is asked again.
    import time

    from functions.aws import secrets

    later = time.monotonic() + source.secrets.max_age + 1
    monkeypatch.setattr(secrets.time, "monotonic", lambda: later)
    assert source.in_secrets(candidates) == {"crm": {"PROD"}}
    assert len(secret_calls(aws_calls)) == 2 * len(first)


def test_a_listing_is_bounded(source, aws_calls, monkeypatch, caplog):
    monkeypatch.setattr(profiles, "MAX_LISTED_NAMES", 5)
    aws_calls.clear()
    assert source.in_secrets({"crm": {f"P{i}" for i in range(40)}}) == {}
    assert secret_calls(aws_calls).count("DescribeSecret") == 5
    assert "only the first 5 are listed" in caplog.text


def test_the_listing_reuses_one_secrets_manager_client(source, aws, monkeypatch):
    """One Secrets Manager client serves reading and listing: none is built per request."""
    import boto3

    put_secret(SECRET, {"api_key": "x"})
    built = []
    real = boto3.session.Session.client
    monkeypatch.setattr(boto3.session.Session, "client",
                        lambda self, name, *a, **k: built.append(name) or real(self, name, *a, **k))
    for profile in ("PROD", "TEST", "DEFAULT"):
        source.in_secrets({"crm": {profile}})
    source.resolve(CRM, "PROD")
    assert built == ["secretsmanager"]


@pytest.fixture
def unreachable_secrets_manager(aws):
    """Every Secrets Manager call fails as with no network; yields the operations attempted."""
    from botocore.exceptions import EndpointConnectionError
    from botocore.handlers import BUILTIN_HANDLERS
    from support import reset_platform_state

    attempts: list[str] = []

    def refuse(model, **_):
        attempts.append(model.name)
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")

    entry = ("before-call.secretsmanager", refuse)
    BUILTIN_HANDLERS.append(entry)
    reset_platform_state()
    try:
        yield attempts
    finally:
        BUILTIN_HANDLERS.remove(entry)
        reset_platform_state()


def test_an_unreachable_secrets_manager_lists_none_after_one_attempt(plugin_dir, make_platform, monkeypatch,
                                                                     unreachable_secrets_manager):
    plugin_dir.tool("crm", {**CRM.model_dump(exclude_none=True), "profile_examples": {"PROD": {}}}, TOOL_CODE)
    platform = make_platform(plugin_dir.root)
    monkeypatch.setenv("CRM_TEST_API_KEY", "k")
    response = platform.client.get("/api/tools")
    assert response.status_code == 200
    assert response.json()[0]["profiles"] == ["TEST"]  # from the environment; the secrets are unknown
    assert unreachable_secrets_manager == ["GetSecretValue"]  # the index: no DescribeSecret after it failed


def test_api_lists_profile_names_never_values(plugin_dir, make_platform, monkeypatch):
    plugin_dir.tool("crm", CRM.model_dump(exclude_none=True), TOOL_CODE)
    platform = make_platform(plugin_dir.root)
    monkeypatch.setenv("CRM_TEST_API_KEY", "env-value-do-not-show")
    put_secret(SECRET, {"api_key": "secret-value-do-not-show", "account": "acct-do-not-show"})
    put_secret(INDEX, {"crm": ["PROD"]})  # as 'wfp profiles push' records it: no config names PROD
    response = platform.client.get("/api/tools")
    assert response.status_code == 200
    (crm,) = response.json()
    assert crm["profiles"] == ["PROD", "TEST"]
    assert "do-not-show" not in response.text
    status = platform.client.get("/api/oauth/status/crm", params={"profile": "prod"})
    assert status.status_code == 200 and status.json()["connected"] is True
    assert "do-not-show" not in status.text


def test_api_finds_the_profiles_the_configuration_names(plugin_dir, make_platform, aws_calls):
    """Without an index: DEFAULT, the tool's profile_examples and the workflows' tools_profiles are looked
    up by exact name; a secret no configuration names is not found (push it to record it in the index)."""
    plugin_dir.tool("crm", {**CRM.model_dump(exclude_none=True), "profile_examples": {"test": {}}}, TOOL_CODE)
    plugin_dir.workflow("sync_crm", {"tools_required": ["crm"], "tools_profiles": {"crm": "NIGHTLY"},
                                     "triggers": ["manual"]}, "def execute(data, tools):\n    return {}\n")
    platform = make_platform(plugin_dir.root)
    for name in ("DEFAULT", "TEST", "NIGHTLY", "UNNAMED"):
        put_secret(f"wfp-test/profiles/crm/{name}", {"api_key": "k", "account": "a"})
    aws_calls.clear()
    response = platform.client.get("/api/tools")
    assert response.json()[0]["profiles"] == ["DEFAULT", "NIGHTLY", "TEST"]
    assert "ListSecrets" not in secret_calls(aws_calls)
    assert secret_calls(aws_calls).count("DescribeSecret") == 3


def test_mixed_case_parameter_names_get_their_upper_case_variable(source, aws, monkeypatch):
    config = ToolConfig(tool_name="crm", required_params=["apiKey"], optional_params={"baseUrl": "https://x"})
    monkeypatch.setenv("CRM_PROD_APIKEY", "k")
    monkeypatch.setenv("CRM_PROD_BASEURL", "https://y")
    resolved = source.resolve(config, "PROD").require()
    assert resolved.params == {"apiKey": "k", "baseUrl": "https://y"}
