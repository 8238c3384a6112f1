"""The api handler answering API Gateway events: REST (payload v1) and HTTP API (payload v2), with a stage."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lambda_events import body_of, http_event, json_of, load_event, rest_event

REPO = Path(__file__).resolve().parents[3]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\xff\xfe"


def fresh_handler():
    """The api module as a cold start makes it: its app built over the current platform's plugins."""
    import importlib

    import functions.handlers.api
    import functions.http.app

    importlib.reload(functions.http.app)
    return importlib.reload(functions.handlers.api).handler


@pytest.fixture
def api(platform):
    """The api handler over the example plugins, on moto."""
    return fresh_handler()


# ----- the SAM-generated events, unchanged --------------------------------------------------------------
def test_rest_event_lists_workflows_with_links_under_the_stage(api, context):
    event = load_event("apigw-rest-get-workflows.json")
    response = api(event, context)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    workflows = {w["name"]: w for w in json.loads(response["body"])}
    assert {"hello_world", "daily_digest", "incoming_webhook"} <= set(workflows)
    host = event["multiValueHeaders"]["Host"][0]
    assert workflows["hello_world"]["webhook_url"] == f"https://{host}/prod/api/webhooks/hello_world"


def test_rest_event_runs_a_workflow_and_records_it(api, context, platform):
    response = api(load_event("apigw-rest-post-execute.json"), context)
    assert response["statusCode"] == 200, response["body"]
    result = json.loads(response["body"])
    assert result["status"] == "success"
    assert result["message"] == "Bonjour, Ada!"
    stored = platform.engine.runs.get(result["run_id"])
    assert stored.status == "success" and stored.inputs["name"] == "Ada"
    assert "/prod/api/runs/" + result["run_id"] in json.dumps(result)


def test_rest_event_for_the_stage_root_serves_the_dashboard_as_html(api, context):
    event = load_event("apigw-rest-get-root.json")
    response = api(event, context)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/html")
    assert response["isBase64Encoded"] is False
    assert 'href="/prod/docs"' in response["body"]  # every dashboard link carries the stage


def test_http_api_event_lists_workflows(api, context):
    event = load_event("apigw-http-get-workflows.json")
    response = api(event, context)
    assert response["statusCode"] == 200
    workflows = {w["name"]: w for w in json.loads(response["body"])}
    # The generated event has a stage but no Host header: the API's domain and the stage make the URL.
    assert workflows["hello_world"]["webhook_url"] == (
        f"https://{event['requestContext']['domainName']}/prod/api/webhooks/hello_world")


def test_http_api_event_runs_a_workflow(api, context, platform):
    response = api(load_event("apigw-http-post-execute.json"), context)
    assert response["statusCode"] == 200, response["body"]
    result = json_of(response)
    assert result["status"] == "success" and result["message"] == "Bonjour, Ada!"
    assert platform.engine.runs.get(result["run_id"]).trigger == "manual"


# ----- stage prefixes: routes, links, redirects, docs ----------------------------------------------------
@pytest.mark.parametrize("make", [rest_event, http_event], ids=["rest-v1", "http-v2"])
def test_docs_point_at_the_openapi_document_under_the_stage(api, context, make):
    docs = api(make("GET", "/docs", stage="prod"), context)
    assert docs["statusCode"] == 200
    assert "'/prod/openapi.json'" in body_of(docs).decode() or '"/prod/openapi.json"' in body_of(docs).decode()
    spec = api(make("GET", "/openapi.json", stage="prod"), context)
    assert spec["statusCode"] == 200
    document = json_of(spec)
    assert "/api/workflows/execute/{name}" in document["paths"]
    assert {"url": "/prod"} in document.get("servers", [])


@pytest.mark.parametrize("make", [rest_event, http_event], ids=["rest-v1", "http-v2"])
def test_redirects_keep_the_stage(api, context, make):
    response = api(make("GET", "/dashboard", stage="prod"), context)
    assert response["statusCode"] in (307, 308)
    location = response["headers"]["location"]
    assert location.endswith("/prod/dashboard/"), location


@pytest.mark.parametrize("make", [rest_event, http_event], ids=["rest-v1", "http-v2"])
def test_run_links_carry_the_stage_of_another_deployment(api, context, make):
    response = api(make("GET", "/api/workflows/trigger/hello_world", stage="staging",
                        **({"query": {"name": "Ada"}} if make is rest_event else {"query": "name=Ada"})), context)
    assert response["statusCode"] == 200, body_of(response)
    result = json_of(response)
    assert result["status"] == "success"
    assert f"/staging/api/runs/{result['run_id']}" in json.dumps(result)


def test_unknown_path_under_the_stage_is_a_json_404(api, context):
    response = api(http_event("GET", "/api/nothing-here"), context)
    assert response["statusCode"] == 404
    error = json_of(response)["error"]
    assert "/prod/api/nothing-here" in error


