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
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from local_platform import DevServer, LocalSetup
from support import REPO, PluginDir

#: What a clone holds that the local platform needs (tests/, infrastructure/, layers/ are not needed).
COPIED = ("functions", "local_dev", "plugins", ".env.example", ".gitignore", "README.md", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".env", ".wfp")


@dataclass
class FreshCopy(DevServer):
    """The dev server of a fresh copy (``DevServer`` run in the copy, the README's way)."""

    root: Path = field(default_factory=Path)

    @property
    def env(self) -> dict[str, str]:
        return self.setup.env

    def request_status(self, method: str, path: str) -> int:
        return int(self.request(method, path)[0])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Stop it if it runs (a test may have stopped it itself)."""
        if self.process is None:
            return None
        if self.process.poll() is not None:
            self.process = None
            return None
        return super().stop(sig, timeout)


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
    copy = FreshCopy(LocalSetup(PluginDir(root / "plugins"), root / ".wfp", root / ".env", env), cwd=root,
                     logs=tmp_path, root=root)
    yield copy
    copy.stop()
