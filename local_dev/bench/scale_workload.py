"""The scale simulation's workload: synthetic runs driven through the platform's own engine, worker and stores
against moto (in this process, ``mock_aws``), every DynamoDB write recorded by a botocore hook.

Each run gets a plan (``plan``): its path, its workflow, its arrival time on the simulated timeline and how
long its steps take. A run follows its path through the real code:

- ``sync`` / ``sync_error``: ``Engine.accept(wait=UNTIL_DONE)`` (the API's execute route): create, run, save;
- ``webhook``: ``Engine.accept(wait=None)`` (a webhook, a third of them with a provider's delivery id as
  Idempotency-Key), then the worker's ``QueuedRuns.deliver``: claim, run, save;
- ``webhook_retry``: the workflow fails its first attempt and has ``retry_on_error``: saved ``queued``, sent
  again with the engine's delay, claimed and run again;
- ``platform_retry``: the worker's final save fails once (a platform failure, injected in the store before
  any request): the run is released, delivered again after the queue's visibility timeout, claimed again;
- ``scheduled``: ``Schedules.tick`` (the scheduler function), one in five delivered twice (EventBridge's at
  least once: the duplicate meets the "does not exist" condition).

The queue is a list (what SQS would deliver, with its delay); the simulated clock (``SimRun.now``, ms) is
the arrival time, moved by the delivery latency, the workflow's own duration (the workflow code moves it),
the retry delay or the visibility timeout. A write is stamped with the clock of the run that made it.

Recording (``Recorder``): ``before-parameter-build`` keeps the request's parameters, ``after-call`` the
answer; with the item as it was (the recorder keeps the last image of every item) and as it became (a
PutItem's item, an UpdateItem's ``ALL_NEW`` attributes, which pynamodb always asks for), the write is
costed for each layout and traffic shape (``local_dev.bench.scale``) and summed per (index, partition key,
second). Keys that hold one item (a run's record, an Idempotency-Key) are summed per run and only their
peak is kept.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .capacity import Image, IndexSpec, Sizes, table_units

#: Paths and their share of the runs that are not scheduled (percent).
MIX = {"sync": 50, "sync_error": 4, "webhook": 36, "webhook_retry": 6, "platform_retry": 4}
#: One run in ``SCHEDULED_EVERY`` is a scheduled tick (odd sequence numbers only: never the hot workflow's).
SCHEDULED_EVERY = 50
#: Workflows of the uniform shape (API and webhook paths), and scheduled ones.
WORKFLOWS = [f"w{n:02d}" for n in range(20)]
SCHEDULED = [f"tick{n}" for n in range(10)]
#: The workflow that takes every other run in the hot shape.
HOT = "hot"
#: What the queue's visibility timeout is deployed (6 x the worker's timeout, 60 + 30 s): a released run's
#: next delivery comes that much later.
VISIBILITY_MS = 6 * 90 * 1000
WORKFLOW_CODE = '''
from local_dev.bench.scale_workload import advance


def execute(data, tools):
    outcome = advance()
    if outcome:
        return {"status": "error", "message": outcome}
    return {"status": "success", "data": {"n": data.get("n"), "items": [1, 2, 3]}}
'''


# ----- the plan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    seq: int
    path: str
    #: The workflow the run is recorded under (the hot shape's), and the uniform shape's for the same run.
    workflow: str
    uniform: str
    arrival_ms: float
    duration_ms: float
    latency_ms: float
    idempotency_key: str | None = None
    #: A scheduled tick's minute, and whether EventBridge delivers it twice.
    minute: datetime | None = None
    duplicate: bool = False


def arrivals(count: int, rate: float, seed: int) -> list[float]:
    """Arrival times (ms) of a Poisson process at ``rate`` runs a second."""
    rng = random.Random(seed)
    now, times = 0.0, []
    for _ in range(count):
        now += rng.expovariate(rate) * 1000
        times.append(now)
    return times


def plan(seq: int, arrival_ms: float, seed: int, base_minute: datetime) -> Plan:
    rng = random.Random(seed * 1_000_003 + seq)
    if seq % SCHEDULED_EVERY == 1:
        tick = seq // SCHEDULED_EVERY
        workflow = SCHEDULED[tick % len(SCHEDULED)]
        return Plan(seq, "scheduled", workflow, workflow, arrival_ms, rng.uniform(20, 800), 0.0,
                    minute=base_minute + timedelta(minutes=tick // len(SCHEDULED)), duplicate=tick % 5 == 0)
    path = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    uniform = WORKFLOWS[rng.randrange(len(WORKFLOWS))]
    queued = path not in ("sync", "sync_error")
    key = f"delivery-{seed}-{seq}" if path == "webhook" and rng.random() < 1 / 3 else None
    return Plan(seq, path, HOT if seq % 2 == 0 else uniform, uniform, arrival_ms,
                rng.uniform(50, 2000) if queued else rng.uniform(20, 800), rng.uniform(20, 200) if queued else 0.0,
                idempotency_key=key)


# ----- the simulated clock -------------------------------------------------------------------------------
@dataclass
class SimRun:
    plan: Plan
    now: float
    attempts: int = 0
    failed_save: bool = False
    sent: list[tuple[str, int]] = field(default_factory=list)


CURRENT: contextvars.ContextVar[SimRun | None] = contextvars.ContextVar("wfp_scale_run", default=None)


def advance() -> str | None:
    """Called by the simulated workflows: the run's duration passes; the failure it returns, if any."""
    run = CURRENT.get()
    if run is None:
        return None
    run.attempts += 1
    run.now += run.plan.duration_ms
    if run.plan.path == "sync_error":
        return "simulated failure"
    if run.plan.path == "webhook_retry" and run.attempts == 1:
        return "simulated failure, retried"
    return None


