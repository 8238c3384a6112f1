"""DynamoDB's write accounting, applied to the images of an item before and after a write.

What a write costs, as DynamoDB documents it (Developer Guide: "Item sizes and formats", "Read/write
capacity mode", "Provisioned throughput considerations for Global Secondary Indexes"):

- **size of an item**: the sum, over its attributes, of the name's length and the value's size: a string its
  UTF-8 bytes, a number about one byte per two significant digits plus one, a boolean or null one byte, a
  list or map 3 bytes plus its elements (each element one more byte, a map's keys counted like names);
- **the table**: a PutItem or UpdateItem consumes one write unit per started KB of the larger of the item
  before and after (a conditional write that fails consumes them too, on the item as it was);
- **a global secondary index**: its entry is the table's key, the index's key and the projected attributes.
  A write that adds the index's key attributes puts an entry (1 write); one that changes an indexed key
  value deletes the old entry and puts the new one (2 writes, on two partition keys when the index's
  partition key changed); one that removes them deletes the entry (1 write); one that changes a projected
  attribute only rewrites the entry (1 write); anything else costs the index nothing. Each write: one unit
  per started KB of the entry.

An image is DynamoDB JSON (``{"name": {"S": "..."}}``), as botocore sends and receives it.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

Image = dict[str, dict[str, Any]]
KB = 1024


def value_size(value: dict[str, Any]) -> int:
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = content.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in content.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in content)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in content)
    if kind == "BS":
        return sum(value_size({"B": b}) for b in content)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


class Sizes:
    """Item sizes, each attribute value measured once: the images around one write (before, after, their
    index entries, the layouts' variants) share their value objects, so ``of`` remembers them by identity
    (for as long as this object lives: one write)."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[Any, int]] = {}

    def of(self, image: Image | None) -> int:
        total = 0
        for name, value in (image or {}).items():
            known = self._values.get(id(value))
            if known is None or known[0] is not value:
                known = (value, value_size(value))
                self._values[id(value)] = known
            total += len(name) + known[1]  # attribute names are ASCII here ([a-z_])
        return total


def item_size(image: Image | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (image or {}).items())


def units(size: int) -> int:
    """Write units of one write of ``size`` bytes: one per started KB, at least one."""
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index: its name, key attributes and projection (None: ALL; a set: INCLUDE's
    non-key attributes; KEYS_ONLY is the empty set)."""

    name: str
    hash_key: str
    range_key: str | None
    projected: frozenset[str] | None

    @classmethod
    def of_schema(cls, index: dict[str, Any]) -> "IndexSpec":
        """From ``Model._get_schema()``'s ``global_secondary_indexes`` entry (what pynamodb sends CreateTable)."""
        keys = {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]}
        projection = index.get("projection") or {"ProjectionType": "ALL"}
        kind = projection["ProjectionType"]
        projected = None if kind == "ALL" else frozenset(projection.get("NonKeyAttributes") or ())
        return cls(index["index_name"], keys["HASH"], keys.get("RANGE"), projected)

    def entry(self, image: Image | None, table_keys: tuple[str, ...]) -> Image | None:
        """The index's entry for an item (None: the item is not in this sparse index)."""
        if not image or self.hash_key not in image or (self.range_key and self.range_key not in image):
            return None
        if self.projected is None:
            return image
        names = {*table_keys, self.hash_key, *([self.range_key] if self.range_key else []), *self.projected}
        return {name: value for name, value in image.items() if name in names}

    def writes(self, old: Image | None, new: Image | None, table_keys: tuple[str, ...],
               sizes: Sizes | None = None) -> list[tuple[str, int]]:
        """(partition key value, write units) of what a change from ``old`` to ``new`` writes to the index."""
        size = (sizes or Sizes()).of
        before, after = self.entry(old, table_keys), self.entry(new, table_keys)
        if before is None and after is None:
            return []
        if before is None:
            return [(key_of(after, self.hash_key), units(size(after)))]
        if after is None:
            return [(key_of(before, self.hash_key), units(size(before)))]
        moved = (before[self.hash_key] != after[self.hash_key]
                 or (self.range_key is not None and before[self.range_key] != after[self.range_key]))
        if moved:
            return [(key_of(before, self.hash_key), units(size(before))),
                    (key_of(after, self.hash_key), units(size(after)))]
        if before != after:
            return [(key_of(after, self.hash_key), units(size(after)))]
        return []


def key_of(image: Image, name: str) -> str:
    (content,) = image[name].values()
    return str(content)


def table_units(old: Image | None, new: Image | None, applied: bool, sizes: Sizes | None = None) -> int:
    """Write units a write consumes on the table itself (``applied``: False when its condition failed)."""
    size = (sizes or Sizes()).of
    return units(size(old)) if not applied else units(max(size(old), size(new)))
