"""Cold start: a fresh process imports a Lambda function's handler and answers its first event.

Each of the stack's three functions is measured as deployed against its floor, the smallest program
doing the same job, in fresh interpreters (``child.py``), interleaved and compared by medians:

- the api handler (``functions.handlers.api``) answering ``GET /docs``, ``GET /dashboard/`` and
  ``GET /api/workflows`` in both event shapes (REST API payload v1, what the stack sends, and HTTP API
  payload v2), with the admin token and without it (401: every one of those routes needs it), against
  ``hello`` (a minimal FastAPI + Mangum handler) and ``hello + DynamoDB`` (the same reading one item
  through boto3, real HTTP to the moto server) in the same shape; also a no-op workflow run (two
  DynamoDB writes) and ``GET /api/workflows`` with 200 generated workflows and 50 tools added;
- the worker (``functions.handlers.worker``) taking an SQS batch of one queued no-op run (queued through
  the platform by this process before each start: a run is claimed once), against ``bare_worker``
  (boto3 alone making the same claim and save);
- the scheduler (``functions.handlers.scheduler``) answering one tick of a scheduled no-op workflow (a
  new minute each start: a tick of the same minute is a duplicate and starts nothing), against
  ``bare_scheduler`` (boto3 alone making the same four requests);
- without byte code: the api's ``GET /api/workflows``, the worker, the scheduler and their floors as
  Lambda starts them when the layer ships no ``.pyc``: only the standard library and boto3, botocore
  and s3transfer (which the runtime provides, compiled) have byte code; the rest is compiled at import,
  and the child says how long compiling took;
- after a SnapStart restore: the api's, the worker's and the scheduler's priming hooks are run as the
  runtime runs them and only the first response after the restore hook is timed (the restore itself is
  Lambda's and cannot be measured here);
- with ``--against REV`` (a commit, tag or branch), ``GET /api/workflows`` and ``GET /docs`` answered by
  that revision's api handler too, in the same shuffled rounds: a change's before and after in one run.

Every child runs as on Lambda: the functions' code as the build ships it (``deployed_code``: with the
dashboard's templates compiled to Python), the plugin manifest (``WFP_MANIFEST``), tracing on (Powertools sees
``LAMBDA_TASK_ROOT``), the admin token checked (from the environment, so a request that needs no AWS
makes no AWS call). Byte code is cached for every candidate alike (``PYTHONPYCACHEPREFIX`` in the work
folder) except the "no byte code" ones. The time of a cold start is the child process's wall time, from
spawn to exit after answering; the child also reports its import time, its first response time, its
CPU time, its compile time and which heavy packages it loaded. Figures for information only (no target)
and the dashboard's (seconds per start) are measured every third round, so the section stays within a few
minutes.
"""

from __future__ import annotations

import functools
import itertools
import json
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .context import ADMIN_TOKEN, Bench, log
from .events import http_event, rest_event, sqs_event, tick_event
from .measure import Stats, interleaved
from .plugins import NOOP, SCHEDULED, PluginSet
from .report import Figure, ratio_at_most

HERE = Path(__file__).resolve().parent
CHILD = HERE / "child.py"
BASELINES = HERE / "baselines"
HELLO_TABLE = "wfp-bench-hello"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
API, WORKER, SCHEDULER = "functions.handlers.api", "functions.handlers.worker", "functions.handlers.scheduler"
SHAPES = {"rest": rest_event, "http": http_event}
SHAPE_NAMES = {"rest": "", "http": ", HTTP API v2"}
#: Packages the Lambda runtime provides with their byte code (the "no byte code" children keep theirs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer")
#: Parts of the standard library no handler imports (and the interpreter's own site-packages, which is not
#: the standard library): not compiled into the "no byte code" prefix.
STDLIB_SKIP = r"[/\\](site-packages|dist-packages|test|tests|idlelib|tkinter|turtledemo|lib2to3|ensurepip)[/\\]"
#: Info figures are sampled every ``SPARSE``-th round.
SPARSE = 3
#: The candidates also measured without byte code.
NO_BYTECODE = ("workflows", "hello_dynamodb", "worker", "bare_worker", "scheduler", "bare_scheduler")