def test_http_api_default_stage_has_no_prefix(api, context):
    event = http_event("GET", "/api/workflows", stage="$default")
    workflows = {w["name"]: w for w in json_of(api(event, context))}
    assert workflows["hello_world"]["webhook_url"] == (
        "https://abc123.execute-api.us-east-1.amazonaws.com/api/webhooks/hello_world")


def test_custom_domain_without_stage_in_the_url(api, context):
    event = rest_event("GET", "/api/workflows")
    event["requestContext"]["path"] = "/api/workflows"  # a custom domain mapped to the stage
    event["headers"]["Host"] = event["multiValueHeaders"]["Host"][0] = "flows.example.com"
    workflows = {w["name"]: w for w in json_of(api(event, context))}
    assert workflows["hello_world"]["webhook_url"] == "https://flows.example.com/api/webhooks/hello_world"


# ----- bodies: binary and text ---------------------------------------------------------------------------
@pytest.fixture
def binary_api(make_platform, plugin_dir):
    plugin_dir.interface("pics", '''
from fastapi import APIRouter
from fastapi.responses import Response
DISPLAY_NAME = "Pictures"
ROUTE = "/pics"
router = APIRouter()
@router.get("/echo.bin")
def echo():
    return Response(bytes(range(256)), media_type="application/octet-stream")
def get_router():
    return router
''', files={"src/dot.png": ""})
    (plugin_dir.root / "interfaces" / "pics" / "src" / "dot.png").write_bytes(PNG)
    make_platform(plugin_dir.root)
    return fresh_handler()


@pytest.mark.parametrize("make", [rest_event, http_event], ids=["rest-v1", "http-v2"])
def test_binary_responses_are_base64_and_exact(binary_api, context, make):
    png = binary_api(make("GET", "/pics/dot.png"), context)
    assert png["statusCode"] == 200
    assert png["isBase64Encoded"] is True
    assert png["headers"]["content-type"] == "image/png"
    assert body_of(png) == PNG
    raw = binary_api(make("GET", "/pics/echo.bin"), context)
    assert raw["isBase64Encoded"] is True and body_of(raw) == bytes(range(256))


@pytest.mark.parametrize("make", [rest_event, http_event], ids=["rest-v1", "http-v2"])
def test_base64_request_body_reaches_the_workflow_intact(api, context, make, platform):
    body = json.dumps({"repository": "démo ✓"}).encode()
    response = api(make("POST", "/api/webhooks/incoming_webhook", body=body,
                        headers={"content-type": "application/json"}), context)
    assert response["statusCode"] in (200, 202), body_of(response)
    run = platform.engine.runs.get(json_of(response)["run_id"])
    assert run.inputs["repository"] == "démo ✓"


# ----- observability -------------------------------------------------------------------------------------
def test_a_run_publishes_emf_metrics_and_a_correlated_log_line(api, context, capsys):
    from functions.handlers.observability import logger

    # The Powertools handler keeps the stream it was created with; read its JSON lines from our own.
    lines_out = io.StringIO()
    extra = logging.StreamHandler(lines_out)
    extra.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(extra)
    try:
        event = load_event("apigw-rest-post-execute.json")
        response = api(event, context)
    finally:
        logger._logger.removeHandler(extra)
    run_id = json.loads(response["body"])["run_id"]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert len(emf) == 1
    doc = emf[0]
    assert doc["workflow"] == "hello_world" and doc["run_id"] == run_id
    assert doc["Runs"] == [1.0] and doc["Errors"] == [0.0] and "Duration" in doc
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "WorkflowPlatform"
    assert ["workflow", "service"] in directive["Dimensions"]
    logs = [json.loads(line) for line in lines_out.getvalue().splitlines()]
    finished = [d for d in logs if d.get("message") == "run finished"]
    assert finished and finished[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert finished[0]["run_id"] == run_id and finished[0]["function_request_id"] == context.aws_request_id


# ----- gateway root-path rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("full,path,root", [
    ("/prod/api/x", "/api/x", "/prod"),
    ("/prod/", "/", "/prod"),
    ("/prod", "/", "/prod"),
    ("/v1/api/x", "/api/x", "/v1"),      # custom domain, base path mapping "v1"
    ("/api/x", "/api/x", ""),            # custom domain, no base path
    ("", "/api/x", ""),
])
def test_rest_root_path(full, path, root):
    from functions.handlers.gateway import rest_root_path

    assert rest_root_path({"path": path, "requestContext": {"path": full}}) == root


@pytest.mark.parametrize("stage,domain,root", [
    ("prod", "abc.execute-api.eu-west-3.amazonaws.com", "/prod"),
    ("$default", "abc.execute-api.eu-west-3.amazonaws.com", ""),
    ("prod", "flows.example.com", ""),
    ("dev", None, "/dev"),
])
def test_http_root_path(stage, domain, root):
    from functions.handlers.gateway import http_root_path

    assert http_root_path({"requestContext": {"stage": stage, "domainName": domain}}) == root


# ----- cold start --------------------------------------------------------------------------------------
def test_importing_the_api_handler_leaves_boto3_google_and_moto_alone():
    code = ("import sys, functions.handlers.api\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'google', 'googleapiclient', 'moto'}))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
