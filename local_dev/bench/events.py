"""API Gateway events and a Lambda context, shaped like the real ones (as the SAM CLI generates them).

The benchmark cannot read ``tests/events`` (a clean install has no tests folder), so it builds its
own: REST API proxy events (payload v1, what the deployed stack sends) and HTTP API events (payload
v2, what the issue's warm-request figures use).
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "prod"


def rest_event(method: str, path: str, *, query: dict[str, str] | None = None, body: bytes = b"",
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A REST API proxy event (payload v1) for ``/{proxy+}`` on stage ``prod``."""
    all_headers = {"Host": HOST, "Accept": "application/json", "User-Agent": "wfp-bench",
                   "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https",
                   **(headers or {})}
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": all_headers, "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "123456", "stage": STAGE,
            "requestId": str(uuid.uuid4()), "requestTime": "09/Apr/2015:12:34:56 +0000",
            "requestTimeEpoch": 1428582896000, "path": f"/{STAGE}{path}", "resourcePath": "/{proxy+}",
            "httpMethod": method, "apiId": "abc123", "protocol": "HTTP/1.1", "domainName": HOST,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "wfp-bench"},
        },
        "body": base64.b64encode(body).decode() if body else None, "isBase64Encoded": bool(body),
    }


def http_event(method: str, path: str, *, query: str = "", body: bytes = b"",
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API event (payload v2) on the ``$default`` stage."""
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "cookies": [],
        "headers": {"host": HOST, "user-agent": "wfp-bench", "x-forwarded-proto": "https",
                    "accept": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": HOST, "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "wfp-bench"},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390,
        },
        "body": base64.b64encode(body).decode() if body else None, "isBase64Encoded": bool(body),
    }


@dataclass
class LambdaContext:
    """The attributes of the Lambda context the handlers (and Powertools) read."""

    function_name: str = "wfp-bench-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:wfp-bench-api"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/wfp-bench-api"
    log_stream_name: str = "bench"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(29_000 - (time.monotonic() - self.started) * 1000)
