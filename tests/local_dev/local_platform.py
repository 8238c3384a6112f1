"""Fixtures for the local platform as a user runs it: real subprocesses (``python -m local_dev.cli``,
``python -m local_dev``) over a private copy of the example plugins, a private ``.env`` and a private
local state folder, so nothing touches the repository's own ``.env``/``.wfp``.

Test modules import the fixtures they use (``from local_platform import local``): a second
``conftest.py`` would shadow the root one for ``from support import ...``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import REPO, PluginDir, copy_examples

ENV_FILE = "# the example profiles, as .env.example has them\nMON_OUTIL_DEMO_API_KEY=demo-key\nMON_OUTIL_TEST_API_KEY=test-key\n"


@dataclass
class LocalSetup:
    """Where a local platform keeps everything, and the environment its processes get."""

    plugins: PluginDir
    state: Path
    env_file: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """``wfp ARGS...``, as a subprocess (``python -m local_dev.cli``)."""
        return subprocess.run([sys.executable, "-m", "local_dev.cli", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def local(tmp_path: Path) -> LocalSetup:
    plugins = copy_examples(tmp_path / "plugins")
    env_file = tmp_path / "dotenv"
    env_file.write_text(ENV_FILE)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WFP_", "AWS_", "MON_OUTIL_", "HTTP_JSON_", "PYTEST", "COV_"))}
    env.update({
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "WFP_PLUGINS_DIR": str(plugins.root),
        "WFP_LOCAL_STATE": str(tmp_path / "state"),
        "WFP_ENV_FILE": str(env_file),
    })
    return LocalSetup(plugins, tmp_path / "state", env_file, env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    """``python -m local_dev --port P`` in a subprocess; ``start()``/``stop()``/``kill()`` as often as needed."""

    setup: LocalSetup
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log: Path | None = None
    #: Where the server runs (the repository, or a fresh copy of it) and where its logs go.
    cwd: Path = REPO
    logs: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "DevServer":
        self.log = (self.logs or self.setup.state.parent) / f"server-{time.monotonic_ns()}.log"
        handle = open(self.log, "w")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_dev", "--port", str(self.port), "--host", "127.0.0.1"],
            cwd=self.cwd, env=self.setup.env, stdout=handle, stderr=subprocess.STDOUT, text=True)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dev server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"dev server did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.process = None

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)


@pytest.fixture
def dev_server(local: LocalSetup) -> Iterator[DevServer]:
    server = DevServer(local)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()