def write_plugins(root: Path) -> Path:
    """The workflows of the simulation: every API workflow accepts every path, the scheduled ones tick."""
    for sub in ("tools", "workflows", "interfaces"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "__init__.py").write_text("")
    configs = {name: {"triggers": ["manual", "webhook"], "webhook_auth": "none", "retry_on_error": True,
                      "max_attempts": 3, "timeout_seconds": 60} for name in [*WORKFLOWS, HOT]}
    configs.update({name: {"triggers": ["schedule", "manual"], "schedule": "* * * * *", "timeout_seconds": 60}
                    for name in SCHEDULED})
    for name, config in configs.items():
        folder = root / "workflows" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"name": name, **config}))
        (folder / "main.py").write_text(WORKFLOW_CODE)
    return root


# ----- layouts -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Index definitions of the runs table, and how the keys the code wrote read under them."""

    name: str
    indexes: tuple[IndexSpec, ...]
    transform: Callable[[Image], Image]


#: The layouts compared (their names, in the report's order): the indexes before this change; this change
#: with its default settings (by_workflow kept, 4 day shards, 8 history shards); with the settings for 10,000
#: runs a second (``SCALE_SETTINGS``: by_workflow retired, 64 day shards, 32 history shards). The runs are
#: recorded with the last one.
LAYOUTS = ("before", "defaults", "sharded")
SCALE_SETTINGS = {"open_run_shards": 64, "history_shards": 32, "run_day_shards": 64, "legacy_history_index": False}


def _before(image: Image) -> Image:
    """An item as the previous release wrote it: one open-runs key, 4 day shards, no history key."""
    from functions.core.run_search import DAY_SHARDS, day_shard
    from functions.core.shards import OPEN_SHARD

    out = {name: value for name, value in image.items() if name != "history_key"}
    if "lease_shard" in out:
        out["lease_shard"] = {"S": OPEN_SHARD}
    if "day_shard" in out:
        out["day_shard"] = {"S": day_shard(image["run_id"]["S"], DAY_SHARDS)}
    return out


def _defaults(image: Image) -> Image:
    """An item as this release writes it with its default settings (4 day shards, 8 history shards)."""
    from functions.core.run_search import day_shard
    from functions.core.shards import history_key
    from functions.settings import Settings

    defaults = Settings.model_fields
    out = dict(image)
    run_id = image["run_id"]["S"]
    if "day_shard" in out:
        out["day_shard"] = {"S": day_shard(run_id, defaults["run_day_shards"].default)}
    if "history_key" in out:
        workflow = out["history_key"]["S"].rsplit("#", 1)[0]
        out["history_key"] = {"S": history_key(workflow, run_id, defaults["history_shards"].default)}
    return out


