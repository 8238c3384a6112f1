"""Figures and the table they are printed in.

A ``Figure`` is one measured value, optionally beside a baseline measured in the same run, and the
target it is checked against: a ratio to the baseline (``ratio <= 1.2``), an absolute bound
(``< 40 MB``), or an equality (same request count). The table says PASS or FAIL per target; a figure
without a target is reported for information.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """``ratio <= 1.2`` (on value / baseline) or ``value < 40`` (on the value itself)."""

    comparator: str
    limit: float
    on_ratio: bool = True

    def check(self, value: float, ratio: float | None) -> bool:
        subject = ratio if self.on_ratio else value
        if subject is None or math.isnan(subject):
            return False
        return COMPARATORS[self.comparator](subject, self.limit)

    def __str__(self) -> str:
        limit = f"{self.limit:g}"
        return f"{self.comparator} {limit}x" if self.on_ratio else f"{self.comparator} {limit}"


def ratio_at_most(limit: float) -> Target:
    return Target("<=", limit)


def ratio_at_least(limit: float) -> Target:
    return Target(">=", limit)


def value(comparator: str, limit: float) -> Target:
    return Target(comparator, limit, on_ratio=False)


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: Target | None = None
    note: str = ""
    #: Extra lines printed under the table (per-figure detail: spreads, breakdowns).
    details: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.check(self.value, self.ratio)

    @property
    def verdict(self) -> str:
        return {None: "info", True: "PASS", False: "FAIL"}[self.passed]


def fmt(number: float | None, unit: str) -> str:
    if number is None:
        return ""
    if unit in ("ms", "µs", "s", "MB", "req/s"):
        digits = 0 if abs(number) >= 100 else 1 if abs(number) >= 10 else 2
        return f"{number:.{digits}f} {unit}"
    if float(number).is_integer():
        return f"{int(number)} {unit}".strip()
    return f"{number:.2f} {unit}".strip()


COLUMNS = ("section", "figure", "value", "baseline", "baseline value", "ratio", "target", "result")


def rows(figures: Iterable[Figure]) -> list[tuple[str, ...]]:
    return [(f.section, f.name, fmt(f.value, f.unit), f.baseline_name, fmt(f.baseline, f.unit),
             f"{f.ratio:.2f}x" if f.ratio is not None else "", target_text(f), f.verdict) for f in figures]


def target_text(figure: Figure) -> str:
    target = figure.target
    if target is None:
        return ""
    return str(target) if target.on_ratio else f"{target} {figure.unit}"


def print_table(figures: list[Figure], out: TextIO) -> None:
    """A plain-text table (also valid Markdown), then the notes and details of each figure."""
    table = [COLUMNS, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(table[0]), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for row in table[1:]:
        print(line(row), file=out)
    lines = [f"- {f.section} / {f.name}: {f.note}" for f in figures if f.note]
    lines += [f"- {f.section}: {text}" for f in figures for text in f.details]
    if lines:
        print(file=out)
        for line in lines:
            print(line, file=out)


def summary(figures: list[Figure]) -> str:
    checked = [f for f in figures if f.passed is not None]
    failed = [f for f in checked if not f.passed]
    if not failed:
        return f"all {len(checked)} targets met"
    return f"{len(failed)} of {len(checked)} targets missed: " + "; ".join(f"{f.section} / {f.name}" for f in failed)
