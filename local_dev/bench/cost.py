"""Cost per run: the AWS requests the platform makes, counted (``awsrequests``), over the examples.

1. A sync run of the no-op workflow (no tool) through the api handler: DynamoDB writes and reads.
   The first run of a process may read configuration it then caches; the figure is a later run.
2. Every endpoint of the app (read from the app's own routes, so a new one is covered too), called
   once with real parameters: the requests each makes, and that none is a Scan.
3. What an error notice adds: a failing sync run without ``on_error``, then with a webhook notice (to
   a receiver on 127.0.0.1): the first failure (a notice sent) and the next (folded into the window).
4. A workflow's history page (``GET /api/workflows/logs/{name}?limit=10``) with 10 runs stored, then
   with 10,000: the requests must be the same (one Query per history shard, the page's worth of items).
   The time is shown two ways. End to end it includes moto's
   Query, which (unlike DynamoDB's, which reads only the page) filters and sorts every item of the
   table: it grows with the table on moto only. The platform's own time (end to end minus the time
   spent waiting for the response, measured by the same hooks) is the one the target applies to.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from .awsrequests import (
    DYNAMODB_READS,
    DYNAMODB_WRITES,
    RequestLog,
    describe,
    dynamodb,
    recording,
)
from .context import ADMIN_TOKEN, Bench, log, quiet_stdout
from .events import LambdaContext, http_event
from .measure import Stats
from .plugins import FAILING, HISTORY, NOOP, NOTIFYING
from .report import Figure, ratio_at_most, value

#: Page size of the history reads: the 10 runs of the small case fill it, so both cases return as many.
PAGE = 10
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
SCHEDULED = "daily_digest"
OAUTH_TOOL = "google_calendar"


def call(handler: Any, method: str, path: str, body: Any = None, content_type: str = "application/json",
         **headers: str) -> tuple[int, bytes]:
    raw = (body if isinstance(body, bytes) else json.dumps(body).encode()) if body is not None else b""
    target, _, query = path.partition("?")
    event = http_event(method, target, query=query, body=raw,
                       headers={**AUTH, **({"content-type": content_type} if raw else {}), **headers})
    response = handler(event, LambdaContext())
    payload = response.get("body") or ""
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
    return response["statusCode"], data


# ----- 1. one run ----------------------------------------------------------------------------------------
def run_costs(handler: Any, requests: RequestLog) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(first run's requests, a later run's requests) of the no-op workflow through the API."""
    samples = []
    for _ in range(3):
        mark = requests.mark()
        status, body = call(handler, "POST", f"/api/workflows/execute/{NOOP}", {})
        if status != 200 or json.loads(body)["status"] != "success":
            raise RuntimeError(f"the no-op run failed: {status} {body[:300]!r}")
        samples.append(requests.since(mark))
    return samples[0], samples[-1]


# ----- 2. every endpoint ---------------------------------------------------------------------------------
def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) of every route, through included routers (recent FastAPI versions keep an
    included router as one ``_IncludedRouter`` entry, ``original_router`` and ``include_context.prefix``,
    instead of copying its routes into the app) and the dashboard's ``DashboardRoutes``."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from walk(original.routes, prefix + route.include_context.prefix)
        elif getattr(route, "path", None) is None and hasattr(route, "routes"):  # a group built on first use
            yield from walk(route.routes, prefix)
        else:
            yield prefix + (getattr(route, "path", None) or getattr(route, "route", "")), route


