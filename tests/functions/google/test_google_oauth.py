"""The Google OAuth flow, tokens and status, end to end against a fake Google over real HTTP.

The platform's code is not mocked: google-auth-oauthlib builds the consent URL and exchanges the code,
google-auth refreshes, the tokens land in (moto's) DynamoDB. The fake Google (tests/fakes/google.py)
checks what a real Google checks (client secret, redirect URI, PKCE, single-use codes, revoked
refresh tokens) and records every request it receives.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import (
    FakeGoogle,
    consent,
    follow_callback,
    profile_env,
    sign_in,
    start_sign_in,
)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"


@pytest.fixture
def client_file(google: FakeGoogle, tmp_path: Path) -> Path:
    path = tmp_path / "google_test_credentials.json"
    path.write_text(json.dumps(google.client_config()))
    return path


@pytest.fixture
def gp(make_platform: Any, google: FakeGoogle, client_file: Path) -> Any:
    """The repo's plugins, with profile TEST of the three Google tools pointed at the fake."""
    return make_platform(**profile_env(google, str(client_file)))


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def status(platform: Any, tool: str = "google_calendar", profile: str = "TEST") -> dict[str, Any]:
    response = platform.client.get(f"/api/oauth/status/{tool}", params={"profile": profile})
    assert response.status_code == 200, response.text
    return response.json()


def stored(tool: str = "google_calendar", profile: str = "TEST") -> Any:
    from functions.platform import get_platform

    return get_platform().oauth.get_token(tool, profile)