Events = list[dict[str, Any]]
Check = Callable[[dict[str, Any]], str | None]


def statuses(*expected: int) -> Check:
    def check(child: dict[str, Any]) -> str | None:
        return None if child["statuses"] == list(expected) else f"answered {child['statuses']}, expected {list(expected)}"
    return check


def outputs(predicate: Callable[[Any], bool], what: str) -> Check:
    def check(child: dict[str, Any]) -> str | None:
        return None if all(predicate(out) for out in child["outputs"]) else f"answered {child['outputs']}, expected {what}"
    return check


BATCH_OK = outputs(lambda out: out == {"batchItemFailures": []}, "no failed message")
TICK_RAN = outputs(lambda out: isinstance(out, dict) and out.get("status") == "success", "a successful run")


@dataclass
class Candidate:
    label: str
    module: str
    #: The events, or what makes them afresh for each start (a queued run, a new tick).
    events: Events | Callable[[], Events]
    plugin_set: PluginSet | None = None
    path: list[str] = field(default_factory=list)
    check: Check = field(default_factory=lambda: statuses(200))
    #: False: as Lambda starts a layer without ``.pyc`` files (``no_bytecode_prefix``).
    bytecode: bool = True
    #: Run the SnapStart hooks after the import; the first response is timed from the restore.
    snapstart: bool = False
    #: Measured every ``every``-th round (and not in the warm-up round) when above 1.
    every: int = 1

    def make_events(self) -> Events:
        return self.events() if callable(self.events) else self.events


@dataclass
class Sample:
    wall_ms: float
    child: dict[str, Any]


def child_env(bench: Bench, candidate: Candidate) -> dict[str, str]:
    env = bench.child_env(candidate.plugin_set, BENCH_TABLE=HELLO_TABLE)
    if not candidate.bytecode:
        env.update(PYTHONPYCACHEPREFIX=str(no_bytecode_prefix(bench)), PYTHONDONTWRITEBYTECODE="1")
    return env


def run_child(bench: Bench, name: str, candidate: Candidate, *, record_aws: bool = False) -> Sample:
    result = bench.workdir / f"cold-{name}.json"
    result.unlink(missing_ok=True)
    spec = bench.write_json(f"cold-{name}-spec.json", {
        "module": candidate.module, "attr": "handler", "path": candidate.path, "events": candidate.make_events(),
        "result": str(result), "snapstart": candidate.snapstart, "record_aws": record_aws})
    env = child_env(bench, candidate)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(CHILD), str(spec)], env=env, cwd=bench.workdir,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or not result.exists():
        raise RuntimeError(f"cold start of {candidate.label} failed:\n{done.stderr[-3000:]}")
    child = json.loads(result.read_text())
    problem = candidate.check(child)
    if problem:
        raise RuntimeError(f"cold start of {candidate.label} {problem}:\n{done.stderr[-2000:]}")
    return Sample(wall, child)


def sparse(runner: Callable[[], Sample], every: int) -> Callable[[], Sample | None]:
    """``runner`` in rounds 1, 1 + every, 1 + 2 * every...; None in the others (and the warm-up round)."""
    calls = itertools.count()

    def maybe() -> Sample | None:
        call = next(calls)
        return runner() if call >= 1 and (call - 1) % every == 0 else None
    return maybe


# ----- what the children need ------------------------------------------------------------------------------
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


