"""Reload plugins when their files change, and ``.env`` when it changes, so the dev server never needs a
manual restart.

Polling (once a second) rather than inotify: it needs no extra dependency, works on every file
system (including mounted folders) and costs nothing noticeable for a few hundred files.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
IGNORED = {"__pycache__", "scratch", ".git"}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    state: dict[str, tuple[int, int]] = {}
    for path in root.rglob("*"):
        if IGNORED.intersection(path.relative_to(root).parts) or path.suffix in (".pyc", ".swp"):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        state[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return state


def file_state(path: Path) -> tuple[int, int, int] | None:
    """One file's identity, modification time and size; ``None`` while it does not exist (an editor
    that saves by replacing the file changes its inode)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class PluginWatcher:
    """Calls ``on_change`` when a file under ``root`` changes and, given ``env_file``, ``on_env_change``
    when that file changes (created, edited, deleted): both from one polling thread, so a reload of the
    environment and one of the plugins never run at the same time."""

    def __init__(self, root: Path, on_change: Callable[[], None], interval: float = 1.0,
                 env_file: Path | None = None, on_env_change: Callable[[], None] | None = None) -> None:
        self.root, self.on_change, self.interval = root, on_change, interval
        self.env_file, self.on_env_change = env_file, on_env_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="plugin-watcher", daemon=True)
        self._thread.start()

    def _env_state(self) -> tuple[int, int, int] | None:
        return file_state(self.env_file) if self.env_file and self.on_env_change else None

    def _loop(self) -> None:
        last, last_env = snapshot(self.root), self._env_state()
        while not self._stop.wait(self.interval):
            env = self._env_state()
            if env != last_env:  # first: plugins reloaded below see the new environment
                last_env = env
                self._call(self.on_env_change, "reloading .env failed")
            current = snapshot(self.root)
            if current != last:
                last = current
                self._call(self.on_change, "reloading plugins failed")

    @staticmethod
    def _call(callback: Callable[[], None] | None, failure: str) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:  # a bad edit must not kill the watcher
            log.exception(failure)

    def stop(self) -> None:
        self._stop.set()
