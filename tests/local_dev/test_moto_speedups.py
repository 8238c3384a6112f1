"""The local AWS's patches of moto's SQS (``local_dev.moto_speedups``): same answers, no per-message scans."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    from local_dev.moto_speedups import install

    assert install() is True  # False: moto changed under the patches (they are then left out)


def test_unix_time_is_the_clock_and_still_converts_a_given_datetime():
    from datetime import datetime

    from moto.core import utils
    from moto.sqs import models

    assert abs(models.unix_time() - time.time()) < 0.01
    assert abs(models.unix_time_millis() / 1000 - time.time()) < 0.01
    assert utils.unix_time(datetime(1970, 1, 2)) == 86400.0
    assert models.unix_time_millis(datetime(1970, 1, 1, 0, 0, 1)) == 1000.0


@mock_aws
def test_receive_keeps_moto_semantics_without_reading_the_queue_attributes_per_message(monkeypatch):
    from moto.sqs import models

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="runs", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    for i in range(300):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    reads = []
    attributes = models.Queue.attributes
    monkeypatch.setattr(models.Queue, "attributes", property(lambda self: reads.append(1) or attributes.fget(self)))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == [f"m{i}" for i in range(10)]
    assert len(reads) <= 2  # per call, not once or twice per message looked at (it was 20 here, 600 for 300)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in again] == [f"m{i}" for i in range(10, 20)]  # the received ones are in flight
    for message in got + again:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "280"


@mock_aws
def test_a_message_past_the_retention_period_is_not_delivered():
    from moto.sqs import models

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="old", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["Body"] == "kept"
    queue = models.sqs_backends["123456789012"]["us-east-1"].get_queue("old")
    queue._messages[0].sent_timestamp -= 61_000  # older than the queue's retention period
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