def no_bytecode_prefix(bench: Bench) -> Path:
    """A byte-code cache holding only what the Lambda runtime ships compiled: the standard library and
    boto3, botocore, s3transfer. Prepared once per work folder (``compileall`` into the prefix)."""
    prefix = bench.workdir / "pycache-runtime-only"
    ready = prefix / ".ready"
    if ready.exists():
        return prefix
    log(f"cold start: compiling the standard library and {', '.join(RUNTIME_PACKAGES)} into {prefix} (once)")
    stdlib, packages = sysconfig.get_paths()["stdlib"], runtime_package_folders()
    compile_into(bench, prefix, [stdlib], exclude=STDLIB_SKIP)
    compile_into(bench, prefix, packages)
    ready.write_text("\n".join([stdlib, *packages]))
    return prefix


def runtime_package_folders() -> list[str]:
    import importlib.util

    folders: list[str] = []
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        folders += list(spec.submodule_search_locations)
    return folders


def compile_into(bench: Bench, prefix: Path, folders: list[str], exclude: str | None = None) -> None:
    """``python -m compileall`` of ``folders`` with ``PYTHONPYCACHEPREFIX=prefix``. Its exit status is
    not checked: a few of the standard library's data files are not valid Python."""
    options = ["-x", exclude] if exclude else []
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *options, *folders],
                   env={**bench.base_env(), "PYTHONPYCACHEPREFIX": str(prefix)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def parent_platform(bench: Bench, plugin_set: PluginSet) -> Any:
    """This process's platform over ``plugin_set`` (moto behind it): queues the runs the workers take."""
    import os

    from functions.platform import get_platform, use

    bench.endpoint  # noqa: B018 - moto up, this process pointed at it
    os.environ.update(bench.platform_env(plugin_set))
    use(None)
    return get_platform()


def queued_run(bench: Bench, plugin_set: PluginSet) -> Callable[[], Events]:
    """Each call: a no-op run accepted as a webhook's (``queued``, its message sent), as the SQS batch
    that delivers it to the worker."""
    from functions.core.message import QueuedRun

    def events() -> Events:
        run = parent_platform(bench, plugin_set).engine.accept(NOOP, {}, "webhook", wait=None).run
        return [sqs_event(QueuedRun(run.run_id, run.workflow, {}).encode())]
    return events


#: Minutes handed out to ticks, one each: a tick of a minute already run is a duplicate.
_minutes = itertools.count()
_first_minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=7)


def next_tick() -> Events:
    moment = _first_minute + timedelta(minutes=next(_minutes))
    return [tick_event(SCHEDULED, moment.strftime("%Y-%m-%dT%H:%M:%SZ"))]


# ----- candidates ------------------------------------------------------------------------------------------
def floors() -> dict[str, Candidate]:
    base = [str(BASELINES)]
    found: dict[str, Candidate] = {}
    for shape, make in SHAPES.items():
        suffix, tail = ("" if shape == "rest" else "_http"), SHAPE_NAMES[shape]
        found[f"hello{suffix}"] = Candidate(f"hello (FastAPI + Mangum){tail}", "hello", [make("GET", "/api/hello")],
                                            path=base)
        found[f"hello_dynamodb{suffix}"] = Candidate(f"hello + DynamoDB read (boto3){tail}", "hello_dynamodb",
                                                     [make("GET", "/api/hello")], path=base)
    return found


def api_requests(examples: PluginSet) -> dict[str, Candidate]:
    """The three pages in both shapes, with the token (200) and without (401, sampled less). The
    dashboard's first page takes seconds (it queries every workflow's history): sampled less too."""
    found: dict[str, Candidate] = {}
    for key, path in (("workflows", "/api/workflows"), ("docs", "/docs"), ("dashboard", "/dashboard/")):
        for shape, make in SHAPES.items():
            suffix, tail = ("" if shape == "rest" else "_http"), SHAPE_NAMES[shape]
            found[f"{key}{suffix}"] = Candidate(f"api GET {path}{tail}", API, [make("GET", path, headers=AUTH)],
                                                examples, every=SPARSE if key == "dashboard" else 1)
            found[f"{key}{suffix}_anon"] = Candidate(f"api GET {path}{tail}, no token", API, [make("GET", path)],
                                                     examples, check=statuses(401), every=SPARSE)
    return found


