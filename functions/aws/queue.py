"""The async run queue on SQS: what ``functions.core.queued`` sends (one message per queued run) and the
worker's short retry of a message that met a platform failure. The message format is the core's
(``functions.core.queued.QueuedRun``); this adapter only moves bodies."""

from __future__ import annotations

from functions.aws.clients import Clients


class SqsQueue:
    def __init__(self, clients: Clients, url: str | None) -> None:
        self.clients = clients
        self._url = url

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("WFP_QUEUE_URL is not set: async runs need the SQS queue the stack creates "
                               "(the deployed functions get it; locally, the dev server creates one)")
        return self._url

    def send(self, body: str, delay: int = 0) -> str:
        options = {"DelaySeconds": min(900, delay)} if delay > 0 else {}
        response = self.clients.get("sqs").send_message(QueueUrl=self.url, MessageBody=body, **options)
        return str(response["MessageId"])

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Visible again in ``seconds`` rather than after the queue's whole visibility timeout (six times
        the worker's timeout: far too long to retry a platform hiccup)."""
        self.clients.get("sqs").change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, 12 * 3600)))
