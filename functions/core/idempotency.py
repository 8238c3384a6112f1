"""Idempotency-Key: the same key and payload within 24 hours names the same run, which runs once.

A key is reserved with one conditional PutItem on the idempotency table (``attribute_not_exists`` of
the key, or an expired record: DynamoDB's TTL deletes expired items only eventually) before the run
is created. Of two concurrent requests with one key, exactly one reservation succeeds; the other
reads the record (one consistent GetItem) and answers with the run it names, so the workflow runs
once. A record whose payload fingerprint differs is a 409: the key was used for another request.

Keys are scoped per workflow (``<workflow>#<sha256 of the key>``: the key itself is not stored). The
fingerprint is a SHA-256 of the trigger and the validated inputs *with secrets masked* (as stored in
the run): two requests that differ only in a password count as the same payload, and the record
never holds anything derived from a secret.

Why not Powertools Idempotency: it caches a function's return value, so a replay would return the
first call's response frozen at the moment it was saved (an async 202, or a run still running)
rather than the run as it is now, and it needs its own table layout and a second write to complete
the record. Here the record only points at the run; the run record is the single source of truth.
Requests without the header pay nothing.

The table and its store (pynamodb) are in ``functions.stores.idempotency`` (``IdempotencyStore`` below is
what the engine asks of it), built on first use: the API's routes read the header with what is here,
without importing pynamodb at cold start.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from functions.core.inputs import REQUEST_KEY
from functions.errors import BadRequest, Conflict

HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (as the IETF draft suggests)


class KeyReused(Conflict):
    """Same Idempotency-Key, different request: refused, nothing runs."""


@dataclass(frozen=True)
class Reservation:
    key: str
    run_id: str
    fingerprint: str
    created_at: datetime


class IdempotencyStore(Protocol):
    def reserve(self, workflow: str, key: str, print_: str, run_id: str) -> Reservation | None:
        """Reserve ``key`` for ``run_id``: None when reserved now, else the live reservation holding it."""
        ...

    def take_over(self, workflow: str, key: str, held: Reservation, run_id: str) -> bool:
        """Point a reservation whose run was never created at ``run_id``; False if someone else did."""
        ...


def check_key(raw: str | None) -> str | None:
    """The header's value, or None without one; a malformed key is a 400 (nothing is written)."""
    if raw is None:
        return None
    key = raw.strip()
    if not KEY_RE.match(key):
        raise BadRequest(f"invalid {HEADER} header: use 1 to 255 printable ASCII characters without spaces "
                         "(a UUID is a good key)")
    return key


def record_key(workflow: str, key: str) -> str:
    return f"{workflow}#{hashlib.sha256(key.encode()).hexdigest()}"


def fingerprint(trigger: str, stored_inputs: Any) -> str:
    """The payload's identity. The webhook request view (``inputs.REQUEST_KEY``) is left out: a sender's
    redelivery carries the same body under new signatures, timestamps and retry headers."""
    if isinstance(stored_inputs, dict) and REQUEST_KEY in stored_inputs:
        stored_inputs = {k: v for k, v in stored_inputs.items() if k != REQUEST_KEY}
    text = json.dumps({"trigger": trigger, "inputs": stored_inputs}, sort_keys=True, separators=(",", ":"),
                      default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def refuse_other_payload(key: str, workflow: str) -> KeyReused:
    return KeyReused(f"{HEADER} {key!r} was already used for workflow '{workflow}' with a different "
                     "request (other inputs or another endpoint) in the last 24 hours: send a new key for a "
                     "new request, or the same inputs to get the first run back")