# ----- starting the sign-in ------------------------------------------------------------------------------
def test_auth_redirects_to_google_with_offline_consent_and_a_bound_state(gp: Any, google: FakeGoogle) -> None:
    from functions.stores.oauth import OAuthStateModel

    response = gp.client.get("/oauth/google/auth?service=calendar&profile=test", follow_redirects=False)

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(google.auth_uri + "?")
    query = query_of(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == google.client_id
    assert query["redirect_uri"] == "http://testserver/oauth/google/callback"
    assert query["scope"] == CALENDAR_SCOPE
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert len(query["state"]) >= 40
    assert google.client_secret not in location
    record = OAuthStateModel.get(query["state"])
    assert (record.tool, record.service, record.profile) == ("google_calendar", "calendar", "TEST")
    assert record.redirect_uri == query["redirect_uri"]
    assert record.used_at is None
    assert abs((record.expires_at - record.created_at) - timedelta(minutes=10)) < timedelta(seconds=1)


def test_each_sign_in_gets_its_own_state(gp: Any) -> None:
    states = {query_of(start_sign_in(gp.client))["state"] for _ in range(3)}
    assert len(states) == 3


def test_each_service_asks_for_its_own_scopes(gp: Any) -> None:
    assert query_of(start_sign_in(gp.client, "drive"))["scope"] == "https://www.googleapis.com/auth/drive"
    assert query_of(start_sign_in(gp.client, "sheets"))["scope"] == "https://www.googleapis.com/auth/spreadsheets"


def test_the_states_table_expires_items_with_dynamodb_ttl(gp: Any) -> None:
    import boto3

    from functions.stores.oauth import OAuthStateModel

    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=OAuthStateModel.Meta.table_name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert OAuthStateModel.Meta.table_name == "wfp-test-oauth-states"


@pytest.mark.parametrize("url, status_code, words", [
    ("/oauth/google/auth?service=mail&profile=TEST", 404, "unknown Google service 'mail'"),
    ("/oauth/google/auth?service=calendar&tool=google_drive&profile=TEST", 404, "uses service 'drive'"),
    ("/oauth/google/auth?service=calendar&profile=bad-name", 400, "invalid profile name"),
    ("/oauth/google/auth?profile=bad-name", 400, "invalid profile name"),
    ("/oauth/google/auth?service=calendar&profile=NOCLIENT", 424, "GOOGLE_CALENDAR_NOCLIENT_CREDENTIALS_FILE"),
])
def test_auth_errors_are_clear_html_pages(gp: Any, url: str, status_code: int, words: str) -> None:
    response = gp.client.get(url, follow_redirects=False)
    assert response.status_code == status_code
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text.replace("&#x27;", "'")


def test_without_a_service_the_page_lists_the_services_to_connect(gp: Any) -> None:
    response = gp.client.get("/oauth/google/auth?profile=test", follow_redirects=False)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    text = response.text.replace("&amp;", "&")
    for service in ("calendar", "drive", "sheets"):
        assert f"http://testserver/oauth/google/auth?service={service}&tool=google_{service}&profile=TEST" in text
    chosen = gp.client.get("/oauth/google/auth?service=drive&tool=google_drive&profile=TEST", follow_redirects=False)
    assert chosen.status_code == 302  # each link starts that sign-in


def test_a_missing_credentials_file_is_named(make_platform: Any, google: FakeGoogle, tmp_path: Path) -> None:
    platform = make_platform(GOOGLE_CALENDAR_TEST_CREDENTIALS_FILE=str(tmp_path / "nope.json"))
    response = platform.client.get("/oauth/google/auth?service=calendar&profile=TEST", follow_redirects=False)
    assert response.status_code == 424
    assert "nope.json" in response.text and "does not exist" in response.text
    assert status(platform)["status"] == "not_configured"


# ----- redirect URI --------------------------------------------------------------------------------------
def test_redirect_uri_follows_the_public_url_or_the_profile(make_platform: Any, google: FakeGoogle,
                                                            client_file: Path) -> None:
    env = profile_env(google, str(client_file))
    platform = make_platform(WFP_PUBLIC_URL="https://wfp.example.com/", **env)
    assert query_of(start_sign_in(platform.client))["redirect_uri"] == "https://wfp.example.com/oauth/google/callback"

    platform = make_platform(GOOGLE_CALENDAR_TEST_REDIRECT_URI="https://sso.example.com/oauth/google/callback", **env)
    assert query_of(start_sign_in(platform.client))["redirect_uri"] == "https://sso.example.com/oauth/google/callback"
    # the status links to the same host
    assert status(platform)["auth_url"] == "https://sso.example.com/oauth/google/auth?service=calendar&profile=TEST"


def rest_api_event(path: str, query: dict[str, str], stage: str = "prod") -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as `sam local generate-event apigateway aws-proxy` shapes it."""
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": "GET", "body": None, "isBase64Encoded": False,
        "headers": {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
        "multiValueHeaders": {"Host": [host], "X-Forwarded-Proto": ["https"], "X-Forwarded-Port": ["443"]},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "GET", "path": f"/{stage}{path}",
                           "stage": stage, "domainName": host, "requestId": "r1", "accountId": "123456789012",
                           "identity": {"sourceIp": "203.0.113.9"}, "apiId": "abc123"},
    }


def http_api_event(path: str, query: str) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event on the $default stage."""
    host = "xyz789.execute-api.eu-west-1.amazonaws.com"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": host, "x-forwarded-proto": "https", "x-forwarded-port": "443"},
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9", "userAgent": "test"},
                           "domainName": host, "stage": "$default", "requestId": "r2", "apiId": "xyz789",
                           "accountId": "123456789012", "routeKey": "$default"},
        "isBase64Encoded": False,
    }


def test_redirect_uri_behind_api_gateway_keeps_the_stage(gp: Any) -> None:
    from mangum import Mangum

    from functions.handlers.gateway import HANDLERS

    handler = Mangum(gp.app, lifespan="off", custom_handlers=HANDLERS)  # as functions.handlers.api does
    answer = handler(rest_api_event("/oauth/google/auth", {"service": "calendar", "profile": "TEST"}), None)
    assert answer["statusCode"] == 302
    location = answer["headers"].get("location") or answer["multiValueHeaders"]["location"][0]
    assert query_of(location)["redirect_uri"] == \
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod/oauth/google/callback"

    answer = handler(http_api_event("/oauth/google/auth", "service=calendar&profile=TEST"), None)
    assert answer["statusCode"] == 302
    assert query_of(answer["headers"]["location"])["redirect_uri"] == \
        "https://xyz789.execute-api.eu-west-1.amazonaws.com/oauth/google/callback"


def test_redirect_uri_on_localhost(gp: Any) -> None:
    from starlette.testclient import TestClient

    with TestClient(gp.app, base_url="http://localhost:8000") as client:
        assert query_of(start_sign_in(client))["redirect_uri"] == "http://localhost:8000/oauth/google/callback"


