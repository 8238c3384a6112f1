"""Admin authentication (functions/http/middleware/auth.py + the login routes), through the real app on moto."""

from __future__ import annotations

import hmac
import json
import re
import time
from urllib.parse import unquote

import boto3
import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from functions.http.middleware import auth

TOKEN = "s3cret-admin-token-for-tests-0a7f"


@pytest.fixture
def secured(make_platform, monkeypatch):
    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "demo-key")
    return make_platform(WFP_ADMIN_TOKEN=TOKEN)


def https_client(platform, **kwargs) -> TestClient:
    """Secure cookies are only sent back over https, as browsers do."""
    return TestClient(platform.app, base_url="https://testserver", raise_server_exceptions=False, **kwargs)


def login(client: TestClient, token: str = TOKEN, next_path: str = "/", prefix: str = ""):
    return client.post(f"{prefix}/login", data={"token": token, "next": next_path}, follow_redirects=False)


def run_count(platform, workflow: str = "hello_world") -> int:
    return len(platform.engine.runs.history(workflow, 100)[0])


# ----- open mode ---------------------------------------------------------------------------------------
def test_open_when_no_token_is_configured(platform):
    assert platform.client.get("/api/workflows").status_code == 200
    page = platform.client.get("/")
    assert page.status_code == 200 and "Log out" not in page.text
    login_page = platform.client.get("/login")
    assert "No admin token is configured" in login_page.text


