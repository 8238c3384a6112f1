"""The runs queue on a laptop: the stack's SQS queue, in the local AWS, with what only a process without
Lambda needs: a poll shaped as the SQS event Lambda gives the worker (``receive_event``), the deletion
of what the worker did not report as failed (``acknowledge``, the event source mapping's job), and a
wake-up of the local worker's pollers when this process sends a message (``on_send``), so a webhook's
run starts at once instead of on the next poll."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from functions.aws.clients import Clients
from functions.aws.queue import SqsQueue
from functions.settings import Settings

#: The worker Lambda's longest timeout (900 s) plus margin, times six (AWS's advice, as the stack does).
VISIBILITY_TIMEOUT = 6 * (900 + 30)


def ensure_queue(settings: Settings, clients: Clients) -> str:
    """Create (or find) ``<prefix>-runs`` with its dead-letter queue ``<prefix>-runs-dlq`` in the local AWS,
    with the stack's redrive (``WFP_MAX_ATTEMPTS`` deliveries, then the dead-letter queue); its URL."""
    sqs = clients.get("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{settings.prefix}-runs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"VisibilityTimeout": str(VISIBILITY_TIMEOUT), "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_attempts})}
    try:
        return str(sqs.create_queue(QueueName=f"{settings.prefix}-runs", Attributes=attributes)["QueueUrl"])
    except sqs.exceptions.QueueNameExists:  # made earlier with other settings: use it as it is
        return str(sqs.get_queue_url(QueueName=f"{settings.prefix}-runs")["QueueUrl"])


class LocalQueue(SqsQueue):
    def __init__(self, clients: Clients, url: str | None) -> None:
        super().__init__(clients, url)
        #: Called with each sent message's delay: the local worker wakes its pollers on a 0.
        self.on_send: list[Callable[[int], None]] = []
        self._arn: str | None = None

    def send(self, body: str, delay: int = 0) -> str:
        message_id = super().send(body, delay)
        for hook in list(self.on_send):
            hook(delay)
        return message_id

    def arn(self) -> str:
        if self._arn is None:
            attributes = self.clients.get("sqs").get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
            self._arn = str(attributes["Attributes"]["QueueArn"])
        return self._arn

    def receive_event(self, max_messages: int = 10, wait_seconds: int = 0) -> dict[str, Any]:
        """Poll the queue and shape what arrived as the SQS event Lambda gives the worker."""
        response = self.clients.get("sqs").receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"])
        if not response.get("Messages"):
            return {"Records": []}
        arn = self.arn()
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": arn.split(":")[3],
        } for m in response["Messages"]]}

    def acknowledge(self, event: dict[str, Any], response: dict[str, Any]) -> int:
        """Delete the records the worker did not report as failed (what Lambda's event source mapping does)."""
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [r for r in event.get("Records", []) if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            self.clients.get("sqs").delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start:start + 10])])
        return len(done)
