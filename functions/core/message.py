"""The async run queue's message: one per queued run, a JSON object, version 1::

    {"v": 1, "run_id": "...", "workflow": "...", "data": {...validated inputs...}, "profiles": {...}}

``profiles`` (only when the run has them: a re-run's tool profile overrides, also in its record) is
optional, so a message written before it existed still decodes.

The run record (``queued``) is written before the message is sent, so the message only needs to say
which run and with which inputs: the record keeps redacted inputs, the message the real ones (the queue
is encrypted, and messages are gone once processed). The worker runs the record only if it is still
``queued`` (SQS delivers at least once)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VERSION = 1


class QueueMessageError(ValueError):
    """A message that is not a queued run; retrying it cannot help (it ends in the dead-letter queue)."""


@dataclass(frozen=True)
class QueuedRun:
    run_id: str
    workflow: str
    data: dict[str, Any]
    profiles: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        body: dict[str, Any] = {"v": VERSION, "run_id": self.run_id, "workflow": self.workflow, "data": self.data}
        if self.profiles:
            body["profiles"] = self.profiles
        return json.dumps(body, separators=(",", ":"), default=str)

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
        profiles = message.get("profiles") or {}
        if not isinstance(profiles, dict) or not all(isinstance(v, str) for v in profiles.values()):
            raise QueueMessageError("queue message 'profiles' must map tool names to profile names")
        return cls(run_id, workflow, data, profiles)
