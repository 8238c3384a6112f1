"""Timing helpers: interleaved repetitions and robust statistics.

The machines these run on are shared and noisy, so every comparison is made the same way: the
candidates are run in turn, in a shuffled order each round (a slow minute hurts all of them alike),
and compared by their medians. The spread (interquartile range) is printed beside each median.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def interleaved(candidates: dict[str, Callable[[], T]], rounds: int, *, warmup: int = 1,
                seed: int = 8) -> dict[str, list[T]]:
    """Run every candidate ``rounds`` times, shuffled per round; ``warmup`` rounds are discarded."""
    shuffle = random.Random(seed)
    results: dict[str, list[T]] = {name: [] for name in candidates}
    for round_number in range(warmup + rounds):
        order = list(candidates)
        shuffle.shuffle(order)
        for name in order:
            sample = candidates[name]()
            if round_number >= warmup:
                results[name].append(sample)
    return results


@dataclass(frozen=True)
class Stats:
    median: float
    q1: float
    q3: float
    count: int

    @classmethod
    def of(cls, values: list[float]) -> "Stats":
        if not values:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        if len(values) < 4:
            return cls(statistics.median(values), min(values), max(values), len(values))
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(median, q1, q3, len(values))

    def describe(self, unit: str, scale: float = 1.0) -> str:
        return (f"median {self.median * scale:.1f} {unit} (IQR {self.q1 * scale:.1f}-{self.q3 * scale:.1f}, "
                f"n={self.count})")