# ----- the callback --------------------------------------------------------------------------------------
def test_callback_exchanges_the_code_and_stores_the_token(gp: Any, google: FakeGoogle) -> None:
    before = status(gp)
    assert before["connected"] is False and before["status"] == "not_connected"
    assert before["auth_url"] == "http://testserver/oauth/google/auth?service=calendar&profile=TEST"

    response = sign_in(gp.client)

    assert response.status_code == 200
    assert "Google Calendar" in response.text and "profile TEST" in response.text
    assert response.headers["cache-control"] == "no-store"
    exchange = google.received("POST", "/token")
    assert len(exchange) == 1
    form = exchange[0].form()
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == "http://testserver/oauth/google/callback"
    assert form["code_verifier"]  # PKCE: the fake checked it against the challenge
    record = stored()
    assert record.access_token == google.issued_access_tokens[-1]
    assert record.refresh_token in google.state.refresh_tokens
    assert record.scopes == [CALENDAR_SCOPE] and record.status == "connected" and record.source == "oauth"
    assert not hasattr(record, "client_secret")

    after = status(gp)
    assert after["connected"] is True and after["status"] == "connected"
    assert after["scopes"] == [CALENDAR_SCOPE]
    assert after["has_refresh_token"] is True
    expiry = datetime.fromisoformat(after["expiry"].replace("Z", "+00:00"))
    assert timedelta(minutes=55) < expiry - datetime.now(timezone.utc) <= timedelta(hours=1, seconds=1)
    assert after["auth_url"] is None


def test_a_replayed_state_is_refused_and_writes_nothing(gp: Any, google: FakeGoogle) -> None:
    from functions.stores.oauth import OAuthTokenModel

    callback = consent(start_sign_in(gp.client))
    assert follow_callback(gp.client, callback).status_code == 200
    first = stored()
    OAuthTokenModel("google_calendar", "TEST").delete()  # the platform never deletes a token; the test does

    replay = follow_callback(gp.client, callback)

    assert replay.status_code == 400
    assert "already used" in replay.text
    assert len(google.received("POST", "/token")) == 1
    assert stored() is None and first is not None


def test_an_expired_state_is_refused_and_writes_nothing(gp: Any, google: FakeGoogle) -> None:
    from functions.stores.oauth import OAuthStateModel

    consent_url = start_sign_in(gp.client)
    record = OAuthStateModel.get(query_of(consent_url)["state"])
    record.update(actions=[OAuthStateModel.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])

    response = follow_callback(gp.client, consent(consent_url))

    assert response.status_code == 400
    assert "expired" in response.text
    assert google.received("POST", "/token") == []
    assert stored() is None


def test_state_lifetime_is_a_setting(make_platform: Any, google: FakeGoogle, client_file: Path) -> None:
    import time

    platform = make_platform(WFP_OAUTH_STATE_TTL_SECONDS="1", **profile_env(google, str(client_file)))
    callback = consent(start_sign_in(platform.client))
    time.sleep(1.1)
    response = follow_callback(platform.client, callback)
    assert response.status_code == 400 and "expired" in response.text
    assert stored() is None


@pytest.mark.parametrize("query, words", [
    ({"state": "made-up-state", "code": "4/whatever"}, "unknown sign-in state"),
    ({"code": "4/whatever"}, "no &#x27;state&#x27; parameter"),
])
def test_an_unknown_or_missing_state_is_refused(gp: Any, google: FakeGoogle, query: dict[str, str],
                                                words: str) -> None:
    response = gp.client.get("/oauth/google/callback", params=query)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert google.received("POST", "/token") == []
    assert stored() is None


def test_access_denied_is_a_clear_page_and_burns_the_state(gp: Any, google: FakeGoogle) -> None:
    google.deny_consent = True
    consent_url = start_sign_in(gp.client)
    callback = consent(consent_url)
    assert query_of(callback)["error"] == "access_denied"

    response = follow_callback(gp.client, callback)

    assert response.status_code == 400
    text = response.text.replace("&#x27;", "'").replace("&amp;", "&")
    assert "you declined" in text and "No token was stored" in text
    assert "/oauth/google/auth?service=calendar&profile=TEST" in text  # where to try again
    state = query_of(consent_url)["state"]
    again = gp.client.get("/oauth/google/callback", params={"state": state, "code": "4/forged"})
    assert again.status_code == 400 and "already used" in again.text
    assert google.received("POST", "/token") == []
    assert stored() is None
    assert status(gp)["connected"] is False


