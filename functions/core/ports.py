"""What the core asks of AWS, as Protocols: the composition root (``functions.platform``) hands it the
real adapters (``functions.aws``) or others (the local server's, a test's), and the core never imports
boto3 or pynamodb. The stores' Protocols sit with the records they keep (``runs.RunStore``,
``idempotency.IdempotencyStore``, ``schedules.ScheduleStore``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from functions.core.deployment import DeployedSchedule


class Queue(Protocol):
    """The async run queue (SQS deployed and locally)."""

    def send(self, body: str, delay: int = 0) -> str:
        """Send a message (visible after ``delay`` seconds, at most 900); returns its id."""
        ...

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Make a message the worker failed visible again in ``seconds``."""
        ...


class SecretReader(Protocol):
    """Secrets Manager: ``None`` is "no such secret"; anything else that fails raises."""

    def text(self, name: str) -> str | None: ...
    def json(self, name: str) -> Any: ...
    def exists(self, name: str) -> bool: ...


class ScheduleToggler(Protocol):
    """Turns a workflow's EventBridge resource on or off; returns a warning to show, or None."""

    def set_enabled(self, schedule: "DeployedSchedule", enabled: bool) -> str | None: ...


class Mailer(Protocol):
    """Sends an email (SES deployed, moto's SES locally): raises when it was not accepted."""

    def send(self, sender: str, to: list[str], subject: str, text: str) -> str:
        """Send a plain-text message; returns its message id."""
        ...


class BlobStore(Protocol):
    """Objects by key (the run-data bucket: S3 deployed, moto's S3 locally): what a run record cannot hold."""

    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Store ``body`` under ``key`` (replacing what was there); raises when it was not stored."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises ``KeyError`` when there is none (expired, never written)."""
        ...