def _as_written(image: Image) -> Image:
    return image


def layouts() -> list[Layout]:
    """The three layouts, their indexes read from the runs model (what the CDK deploys)."""
    from functions.stores.runs import RunModel

    specs = {i["index_name"]: IndexSpec.of_schema(i) for i in RunModel._get_schema()["global_secondary_indexes"]}
    return [Layout("before", tuple(specs[n] for n in ("by_workflow", "open_runs", "by_day")), _before),
            Layout("defaults", tuple(specs[n] for n in ("by_workflow", "open_runs", "by_day", "by_history")),
                   _defaults),
            Layout("sharded", tuple(specs[n] for n in ("open_runs", "by_day", "by_history")), _as_written)]


def relabel(image: Image, run: SimRun) -> Image | None:
    """The uniform shape of a hot run's item: its workflow is the one the uniform shape gives it (the history
    shard, read from the run id, stays); None for an item that needs none."""
    if run.plan.workflow == run.plan.uniform or image.get("workflow", {}).get("S") != run.plan.workflow:
        return None
    out = {**image, "workflow": {"S": run.plan.uniform}}
    if "history_key" in image:
        shard = image["history_key"]["S"].rsplit("#", 1)[1]
        out["history_key"] = {"S": f"{run.plan.uniform}#{shard}"}
    return out


