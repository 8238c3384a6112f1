"""The throughput limits a deployer sets (SCALING.md, "Limits you set"): the API stage's throttle and the
worker's SQS event source, from CDK context (``-c api_rate=2000``) or, like ``reserved_concurrency``, from the
environment the app is synthesized in (``WFP_API_RATE=2000 wfp deploy``); today's values by default.

- ``api_rate`` (``WFP_API_RATE``, default 50): the API stage's steady rate, requests a second;
- ``api_burst`` (``WFP_API_BURST``, default 100): the API stage's burst, requests;
- ``worker_batch_size`` (``WFP_WORKER_BATCH_SIZE``, default 5): messages per worker invocation (1 to 10, up to
  10,000 with a batching window);
- ``worker_batching_window`` (``WFP_WORKER_BATCHING_WINDOW``, default 0): seconds the event source may wait to
  fill a batch (0 to 300);
- ``worker_max_concurrency`` (``WFP_WORKER_MAX_CONCURRENCY``, default none): batches the event source runs at
  once (``ScalingConfig.MaximumConcurrency``, 2 to 1000); without it, the worker's reserved concurrency when
  it has one (as before), else unbounded.

The stage's throttle only lowers what the account allows (API Gateway's account throttle per Region, 10,000
requests/s and a 5,000 burst by default): past it, raise the account's quota (SCALING.md).

Checked here, before anything is built, against what AWS accepts: a value AWS would refuse at deploy time
(a batch of 50 without a window, a maximum concurrency of 1) stops the synthesis with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Today's values (the stack's before they could be set).
API_RATE, API_BURST, WORKER_BATCH_SIZE = 50.0, 100, 5
#: Lambda's bounds for an SQS event source (Lambda's ``CreateEventSourceMapping``, ``ScalingConfig``).
MAX_BATCH, MAX_BATCH_WITHOUT_WINDOW, MAX_WINDOW_SECONDS = 10_000, 10, 300
MIN_MAX_CONCURRENCY, MAX_MAX_CONCURRENCY = 2, 1000


@dataclass(frozen=True)
class Limits:
    api_rate: float = API_RATE
    api_burst: int = API_BURST
    worker_batch_size: int = WORKER_BATCH_SIZE
    #: Seconds (0: invoke as soon as messages are there, today's behaviour).
    worker_batching_window: int = 0
    #: ``ScalingConfig.MaximumConcurrency`` of the worker's event source; None: unbounded (up to what Lambda
    #: scales to), or the worker's reservation when it has one (``limits_of``).
    worker_max_concurrency: int | None = None


class _Reader:
    def __init__(self, context: Callable[[str], Any], environ: Mapping[str, str]) -> None:
        self.context, self.environ = context, environ

    def raw(self, key: str) -> str | None:
        value = self.context(key)
        if value is None or value == "":
            value = self.environ.get(f"WFP_{key.upper()}")
        return None if value is None or str(value).strip() == "" else str(value).strip()

    def number(self, key: str, default: float, lowest: float, whole: bool) -> float:
        text = self.raw(key)
        if text is None:
            return default
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = None
        if value is None or value < lowest or (not whole and value != value):  # NaN
            kind = "a whole number" if whole else "a number"
            raise SystemExit(f"{key}={text!r} must be {kind} of at least {lowest:g} (e.g. -c {key}="
                             f"{int(default) if default else 10}); see SCALING.md, 'Limits you set'")
        return value


def limits_of(context: Callable[[str], Any], reserved: Mapping[str, int] | None = None,
              environ: Mapping[str, str] | None = None) -> Limits:
    """The deployment's limits: context (``app.node.try_get_context``) first, then ``WFP_<KEY>``; refused with
    a ``SystemExit`` naming the key when AWS would refuse the value. ``reserved``: the functions' reserved
    concurrency (``infrastructure.app.reserved_concurrency_of``): the worker's bounds its event source."""
    read = _Reader(context, os.environ if environ is None else environ)
    rate = read.number("api_rate", API_RATE, 1, whole=False)
    burst = int(read.number("api_burst", API_BURST, 1, whole=True))
    batch = int(read.number("worker_batch_size", WORKER_BATCH_SIZE, 1, whole=True))
    window = int(read.number("worker_batching_window", 0, 0, whole=True))
    if window > MAX_WINDOW_SECONDS:
        raise SystemExit(f"worker_batching_window={window}: Lambda waits at most {MAX_WINDOW_SECONDS} s")
    if batch > MAX_BATCH:
        raise SystemExit(f"worker_batch_size={batch}: an SQS event source takes at most {MAX_BATCH} messages")
    if batch > MAX_BATCH_WITHOUT_WINDOW and window < 1:
        raise SystemExit(f"worker_batch_size={batch}: above {MAX_BATCH_WITHOUT_WINDOW}, Lambda needs a batching "
                         "window of at least 1 s (-c worker_batching_window=1)")
    worker_reserved = (reserved or {}).get("worker")
    concurrency: int | None = None
    if read.raw("worker_max_concurrency") is not None:
        concurrency = int(read.number("worker_max_concurrency", 0, MIN_MAX_CONCURRENCY, whole=True))
        if concurrency > MAX_MAX_CONCURRENCY:
            raise SystemExit(f"worker_max_concurrency={concurrency}: an SQS event source's MaximumConcurrency is "
                             f"at most {MAX_MAX_CONCURRENCY}")
        if worker_reserved is not None and concurrency > worker_reserved:
            raise SystemExit(f"worker_max_concurrency={concurrency} is above the worker's reserved concurrency "
                             f"({worker_reserved}): the batches Lambda cannot run would be throttled back to the "
                             "queue, each counting as a delivery")
    elif worker_reserved is not None:
        concurrency = worker_reserved
    return Limits(api_rate=rate, api_burst=burst, worker_batch_size=batch, worker_batching_window=window,
                  worker_max_concurrency=concurrency)