def test_a_code_google_refuses_gives_a_clear_page(gp: Any, google: FakeGoogle) -> None:
    state = query_of(start_sign_in(gp.client))["state"]
    response = gp.client.get("/oauth/google/callback", params={"state": state, "code": "4/not-issued"})
    assert response.status_code == 400
    assert "Google refused the authorization code (invalid_grant" in response.text
    assert stored() is None


def test_an_installed_client_json_works_too(make_platform: Any, google: FakeGoogle, tmp_path: Path) -> None:
    path = tmp_path / "installed.json"
    path.write_text(json.dumps(google.client_config("installed")))
    platform = make_platform(**profile_env(google, str(path)))
    assert sign_in(platform.client).status_code == 200
    assert status(platform)["connected"] is True


def test_the_client_json_can_live_in_the_profile_secret(make_platform: Any, google: FakeGoogle) -> None:
    import boto3

    boto3.client("secretsmanager").create_secret(
        Name="wfp-test/profiles/google_calendar/VAULT",
        SecretString=json.dumps({"client_config": google.client_config(), "calendar_id": "team@example.com"}))
    # the rest of the profile may stay in .env: the secret is still read for the client
    platform = make_platform(GOOGLE_CALENDAR_VAULT_API_ENDPOINT=google.url + "/calendar/v3/")
    assert status(platform, profile="VAULT")["status"] == "not_connected"

    assert sign_in(platform.client, profile="VAULT").status_code == 200

    assert status(platform, profile="VAULT")["connected"] is True
    assert "VAULT" in [s["profile"] for s in platform.client.get("/api/oauth/status").json()
                       if s["tool"] == "google_calendar"]


# ----- tokens: refresh, revocation, seed file ------------------------------------------------------------
def calendar_tool(profile: str = "TEST") -> Any:
    from plugins.tools.google_calendar.main import CalendarTool

    return CalendarTool(profile=profile)


def test_an_expired_token_is_refreshed_and_saved(gp: Any, google: FakeGoogle) -> None:
    google.access_token_ttl = 60  # google-auth refreshes within ~4 minutes of expiry
    sign_in(gp.client)
    first = stored()
    google.access_token_ttl = 3600

    tool = calendar_tool()
    assert tool.authenticate() is True

    refresh = google.received("POST", "/token")[-1].form()
    assert refresh["grant_type"] == "refresh_token"
    assert refresh["refresh_token"] == first.refresh_token
    assert refresh["client_id"] == google.client_id
    second = stored()
    assert second.access_token == google.issued_access_tokens[-1] != first.access_token
    assert second.refresh_token == first.refresh_token
    assert second.expiry - first.expiry > timedelta(minutes=55)
    assert tool.execute("list_events", {"count": 5})["status"] == "success"
    call = google.received("GET", "/calendar/v3/calendars/primary/events")[-1]
    assert call.headers["authorization"] == f"Bearer {second.access_token}"


def test_a_token_rejected_by_the_api_is_refreshed_and_saved(gp: Any, google: FakeGoogle) -> None:
    sign_in(gp.client)
    tool = calendar_tool()
    assert tool.authenticate()
    google.expire_access_tokens()  # Google stops accepting it before its announced expiry

    result = tool.execute("list_events", {"count": 1})

    assert result["status"] == "success", result
    calls = google.received("GET", "/calendar/v3/calendars/primary/events")
    assert len(calls) == 2  # 401, refresh, retry
    assert stored().access_token == calls[-1].headers["authorization"].removeprefix("Bearer ")


