"""Secret hygiene: unique secret values planted everywhere a platform keeps them (an env profile, a Secrets
Manager profile, a stored OAuth token and its client secret, a webhook secret, the admin token, password
inputs), workflows that print, log, return and raise with them; then every response, every run record
and every captured log line is searched for them."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import boto3
import pytest
from support import drain, put_secret

SECRETS = {
    "env_profile": "S1-envprofile-6b1f0d",
    "secret_profile": "S2-smprofile-93ac2e",
    "access_token": "S3-ya29-accesstoken-57d0",
    "refresh_token": "S4-refreshtoken-1c8e44",
    "client_secret": "S5-clientsecret-a2f9b7",
    "webhook_secret": "S6-webhooksecret-0e6d31",
    "admin_token": "S7-admintoken-4fb28a",
    "password": "S8-password-d71c05",
    "query_password": "S9-querypassword-88e1aa",
}

VAULT = {"tool_name": "vault", "required_params": ["api_key"], "optional_params": {"base_url": "https://vault.example"},
         "actions": {"whoami": {"description": "who am I"}}}
LEAKY = {"name": "Leaky", "triggers": ["manual", "webhook"], "timeout_seconds": 10,
         "tools_required": ["vault", "google_calendar"], "tools_profiles": {"vault": "PROD", "google_calendar": "LEAK"},
         "inputs_schema": [{"name": "pin", "type": "password", "required": True},
                           {"name": "note", "type": "text", "required": False}]}
LEAKY_CODE = """
import logging
import os
import sys

from plugins.tools.vault.main import T as Vault

log = logging.getLogger(__name__)

def execute(data, tools):
    own = Vault(profile="SM")  # a seed workflow building its own tool from a Secrets Manager profile
    calendar = tools["google_calendar"]
    everything = {
        "pin": data["pin"], "env_key": tools["vault"].config["api_key"], "sm_key": own.config["api_key"],
        "access": calendar._credentials.token, "refresh": calendar._credentials.refresh_token,
        "client_secret": calendar._credentials.client_secret,
        "webhook": os.environ.get("WFP_WEBHOOK_SECRET_LEAKY"), "admin": os.environ.get("WFP_ADMIN_TOKEN"),
    }
    print("printing everything:", everything)
    print("to stderr:", everything, file=sys.stderr)
    log.info("logging everything: %s", everything)
    log.warning("the pin is " + data["pin"])
    return {"status": "success", "message": "pin=" + data["pin"], "data": {"echo": everything, "note": data.get("note")}}
"""
RAISER = {"name": "Raiser", "triggers": ["manual", "api"], "timeout_seconds": 10,
          "inputs_schema": [{"name": "pin", "type": "password", "required": True}]}
RAISER_CODE = """
import logging

def execute(data, tools):
    try:
        raise KeyError(data["pin"])
    except KeyError:
        logging.getLogger(__name__).exception("lookup failed for %s", data["pin"])
    raise ValueError(f"wrong pin {data['pin']!r}, try again")
