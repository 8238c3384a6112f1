"""Cold start: a fresh process imports a Lambda handler and answers its first API Gateway event.

Candidates, run in fresh interpreters (``child.py``), interleaved and compared by medians:

- ``hello``: baseline (a), a minimal FastAPI + Mangum handler;
- ``hello + DynamoDB``: baseline (b), the same reading one DynamoDB item through boto3 (real HTTP
  to the moto server): the floor of an endpoint that touches DynamoDB;
- the platform's api handler (``functions.handlers.api``) answering ``GET /api/workflows``,
  ``GET /docs`` and a no-op workflow run (two DynamoDB writes), over the examples;
- the same ``GET /api/workflows`` with 200 generated workflows and 50 tools added;
- with ``--against REV`` (a commit, tag or branch), ``GET /api/workflows`` and ``GET /docs`` answered by
  that revision's api handler too, in the same shuffled rounds: a change's before and after in one run.

Every child runs as on Lambda: the plugin manifest (``WFP_MANIFEST``), tracing on (Powertools sees
``LAMBDA_TASK_ROOT``), the admin token checked (from the environment, so a request that needs no AWS
makes no AWS call), REST API (payload v1) events on stage ``prod``. Byte code is cached for every
candidate alike (``PYTHONPYCACHEPREFIX`` in the work folder). The time of a cold start is the child
process's wall time, from spawn to exit after answering; the child also reports its import time, its
first response time, its CPU time and which heavy packages it loaded.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import ADMIN_TOKEN, Bench, log
from .events import rest_event
from .measure import Stats, interleaved
from .plugins import NOOP, PluginSet
from .report import Figure, ratio_at_most

HERE = Path(__file__).resolve().parent
CHILD = HERE / "child.py"
BASELINES = HERE / "baselines"
HELLO_TABLE = "wfp-bench-hello"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Candidate:
    label: str
    module: str
    events: list[dict[str, Any]]
    plugin_set: PluginSet | None = None
    path: list[str] = field(default_factory=list)


@dataclass
class Sample:
    wall_ms: float
    child: dict[str, Any]


def run_child(bench: Bench, name: str, candidate: Candidate) -> Sample:
    result = bench.workdir / f"cold-{name}.json"
    result.unlink(missing_ok=True)
    spec = bench.write_json(f"cold-{name}-spec.json", {
        "module": candidate.module, "attr": "handler", "path": candidate.path,
        "events": candidate.events, "result": str(result)})
    env = bench.child_env(candidate.plugin_set, BENCH_TABLE=HELLO_TABLE)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(CHILD), str(spec)], env=env, cwd=bench.workdir,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or not result.exists():
        raise RuntimeError(f"cold start of {candidate.label} failed:\n{done.stderr[-3000:]}")
    child = json.loads(result.read_text())
    bad = [s for s in child["statuses"] if s != 200]
    if bad:
        raise RuntimeError(f"cold start of {candidate.label} answered {child['statuses']}:\n{done.stderr[-2000:]}")
    return Sample(wall, child)


def hello_item(bench: Bench) -> None:
    """Baseline (b)'s table and item on the moto server."""
    import boto3

    bench.endpoint  # noqa: B018 - starts moto, points boto3 at it
    client = boto3.client("dynamodb")
    if HELLO_TABLE not in client.list_tables()["TableNames"]:
        client.create_table(TableName=HELLO_TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    client.put_item(TableName=HELLO_TABLE, Item={"pk": {"S": "hello"}, "value": {"S": "world"}})


def candidates(bench: Bench) -> dict[str, Candidate]:
    examples = bench.plugins("examples")
    large = bench.plugins("large", workflows=bench.repeat(200, 20), tools=bench.repeat(50, 5))
    api = "functions.handlers.api"
    hello = [rest_event("GET", "/api/hello")]
    return {
        "hello": Candidate("hello (FastAPI + Mangum)", "hello", hello, path=[str(BASELINES)]),
        "hello_dynamodb": Candidate("hello + DynamoDB read (boto3)", "hello_dynamodb", hello, path=[str(BASELINES)]),
        "workflows": Candidate("api GET /api/workflows", api, [rest_event("GET", "/api/workflows", headers=AUTH)],
                               examples),
        "docs": Candidate("api GET /docs", api, [rest_event("GET", "/docs", headers=AUTH)], examples),
        "run": Candidate(f"api POST execute {NOOP}", api, [rest_event(
            "POST", f"/api/workflows/execute/{NOOP}", body=b"{}",
            headers={**AUTH, "Content-Type": "application/json"})], examples),
        "workflows_large": Candidate(f"api GET /api/workflows, +{large.workflows} workflows +{large.tools} tools", api,
                                     [rest_event("GET", "/api/workflows", headers=AUTH)], large),
        **against(bench, examples),
    }


def against(bench: Bench, examples: PluginSet) -> dict[str, Candidate]:
    """With ``--against REV``: the same two API requests answered by the api handler of that revision."""
    if not bench.against:
        return {}
    tree = str(bench.source_tree(bench.against))
    api = "functions.handlers.api"
    return {f"{name}_against": Candidate(f"api at {bench.against} GET {path}", api,
                                         [rest_event("GET", path, headers=AUTH)], examples, path=[tree])
            for name, path in (("workflows", "/api/workflows"), ("docs", "/docs"))}


def run(bench: Bench) -> list[Figure]:
    hello_item(bench)
    todo = candidates(bench)
    rounds = bench.repeat(bench.rounds, 1)
    log(f"cold start: {len(todo)} candidates x {rounds} rounds (+1 warm-up round: byte code)")
    runners = {name: functools.partial(run_child, bench, name, candidate) for name, candidate in todo.items()}
    samples = interleaved(runners, rounds)
    wall = {name: Stats.of([s.wall_ms for s in values]) for name, values in samples.items()}

    def detail(name: str) -> str:
        values = samples[name]
        inner = Stats.of([s.child["total_ms"] for s in values])
        imports = Stats.of([s.child["import_ms"] for s in values])
        first = Stats.of([s.child["first_ms"] for s in values])
        cpu = Stats.of([s.child["cpu_ms"] for s in values])
        loaded = ", ".join(values[-1].child["loaded"]) or "none of the watched packages"
        return (f"{todo[name].label}: process {wall[name].describe('ms')}; in the process: import "
                f"{imports.median:.0f} ms + first response {first.median:.0f} ms = {inner.median:.0f} ms, "
                f"CPU {cpu.median:.0f} ms; loaded: {loaded}")

    section = "cold start"
    figures = [
        Figure(section, "GET /api/workflows", wall["workflows"].median, "ms", "hello + DynamoDB read",
               wall["hello_dynamodb"].median, ratio_at_most(1.2)),
        Figure(section, "GET /docs", wall["docs"].median, "ms", "hello", wall["hello"].median, ratio_at_most(1.3)),
        Figure(section, f"GET /api/workflows, {todo['workflows_large'].plugin_set.workflows} workflows + "  # type: ignore[union-attr]
               f"{todo['workflows_large'].plugin_set.tools} tools more", wall["workflows_large"].median, "ms",
               "same, examples only", wall["workflows"].median, ratio_at_most(1.1)),
        Figure(section, "no-op run (2 DynamoDB writes)", wall["run"].median, "ms", "hello + DynamoDB read",
               wall["hello_dynamodb"].median),
    ]
    if bench.against:
        figures += [
            Figure(section, f"GET /api/workflows at {bench.against}", wall["workflows_against"].median, "ms",
                   "hello + DynamoDB read", wall["hello_dynamodb"].median),
            Figure(section, f"GET /docs at {bench.against}", wall["docs_against"].median, "ms", "hello",
                   wall["hello"].median),
            Figure(section, "GET /api/workflows, this tree", wall["workflows"].median, "ms", bench.against,
                   wall["workflows_against"].median),
            Figure(section, "GET /docs, this tree", wall["docs"].median, "ms", bench.against,
                   wall["docs_against"].median),
        ]
    figures[0].details = [detail(name) for name in todo]
    return figures