def background(bench: Bench, examples: PluginSet) -> dict[str, Candidate]:
    """The worker and the scheduler, and their floors."""
    base = [str(BASELINES)]
    runs = queued_run(bench, examples)
    return {
        "worker": Candidate(f"worker, SQS batch of one queued {NOOP} run", WORKER, runs, examples, check=BATCH_OK),
        "bare_worker": Candidate("bare worker (boto3: claim + save)", "bare_worker", runs, path=base, check=BATCH_OK),
        "scheduler": Candidate(f"scheduler, one tick of {SCHEDULED}", SCHEDULER, next_tick, examples, check=TICK_RAN),
        "bare_scheduler": Candidate("bare scheduler (boto3: get + 2 puts + update)", "bare_scheduler", next_tick,
                                    path=base, check=TICK_RAN),
        "worker_snapstart": Candidate(f"worker after a SnapStart restore, one queued {NOOP} run", WORKER, runs,
                                      examples, check=BATCH_OK, snapstart=True, every=SPARSE),
        "scheduler_snapstart": Candidate(f"scheduler after a SnapStart restore, one tick of {SCHEDULED}", SCHEDULER,
                                         next_tick, examples, check=TICK_RAN, snapstart=True, every=SPARSE),
    }


def without_bytecode(found: dict[str, Candidate], names: tuple[str, ...] = NO_BYTECODE) -> dict[str, Candidate]:
    """The same starts as a layer without ``.pyc`` files makes them."""
    return {f"{name}_nobc": Candidate(f"{found[name].label}, no byte code", found[name].module, found[name].events,
                                      found[name].plugin_set, found[name].path, found[name].check, bytecode=False,
                                      every=SPARSE) for name in names}


def candidates(bench: Bench) -> dict[str, Candidate]:
    examples = bench.plugins("examples")
    large = bench.plugins("large", workflows=bench.repeat(200, 20), tools=bench.repeat(50, 5))
    found = {**floors(), **api_requests(examples), **background(bench, examples)}
    found.update(
        run=Candidate(f"api POST execute {NOOP}", API, [rest_event(
            "POST", f"/api/workflows/execute/{NOOP}", body=b"{}",
            headers={**AUTH, "Content-Type": "application/json"})], examples, every=SPARSE),
        workflows_large=Candidate(f"api GET /api/workflows, +{large.workflows} workflows +{large.tools} tools", API,
                                  [rest_event("GET", "/api/workflows", headers=AUTH)], large),
        snapstart=Candidate("api GET /api/workflows after a SnapStart restore", API,
                            [rest_event("GET", "/api/workflows", headers=AUTH)], examples, snapstart=True,
                            every=SPARSE),
    )
    found.update(without_bytecode(found))
    code = deployed_code(bench)
    for candidate in found.values():  # the platform's functions run the code as the build ships it
        if candidate.module in (API, WORKER, SCHEDULER) and not candidate.path:
            candidate.path = code
    found.update(against(bench, examples))
    return found


def deployed_code(bench: Bench) -> list[str]:
    """The functions' code asset as ``layers.build`` makes it (the platform's code and the dashboard's
    templates compiled to Python), as the first entry of a child's path."""
    import shutil

    from layers.build import REPO, _ignore, compile_dashboard_templates

    folder = bench.workdir / "function-code"
    if not folder.is_dir():
        shutil.copytree(REPO / "functions", folder / "functions", ignore=_ignore())
        compile_dashboard_templates(folder / "functions")
    return [str(folder)]


def against(bench: Bench, examples: PluginSet) -> dict[str, Candidate]:
    """With ``--against REV``: the same two API requests answered by the api handler of that revision."""
    if not bench.against:
        return {}
    tree = str(bench.source_tree(bench.against))
    return {f"{name}_against": Candidate(f"api at {bench.against} GET {path}", API,
                                         [rest_event("GET", path, headers=AUTH)], examples, path=[tree])
            for name, path in (("workflows", "/api/workflows"), ("docs", "/docs"))}