def endpoint_calls(app: Any, run_id: str) -> list[tuple[str, str, Any, str]]:
    """(method, path, body, content type) for every route of the app, parameters filled in."""
    from starlette.routing import Mount

    from functions.http.interfaces import InterfaceRoute
    from functions.http.routes.groups import load_all

    load_all(app)
    calls: list[tuple[str, str, Any, str]] = []
    last: list[tuple[str, str, Any, str]] = []
    for path, route in walk(app.routes):
        if isinstance(route, InterfaceRoute):
            calls.append(("GET", path + "/", None, ""))
            continue
        if isinstance(route, Mount):
            calls.append(("GET", path + "/dashboard.css", None, ""))
            continue
        if not path:
            continue
        name = SCHEDULED if path.startswith("/api/scheduler/") else NOOP
        concrete = (path.replace("{name}", name).replace("{run_id}", run_id).replace("{tool}", OAUTH_TOOL)
                    .replace("{path}", "dashboard.css").replace("{token}", f"{run_id}.bench"))
        if "{" in concrete:
            raise RuntimeError(f"the benchmark does not know how to call {path}: add its parameter")
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            body: Any = None
            content_type = "application/json"
            if method == "POST":
                body = {}
                if path == "/login":
                    body, content_type = urllib.parse.urlencode({"token": ADMIN_TOKEN}).encode(), \
                        "application/x-www-form-urlencoded"
            if concrete.startswith("/oauth/google/auth"):
                concrete += "?service=calendar&profile=DEFAULT"
            elif concrete.startswith("/oauth/google/callback"):
                concrete += "?state=bench&code=bench"
            (last if path in ("/api/reload", "/logout") else calls).append((method, concrete, body, content_type))
    return calls + last


def sweep(handler: Any, requests: RequestLog, run_id: str) -> list[tuple[str, int, list[tuple[str, str]]]]:
    app = sys.modules["functions.handlers.api"].app
    results = []
    for method, path, body, content_type in endpoint_calls(app, run_id):
        mark = requests.mark()
        status, _ = call(handler, method, path, body, content_type)
        results.append((f"{method} {path}", status, requests.since(mark)))
    return results


# ----- 3. error notices ------------------------------------------------------------------------------------
def notice_costs(handler: Any, requests: RequestLog) -> dict[str, tuple[list[tuple[str, str]], float]]:
    """Requests and seconds of a failing run: without on_error, then the first and second notifying one."""
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            received.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["NOTIFY_WEBHOOK_BENCH_URL"] = f"http://127.0.0.1:{server.server_address[1]}/notices"
    os.environ["NOTIFY_WEBHOOK_BENCH_SECRET"] = "bench-notice-secret"
    try:
        results = {}
        for label, name in (("plain", FAILING), ("warm", FAILING), ("notice", NOTIFYING), ("folded", NOTIFYING)):
            mark = requests.mark()
            started = time.perf_counter()
            status, body = call(handler, "POST", f"/api/workflows/execute/{name}", {})
            elapsed = time.perf_counter() - started
            if status != 200 or json.loads(body)["status"] != "error":
                raise RuntimeError(f"the failing run answered {status}: {body[:300]!r}")
            results[label] = (requests.since(mark), elapsed)
        if len(received) != 1:
            raise RuntimeError(f"the receiver got {len(received)} notices for two failures in one window, not 1")
        return results
    finally:
        server.shutdown()
        for key in ("NOTIFY_WEBHOOK_BENCH_URL", "NOTIFY_WEBHOOK_BENCH_SECRET"):
            os.environ.pop(key, None)


# ----- 4. history ----------------------------------------------------------------------------------------
def seed_runs(count: int, workflow: str = HISTORY) -> None:
    from functions.core.runs import Run, new_run_id, utcnow
    from functions.platform import get_platform
    from functions.stores.runs import RunModel

    store = get_platform().runs
    with RunModel.batch_write() as batch:
        for _ in range(count):
            now = utcnow()
            batch.save(store._item(Run(run_id=new_run_id(), workflow=workflow, trigger="webhook", status="success",
                                       created_at=now, started_at=now, finished_at=now, duration_ms=3,
                                       message="seeded by the benchmark", inputs={"n": 1})))


