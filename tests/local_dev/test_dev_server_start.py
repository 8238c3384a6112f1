"""Starting ``python -m local_dev``: a busy port fails at once and says so; the first start on a fresh
copy prints the platform's lines, not the AWS libraries' INFO noise."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

from fresh_copy import FreshCopy, fresh_copy  # noqa: F401 - fixture
from local_platform import LocalSetup, local  # noqa: F401 - fixture
from support import REPO


def test_a_busy_port_fails_at_once_before_anything_starts(local: LocalSetup):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "local_dev", "--port", str(port)], check=False, cwd=REPO,
                              env=local.env, capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert f"port {port} is in use (another wfp dev?): stop it or pass --port N" in done.stderr
    assert "Traceback" not in done.stderr and "Errno 98" not in done.stderr
    # nothing started: no local AWS (no state folder, no journal), no scheduler, no worker
    assert not local.state.exists()
    assert "scheduler" not in done.stderr.lower() and "worker" not in done.stderr.lower()
    assert elapsed < 2.0, elapsed


def test_the_first_start_prints_no_aws_library_info_lines(fresh_copy: FreshCopy):
    assert not (fresh_copy.root / ".env").exists() and not (fresh_copy.root / ".wfp").exists()
    fresh_copy.start()
    fresh_copy.stop()
    output = fresh_copy.output()
    assert (fresh_copy.root / ".env").exists()  # a first start indeed: .env created from .env.example
    noise = [line for line in output.splitlines()
             if re.search(r"\bINFO (botocore|boto3|pynamodb|urllib3|moto|aws_xray_sdk)[.:]", line)]
    assert noise == [], "\n".join(noise)
    assert "Workflow Platform on http://127.0.0.1:" in output


def test_stopping_after_webhooks_prints_no_traceback(fresh_copy: FreshCopy):
    """Ctrl+C (SIGINT) and SIGTERM while the worker polls the queue: a clean stop, no 'polling the queue
    failed' traceback from threads that saw the local AWS go away first."""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        fresh_copy.start()
        for _ in range(3):
            assert fresh_copy.request_status("POST", "/api/webhooks/incoming_webhook") == 202
        time.sleep(1.5)  # the worker runs them and goes back to polling
        assert fresh_copy.process is not None
        fresh_copy.process.send_signal(sig)
        assert fresh_copy.process.wait(30) in (0, -sig, 128 + sig), sig
        fresh_copy.process = None
        output = fresh_copy.output()
        assert "Traceback" not in output and "polling the queue failed" not in output, (sig, output[-3000:])