"""


@pytest.fixture
def planted(make_platform, example_plugins, monkeypatch):
    from functions.core.runs import utcnow
    from functions.platform import get_platform
    from functions.stores.oauth import TokenRecord

    example_plugins.tool("vault", VAULT)
    example_plugins.workflow("leaky", LEAKY, LEAKY_CODE)
    example_plugins.workflow("raiser", RAISER, RAISER_CODE)
    client = {"web": {"client_id": "cid.apps.googleusercontent.com", "client_secret": SECRETS["client_secret"],
                      "auth_uri": "http://127.0.0.1:9/auth", "token_uri": "http://127.0.0.1:9/token"}}
    platform = make_platform(example_plugins.root, VAULT_PROD_API_KEY=SECRETS["env_profile"],
                             WFP_WEBHOOK_SECRET_LEAKY=SECRETS["webhook_secret"], WFP_ADMIN_TOKEN=SECRETS["admin_token"],
                             GOOGLE_CALENDAR_LEAK_CLIENT_CONFIG=json.dumps(client))
    put_secret("wfp-test/profiles/vault/SM", {"api_key": SECRETS["secret_profile"]})
    get_platform().oauth.save_token(TokenRecord(tool="google_calendar", profile="LEAK", provider="google", service="calendar",
                           access_token=SECRETS["access_token"], refresh_token=SECRETS["refresh_token"],
                           scopes=["https://www.googleapis.com/auth/calendar"], client_id="cid.apps.googleusercontent.com",
                           expiry=utcnow() + timedelta(hours=1), source="oauth"))
    platform.client.headers["Authorization"] = f"Bearer {SECRETS['admin_token']}"
    return platform


def leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def test_no_planted_secret_reaches_a_response_a_run_record_or_a_log_line(planted, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    client = planted.client
    responses = []

    def call(method: str, path: str, **kwargs) -> dict:
        response = client.request(method, path, **kwargs)
        responses.append((f"{method} {path}", response.status_code, response.text, dict(response.headers)))
        return response.json() if response.headers.get("content-type", "").startswith("application/json") else {}

    sync = call("POST", "/api/workflows/execute/leaky", json={"pin": SECRETS["password"], "note": "hello"})
    assert sync["status"] == "success", sync
    hook = call("POST", "/api/webhooks/leaky", json={"pin": SECRETS["password"]},
                headers={"X-Webhook-Token": SECRETS["webhook_secret"]})
    assert drain() == 1
    raised = call("POST", "/api/workflows/execute/raiser", json={"pin": SECRETS["password"]})
    assert raised["status"] == "error" and "ValueError" in raised["error"], raised
    queried = call("GET", f"/api/workflows/trigger/raiser?pin={SECRETS['query_password']}")
    assert queried["status"] == "error"
    refused = call("POST", "/api/workflows/execute/raiser", json={"pin": {"nested": SECRETS["password"]}})
    assert refused == {} or "error" in refused

    run_ids = [sync["run_id"], hook["run_id"], raised["run_id"], queried["run_id"]]
    for run_id in run_ids:
        run = call("GET", f"/api/runs/{run_id}")
        assert run["status"] in ("success", "error")
        call("GET", f"/dashboard/runs/{run_id}")
    done = planted.engine.runs.get(sync["run_id"])
    assert done.output["data"]["echo"]["pin"] == "***" and done.message == "pin=***"
    assert any("printing everything" in line for line in done.logs)
    assert planted.engine.runs.get(hook["run_id"]).status == "success"  # the webhook run had the real values
    raiser_run = planted.engine.runs.get(raised["run_id"])
    assert raiser_run.error == "ValueError: wrong pin '***', try again" and "***" in raiser_run.traceback
    for path in ("/api/workflows", "/api/workflows/leaky", "/api/workflows/logs/leaky", "/api/workflows/logs/raiser",
                 "/api/tools", "/api/plugins", "/api/oauth/status", "/api/oauth/status/google_calendar?profile=LEAK",
                 "/api/scheduler/jobs", "/", "/dashboard/workflows/leaky", "/dashboard/tools", "/openapi.json"):
        call("GET", path)
    assert call("GET", "/api/oauth/status/google_calendar?profile=LEAK")["connected"] is True

    found = {where: leaks(text + json.dumps(headers)) for where, _, text, headers in responses}
    assert {k: v for k, v in found.items() if v} == {}

    dynamodb = boto3.client("dynamodb")
    for table in (planted.engine.settings.runs_table, planted.engine.settings.idempotency_table):
        items = json.dumps(dynamodb.scan(TableName=table)["Items"])  # a test may Scan
        assert leaks(items) == [], table
    assert len(json.loads(json.dumps(dynamodb.scan(TableName=planted.engine.settings.runs_table)["Items"]))) == 4

    captured = capsys.readouterr()
    assert "printing everything" in captured.out and "to stderr" in captured.err  # the lines were written...
    assert leaks(captured.out) == [] and leaks(captured.err) == []  # ...scrubbed
    # every record but the test client's own (httpx logs the URL it requests: the caller's log, not ours)
    platform_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    handler = logging.StreamHandler()
    lines = "\n".join(f"{handler.format(r)} {r.exc_text or ''} {r.exc_info and r.exc_info[1]!r}"
                      for r in platform_records)
    assert "logging everything" in lines and "lookup failed" in lines
    assert leaks(lines) == []


def test_ordinary_inputs_whose_names_contain_a_secret_word_are_kept_whole(make_platform, plugin_dir):
    """``max_tokens=1000`` is a setting, not a secret: stored as given, and its value does not become a
    run-wide mask (every ``1000`` in the output and the logs turned into ``***``)."""
    plugin_dir.workflow("llm", {"triggers": ["manual"]},
                        "def execute(data, tools):\n"
                        "    print('asked for', data['max_tokens'], 'tokens for', data['passenger'])\n"
                        "    return {'status': 'success', 'message': f\"used {data['max_tokens']} of 1000\",\n"
                        "            'data': dict(data)}\n")
    platform = make_platform(plugin_dir.root)
    inputs = {"max_tokens": "1000", "passenger": "Ada Lovelace", "tokenizer": "bpe", "compass": "north",
              "bypass_cache": "yes"}
    run = platform.run("llm", inputs)
    assert run.status == "success"
    stored = platform.engine.runs.get(run.run_id)
    assert stored.inputs == inputs and stored.inputs_redacted is False
    assert stored.message == "used 1000 of 1000" and stored.output["data"] == inputs
    assert any("asked for 1000 tokens for Ada Lovelace" in line for line in stored.logs), stored.logs
