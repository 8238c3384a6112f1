"""The load test script (``python -m local_dev.loadtest``), smaller: 50 concurrent signed webhooks against
the dev server, then 50 more with a kill -9 of the server once half are accepted, and a restart."""

from __future__ import annotations

import io

from local_dev import loadtest


def test_concurrent_webhooks_lose_nothing_even_through_a_kill_9():
    out = io.StringIO()
    results = loadtest.run(calls=50, kill=True, out=out)
    printed = out.getvalue()
    first, second = results
    assert first["accepted"] == first["completed"] == 50, printed
    assert first["lost"] == first["duplicated"] == first["recorded_without_answer"] == 0, printed
    assert second["accepted"] >= 25, printed  # killed once 25 were accepted
    assert second["lost"] == 0 and second["duplicated"] == 0, printed
    assert second["completed"] + second["interrupted"] + second["failed"] == second["accepted"], printed
    assert "killed with SIGKILL" in printed and "accept_rate_per_s" in printed
    assert loadtest.ok(results)
