"""API Gateway events and a Lambda context, shaped like the real ones (as the SAM CLI generates them).

The benchmark cannot read ``tests/events`` (a clean install has no tests folder), so it builds its
own: REST API proxy events (payload v1, what the deployed stack sends) and HTTP API events (payload
v2, what the issue's warm-request figures use); SQS batches as the worker's event source mapping
delivers them; scheduler ticks as the stack's rules send them (``infrastructure.schedules``' input
transformer).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "prod"
REGION, ACCOUNT = "us-east-1", "123456789012"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:wfp-bench-runs"


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


def sqs_record(body: str, *, receive_count: int = 1, queue_arn: str = QUEUE_ARN) -> dict[str, Any]:
    """One record of an SQS event, with the fields Lambda's event source mapping sends."""
    sent = int(time.time() * 1000)
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(sent),
                       "SenderId": "AROAEXAMPLE:wfp-bench-api", "ApproximateFirstReceiveTimestamp": str(sent + 5)},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS batch (the worker's event): one record per message body."""
    return {"Records": [sqs_record(body) for body in bodies]}


def tick_event(workflow: str, scheduled: str) -> dict[str, Any]:
    """A scheduler tick as the stack's rules send it: ``{"workflow", "time", "id"}``."""
    return {"workflow": workflow, "time": scheduled, "id": str(uuid.uuid4())}


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
