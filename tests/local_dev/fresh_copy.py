"""A fresh copy of the repository, as a user gets it from ``git clone``: the code, the example plugins,
``.env.example``, and no ``.env`` or ``.wfp/``. A dev server and the ``wfp`` command run inside it
exactly as written in the README (nothing points them elsewhere: no ``WFP_ENV_FILE``, no
``WFP_PLUGINS_DIR``), so the first start creates the copy's ``.env`` and ``.wfp/``, never the
repository's.

Test modules import the fixture (``from fresh_copy import fresh_copy``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from local_platform import free_port
from support import REPO

#: What a clone holds that the local platform needs (tests/, infrastructure/, layers/ are not needed).
COPIED = ("functions", "local_dev", "plugins", ".env.example", ".gitignore", "README.md", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".env", ".wfp")


@dataclass
class FreshCopy:
    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> FreshCopy:
        """``python -m local_dev --port P`` in the copy; returns once ``/api/health`` answers."""
        self.log = self.root.parent / f"server-{time.monotonic_ns()}.log"
        with open(self.log, "w") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", "local_dev", "--port", str(self.port)],
                                            cwd=self.root, env=self.env, stdout=handle,
                                            stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dev server exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"dev server did not answer within {timeout} s:\n{self.output()}")

    def request_status(self, method: str, path: str) -> int:
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@pytest.fixture
def fresh_copy(tmp_path: Path) -> Iterator[FreshCopy]:
    root = tmp_path / "clone"
    root.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=IGNORED)
        elif source.exists():
            shutil.copy2(source, root / name)
    # `wfp` on PATH runs the copy's command line (the venv's entry point would import the repository's).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wfp = bin_dir / "wfp"
    wfp.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m local_dev.cli "$@"\n')
    wfp.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WFP_", "AWS_", "MON_OUTIL_", "HTTP_JSON_", "GOOGLE_", "PYTEST", "COV_"))}
    env.update({"PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1",
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"})
    copy = FreshCopy(root, env)
    yield copy
    copy.stop()
