"""Real-shaped Lambda events: the SAM CLI's (tests/events/), and variants derived from them."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class LambdaContext:
    """What the Lambda runtime passes (the attributes Powertools reads)."""

    function_name: str = "wfp-test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:wfp-test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 900_000
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_ms - (time.monotonic() - self.started) * 1000)


def rest_event(method: str, path: str, *, stage: str = "prod", query: dict[str, str] | None = None,
               body: str | bytes = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The SAM REST (payload v1) event, pointed at another method, path, query, body and headers."""
    event = copy.deepcopy(load_event("apigw-rest-get-workflows.json"))
    raw = body.encode() if isinstance(body, str) else body
    event.update(httpMethod=method, path=path, body=base64.b64encode(raw).decode(), isBase64Encoded=True,
                 queryStringParameters=query or None,
                 multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
                 pathParameters={"proxy": path.lstrip("/")} if path != "/" else None,
                 resource="/{proxy+}" if path != "/" else "/")
    context = event["requestContext"]
    context.update(httpMethod=method, stage=stage, path=f"/{stage}{path}",
                   resourcePath=event["resource"])
    host = event["multiValueHeaders"]["Host"][0]
    event["headers"]["Host"] = host  # the generator's two Host headers differ; API Gateway's agree
    for key, value in (headers or {}).items():
        event["headers"][key] = value
        event["multiValueHeaders"][key] = [value]
    return event


def http_event(method: str, path: str, *, stage: str = "prod", query: str = "", body: str | bytes = "",
               headers: dict[str, str] | None = None, stage_in_path: bool = True) -> dict[str, Any]:
    """The SAM HTTP API (payload v2) event; ``stage_in_path`` puts the stage in rawPath as AWS does for a
    named stage (the SAM generator leaves it out)."""
    event = copy.deepcopy(load_event("apigw-http-get-workflows.json"))
    raw = body.encode() if isinstance(body, str) else body
    full = f"/{stage}{path}" if stage_in_path and stage != "$default" else path
    event.update(rawPath=full, rawQueryString=query, body=base64.b64encode(raw).decode(), isBase64Encoded=True,
                 queryStringParameters=None, pathParameters=None, cookies=[])
    event["requestContext"].update(stage=stage, domainName="abc123.execute-api.us-east-1.amazonaws.com")
    event["requestContext"]["http"].update(method=method, path=full)
    event["headers"] = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https",
                        **(headers or {})}
    return event


def body_of(response: dict[str, Any]) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def json_of(response: dict[str, Any]) -> Any:
    return json.loads(body_of(response))
