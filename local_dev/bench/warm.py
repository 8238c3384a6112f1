"""Warm requests: in-process invocations of a Lambda handler with API Gateway (payload v2) events.

The platform's api handler (``functions.handlers.api.handler``, Powertools logging context and all)
answering ``GET /api/workflows`` over the examples and running the no-op workflow (its two
DynamoDB writes go to the moto server over HTTP), against baseline (a), the minimal FastAPI + Mangum
hello handler. Each is called in blocks, the blocks interleaved; the figure is the median over
blocks of the mean time per request.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

from .coldstart import AUTH, BASELINES
from .context import Bench, log, quiet_stdout
from .events import LambdaContext, http_event
from .measure import Stats, interleaved
from .plugins import NOOP
from .report import Figure, ratio_at_most


def hello_handler() -> Callable[..., Any]:
    sys.path.insert(0, str(BASELINES))
    try:
        return importlib.import_module("hello").handler
    finally:
        sys.path.remove(str(BASELINES))


def block(handler: Callable[..., Any], event: dict[str, Any], size: int) -> float:
    """Mean microseconds per request over ``size`` requests (every answer checked)."""
    context = LambdaContext()
    started = time.perf_counter()
    for _ in range(size):
        response = handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"warm request answered {response['statusCode']}: {response.get('body', '')[:500]}")
    return (time.perf_counter() - started) / size * 1e6


def run(bench: Bench) -> list[Figure]:
    hello, api = hello_handler(), bench.api_handler(bench.plugins("examples"))
    hello_event = http_event("GET", "/api/hello")
    listing = http_event("GET", "/api/workflows", headers={k.lower(): v for k, v in AUTH.items()})
    execute = http_event("POST", f"/api/workflows/execute/{NOOP}", body=b"{}",
                         headers={**{k.lower(): v for k, v in AUTH.items()}, "content-type": "application/json"})
    size, run_size, rounds = bench.repeat(300, 5), bench.repeat(40, 2), bench.repeat(15, 1)
    log(f"warm requests: blocks of {size} (runs: {run_size}) x {rounds} rounds")
    with quiet_stdout():
        samples = interleaved({
            "hello": functools.partial(block, hello, hello_event, size),
            "listing": functools.partial(block, api, listing, size),
            "run": functools.partial(block, api, execute, run_size),
        }, rounds)
    stats = {name: Stats.of(values) for name, values in samples.items()}
    section = "warm request"
    figures = [
        Figure(section, "GET /api/workflows (API Gateway v2, in process)", stats["listing"].median, "µs",
               "hello", stats["hello"].median, ratio_at_most(1.5)),
        Figure(section, "no-op run: POST execute (2 DynamoDB writes over HTTP)", stats["run"].median, "µs",
               "hello", stats["hello"].median),
    ]
    figures[0].details = [f"{name}: {s.describe('µs')}" for name, s in stats.items()]
    return figures
