"""Helpers of the durable tests: workflows that count their side effects in a file, and waits on records."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

#: Prepended to each test workflow: ``effect(data, "x")`` appends a line to the file ``data["log"]``.
PRELUDE = '''
from pathlib import Path

def effect(data, what):
    with open(data["log"], "a") as f:
        f.write(what + "\\n")
    return what

def effects(data, what):
    path = Path(data["log"])
    return path.read_text().split().count(what) if path.exists() else 0
'''


def durable_workflow(plugin_dir: Any, name: str, body: str, **config: Any) -> None:
    config = {"durable": True, "inputs_schema": [{"name": "log"}], **config}
    plugin_dir.workflow(name, config, PRELUDE + body)


def count(log: Path, what: str) -> int:
    return log.read_text().split().count(what) if log.exists() else 0


def wait_record(platform: Any, run_id: str, predicate: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = platform.core.runs.get(run_id, consistent=True)
        if predicate(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.02)


def finished(platform: Any, run_id: str, timeout: float = 20) -> Any:
    return wait_record(platform, run_id, lambda run: run.finished, timeout)


def waiting(platform: Any, run_id: str, timeout: float = 20) -> Any:
    return wait_record(platform, run_id, lambda run: run.status == "waiting", timeout)