# ----- figures ---------------------------------------------------------------------------------------------
def measure(bench: Bench, todo: dict[str, Candidate], rounds: int) -> dict[str, list[Sample]]:
    runners: dict[str, Callable[[], Sample | None]] = {}
    for name, candidate in todo.items():
        runner = functools.partial(run_child, bench, name, candidate)
        runners[name] = sparse(runner, candidate.every) if candidate.every > 1 else runner
    samples = interleaved(runners, rounds)
    return {name: [s for s in values if s is not None] for name, values in samples.items()}


def compile_text(values: list[Sample]) -> str:
    compiled = Stats.of([s.child["compiled"] for s in values]).median
    spent = Stats.of([s.child["compile_ms"] for s in values]).median
    return f"{compiled:.0f} modules compiled in {spent:.0f} ms"


def detail(label: str, values: list[Sample]) -> str:
    wall = Stats.of([s.wall_ms for s in values])
    inner = Stats.of([s.child["total_ms"] for s in values])
    imports = Stats.of([s.child["import_ms"] for s in values])
    first = Stats.of([s.child["first_ms"] for s in values])
    cpu = Stats.of([s.child["cpu_ms"] for s in values])
    loaded = ", ".join(values[-1].child["loaded"]) or "none of the watched packages"
    hooks = (f" + SnapStart hooks {Stats.of([s.child['hooks_ms'] for s in values]).median:.0f} ms"
             if values[-1].child.get("snapshot_hooks") else "")
    return (f"{label}: process {wall.describe('ms')}; in the process: import {imports.median:.0f} ms{hooks} + first "
            f"response {first.median:.0f} ms = {inner.median:.0f} ms, CPU {cpu.median:.0f} ms, "
            f"{compile_text(values)}; loaded: {loaded}")


def api_figures(wall: dict[str, float], todo: dict[str, Candidate]) -> list[Figure]:
    section = "cold start"
    large = todo["workflows_large"].plugin_set
    assert large is not None
    figures = [
        Figure(section, "GET /api/workflows", wall["workflows"], "ms", "hello + DynamoDB read",
               wall["hello_dynamodb"], ratio_at_most(0.8)),
        Figure(section, "GET /api/workflows, HTTP API v2", wall["workflows_http"], "ms",
               "hello + DynamoDB read, HTTP API v2", wall["hello_dynamodb_http"], ratio_at_most(0.8)),
        Figure(section, "GET /docs", wall["docs"], "ms", "hello", wall["hello"], ratio_at_most(1.1)),
        Figure(section, "GET /docs, HTTP API v2", wall["docs_http"], "ms", "hello, HTTP API v2", wall["hello_http"],
               ratio_at_most(1.1)),
        Figure(section, "GET /dashboard/", wall["dashboard"], "ms", "hello", wall["hello"], ratio_at_most(1.1)),
        Figure(section, "GET /dashboard/, HTTP API v2", wall["dashboard_http"], "ms", "hello, HTTP API v2",
               wall["hello_http"], ratio_at_most(1.1)),
    ]
    for key, path in (("workflows", "/api/workflows"), ("docs", "/docs"), ("dashboard", "/dashboard/")):
        for suffix, tail in (("", ""), ("_http", ", HTTP API v2")):
            figures.append(Figure(section, f"GET {path}{tail}, no token (401)", wall[f"{key}{suffix}_anon"], "ms",
                                  f"hello{tail}", wall[f"hello{suffix}"]))
    figures += [
        Figure(section, f"GET /api/workflows, {large.workflows} workflows + {large.tools} tools more",
               wall["workflows_large"], "ms", "same, examples only", wall["workflows"], ratio_at_most(1.1)),
        Figure(section, "no-op run (2 DynamoDB writes)", wall["run"], "ms", "hello + DynamoDB read",
               wall["hello_dynamodb"]),
    ]
    return figures


