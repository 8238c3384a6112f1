"""Bad input from careless clients and attackers: malformed bodies, wrong content types, huge bodies, unknown
names, path traversal, absurd query strings. Every one is a clear JSON 4xx, never a 500, and writes nothing."""

from __future__ import annotations

import pytest

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "SendMessage"}


@pytest.fixture
def hooked(make_platform, example_plugins, aws_calls):
    example_plugins.workflow("hook", {"name": "Hook", "triggers": ["manual", "webhook"], "webhook_auth": "none"})
    platform = make_platform(example_plugins.root)
    platform.client.get("/api/workflows")
    return platform


def writes(calls) -> list[str]:
    return [op for _, op, _ in calls if op in WRITES]


def assert_clean_4xx(response, status: int | tuple[int, ...], fragment: str = "") -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"] and fragment in body["error"], body


@pytest.mark.parametrize("path", [
    "/api/workflows/trigger/hook?" + "a=1&" * 300,  # too many parameters
    "/api/workflows/trigger/hook?q=" + "x" * 9000,  # too long
    "/api/workflows/trigger/hook?q=%zz",  # not percent-encoding
    "/api/workflows/trigger/hook?q=50%",
    "/api/workflows/trigger/hook?q=%ff%fe",  # not UTF-8
    "/api/workflows/trigger/hook?q=a%00b",  # NUL
    "/api/webhooks/hook?q=%C0%AF",  # overlong UTF-8
    "/api/workflows/trigger/ho%00ok",
    "/api/workflows/trigger/%ff",
    "/api/runs/abc%zz",
    "/api/workflows/execute/" + "a" * 3000,
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_absurd_request_lines_are_refused_before_anything_runs(hooked, aws_calls, path, method):
    aws_calls.clear()
    response = hooked.client.request(method, path)
    assert_clean_4xx(response, (400, 414))
    assert writes(aws_calls) == []


@pytest.mark.parametrize("path, status", [
    ("/api/workflows/execute/..%2F..%2Fetc%2Fpasswd", 404),
    ("/api/workflows/execute/%2e%2e", 404),
    ("/api/workflows/execute/HOOK", 404),
    ("/api/webhooks/..%5c..%5cwindows", 404),
    ("/api/workflows/logs/..%2Fhook", 404),
    ("/api/runs/..%2F..%2Fsecrets", (404, 422)),
    ("/api/oauth/status/..%2Fvault", 404),
    ("/api/scheduler/jobs/..%2Fdaily_digest/pause", 404),
])
def test_traversal_in_names_finds_nothing_and_writes_nothing(hooked, aws_calls, path, status):
    aws_calls.clear()
    response = hooked.client.post(path) if "/execute/" in path or "/webhooks/" in path or "pause" in path \
        else hooked.client.get(path)
    assert_clean_4xx(response, status)
    assert writes(aws_calls) == []


@pytest.mark.parametrize("path", [
    "/mon-interface/../../../etc/passwd",
    "/mon-interface/..%2F..%2F..%2Fetc%2Fpasswd",
    "/mon-interface/%2e%2e/%2e%2e/README.md",
    "/mon-interface/.env",
    "/mon-interface/..\\..\\README.md",
    "/dashboard/static/../templates/base.html",
    "/dashboard/static/..%2Ftemplates%2Fbase.html",
])
def test_traversal_in_static_paths_serves_nothing_outside(hooked, path):
    response = hooked.client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "root:" not in response.text and "{% block" not in response.text and "# Workflow Platform" not in response.text


@pytest.mark.parametrize("content, content_type, status", [
    (b'{"name": "Ada"', "application/json", 400),
    (b"\x00\x01\x02", "application/json", 400),
    (b'{"a": 1}', "text/csv", 415),
    (b'{"a": 1}', "image/png", 415),
    (b'{"a": 1}', "application/json; charset=ebcdic", 400),
    (b'\xff\xfe\x00{', "application/x-www-form-urlencoded", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),  # nesting deep enough to blow a recursive parser
    (b'{"a": ' * 500 + b"1" + b"}" * 500, "application/json", 400),  # deep enough to trouble what walks inputs
], ids=["truncated", "binary", "csv", "png", "charset", "bad-form", "deep-array", "deep-object"])
@pytest.mark.parametrize("path", ["/api/workflows/execute/hook", "/api/webhooks/hook"])
def test_bodies_the_platform_cannot_read_are_refused(hooked, aws_calls, path, content, content_type, status):
    aws_calls.clear()
    response = hooked.client.post(path, content=content, headers={"content-type": content_type})
    if content_type.endswith("ebcdic") and response.status_code in (200, 202):
        return  # the charset parameter is ignored: the body is plain ASCII JSON, and valid
    assert_clean_4xx(response, status)
    assert writes(aws_calls) == []


def test_unknown_names_and_methods(hooked, aws_calls):
    aws_calls.clear()
    assert_clean_4xx(hooked.client.post("/api/workflows/execute/nope", json={}), 404, "no workflow named 'nope'")
    assert_clean_4xx(hooked.client.get("/api/runs/ffffffffffff"), 404, "no run with id")
    assert_clean_4xx(hooked.client.get("/api/nothing-here"), 404, "no such endpoint")
    assert_clean_4xx(hooked.client.delete("/api/workflows"), 405, "not allowed")
    assert_clean_4xx(hooked.client.get("/api/oauth/status/nope"), 404)
    assert writes(aws_calls) == []


def test_headers_the_platform_reads_are_checked(hooked, aws_calls):
    aws_calls.clear()
    assert_clean_4xx(hooked.client.post("/api/workflows/execute/hook", json={},
                                        headers={"Idempotency-Key": "x" * 300}), 400, "Idempotency-Key")
    assert_clean_4xx(hooked.client.post("/api/workflows/execute/hook", json={},
                                        headers={"Idempotency-Key": "tab\there"}), 400, "Idempotency-Key")
    assert writes(aws_calls) == []


@pytest.mark.parametrize("path", [
    "/api/webhooks/..%2Fworkflows", "/api/webhooks/%2e%2e/workflows", "/api/health/..%2Fworkflows",
    "/dashboard/static/..%2F..%2Fapi%2Fworkflows", "/login/..%2Fapi/workflows", "/oauth/google/callback/..%2F..%2Fapi",
])
def test_the_paths_exempt_from_the_admin_token_do_not_open_others(make_platform, path):
    platform = make_platform(WFP_ADMIN_TOKEN="admin-token-for-traversal")
    response = platform.client.get(path, headers={"Accept": "application/json"})
    assert response.status_code in (400, 401, 404, 405), (path, response.status_code)
    assert "hello_world" not in response.text


@pytest.mark.parametrize("run_id", ["x", "not-a-run", "ABCDEF", "f" * 65, "12 34"])
def test_a_malformed_run_id_is_no_such_run_not_a_pattern(hooked, run_id):
    response = hooked.client.get(f"/api/runs/{run_id}")
    assert_clean_4xx(response, 404, "no such run")
    assert "pattern" not in response.text and "String should match" not in response.text


def test_text_plain_on_execute_is_415_but_webhooks_take_json_sent_as_text(hooked):
    """A person calling execute with text/plain made a mistake worth naming; senders such as Amazon SNS
    label their JSON text/plain, so a webhook still reads it."""
    response = hooked.client.post("/api/workflows/execute/hook", content=b'{"a": 1}',
                                  headers={"content-type": "text/plain"})
    assert_clean_4xx(response, 415, "application/json")
    sns = hooked.client.post("/api/webhooks/hook", content=b'{"Type": "Notification"}',
                             headers={"content-type": "text/plain; charset=UTF-8"})
    assert sns.status_code == 202, sns.text