def test_invalid_grant_turns_into_reauth_required(gp: Any, google: FakeGoogle) -> None:
    google.access_token_ttl = 60
    sign_in(gp.client)
    google.revoke(stored().refresh_token)

    tool = calendar_tool()
    assert tool.authenticate() is False

    assert "sign in again at" in tool.last_error
    assert tool.auth_status == "reauth_required"
    assert tool.auth_url.endswith("/oauth/google/auth?service=calendar&profile=TEST")
    now = status(gp)
    assert now["status"] == "reauth_required" and now["connected"] is False
    assert now["auth_url"] == "http://testserver/oauth/google/auth?service=calendar&profile=TEST"
    assert now["has_refresh_token"] is False
    record = stored()
    assert record.status == "reauth_required" and record.access_token is None and record.refresh_token is None
    # no further calls to Google until someone signs in again
    calls = len(google.requests)
    assert calendar_tool().authenticate() is False and len(google.requests) == calls
    result = calendar_tool().execute("list_events", {})
    assert result["status"] == "error" and result["auth_required"] is True

    assert sign_in(gp.client).status_code == 200
    assert status(gp)["status"] == "connected" and calendar_tool().authenticate() is True


def test_a_revoked_token_during_an_api_call_turns_into_reauth_required(gp: Any, google: FakeGoogle) -> None:
    sign_in(gp.client)
    tool = calendar_tool()
    assert tool.authenticate()
    google.revoke(stored().refresh_token)  # also kills the access token: the API answers 401

    result = tool.execute("list_events", {})

    assert result["status"] == "error" and result["auth_required"] is True
    assert "sign in again" in result["error"]
    assert status(gp)["status"] == "reauth_required"


def test_a_workflow_whose_google_tool_needs_reauth_fails_with_the_reason(gp: Any, google: FakeGoogle) -> None:
    from functions.core.execution import ToolNotReady, build_tools

    config = type("C", (), {"tools_required": ["google_calendar"], "tools_profiles": {"google_calendar": "TEST"}})
    with pytest.raises(ToolNotReady) as error:
        build_tools(gp.core.registry, config)
    assert "not connected to Google Calendar" in error.value.message
    assert "/oauth/google/auth?service=calendar&profile=TEST" in error.value.message


def test_the_seed_token_file_is_imported_on_first_use(make_platform: Any, google: FakeGoogle, client_file: Path,
                                                      tmp_path: Path) -> None:
    access, refresh = google.issue_tokens(CALENDAR_SCOPE)
    token_file = tmp_path / "google_test_token.json"
    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(tzinfo=None).isoformat() + "Z"
    token_file.write_text(json.dumps({  # what the seed wrote: google-auth's Credentials.to_json()
        "token": access, "refresh_token": refresh, "token_uri": google.token_uri, "client_id": google.client_id,
        "client_secret": google.client_secret, "scopes": [CALENDAR_SCOPE], "universe_domain": "googleapis.com",
        "account": "", "expiry": expiry}))
    platform = make_platform(GOOGLE_CALENDAR_TEST_TOKEN_FILE=str(token_file), **profile_env(google, str(client_file)))

    assert status(platform)["connected"] is True
    record = stored()
    assert (record.access_token, record.refresh_token, record.source) == (access, refresh, "token_file")
    token_file.write_text("{}")  # imported once: the table is the source of truth from now on
    tool = calendar_tool()
    assert tool.authenticate()
    assert tool.execute("list_events", {"count": 5})["status"] == "success"
    assert google.received("GET", "/calendar/v3/calendars/primary/events")[-1].headers["authorization"] == \
        f"Bearer {access}"


def test_a_missing_seed_token_file_just_means_not_connected(make_platform: Any, google: FakeGoogle,
                                                           client_file: Path, tmp_path: Path) -> None:
    platform = make_platform(GOOGLE_CALENDAR_TEST_TOKEN_FILE=str(tmp_path / "not-yet.json"),
                             **profile_env(google, str(client_file)))
    assert status(platform)["status"] == "not_connected"
    assert stored() is None


