"""What a run cost where it ran: its AWS requests by service and its Lambda compute, measured per process.

A ``Meter`` is opened for a run by the code that handles it (``Engine.accept`` in the api or scheduler,
``QueuedRuns.deliver`` in the worker) and set in a context variable; the workflow's thread runs in a
copy of that context (``functions.core.execution``), so its tools' requests count too. Every AWS
request made by the process goes through botocore's ``before-send`` event; the hook installed by
``functions.aws.metering`` tells the current meter, if any (retries are requests, and billed, too).

Each write of the run's record (``functions.stores.runs``, ``charge``) adds the meter's figures to
``run.usage``, with the write that carries them (counted before it is sent, and not again when it is)
and the compute time: the run's wall
time in this process times the function's memory (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` deployed; locally
the stack's size for that function, an estimate). An async run adds up its parts: the api's (the create
and the SQS send that follows it, written with the record) and each worker attempt's. What is not
counted: the Lambda runtime's own init and the SQS poller's receive/delete requests (made by Lambda,
shared by a batch), requests made after the final save (failure notices: ``wfp bench`` reports them),
and the metrics and dashboard views. ``functions.core.pricing`` prices the figures.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Each function's memory: the stack sizes them from this (``infrastructure/stack.py``), and it is the
#: estimate when not on Lambda.
STACK_MEMORY_MB = {"api": 1024, "worker": 512, "scheduler": 512, "durable": 512}
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
S3_READS = frozenset({"GetObject", "HeadObject"})

_current: contextvars.ContextVar["Meter | None"] = contextvars.ContextVar("wfp_meter", default=None)


def kind_of(service: str, operation: str) -> str:
    """The usage key of one request (what ``functions.core.pricing`` prices)."""
    if service == "dynamodb":
        return "dynamodb.writes" if operation in DYNAMODB_WRITES else "dynamodb.reads"
    if service == "s3":
        return "s3.reads" if operation in S3_READS else "s3.writes"
    if service in ("sesv2", "ses"):
        return "ses.messages"
    return f"{service.replace('-', '')}.requests"


class Meter:
    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.started = time.perf_counter()
        self.requests: dict[str, int] = {}
        #: Requests charged before they were sent (``charge``'s ``then``): not counted again when they are.
        self.expected: dict[str, int] = {}
        self.charged = False
        self._lock = threading.Lock()

    def count(self, service: str, operation: str) -> None:
        key = kind_of(service, operation)
        with self._lock:
            if self.expected.get(key):  # already charged with the record it carries
                self.expected[key] -= 1
            else:
                self.requests[key] = self.requests.get(key, 0) + 1

    def charge(self, usage: dict[str, float], *, then: dict[str, int]) -> dict[str, float]:
        """``usage`` plus what this process spent so far, plus the requests about to be made (``then``: the
        write that stores the figures, the send that follows it); the meter restarts from zero, so an
        attempt that writes twice counts each request once."""
        now = time.perf_counter()
        with self._lock:
            spent, self.requests = self.requests, {}
            seconds, self.started = now - self.started, now
            for key, n in then.items():
                self.expected[key] = self.expected.get(key, 0) + n
        total = dict(usage)
        for key, n in [*spent.items(), *then.items()]:
            total[key] = total.get(key, 0) + n
        total["lambda.gb_seconds"] = round(total.get("lambda.gb_seconds", 0) + seconds * self.memory_mb / 1024, 6)
        if not self.charged:  # one invocation per process part of the run (an SQS batch shares one: a ceiling)
            total["lambda.invocations"] = total.get("lambda.invocations", 0) + 1
            self.charged = True
        return total


def memory_mb(function: str) -> int:
    try:
        return int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    except (KeyError, ValueError):
        return STACK_MEMORY_MB[function]


@contextmanager
def metering(function: str) -> Iterator[Meter]:
    """Meter the run handled in this block (and in the threads started with a copy of this context)."""
    meter = Meter(memory_mb(function))
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


def count(service: str, operation: str) -> None:
    """One AWS request by this process: the current run's, if a run is being handled here."""
    meter = _current.get()
    if meter is not None:
        meter.count(service, operation)


def charge(usage: dict[str, float], **then: int) -> dict[str, float]:
    """``Meter.charge`` of the current meter (``usage`` unchanged when nothing meters this run);
    ``then`` names keys with dots as double underscores: ``dynamodb__writes=1``."""
    meter = _current.get()
    if meter is None:
        return usage
    return meter.charge(usage, then={key.replace("__", "."): n for key, n in then.items()})
