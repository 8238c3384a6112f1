"""Counting AWS requests with botocore's event hooks.

``recording()`` adds two handlers to the ones every new botocore session starts with
(``botocore.handlers.BUILTIN_HANDLERS``), then drops the platform's cached clients so the next ones
carry them: ``before-send`` sees each HTTP request (retries included) with its service and operation,
``before-parse`` sees its response arrive. Nothing is mocked: the requests still go to the server.
The time between the two is the time spent waiting for AWS (here, the moto server); requests made side by
side (a history page queries its shards in parallel) count once: ``waiting`` is the wall-clock time during
which at least one request was outstanding.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.core.usage import DYNAMODB_WRITES  # noqa: F401 - what the cost section counts as writes

DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


@dataclass
class RequestLog:
    calls: list[tuple[str, str]] = field(default_factory=list)
    waiting: float = 0.0
    _outstanding: set[int] = field(default_factory=set)
    _since: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls.append((service, operation))
            if not self._outstanding:
                self._since = time.perf_counter()
            self._outstanding.add(threading.get_ident())

    def received(self, event_name: str, **_: Any) -> None:
        with self._lock:
            if threading.get_ident() in self._outstanding:
                self._outstanding.discard(threading.get_ident())
                if not self._outstanding:
                    self.waiting += time.perf_counter() - self._since

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[tuple[str, str]]:
        return self.calls[mark:]


def operations(calls: list[tuple[str, str]]) -> Counter[str]:
    return Counter(f"{service}:{operation}" for service, operation in calls)


def dynamodb(calls: list[tuple[str, str]], kinds: frozenset[str]) -> int:
    return sum(1 for service, operation in calls if service == "dynamodb" and operation in kinds)


def describe(calls: list[tuple[str, str]]) -> str:
    return ", ".join(f"{op} x{n}" for op, n in sorted(operations(calls).items())) or "no request"


@contextlib.contextmanager
def recording() -> Iterator[RequestLog]:
    from botocore.handlers import BUILTIN_HANDLERS

    from functions.platform import get_platform

    log = RequestLog()
    entries = [("before-send", log.sent), ("before-parse", log.received)]
    BUILTIN_HANDLERS.extend(entries)
    get_platform().forget_clients()  # new clients: they carry the hooks
    try:
        yield log
    finally:
        for entry in entries:
            BUILTIN_HANDLERS.remove(entry)
        get_platform().forget_clients()
