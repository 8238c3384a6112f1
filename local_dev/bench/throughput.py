"""Throughput of the local server: webhook → run recorded, runs per second.

The local platform (``python -m local_dev``: uvicorn, the app, moto with its journal in a process of
its own, the local queue worker) receives ``POST /api/webhooks/bench_noop`` from concurrent clients
(one HTTP/1.1 connection each). A webhook is answered 202 once its run is recorded ``queued`` and
sent to the SQS queue; the local worker then claims it, runs it and records the result. The figure is
end to end: webhooks sent until every run is recorded finished (the queue drained), in runs per second.

The baseline (``baselines/bare_webhook.py``) is bare FastAPI under uvicorn making the same AWS
requests on the same moto server (the local platform's): the same DynamoDB writes (queued, claimed,
finished), the same SQS send, receive in batches of 5 and delete, with as many worker threads. The
two are loaded in turn, rounds interleaved, each round starting with both queues empty; the rate at
which webhooks are answered is printed beside it.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3

from .coldstart import BASELINES
from .context import ADMIN_TOKEN, AWS_ENV, PREFIX, Bench, log
from .measure import Stats, interleaved
from .plugins import NOOP
from .report import Figure, ratio_at_least
from .servers import local_aws_endpoint, local_platform, uvicorn_app, wait_ok

BODY = json.dumps({"event": "push", "repository": "demo", "ref": "refs/heads/main"}).encode()
HEADERS = {"Content-Type": "application/json"}
#: The local worker's threads (``WFP_LOCAL_WORKER_THREADS``' default), given to the baseline too.
WORKER_THREADS = 4


@dataclass
class Load:
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    run_ids: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return sum(self.statuses.values()) / self.seconds


def load(url: str, path: str, total: int, concurrency: int) -> Load:
    """``total`` POSTs of ``BODY`` to ``path`` from ``concurrency`` threads, each with its own connection."""
    parts = urlsplit(url)
    start = threading.Barrier(concurrency + 1)
    lock = threading.Lock()
    result = Load(0.0)
    errors: list[BaseException] = []

    def worker(count: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            start.wait()
            for _ in range(count):
                connection.request("POST", path, BODY, HEADERS)
                response = connection.getresponse()
                data = response.read()
                with lock:
                    result.statuses[response.status] += 1
                    if response.status in (200, 202):
                        result.run_ids.append(json.loads(data).get("run_id", ""))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    shares = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"load on {url}{path} failed: {errors[0]!r}")
    return result


@dataclass
class Round:
    load: Load
    seconds: float  # first webhook sent → queue drained (every run finished)

    @property
    def runs_per_second(self) -> float:
        return sum(self.load.statuses.values()) / self.seconds


def drained(sqs: Any, queue_url: str, timeout: float = 600.0) -> None:
    """Wait until the queue holds no message, visible or in flight: every run was processed."""
    deadline = time.monotonic() + timeout
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed"]
    while time.monotonic() < deadline:
        counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        if all(counts.get(name) == "0" for name in names):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{queue_url} still holds messages after {timeout:.0f} s")


def end_to_end(url: str, path: str, total: int, concurrency: int, sqs: Any, queue_url: str) -> Round:
    began = time.perf_counter()
    result = load(url, path, total, concurrency)
    drained(sqs, queue_url)
    return Round(result, time.perf_counter() - began)


def run(bench: Bench) -> list[Figure]:
    examples = bench.plugins("examples")
    state = bench.workdir / "state-throughput"
    platform_env = {**bench.base_env(), **bench.platform_env(examples), "WFP_LOCAL_STATE": str(state),
                    "WFP_ENV_FILE": str(bench.workdir / "no.env")}
    platform_env.pop("WFP_MANIFEST", None)  # the local server discovers plugins/ itself
    total, concurrency, rounds = bench.repeat(300, 20), 8, bench.repeat(5, 1)
    path = f"/api/webhooks/{NOOP}"
    with local_platform(platform_env, bench.workdir / "throughput-platform.log") as platform:
        wait_ok(platform.url + "/api/health", process=platform.process)
        endpoint = local_aws_endpoint(state)
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                           aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])
        platform_queue = sqs.get_queue_url(QueueName=f"{PREFIX}-runs")["QueueUrl"]
        bare_queue = sqs.create_queue(QueueName=f"{PREFIX}-bare-runs")["QueueUrl"]
        bare_env = {**bench.base_env(), "AWS_ENDPOINT_URL": endpoint, "BENCH_RUNS_TABLE": f"{PREFIX}-runs",
                    "BENCH_QUEUE_URL": bare_queue, "BENCH_WORKER_THREADS": str(WORKER_THREADS)}
        with uvicorn_app("bare_webhook:app", BASELINES, bare_env, bench.workdir / "throughput-bare.log") as bare:
            wait_ok(bare.url + "/api/health", process=bare.process)
            log(f"throughput: {total} webhooks x {rounds} rounds, {concurrency} concurrent clients, per server")
            samples = interleaved(
                {"platform": lambda: end_to_end(platform.url, path, total, concurrency, sqs, platform_queue),
                 "bare": lambda: end_to_end(bare.url, path, total, concurrency, sqs, bare_queue)}, rounds)
            recorded = check_recorded(platform.url, samples["platform"][-1].load.run_ids[:5], ADMIN_TOKEN)
            check_recorded(bare.url, samples["bare"][-1].load.run_ids[:5])
    runs = {name: Stats.of([s.runs_per_second for s in values]) for name, values in samples.items()}
    answered = {name: Stats.of([s.load.per_second for s in values]) for name, values in samples.items()}
    statuses = {name: sum((s.load.statuses for s in values), Counter()) for name, values in samples.items()}
    figure = Figure("throughput", f"local server, webhook → run recorded finished ({concurrency} clients)",
                    runs["platform"].median, "runs/s", "bare FastAPI + same AWS requests", runs["bare"].median,
                    ratio_at_least(0.9))
    figure.details = [f"{name}: runs finished {runs[name].describe('runs/s')}; webhooks answered "
                      f"{answered[name].describe('req/s')}; statuses {dict(statuses[name])}" for name in runs]
    figure.details.append(f"runs checked through GET /api/runs/{{id}}: {recorded}")
    accepted = Figure("throughput", "local server, webhooks answered 202 (run queued)", answered["platform"].median,
                      "req/s", "bare FastAPI + same AWS requests", answered["bare"].median)
    bad = {name: s for name, s in statuses.items() if set(s) - {202}}
    if bad:
        figure.note = f"some requests failed: {bad}"
        figure.value = float("nan")
    return [figure, accepted]


def check_recorded(url: str, run_ids: list[str], token: str | None = None) -> str:
    """Each run answered by a server is in its store, finished (read back through its API)."""
    parts = urlsplit(url)
    found = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for run_id in run_ids:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", f"/api/runs/{run_id}", headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
        found.append(response.status == 200 and body.get("run_id") == run_id and body.get("status") == "success")
        connection.close()
    if not all(found):
        raise RuntimeError(f"runs answered by {url} are missing from its store or not finished: {run_ids}")
    return f"{len(found)} of {len(found)} found, finished"
