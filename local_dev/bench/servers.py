"""Servers the benchmark starts: the local platform (``python -m local_dev``) and uvicorn apps.

Each runs in its own process on a free port of 127.0.0.1 with a clean environment; ``wait_ok`` polls
a URL until it answers 200. They are stopped (SIGTERM, then SIGKILL) when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from functions.settings import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ok(url: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> float:
    """Poll ``url`` until it answers 200; the seconds it took."""
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.01)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[Server]:
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield Server(process, f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def local_platform(env: dict[str, str], log: Path, port: int | None = None) -> contextlib.AbstractContextManager[Server]:
    """``python -m local_dev`` (uvicorn + moto + journal + scheduler), no plugin watcher."""
    port = port or free_port()
    return running([sys.executable, "-m", "local_dev", "--port", str(port), "--no-watch"], env, log, port)


def uvicorn_app(app: str, app_dir: Path, env: dict[str, str], log: Path) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    return running([sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning"], env, log, port)


def local_aws_endpoint(state: Path, timeout: float = 60.0) -> str:
    """The moto endpoint the local platform publishes in its state folder (``aws.json``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return str(json.loads((state / "aws.json").read_text())["endpoint"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.02)
    raise RuntimeError(f"no local AWS endpoint published in {state}")
