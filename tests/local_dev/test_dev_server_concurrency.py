"""The local dev server keeps answering while a workflow runs: blocking work (the workflow's code, its
DynamoDB writes) happens in worker threads, never on the event loop that serves the other requests."""

from __future__ import annotations

import threading
import time

from local_platform import DevServer, LocalSetup, dev_server, local  # noqa: F401 - fixtures

SLOW_SECONDS = 4.0


def test_a_slow_run_does_not_block_health_or_the_workflow_list(dev_server: DevServer, local: LocalSetup):
    local.plugins.workflow("slow", {"name": "Slow", "triggers": ["manual"], "timeout_seconds": 30},
                           f"import time\n\ndef execute(data, tools):\n    time.sleep({SLOW_SECONDS})\n"
                           "    return {'status': 'success'}\n")
    dev_server.start()
    result: dict[str, object] = {}

    def run() -> None:
        result["response"] = dev_server.request("POST", "/api/workflows/execute/slow", {}, timeout=60)

    runner = threading.Thread(target=run)
    started = time.monotonic()
    runner.start()
    time.sleep(0.5)  # the run has started: its record is written and the workflow sleeps
    latencies = []
    for path in ("/api/health", "/api/workflows", "/api/health"):
        before = time.monotonic()
        status, _ = dev_server.request("GET", path, timeout=10)
        latencies.append(time.monotonic() - before)
        assert status == 200, path
    assert runner.is_alive(), "the slow run finished before the other requests were answered"
    assert max(latencies) < 1.5, latencies  # answered at once, not after the run's seconds
    runner.join(30)
    status, body = result["response"]  # type: ignore[misc]
    assert status == 200 and body["status"] == "success"
    assert time.monotonic() - started >= SLOW_SECONDS
