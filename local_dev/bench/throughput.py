"""Throughput of the local server: webhook → run recorded, requests per second.

The local platform (``python -m local_dev``: uvicorn, the app, moto with its journal, the local
scheduler) receives ``POST /api/webhooks/bench_noop`` from concurrent clients; every request is a run
recorded in the runs table (two writes) and answered. The baseline is a bare FastAPI endpoint under
uvicorn (``baselines/bare_webhook.py``) making the same two writes to the same table on the same moto
server (the local platform's). The two servers are loaded in turn, rounds interleaved; the figure is
the median requests per second. The client keeps one HTTP/1.1 connection per concurrent worker.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .context import ADMIN_TOKEN, PREFIX, Bench, log
from .coldstart import BASELINES
from .measure import Stats, interleaved
from .plugins import NOOP
from .report import Figure, ratio_at_least
from .servers import local_aws_endpoint, local_platform, uvicorn_app, wait_ok

BODY = json.dumps({"event": "push", "repository": "demo", "ref": "refs/heads/main"}).encode()
HEADERS = {"Content-Type": "application/json"}


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
        bare_env = {**bench.base_env(), "AWS_ENDPOINT_URL": endpoint, "BENCH_RUNS_TABLE": f"{PREFIX}-runs"}
        with uvicorn_app("bare_webhook:app", BASELINES, bare_env, bench.workdir / "throughput-bare.log") as bare:
            wait_ok(bare.url + "/api/health", process=bare.process)
            log(f"throughput: {total} webhooks x {rounds} rounds, {concurrency} concurrent clients, per server")
            samples = interleaved({"platform": lambda: load(platform.url, path, total, concurrency),
                                   "bare": lambda: load(bare.url, path, total, concurrency)}, rounds)
            recorded = check_recorded(platform.url, samples["platform"][-1].run_ids[:5])
    rates = {name: Stats.of([s.per_second for s in values]) for name, values in samples.items()}
    statuses = {name: sum((s.statuses for s in values), Counter()) for name, values in samples.items()}
    figure = Figure("throughput", f"local server, webhook → run recorded ({concurrency} clients)",
                    rates["platform"].median, "req/s", "bare FastAPI + same writes", rates["bare"].median,
                    ratio_at_least(0.7))
    figure.details = [f"{name}: {rates[name].describe('req/s')}; statuses {dict(statuses[name])}" for name in rates]
    figure.details.append(f"runs checked through GET /api/runs/{{id}}: {recorded}")
    bad = {name: s for name, s in statuses.items() if set(s) - {200, 202}}
    if bad:
        figure.note = f"some requests failed: {bad}"
        figure.value = float("nan")
    return [figure]


def check_recorded(url: str, run_ids: list[str]) -> str:
    """Each run answered by the platform is in its store (read back through the API)."""
    parts = urlsplit(url)
    found = []
    for run_id in run_ids:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", f"/api/runs/{run_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
        found.append(response.status == 200 and body.get("run_id") == run_id)
        connection.close()
    if not all(found):
        raise RuntimeError(f"runs answered by the platform are missing from its store: {run_ids}")
    return f"{len(found)} of {len(found)} found"