# ----- API calls ---------------------------------------------------------------------------------------
def test_api_calls_need_the_bearer_token(secured):
    client = secured.client
    missing = client.get("/api/workflows")
    assert missing.status_code == 401
    body = missing.json()
    assert "Authorization: Bearer <token>" in body["error"] and "/login" in body["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/workflows", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/workflows", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/api/workflows", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/api/workflows", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_a_refused_call_runs_nothing(secured):
    before = run_count(secured)
    response = secured.client.post("/api/workflows/execute/hello_world", json={"name": "Eve"})
    assert response.status_code == 401
    assert run_count(secured) == before
    ok = secured.client.post("/api/workflows/execute/hello_world", json={"name": "Ada"},
                             headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["status"] == "success"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x0", path)


def route_table(app) -> list[tuple[str, list[str]]]:
    """(path, methods) of every route, flattening FastAPI's included routers (0.16x keeps them nested)."""
    from functions.http.dashboard import DashboardRoutes
    from functions.http.interfaces import InterfaceRoute
    from functions.http.routes.groups import load_all

    load_all(app)  # the route modules a request has not needed yet
    try:
        from fastapi.routing import iter_route_contexts
        originals = [c.original_route for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: app.routes is already flat
        originals = list(app.routes)
    table = []
    for group in [r for r in originals if isinstance(r, DashboardRoutes)]:  # the dashboard's, built on first use
        originals[originals.index(group):originals.index(group) + 1] = group.routes
    for route in originals:
        if isinstance(route, InterfaceRoute):
            table.append((route.route + "/", ["GET"]))
        elif isinstance(route, Mount):
            table.append((route.path + "/x0", ["GET"]))
        elif isinstance(route, Route):
            table.append((concrete(route.path), sorted(route.methods or {"GET"})))
    return table


def test_every_route_but_the_exempt_ones_requires_the_token(secured):
    """Walk the app's real route table: nothing slips through, whatever another module adds."""
    client = secured.client
    checked = 0
    table = route_table(secured.app)
    assert ("/mon-interface/", ["GET"]) in table and ("/dashboard/static/x0", ["GET"]) in table
    for path, methods in table:
        for method in methods:
            response = client.request(method, path, follow_redirects=False)
            refused = response.status_code == 401 and (method == "HEAD" or "admin token required" in response.text)
            if auth.exempt(path):
                assert not refused, path
            else:
                assert refused, f"{method} {path} answered {response.status_code}"
                checked += 1
    assert checked > 20


def test_exempt_paths_stay_open(secured):
    client = secured.client
    assert client.get("/api/health").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    assert client.get("/oauth/google/callback", follow_redirects=False).status_code != 401
    webhook = client.post("/api/webhooks/hello_world", json={"name": "Hook"})
    assert webhook.status_code in (200, 202), webhook.text
    # an exempt prefix is a prefix of paths, not of names: /api/webhooksX is not exempt
    assert client.get("/api/webhooksX").status_code == 401


def test_browser_navigation_is_redirected_to_the_login_page(secured):
    response = secured.client.get("/dashboard/workflows/hello_world?cursor=abc",
                                  headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    assert unquote(location.split("next=", 1)[1]) == "/dashboard/workflows/hello_world?cursor=abc"
    # a script asking for JSON gets the 401, not a redirect
    assert secured.client.get("/dashboard/tools", headers={"Accept": "application/json"}).status_code == 401


# ----- login, cookie, logout ---------------------------------------------------------------------------
def test_login_sets_an_httponly_secure_strict_cookie_that_is_not_the_token(secured):
    client = https_client(secured)
    response = login(client, next_path="/dashboard/tools")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/tools"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower() and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert TOKEN not in value and value.startswith("v1.")
    assert auth.session_valid(value, TOKEN)
    assert client.get("/api/workflows").status_code == 200  # the cookie authenticates API calls too
    assert client.get("/dashboard/tools").status_code == 200


def test_wrong_token_is_refused_with_a_clear_message(secured):
    client = https_client(secured)
    response = login(client, token="not-it")
    assert response.status_code == 401
    assert "not the admin token" in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/api/workflows").status_code == 401


def test_logout_clears_the_cookie(secured):
    client = https_client(secured)
    login(client)
    assert client.get("/api/workflows").status_code == 200
    response = client.post("/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?logged_out=1"
    assert re.search(r"wfp_session=\"?\"?;", response.headers["set-cookie"])
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert client.get("/api/workflows").status_code == 401
    assert "You are logged out" in client.get("/login?logged_out=1").text


def test_logout_is_a_post_of_the_logged_in_user_only(secured):
    """A cross-site link or form must not log anyone out: GET changes nothing (405), and a POST without
    the session cookie (which SameSite=Strict withholds from other sites) is refused, clearing nothing."""
    client = https_client(secured)
    login(client)
    assert client.get("/logout", follow_redirects=False).status_code == 405
    assert client.get("/api/workflows").status_code == 200  # still logged in
    stranger = https_client(secured)  # another site's page: the browser sends no cookie
    response = stranger.post("/logout", follow_redirects=False)
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert client.get("/api/workflows").status_code == 200


def test_rotating_the_token_ends_every_session(make_platform, monkeypatch):
    """Deployed, the token is a secret, read again within minutes: a new value ends every session (the
    session cookie is signed with the token)."""
    from support import put_secret

    monkeypatch.setenv("MON_OUTIL_DEMO_API_KEY", "demo-key")
    put_secret("wfp-test/admin-token", TOKEN)
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/admin-token")
    client = https_client(platform)
    login(client)
    assert client.get("/api/workflows").status_code == 200
    put_secret("wfp-test/admin-token", "a-new-token-after-rotation")
    platform.core.secrets.forget()  # what the 5-minute cache does on its own
    assert client.get("/api/workflows").status_code == 401


def test_already_logged_in_login_page_goes_on(secured):
    client = https_client(secured)
    login(client)
    response = client.get("/login?next=/dashboard/plugins", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/plugins"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "evil", ""])
def test_login_never_redirects_off_site(secured, target):
    response = login(https_client(secured), next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_session_values_expire_and_resist_tampering():
    now = time.time()
    value = auth.new_session(TOKEN, now=now, lifetime=60)
    assert auth.session_valid(value, TOKEN, now=now + 59)
    assert not auth.session_valid(value, TOKEN, now=now + 61)
    assert not auth.session_valid(value, "another-token", now=now)
    version, expires, nonce, signature = value.split(".")
    longer = f"{version}.{int(expires) + 3600}.{nonce}.{signature}"
    assert not auth.session_valid(longer, TOKEN, now=now)
    assert not auth.session_valid(value[:-1] + ("0" if value[-1] != "0" else "1"), TOKEN, now=now)
    for junk in ("", "v1", "v1.x.y.z", TOKEN, "v2.1.2.3"):
        assert not auth.session_valid(junk, TOKEN, now=now)
    assert auth.new_session(TOKEN) != auth.new_session(TOKEN)  # a random nonce per login


def test_comparisons_are_constant_time(secured, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):  # the real comparison, recorded
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert secured.client.get("/api/tools", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert (b"guess", TOKEN.encode()) in calls
    calls.clear()
    session = auth.new_session(TOKEN)
    response = secured.client.get("/api/tools", headers={"Cookie": f"wfp_session={session}"})
    assert response.status_code == 200
    assert [a for a, _ in calls] == [session.rsplit(".", 1)[1].encode()]
    calls.clear()
    assert login(https_client(secured), token="guess").status_code == 401
    assert (b"guess", TOKEN.encode()) in calls


# ----- the token from Secrets Manager ------------------------------------------------------------------
def test_token_from_secrets_manager_is_read_lazily_and_cached(make_platform, monkeypatch):
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="wfp-test/admin-token", SecretString=json.dumps({"token": TOKEN}))
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/admin-token")
    client = platform.client
    assert client.get("/api/workflows").status_code == 401
    assert client.get("/api/workflows", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    secrets.delete_secret(SecretId="wfp-test/admin-token", ForceDeleteWithoutRecovery=True)
    # cached (Powertools, max_age 300 s): a warm Lambda does not call Secrets Manager per request
    assert client.get("/api/workflows", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_plain_string_secret(make_platform):
    boto3.client("secretsmanager").create_secret(Name="wfp-test/plain", SecretString=TOKEN + "\n")
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/plain")
    assert platform.client.get("/api/tools", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_unreadable_secret_refuses_instead_of_opening(make_platform):
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/does-not-exist")
    response = platform.client.get("/api/workflows", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 503
    assert "wfp-test/does-not-exist" in response.json()["error"]
    assert platform.client.get("/api/health").status_code == 200
    assert platform.client.get("/login").status_code == 503


# ----- under a stage prefix ----------------------------------------------------------------------------
def test_auth_under_a_stage_prefix(secured):
    client = https_client(secured, root_path="/prod")
    refused = client.get("/prod/api/workflows")
    assert refused.status_code == 401 and "/prod/login" in refused.json()["error"]
    page = client.get("/prod/dashboard/tools", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/prod/login?next=/dashboard/tools"
    response = login(client, next_path="/dashboard/tools", prefix="/prod")
    assert response.headers["location"] == "/prod/dashboard/tools"
    assert "Path=/prod;" in response.headers["set-cookie"]
    assert client.get("/prod/api/workflows").status_code == 200
    logout = client.post("/prod/logout", follow_redirects=False)
    assert logout.headers["location"] == "/prod/login?logged_out=1"
    assert "Path=/prod" in logout.headers["set-cookie"]
