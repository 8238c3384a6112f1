"""Local start: ``python -m local_dev`` until its first 200 on ``/api/workflows``, in seconds.

Measured from the spawn of the process, with an empty local state (first start: tables created),
and with a large one: 10,000 runs in the journal (``.wfp/aws-journal.jsonl``), written as the
compacted journal a user with that many runs has (the tables' CreateTable lines, then one PutItem per
run). The large state is started twice: the first start after the runs were written, then a
restart. Each start is repeated and the median reported.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path

from .context import Bench, log
from .measure import Stats
from .report import Figure, value
from .servers import free_port, local_platform, wait_ok

WORKFLOWS = ("hello_world", "incoming_webhook", "daily_digest", "bench_noop")


def prepare_tables(bench: Bench, state: Path) -> None:
    """An empty local state whose journal creates the platform's tables (what a first start writes)."""
    from local_dev.aws import LocalAws
    from local_dev.environment import prepare  # noqa: F401 - same modules the server uses

    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL",)}
    aws = LocalAws(state)
    try:
        os.environ["AWS_ENDPOINT_URL"] = aws.start()
        from functions.settings import Settings
        from functions.stores import create_tables

        create_tables(Settings())
    finally:
        aws.stop()
        for key, previous in saved.items():
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous
        from functions.stores.base import reset_connections

        reset_connections()


def append_runs(state: Path, count: int) -> None:
    """``count`` PutItem lines of finished runs, in the journal's own format."""
    from functions.core.runs import Run, new_run_id, utcnow
    from functions.settings import Settings
    from functions.stores.runs import DynamoRunStore
    from local_dev.compaction import _headers

    settings = Settings()
    store, table = DynamoRunStore(settings), settings.runs_table
    headers = _headers("dynamodb", "DynamoDB_20120810.PutItem", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    with open(state / "aws-journal.jsonl", "a", encoding="utf-8") as journal:
        for index in range(count):
            now = utcnow()
            run = Run(run_id=new_run_id(), workflow=WORKFLOWS[index % len(WORKFLOWS)], trigger="manual",
                      status="success", created_at=now, started_at=now, finished_at=now, duration_ms=12,
                      message="done", inputs={"name": f"user {index}"}, output={"status": "success"},
                      logs=[f"line {index}"])
            body = {"TableName": table, "Item": store._item(run).serialize()}
            journal.write(json.dumps({"path": "/", "headers": headers,
                                      "body": base64.b64encode(json.dumps(body).encode()).decode()}) + "\n")


def start_seconds(bench: Bench, state: Path, name: str) -> float:
    env = {**bench.base_env(), **bench.platform_env(bench.plugins("examples")), "WFP_LOCAL_STATE": str(state),
           "WFP_ENV_FILE": str(bench.workdir / "no.env")}
    env.pop("WFP_MANIFEST", None)
    env.pop("WFP_ADMIN_TOKEN", None)
    port = free_port()
    started = time.perf_counter()
    with local_platform(env, bench.workdir / f"localstart-{name}.log", port) as server:
        wait_ok(f"{server.url}/api/workflows", timeout=300, process=server.process)
        return time.perf_counter() - started


def run(bench: Bench) -> list[Figure]:
    runs = bench.repeat(10_000, 1_000)
    repeats = bench.repeat(3, 1)
    bench.endpoint  # noqa: B018 - settings of the benchmark (table names) for the journal lines
    template = bench.workdir / "state-template"
    shutil.rmtree(template, ignore_errors=True)
    prepare_tables(bench, template)
    append_runs(template, runs)
    lines = sum(1 for _ in open(template / "aws-journal.jsonl", encoding="utf-8"))
    log(f"local start: empty state, and {runs} runs ({lines} journal lines), {repeats} times each")
    empty, first, again = [], [], []
    for attempt in range(repeats):
        state = bench.workdir / f"state-empty-{attempt}"
        shutil.rmtree(state, ignore_errors=True)
        empty.append(start_seconds(bench, state, "empty"))
        large = bench.workdir / f"state-large-{attempt}"
        shutil.rmtree(large, ignore_errors=True)
        shutil.copytree(template, large)
        first.append(start_seconds(bench, large, "large-first"))
        again.append(start_seconds(bench, large, "large-again"))
    section = "local start"
    figures = [
        Figure(section, "python -m local_dev → first 200 on /api/workflows, empty state",
               Stats.of(empty).median, "s", target=value("<", 3)),
        Figure(section, f"same, {runs} runs in the journal (first start after they were written)",
               Stats.of(first).median, "s", target=value("<", 3)),
        Figure(section, f"same, {runs} runs, restart", Stats.of(again).median, "s", target=value("<", 3)),
    ]
    figures[0].details = [f"{name}: {Stats.of(v).describe('s')}" for name, v in
                          (("empty", empty), ("large, first start", first), ("large, restart", again))]
    return figures
