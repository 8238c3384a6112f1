"""Scale: does any partition key take more than DynamoDB's ~1,000 write units a second at 10,000 runs a second?

``simulate`` drives synthetic runs (100,000 by default; every path: sync, webhook, retried, platform
failure, scheduled, duplicate tick) through the platform's engine, worker and stores against moto
(``local_dev.bench.scale_workload``), in as many processes as there are cores, and records every DynamoDB
write with botocore hooks as (table, index, partition key, write units from the item's size:
``local_dev.bench.capacity``). The runs arrive on a simulated timeline at ``RATE`` runs a second (a Poisson
process); each write is placed at its run's arrival plus the latency, duration, retry delay or visibility
timeout before it. The write units are summed per (index, partition key, second) for:

- two traffic shapes: **uniform** (20 workflows share the API and webhook runs) and **hot** (one workflow
  takes every other run: 50 % of the traffic), the same runs recorded once (``scale_workload.relabel``);
- three layouts of the runs table's indexes: **before** this change (one ``open_runs`` key, ``by_workflow``,
  4 day shards), this change with its **defaults** (``by_workflow`` kept for the runs written before it,
  4 day shards), and **sharded**: with the settings SCALING.md gives for 10,000 runs a second
  (``WFP_RUN_DAY_SHARDS=64``, ``WFP_LEGACY_HISTORY_INDEX=false``; 64 open-run and 32 history shards are the
  defaults). The runs are recorded with the last; the others read the same writes under their own keys.

The figure is the hottest key's peak second (1-second windows over the whole timeline); ``mean`` (its
write units over the run divided by the time the runs took to arrive) is what a run too short to fill
seconds can tell (the suite's small version). The target: under 1,000 write units a second in both
shapes, for the sharded layout; the layout before this change is the baseline (far over).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .context import Bench, log
from .report import Figure, value
from .scale_workload import LAYOUTS, Partial, quiet_child, record_batch, write_plugins

#: Target arrival rate (runs a second) and DynamoDB's write throughput per partition (write units a second:
#: Developer Guide, "Partitions and data distribution" / "Burst and adaptive capacity").
RATE = 10_000
PARTITION_LIMIT = 1_000
#: Default and --quick run counts; runs per batch (a fresh moto each: its tables stay small).
RUNS, QUICK_RUNS, BATCH = 100_000, 10_000, 5_000
#: The on-demand table's default throughput quota (Service Quotas, "Table-level write throughput limit").
TABLE_QUOTA = 40_000
SEED = 7
SHAPES = {"uniform": "uniform traffic (20 workflows)", "hot": "one workflow takes 50 % of the traffic"}
LAYOUT_NAMES = {"before": "before this change", "defaults": "this change, default settings",
                "sharded": "this change, settings for 10,000 runs/s"}


@dataclass(frozen=True)
class Hot:
    """The hottest partition key of a layout and shape: write units a second, where."""

    units: float
    label: str
    key: str
    second: int | None = None

    def __str__(self) -> str:
        at = f" (second {self.second})" if self.second is not None else ""
        return f"{self.units:,.0f} WCU/s on {self.label} key {self.key!r}{at}"


@dataclass
class Result:
    runs: int
    rate: float
    partial: Partial
    elapsed: float
    processes: int
    #: (shape, layout) -> keys by peak, hottest first; and by mean.
    peaks: dict[tuple[str, str], list[Hot]] = field(default_factory=dict)
    means: dict[tuple[str, str], list[Hot]] = field(default_factory=dict)

    @property
    def arrival_seconds(self) -> float:
        return self.runs / self.rate

    def hottest(self, shape: str, layout: str, metric: str = "peak") -> Hot:
        return (self.peaks if metric == "peak" else self.means)[(shape, layout)][0]

    def totals(self, layout: str) -> dict[str, tuple[float, float]]:
        """Per table and index: (peak second, mean) write units a second, all keys together."""
        by_label: dict[str, Counter[int]] = defaultdict(Counter)
        for (name, label, second), units in self.partial.totals.items():
            if name == layout:
                by_label[label][second] += units
        return {label: (max(seconds.values()), sum(seconds.values()) / self.arrival_seconds)
                for label, seconds in sorted(by_label.items())}

    def requests_per_run(self) -> dict[str, dict[str, float]]:
        """path -> "service:Operation" -> requests per run, as the recorder counted them."""
        out: dict[str, dict[str, float]] = defaultdict(dict)
        for (path, operation), count in sorted(self.partial.requests.items()):
            out[path][operation] = count / self.partial.runs[path]
        return dict(out)


def analyse(partial: Partial, runs: int, rate: float, elapsed: float, processes: int) -> Result:
    result = Result(runs, rate, partial, elapsed, processes)
    peaks: dict[tuple[str, str], dict[tuple[str, str], Hot]] = defaultdict(dict)
    sums: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    for (shape, layout, label, key, second), units in partial.keys.items():
        best = peaks[(shape, layout)].get((label, key))
        if best is None or units > best.units:
            peaks[(shape, layout)][(label, key)] = Hot(units, label, key, second)
        sums[(shape, layout)][(label, key)] += units
    for (shape, layout, label), units in partial.item_peaks.items():
        key = f"<one {label} item>"
        peaks[(shape, layout)][(label, key)] = Hot(units, label, key)
        sums[(shape, layout)][(label, key)] += 0
    for group, keys in peaks.items():
        result.peaks[group] = sorted(keys.values(), key=lambda hot: -hot.units)
        result.means[group] = sorted((Hot(total / result.arrival_seconds, label, key)
                                      for (label, key), total in sums[group].items()), key=lambda hot: -hot.units)
    return result


@contextlib.contextmanager
def child_environment() -> Iterator[None]:
    """``quiet_child`` for the current process, undone afterwards (the in-process simulation: the suite)."""
    saved = dict(os.environ)
    try:
        quiet_child()
        yield
    finally:
        logging.disable(logging.NOTSET)
        os.environ.clear()
        os.environ.update(saved)


def simulate(runs: int = RUNS, rate: float = RATE, processes: int | None = None, workdir: Path | None = None,
             seed: int = SEED, progress: Callable[[str], None] | None = None) -> Result:
    """Record ``runs`` synthetic runs and place them at ``rate`` a second. ``processes``: 0 runs them in this
    process (the suite's small version), None as many worker processes as there are cores."""
    import tempfile

    started = time.perf_counter()
    folder = Path(workdir or tempfile.mkdtemp(prefix="wfp-scale-"))
    plugins = write_plugins(folder / "scale-plugins")
    batches = [range(start, min(start + BATCH, runs)) for start in range(0, runs, BATCH)]
    merged = Partial()
    if processes == 0:
        with child_environment():
            for batch in batches:
                merged.merge(record_batch(batch, runs, rate, seed, plugins))
        used = 1
    else:
        used = processes or max(1, min(os.cpu_count() or 1, 8))
        with ProcessPoolExecutor(max_workers=used, mp_context=get_context("spawn"), initializer=quiet_child) as pool:
            futures = [pool.submit(record_batch, batch, runs, rate, seed, plugins) for batch in batches]
            for done, future in enumerate(as_completed(futures), 1):
                merged.merge(future.result())
                if progress is not None and (done % max(1, len(futures) // 10) == 0 or done == len(futures)):
                    progress(f"scale: {sum(merged.runs.values()):,} of {runs:,} runs recorded, "
                             f"{time.perf_counter() - started:.0f} s")
    return analyse(merged, runs, rate, time.perf_counter() - started, used)


# ----- the benchmark section ---------------------------------------------------------------------------------
def run(bench: Bench) -> list[Figure]:
    """``wfp bench --only scale``: the figures and their details (see the module's docstring)."""
    runs = bench.runs or (QUICK_RUNS if bench.quick else RUNS)
    result = simulate(runs, workdir=bench.workdir, progress=log)
    section = "scale"
    figures: list[Figure] = []
    metric = "peak" if result.arrival_seconds >= 3 else "mean"
    for shape, described in SHAPES.items():
        sharded, before = result.hottest(shape, "sharded", metric), result.hottest(shape, "before", metric)
        defaults = result.hottest(shape, "defaults", metric)
        figures.append(Figure(
            section, f"hottest partition key at {RATE:,} runs/s, {described}", round(sharded.units), "WCU/s",
            "before this change", round(before.units), value("<", PARTITION_LIMIT),
            note=f"sharded: {sharded}; before: {before}; this change's defaults: {defaults} ({metric} second)"))
    figures.append(Figure(
        section, "runs driven through the stores on moto", runs, "runs",
        note=f"{result.elapsed:.0f} s in {result.processes} process(es); timeline {result.arrival_seconds:.1f} s "
             f"of arrivals at {RATE:,} runs/s; paths: " + ", ".join(f"{p} {n}" for p, n in
                                                                    sorted(result.partial.runs.items())),
        details=details(result)))
    return figures


def hottest_by_label(hots: list[Hot]) -> list[Hot]:
    """The first (hottest) key of each table and index, in the order of ``hots`` (hottest first)."""
    seen: dict[str, Hot] = {}
    for hot in hots:
        seen.setdefault(hot.label, hot)
    return list(seen.values())


def details(result: Result) -> list[str]:
    lines = []
    for layout in LAYOUTS:
        for shape in SHAPES:
            top = "; ".join(str(hot) for hot in result.peaks[(shape, layout)][:3])
            lines.append(f"{LAYOUT_NAMES[layout]}, {shape}: hottest keys (peak second): {top}")
            lines.append(f"{LAYOUT_NAMES[layout]}, {shape}: hottest key of each table and index: " + ", ".join(
                f"{hot.label} {hot.units:,.0f} ({hot.key})" for hot in hottest_by_label(result.peaks[(shape, layout)])))
    for layout in LAYOUTS:
        totals = ", ".join(f"{label} {peak:,.0f} (mean {mean:,.0f})" for label, (peak, mean) in
                           result.totals(layout).items())
        lines.append(f"{LAYOUT_NAMES[layout]}: WCU/s by table and index, all keys (peak second): {totals}; "
                     f"an on-demand table's default quota is {TABLE_QUOTA:,} WCU/s")
    for path, operations in result.requests_per_run().items():
        listed = ", ".join(f"{operation} {count:.2f}" for operation, count in operations.items())
        lines.append(f"requests per run, {path}: {listed}")
    return lines