def history_sample(handler: Any, requests: RequestLog, reads: int) -> tuple[float, float, list[tuple[str, str]]]:
    """(end-to-end seconds, seconds not waiting for AWS, requests) per history page, over ``reads`` reads."""
    totals, own = [], []
    calls: list[tuple[str, str]] = []
    for _ in range(reads):
        mark, waited = requests.mark(), requests.waiting
        started = time.perf_counter()
        status, body = call(handler, "GET", f"/api/workflows/logs/{HISTORY}?limit={PAGE}")
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"history page answered {status}: {body[:300]!r}")
        totals.append(elapsed)
        own.append(elapsed - (requests.waiting - waited))
        calls = requests.since(mark)
    return Stats.of(totals).median, Stats.of(own).median, calls


def run(bench: Bench) -> list[Figure]:
    examples = bench.plugins("examples")
    handler = bench.api_handler(examples)
    section = "cost per run"
    big = bench.repeat(10_000, 1_000)
    reads = bench.repeat(15, 3)
    with quiet_stdout(), recording() as requests:
        first, later = run_costs(handler, requests)
        status, body = call(handler, "POST", f"/api/workflows/execute/{NOOP}", {})
        run_id = json.loads(body)["run_id"]
        swept = sweep(handler, requests, run_id)
        notices = notice_costs(handler, requests)
        seed_runs(10)
        small_total, small_own, small_calls = history_sample(handler, requests, reads)
        log(f"cost: seeding {big - 10} more runs of {HISTORY}")
        seed_runs(big - 10)
        big_total, big_own, big_calls = history_sample(handler, requests, reads)

    scans = [(name, calls) for name, _, calls in swept if any(op == "Scan" for _, op in calls)]
    failures = [f"{name} answered {status}" for name, status, _ in swept if status >= 500]
    figures = [
        Figure(section, f"sync run of {NOOP} (no tool): DynamoDB writes", dynamodb(later, DYNAMODB_WRITES),
               "requests", target=value("<=", 2), note=f"a later run: {describe(later)}; the first run of the "
               f"process: {describe(first)}"),
        Figure(section, f"sync run of {NOOP}: reads (DynamoDB, Secrets Manager, ...)",
               len(later) - dynamodb(later, DYNAMODB_WRITES), "requests", target=value("==", 0)),
        Figure(section, f"endpoints called: {len(swept)}; requests that are a Scan",
               sum(1 for _, calls in scans for _, op in calls if op == "Scan"), "requests", target=value("==", 0),
               note="; ".join(f"{name}: Scan" for name, _ in scans) or "none",
               details=[f"{name} -> {status}: {describe(calls)}" for name, status, calls in swept] + failures),
        Figure(section, f"history page: requests, {big} runs stored", len(big_calls), "requests",
               "10 runs stored", len(small_calls), ratio_at_most(1.0),
               note=f"10 runs: {describe(small_calls)}; {big} runs: {describe(big_calls)}"),
        Figure(section, f"history page: platform time, {big} runs stored", big_own * 1000, "ms",
               "10 runs stored", small_own * 1000, ratio_at_most(1.5),
               note=f"end to end, moto's Query included: {small_total * 1000:.1f} ms with 10 runs, "
                    f"{big_total * 1000:.1f} ms with {big} (moto filters and sorts the whole table per Query)"),
    ]
    plain, _ = notices["warm"]
    for label, what in (("notice", "the first failure (a notice sent)"),
                        ("folded", "the next failure in the window (folded)")):
        calls, seconds = notices[label]
        figures.append(Figure(
            section, f"failing sync run with on_error, {what}: AWS requests added", len(calls) - len(plain),
            "requests", note=f"{describe(calls)} against {describe(plain)} without on_error; "
                             f"{seconds * 1000:.1f} ms against {notices['warm'][1] * 1000:.1f} ms end to end "
                             + ("(the notice is POSTed to 127.0.0.1 before the run is answered; the first one of "
                                "the process also imports the notifiers)" if label == "notice" else
                                "(nothing is sent: the window's count grows)")))
    reads_in_history = dynamodb(big_calls, DYNAMODB_READS)
    figures[3].details = [f"DynamoDB reads per page: {reads_in_history} (one Query per history shard, and one of "
                          "by_workflow while it is kept: WFP_HISTORY_SHARDS + 1)"]
    return figures