# ----- recording -----------------------------------------------------------------------------------------
@dataclass
class Partial:
    """What one batch of runs wrote, summed (``merge`` adds batches)."""

    #: (shape, layout, "table/index", partition key, second) -> write units.
    keys: Counter[tuple[str, str, str, str, int]] = field(default_factory=Counter)
    #: (shape, layout, "table") -> the highest write units a second on one single-item key (a run's record).
    item_peaks: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: (layout, "table" or "table/index", second) -> write units (the hot shape's, as recorded).
    totals: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    #: path -> runs; (path, "service:Operation") -> requests.
    runs: Counter[str] = field(default_factory=Counter)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: float = 0.0

    def merge(self, other: "Partial") -> "Partial":
        self.keys.update(other.keys)
        for key, value in other.item_peaks.items():
            self.item_peaks[key] = max(self.item_peaks.get(key, 0), value)
        self.totals.update(other.totals)
        self.runs.update(other.runs)
        self.requests.update(other.requests)
        self.seconds += other.seconds
        return self


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
#: Tables whose partition key is one item (a run, an Idempotency-Key): summed per run, peak kept.
SINGLE_ITEM_TABLES = frozenset({"runs", "idempotency"})


class Recorder:
    """The botocore hooks and what they sum (see the module's docstring)."""

    def __init__(self, tables: dict[str, tuple[str, tuple[str, ...]]], layouts: list[Layout],
                 relabel: Callable[[Image, SimRun], Image | None]) -> None:
        #: Table name -> (logical name, key attributes).
        self.tables = tables
        self.layouts = layouts
        self.relabel = relabel
        self.partial = Partial()
        self.images: dict[tuple[str, str], Image] = {}
        self._run_keys: Counter[tuple[str, str, str, str, int]] = Counter()
        self._run_images: set[tuple[str, str]] = set()

    # botocore: before-parameter-build.dynamodb.*
    def params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        run = CURRENT.get()
        if run is None:
            return
        self.partial.requests[(run.plan.path, f"dynamodb:{model.name}")] += 1
        if model.name in WRITES:
            context["wfp_scale"] = (model.name, params, run)

    # botocore: after-call.dynamodb.*
    def answered(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
                 **_: Any) -> None:
        stashed = context.pop("wfp_scale", None)
        if stashed is None:
            return
        operation, params, run = stashed
        known = self.tables.get(params.get("TableName", ""))
        if known is None:
            return
        table, key_names = known
        applied = http_response.status_code < 300
        if operation == "PutItem":
            item = params["Item"]
            key = "|".join(str(next(iter(item[k].values()))) for k in key_names)
            new: Image | None = item if applied else None
        else:
            key = "|".join(str(next(iter(params["Key"][k].values()))) for k in key_names)
            new = parsed.get("Attributes") if applied else None
        old = self.images.get((table, key))
        if applied:
            if new is None and operation == "DeleteItem":
                self.images.pop((table, key), None)
            elif new is not None:
                self.images[(table, key)] = new
        self.record(table, key, old, new, applied, run)

    def record(self, table: str, key: str, old: Image | None, new: Image | None, applied: bool, run: SimRun) -> None:
        second = int(run.now // 1000)
        sizes = Sizes()
        if table != "runs":
            units = table_units(old, new, applied, sizes)
            for shape in ("uniform", "hot"):
                for layout in self.layouts:
                    self._add(shape, layout.name, table, key, second, units)
            for layout in self.layouts:
                self.partial.totals[(layout.name, table, second)] += units
            return
        self._run_images.add((table, key))
        relabeled = (self.relabel(old, run) if old else None, self.relabel(new, run) if new else None)
        shapes: list[tuple[str, tuple[Image | None, Image | None]]] = [("hot", (old, new))]
        shapes.append(("uniform", relabeled if (relabeled[0] or relabeled[1]) else (old, new)))
        for shape, (before, after) in shapes:
            for layout in self.layouts:
                b = layout.transform(before) if before else None
                a = layout.transform(after) if after else None
                units = table_units(b, a, applied, sizes)
                self._add(shape, layout.name, "runs", key, second, units)
                if shape == "hot":
                    self.partial.totals[(layout.name, "runs", second)] += units
                if not applied:
                    continue
                for index in layout.indexes:
                    label = f"runs/{index.name}"
                    for partition, index_units in index.writes(b, a, ("run_id",), sizes):
                        self._add(shape, layout.name, label, partition, second, index_units)
                        if shape == "hot":
                            self.partial.totals[(layout.name, label, second)] += index_units

    def _add(self, shape: str, layout: str, label: str, key: str, second: int, units: int) -> None:
        if label in SINGLE_ITEM_TABLES:
            self._run_keys[(shape, layout, label, key, second)] += units
        else:
            self.partial.keys[(shape, layout, label, key, second)] += units

    def end_run(self, run: SimRun) -> None:
        """A run is done: its single-item keys' peaks are kept, its record's image dropped."""
        peaks = self.partial.item_peaks
        for (shape, layout, label, _key, _second), units in self._run_keys.items():
            peaks[(shape, layout, label)] = max(peaks.get((shape, layout, label), 0), units)
        self._run_keys.clear()
        for image in self._run_images:
            self.images.pop(image, None)
        self._run_images.clear()
        self.partial.runs[run.plan.path] += 1


# ----- driving -------------------------------------------------------------------------------------------
class SimQueue:
    """The runs queue as the worker sees it: what was sent, with its delay (``functions.core.ports.Queue``)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def send(self, body: str, delay: int = 0) -> str:
        run = CURRENT.get()
        assert run is not None, "a run was queued outside the simulation"
        run.sent.append((body, delay))
        self.recorder.partial.requests[(run.plan.path, "sqs:SendMessage")] += 1
        return str(len(run.sent))

    def retry_later(self, receipt_handle: str, seconds: int) -> None:  # pragma: no cover - not used here
        pass


def failing_store(settings: Any) -> Any:
    """The runs store, whose final save fails once for a ``platform_retry`` run (before any request)."""
    from functions.core.runs import OPEN_STATUSES
    from functions.stores.runs import DynamoRunStore

    class Store(DynamoRunStore):
        def save(self, record: Any) -> None:
            run = CURRENT.get()
            if (run is not None and run.plan.path == "platform_retry" and not run.failed_save
                    and record.status not in OPEN_STATUSES):
                run.failed_save = True
                raise ConnectionError("simulated platform failure: the result could not be saved")
            super().save(record)

    return Store(settings)


def drive(platform: Any, run: SimRun) -> None:
    from functions.core.engine import UNTIL_DONE
    from functions.core.schedules import Tick

    p = run.plan
    if p.path in ("sync", "sync_error"):
        platform.engine.accept(p.workflow, {"n": p.seq}, "api", wait=UNTIL_DONE)
    elif p.path == "scheduled":
        assert p.minute is not None
        platform.schedules.tick(Tick(p.workflow, p.minute))
        if p.duplicate:
            run.now += 500
            platform.schedules.tick(Tick(p.workflow, p.minute))
    else:
        platform.engine.accept(p.workflow, {"n": p.seq}, "webhook", wait=None, idempotency_key=p.idempotency_key)
        deliver(platform, run)


def deliver(platform: Any, run: SimRun) -> None:
    """What the queue and the worker do with a run's messages, in order, until none is left."""
    from functions.core.message import QueuedRun

    attempts = platform.settings.max_attempts
    while run.sent:
        body, delay = run.sent.pop(0)
        run.now += delay * 1000 + run.plan.latency_ms
        message = QueuedRun.decode(body)
        for delivery in range(1, attempts + 1):
            try:
                platform.queued.deliver(message.run_id, message.data, message.workflow,
                                        last_delivery=delivery == attempts, profiles=message.profiles)
                break
            except ConnectionError:  # the platform failure: SQS delivers the message again
                run.now += VISIBILITY_MS


_arrivals: dict[tuple[int, float, int], list[float]] = {}


def record_batch(seqs: range, count: int, rate: float, seed: int, plugins: Path) -> Partial:
    """Drive runs ``seqs`` (of ``count`` arriving at ``rate`` a second) through a fresh platform on a fresh
    moto, in this process, with ``SCALE_SETTINGS``; what they wrote under each layout and shape."""
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS
    from moto import mock_aws

    from functions.platform import Platform, use
    from functions.settings import TABLES, Settings
    from functions.stores import all_models, create_tables
    from functions.stores.base import reset_connections

    started = time.perf_counter()
    if (count, rate, seed) not in _arrivals:
        _arrivals.clear()
        _arrivals[(count, rate, seed)] = arrivals(count, rate, seed)
    arrivals_ms = _arrivals[(count, rate, seed)]
    chosen = Settings(stage="scale", prefix="wfp-scale", plugins_dir=plugins, **SCALE_SETTINGS)
    names = {str(getattr(chosen, field_name)): field_name.removesuffix("_table") for field_name in TABLES}
    keys = {}
    for model in all_models():
        schema = model._get_schema()
        setting = model.Meta.__dict__["table_name"].setting
        keys[str(getattr(chosen, setting))] = (names[str(getattr(chosen, setting))],
                                               tuple(k["AttributeName"] for k in sorted(
                                                   schema["key_schema"], key=lambda k: k["KeyType"])))
    recorder = Recorder(keys, layouts(), relabel)
    hooks = [("before-parameter-build.dynamodb", recorder.params), ("after-call.dynamodb", recorder.answered)]
    BUILTIN_HANDLERS.extend(hooks)
    previous = use(None)
    base_minute = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with mock_aws():
            reset_connections()
            boto3.DEFAULT_SESSION = None
            create_tables(chosen)
            platform = Platform(chosen, queue=SimQueue(recorder), runs=failing_store(chosen))
            use(platform)
            for seq in seqs:
                run = SimRun(plan(seq, arrivals_ms[seq], seed, base_minute), now=arrivals_ms[seq])
                token = CURRENT.set(run)
                try:
                    drive(platform, run)
                finally:
                    CURRENT.reset(token)
                    recorder.end_run(run)
            platform.forget_clients()
    finally:
        for hook in hooks:
            BUILTIN_HANDLERS.remove(hook)
        use(previous)
        reset_connections()
        boto3.DEFAULT_SESSION = None
    recorder.partial.seconds = time.perf_counter() - started
    return recorder.partial


def quiet_child() -> None:
    """A worker process of the simulation: AWS is moto in the process (no endpoint, fake credentials), no
    platform setting from the caller's environment, no log lines per run."""
    for key in list(os.environ):
        if key.startswith("WFP_") or key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            os.environ.pop(key)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    logging.disable(logging.ERROR)