def background_figures(wall: dict[str, float], samples: dict[str, list[Sample]]) -> list[Figure]:
    section = "cold start"
    figures = [
        Figure(section, "worker: SQS batch of one queued no-op run", wall["worker"], "ms", "bare worker (boto3)",
               wall["bare_worker"], ratio_at_most(1.3)),
        Figure(section, "scheduler: one tick, one no-op run", wall["scheduler"], "ms", "bare scheduler (boto3)",
               wall["bare_scheduler"], ratio_at_most(1.3)),
    ]
    for name, floor, what, floor_name in (
            ("workflows", "hello_dynamodb", "GET /api/workflows", "hello + DynamoDB read"),
            ("worker", "bare_worker", "worker", "bare worker (boto3)"),
            ("scheduler", "bare_scheduler", "scheduler", "bare scheduler (boto3)")):
        figures.append(Figure(section, f"{what}, no byte code", wall[f"{name}_nobc"], "ms", f"{floor_name}, no byte code",
                              wall[f"{floor}_nobc"], note=f"{compile_text(samples[f'{name}_nobc'])}; floor: "
                              f"{compile_text(samples[f'{floor}_nobc'])}"))
    return figures


def snapstart_figures(wall: dict[str, float], samples: dict[str, list[Sample]]) -> list[Figure]:
    """What a restored environment does before answering (from after the restore hook to the first
    response, in the process), against the same function's cold start and the background floors. Lambda's
    restore itself comes on top and cannot be measured here (its REPORT line says ``Restore Duration``)."""
    def first(name: str) -> float:
        return Stats.of([s.child["first_ms"] for s in samples[name]]).median

    note = "from after the restore hook to the first response, in the process; Lambda's restore comes on top"
    return [
        Figure("cold start", "api after a SnapStart restore: GET /api/workflows", first("snapstart"), "ms",
               "GET /api/workflows, cold", wall["workflows"], note=note),
        Figure("cold start", "worker after a SnapStart restore: one queued no-op run", first("worker_snapstart"),
               "ms", "bare worker (boto3), cold", wall["bare_worker"], note=note),
        Figure("cold start", "scheduler after a SnapStart restore: one tick", first("scheduler_snapstart"), "ms",
               "bare scheduler (boto3), cold", wall["bare_scheduler"], note=note),
    ]


def against_figures(bench: Bench, wall: dict[str, float]) -> list[Figure]:
    if not bench.against:
        return []
    section = "cold start"
    return [
        Figure(section, f"GET /api/workflows at {bench.against}", wall["workflows_against"], "ms",
               "hello + DynamoDB read", wall["hello_dynamodb"]),
        Figure(section, f"GET /docs at {bench.against}", wall["docs_against"], "ms", "hello", wall["hello"]),
        Figure(section, "GET /api/workflows, this tree", wall["workflows"], "ms", bench.against,
               wall["workflows_against"]),
        Figure(section, "GET /docs, this tree", wall["docs"], "ms", bench.against, wall["docs_against"]),
    ]


def run(bench: Bench) -> list[Figure]:
    hello_item(bench)
    todo = candidates(bench)
    no_bytecode_prefix(bench)
    rounds = bench.repeat(bench.rounds, 1)
    dense = sum(1 for c in todo.values() if c.every == 1)
    log(f"cold start: {dense} candidates x {rounds} rounds (+1 warm-up round: byte code), "
        f"{len(todo) - dense} more once every {SPARSE} rounds")
    samples = measure(bench, todo, rounds)
    wall = {name: Stats.of([s.wall_ms for s in values]).median for name, values in samples.items()}
    figures = [*api_figures(wall, todo), *background_figures(wall, samples), *snapstart_figures(wall, samples),
               *against_figures(bench, wall)]
    figures[0].details = [detail(todo[name].label, samples[name]) for name in todo]
    return figures
