"""Run the benchmark sections and print one table: ``wfp bench`` / ``python -m local_dev.bench``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .context import Bench, log
from .report import Figure, print_table, summary

#: Section name → module (each has ``run(bench) -> list[Figure]``), in the order they are printed.
SECTIONS = {
    "cold": "coldstart",
    "warm": "warm",
    "cost": "cost",
    "throughput": "throughput",
    "local": "localstart",
    "layer": "layer",
    "scale": "scale",
}
#: Sections run only when named (``--only scale``): the scale simulation takes minutes per core.
OPT_IN = frozenset({"scale"})


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wfp bench", description="Measure the platform against its baselines "
                                     "and print a table of figures, ratios and targets.")
    parser.add_argument("--only", action="append", choices=list(SECTIONS), metavar="SECTION",
                        help=f"run only these sections (repeatable): {', '.join(SECTIONS)} (scale runs only "
                        "when named: --only scale)")
    parser.add_argument("--quick", action="store_true", help="one round of everything (checks the machinery; "
                        "the figures are then too noisy to judge)")
    parser.add_argument("--rounds", type=int, default=15, help="cold-start repetitions per candidate (default 15)")
    parser.add_argument("--refresh", action="store_true", help="measure again what is cached between runs (the "
                        "naive install beside the layer)")
    parser.add_argument("--against", metavar="REV", default=None, help="cold start: also measure the api "
                        "handler of this git revision (commit, tag, branch), side by side in the same rounds")
    parser.add_argument("--runs", type=int, default=None, help="scale: synthetic runs to record (default 100000; "
                        "--quick: 10000)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the work files here (default: a temp folder, "
                        "removed at the end)")
    return parser.parse_args(argv)


def run(sections: Sequence[str], bench: Bench) -> list[Figure]:
    figures: list[Figure] = []
    for name in sections:
        started = time.perf_counter()
        log(f"== {name}")
        module = importlib.import_module(f"{__package__}.{SECTIONS[name]}")
        figures += module.run(bench)
        log(f"== {name}: {time.perf_counter() - started:.1f} s")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    bench = Bench.create(args.workdir, quick=args.quick, rounds=args.rounds, refresh=args.refresh,
                         against=args.against, runs=args.runs)
    try:
        if args.against:
            try:
                bench.source_tree(args.against)  # before anything is measured: a wrong revision is said at once
            except RuntimeError as exc:
                print(f"wfp bench: {exc}", file=sys.stderr)
                return 2
        figures = run(args.only or [name for name in SECTIONS if name not in OPT_IN], bench)
    finally:
        bench.close() if args.workdir else bench.cleanup()
    print_table(figures, sys.stdout)
    print(f"\n{summary(figures)}{' (--quick: too few rounds to judge)' if args.quick else ''}")
    return 0 if all(f.passed is not False for f in figures) else 1
