"""Write shards: which partition of an index a run's entries go to, so that no key takes every run.

A DynamoDB partition takes about 1,000 write units a second, and a global secondary index that cannot keep
up throttles the writes of its table (SCALING.md). Every run writes its record 2 to 5 times (create, claim,
finish...) and each write also writes the indexes whose key or projected attributes it changes. So an
index whose partition key is shared by every run (the open runs' ``"open"``), by every run of a day (``by_day``)
or of a workflow (``by_workflow``) caps the platform, or a busy workflow, at a few hundred runs a second.

The cure is the same everywhere: the partition key carries a shard number taken from the **run id**
(``shard_of``), so

- every write of one run lands on the same shard (a conditional update can name the key without reading
  the item, and an item never hops between shards when its status changes);
- runs spread evenly: a run id ends with random hex digits (``new_run_id``) or a hash (a scheduled tick's,
  ``functions.core.schedules.tick_run_id``);
- a reader queries every shard of the range it reads and merges them newest first (``run_id`` sorts by
  creation time), a bounded number of Queries, never a Scan.

The counts come from the settings (``Shards.of``): ``WFP_OPEN_RUN_SHARDS`` (the sweep reads them all, plus the
key written before sharding, ``OPEN_SHARD``), ``WFP_HISTORY_SHARDS`` (a workflow's history), ``WFP_RUN_DAY_SHARDS``
(runs of every workflow by day, ``functions.core.run_search``). They are part of the stored keys, and a count
may only **grow**: readers query shards ``0..count-1``, and an entry written under a smaller count has a
smaller shard number, so it is still found (an item rewritten later moves to its new shard with that write).
Lowering a count would hide the entries written in the shards dropped until they are rewritten or expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The one key of the ``open_runs`` index before it was sharded: open runs written by an older release
#: (queued or running during the deploy) still carry it, so the sweep reads it too (one Query, empty at rest).
OPEN_SHARD = "open"
_HEX = frozenset("0123456789abcdef")
#: Hex digits of the run id read for its shard: 6 (16.7 million values, uniform for any count up to
#: thousands). Any count dividing 16 gives what the last digit alone gave (``by_day``'s original rule).
_DIGITS = 6


def shard_of(run_id: str, shards: int) -> int:
    """The run's shard among ``shards`` (0 when there is one): its id's last hex digits (up to ``_DIGITS``),
    modulo the count; 0 for an id that does not end with one (none the platform makes: ids are hex)."""
    if shards <= 1:
        return 0
    tail = run_id[-_DIGITS:]
    while tail and not set(tail) <= _HEX:
        tail = tail[1:]
    return int(tail, 16) % shards if tail else 0


def open_shard(run_id: str, shards: int) -> str:
    """The ``open_runs`` key of an open run: ``open-<k>``."""
    return f"{OPEN_SHARD}-{shard_of(run_id, shards)}"


def open_shard_keys(shards: int) -> list[str]:
    """Every ``open_runs`` key the sweep reads: the shards, then the key of runs written before sharding."""
    return [f"{OPEN_SHARD}-{k}" for k in range(shards)] + [OPEN_SHARD]


def history_key(workflow: str, run_id: str, shards: int) -> str:
    """The ``by_history`` key of a run: ``<workflow>#<k>`` (workflow names are ``[a-z0-9_]+``: no ``#``)."""
    return f"{workflow}#{shard_of(run_id, shards)}"


def history_keys(workflow: str, shards: int) -> list[str]:
    """Every ``by_history`` partition of a workflow: what a history page queries."""
    return [f"{workflow}#{k}" for k in range(shards)]


@dataclass(frozen=True)
class Shards:
    """The shard counts of one deployment (its settings: ``of``, the one way to make one), and whether the
    pre-sharding history index is still read (``WFP_LEGACY_HISTORY_INDEX``: runs written before
    ``by_history`` existed are only in ``by_workflow``)."""

    open_runs: int
    history: int
    days: int
    legacy_history: bool

    @classmethod
    def of(cls, settings: Any) -> "Shards":
        return cls(open_runs=settings.open_run_shards, history=settings.history_shards,
                   days=settings.run_day_shards, legacy_history=settings.legacy_history_index)
