"""The async run queue (SQS): one message per queued run, consumed by the worker.

A message body is a JSON object, version 1::

    {"v": 1, "run_id": "...", "workflow": "...", "data": {...validated inputs...}}

The run record (``queued``) is written before the message is sent, so the message only needs to
say which run and with which inputs: the record keeps redacted inputs, the message the real ones
(the queue is encrypted, and messages are gone once processed). The worker reads the record, and
runs it only if it is still ``queued`` (SQS delivers at least once).

``receive_event``/``acknowledge`` let a process without Lambda (the local queue worker) poll the
queue and hand the worker handler the same SQS-shaped event Lambda would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.settings import get_settings

if TYPE_CHECKING:
    from functions.core.runs import Run

VERSION = 1

_client: Any = None
_client_lock = threading.Lock()


class QueueMessageError(ValueError):
    """A message that is not a queued run; retrying it cannot help (it ends in the dead-letter queue)."""


@dataclass(frozen=True)
class QueuedRun:
    run_id: str
    workflow: str
    data: dict[str, Any]

    def encode(self) -> str:
        return json.dumps({"v": VERSION, "run_id": self.run_id, "workflow": self.workflow, "data": self.data},
                          separators=(",", ":"), default=str)

    @classmethod
    def decode(cls, body: str) -> "QueuedRun":
        try:
            message = json.loads(body)
        except ValueError as exc:
            raise QueueMessageError(f"queue message is not JSON: {exc}") from None
        if not isinstance(message, dict) or message.get("v") != VERSION:
            raise QueueMessageError(f"queue message is not a version {VERSION} queued run: {body[:200]!r}")
        run_id, workflow, data = message.get("run_id"), message.get("workflow"), message.get("data", {})
        if not isinstance(run_id, str) or not isinstance(workflow, str) or not isinstance(data, dict):
            raise QueueMessageError("queue message needs string 'run_id' and 'workflow' and an object 'data'")
        return cls(run_id, workflow, data)


def client() -> Any:
    """The SQS client, created on first use and kept for the life of the process (warm Lambdas)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                import boto3

                from functions.aws.log_safety import hold_secret_loggers

                hold_secret_loggers()  # botocore logs message bodies (real inputs) at DEBUG
                _client = boto3.client("sqs")
    return _client


def reset_client() -> None:
    """Forget the client (tests and the local server change endpoints and credentials)."""
    global _client
    _client = None
    _arns.clear()


def queue_url() -> str:
    url = get_settings().queue_url
    if not url:
        raise RuntimeError("WFP_QUEUE_URL is not set: async runs need the SQS queue the stack creates "
                           "(the deployed functions get it; locally, set it to a queue of the local AWS)")
    return url


#: Called after each message is sent (with its delay): a poller in this process (the local worker) wakes
#: up at once instead of on its next poll. Lambda's event source needs no such thing.
sent_hooks: list[Callable[[int], None]] = []


def enqueue(run: "Run", data: dict[str, Any], delay: int = 0) -> str:
    """Send the queued run to the worker (after ``delay`` seconds, at most 900); returns the message id."""
    body = QueuedRun(run.run_id, run.workflow, data).encode()
    options = {"DelaySeconds": min(900, delay)} if delay > 0 else {}
    response = client().send_message(QueueUrl=queue_url(), MessageBody=body, **options)
    for hook in sent_hooks:
        hook(delay)
    return str(response["MessageId"])


def retry_later(receipt_handle: str, seconds: int) -> None:
    """Make a message the worker failed visible again in ``seconds`` instead of after the queue's whole
    visibility timeout (six times the worker's timeout: far too long to retry a platform hiccup)."""
    client().change_message_visibility(QueueUrl=queue_url(), ReceiptHandle=receipt_handle,
                                       VisibilityTimeout=max(0, min(seconds, 12 * 3600)))


_arns: dict[str, str] = {}


def _arn(url: str) -> str:
    if url not in _arns:
        _arns[url] = client().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return _arns[url]


def receive_event(max_messages: int = 10, wait_seconds: int = 0) -> dict[str, Any]:
    """Poll the queue and shape what arrived as the SQS event Lambda gives the worker."""
    url = queue_url()
    response = client().receive_message(QueueUrl=url, MaxNumberOfMessages=max_messages,
                                        WaitTimeSeconds=wait_seconds, MessageSystemAttributeNames=["All"])
    if not response.get("Messages"):
        return {"Records": []}
    arn = _arn(url)
    region = arn.split(":")[3]
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": region,
    } for m in response.get("Messages", [])]}


def acknowledge(event: dict[str, Any], response: dict[str, Any]) -> int:
    """Delete the records the worker did not report as failed (what Lambda's event source mapping does)."""
    failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
    done = [r for r in event.get("Records", []) if r["messageId"] not in failed]
    for start in range(0, len(done), 10):
        client().delete_message_batch(QueueUrl=queue_url(), Entries=[
            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start:start + 10])])
    return len(done)
