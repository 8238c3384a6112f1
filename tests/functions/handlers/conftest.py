"""Handler fixtures: a Lambda context, an SQS queue, the EMF lines printed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lambda_events import LambdaContext


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An SQS queue (moto) as WFP_QUEUE_URL, with the queue module's cached client forgotten."""
    import boto3

    url = boto3.client("sqs").create_queue(QueueName="wfp-test-runs")["QueueUrl"]
    monkeypatch.setenv("WFP_QUEUE_URL", url)
    yield url


@pytest.fixture
def emf_lines(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The CloudWatch EMF documents printed so far."""
    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        docs = []
        for line in out.splitlines():
            if line.startswith("{") and '"_aws"' in line:
                docs.append(json.loads(line))
        return docs
    return read