# ----- status --------------------------------------------------------------------------------------------
def test_status_lists_every_google_tool_and_profile(gp: Any) -> None:
    sign_in(gp.client, "sheets")
    statuses = {(s["tool"], s["profile"]): s for s in gp.client.get("/api/oauth/status").json()}
    for tool in ("google_calendar", "google_drive", "google_sheets"):
        assert statuses[(tool, "TEST")]["requires_oauth"] is True
        assert statuses[(tool, "TEST")]["provider"] == "google"
    assert statuses[("google_sheets", "TEST")]["connected"] is True
    assert statuses[("google_drive", "TEST")]["connected"] is False
    assert statuses[("google_drive", "TEST")]["auth_url"] == \
        "http://testserver/oauth/google/auth?service=drive&profile=TEST"
    tools = {t["name"]: t for t in gp.client.get("/api/tools").json()}
    assert tools["google_calendar"]["oauth"] is True and "TEST" in tools["google_calendar"]["profiles"]


def test_status_of_an_unconfigured_profile_says_what_to_set(gp: Any) -> None:
    now = status(gp, profile="OTHER")
    assert now["status"] == "not_configured" and now["connected"] is False
    assert "GOOGLE_CALENDAR_OTHER_CREDENTIALS_FILE" in now["message"]
    assert "wfp-test/profiles/google_calendar/OTHER" in now["message"]


def test_status_of_a_non_oauth_tool_is_unchanged(gp: Any) -> None:
    now = status(gp, "mon_outil", "DEMO")
    assert now["requires_oauth"] is False


# ----- no token anywhere ---------------------------------------------------------------------------------
def test_no_token_or_client_secret_leaks_into_responses_or_logs(gp: Any, google: FakeGoogle,
                                                               caplog: pytest.LogCaptureFixture,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything at DEBUG, including the libraries that print tokens at DEBUG if allowed to.
    caplog.set_level(logging.DEBUG)
    for name in ("google", "requests_oauthlib", "oauthlib", "googleapiclient", "urllib3"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    monkeypatch.setattr(logging.getLogger("google"), "level", logging.DEBUG)
    google.access_token_ttl = 60
    seen: list[str] = []

    def keep(response: Any) -> Any:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    consent_url = start_sign_in(gp.client)
    seen.append(consent_url)
    callback = consent(consent_url)
    keep(follow_callback(gp.client, callback))
    keep(follow_callback(gp.client, callback))  # replay
    keep(gp.client.get("/api/oauth/status"))
    keep(gp.client.get("/api/oauth/status/google_calendar", params={"profile": "TEST"}))
    tool = calendar_tool()
    assert tool.authenticate()  # refresh
    seen.append(repr(tool.execute("create_event", {"summary": "x", "start_time": "2030-01-01T10:00:00"})))
    seen.append(repr(tool.execute("list_events", {"count": 5})))
    seen.append(repr(tool.get_oauth_status()))
    google.revoke(stored().refresh_token)
    google.expire_access_tokens()
    seen.append(repr(tool.execute("list_events", {})))  # 401 then invalid_grant
    seen.append(repr(calendar_tool().authenticate()) + str(calendar_tool().last_error))
    keep(gp.client.get("/api/oauth/status/google_calendar", params={"profile": "TEST"}))
    keep(gp.client.get("/api/tools"))
    seen.append(repr(stored()))

    secrets = google.all_secrets()
    assert len(secrets) >= 4  # client secret, two access tokens, a refresh token at least
    logged = [f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records]
    assert any("OAuth" in line for line in logged)  # the platform did log the steps
    assert len(caplog.records) > 20
    for secret in secrets:
        for text in seen + logged:
            assert secret not in text


def test_a_run_of_a_tool_never_connected_names_the_absolute_sign_in_url(
        make_platform: Any, google: FakeGoogle, client_file: Path, example_plugins: Any) -> None:
    """The run's error gives the URL a person opens, absolute as ``/api/oauth/status`` gives it (the dev
    server and the stack tell the functions their public URL)."""
    example_plugins.workflow("agenda", {"triggers": ["manual"], "tools_required": ["google_calendar"],
                                        "tools_profiles": {"google_calendar": "TEST"}})
    platform = make_platform(example_plugins.root, WFP_PUBLIC_URL="http://127.0.0.1:8765",
                             **profile_env(google, str(client_file)))
    response = platform.client.post("/api/workflows/execute/agenda", json={})
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "error"
    assert "http://127.0.0.1:8765/oauth/google/auth?service=calendar&profile=TEST" in run["message"], run["message"]
    assert status(platform)["auth_url"] == "http://127.0.0.1:8765/oauth/google/auth?service=calendar&profile=TEST"
