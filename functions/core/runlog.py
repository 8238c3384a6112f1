"""Capture what a workflow says while it runs: its logging records and its ``print`` output.

A context variable names the run being executed; one root logging handler and one stdout proxy,
installed once, append to that run's buffer when the variable is set and do nothing otherwise. Runs
in different threads (the local server runs several at once) never see each other's lines.

What a run prints also reaches the real stdout (the server console, CloudWatch), scrubbed of the run's
known secrets (``functions.core.redaction``); so does what it writes to stderr, which is not kept.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from functions.core import redaction

_current: contextvars.ContextVar["RunLog | None"] = contextvars.ContextVar("wfp_run_log", default=None)
_installed = False
_install_lock = threading.Lock()


class RunLog:
    """A bounded list of lines: the first ``limit`` lines are kept, then a count of those dropped.

    ``max_bytes`` bounds the UTF-8 size too: 200 lines of 500 four-byte characters would otherwise
    take 400 KB, DynamoDB's whole item limit, and the run could not be saved.
    """

    def __init__(self, limit: int = 200, line_chars: int = 500, max_bytes: int = 64 * 1024,
                 redactor: redaction.Redactor | None = None) -> None:
        self.limit, self.line_chars, self.max_bytes = limit, line_chars, max_bytes
        self.lines: list[str] = []
        self.dropped = 0
        self.size = 0
        self._lock = threading.Lock()
        self._partial = ""
        #: Scrubs each line as it is added, before it is cut to ``line_chars`` (a cut secret could not be
        #: found later); values the run registers later (a tool's profile) are in the same redactor.
        self.redactor = redactor

    def add(self, line: str) -> None:
        line = line.rstrip("\n")
        if self.redactor:
            line = self.redactor.text(line)
        if len(line) > self.line_chars:
            line = line[: self.line_chars - 3] + "..."
        size = len(line.encode("utf-8", errors="replace"))
        with self._lock:
            if not self.dropped and len(self.lines) < self.limit and self.size + size <= self.max_bytes:
                self.lines.append(line)
                self.size += size
            else:
                self.dropped += 1

    def write(self, text: str) -> None:
        """Stream input (``print``): complete lines are added, a trailing partial line waits."""
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self.add(f"{_stamp()} PRINT {line}")

    def result(self) -> list[str]:
        if self._partial:
            self.add(f"{_stamp()} PRINT {self._partial}")
            self._partial = ""
        if self.dropped:
            return [*self.lines, f"... {self.dropped} more line(s) not kept"]
        return list(self.lines)


def _stamp() -> str:
    now = time.time()
    return time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}"


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        run = _current.get()
        if run is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            run.add(f"{_stamp()} {record.levelname} {record.name}: {message}")
        except Exception:  # noqa: BLE001 - logging must never break a run
            pass


class _StdoutProxy(io.TextIOBase):
    """Sends writes to the current run's log when there is one (``keep``), and always to the real
    stream, scrubbed of the current run's secrets."""

    def __init__(self, real: TextIO, keep: bool = True) -> None:
        self.real = real
        self.keep = keep

    def write(self, text: str) -> int:  # type: ignore[override]
        run = _current.get()
        if run is not None and self.keep:
            run.write(text)
        redactor = redaction.current()
        if redactor and isinstance(text, str):
            self.real.write(redactor.text(text))
            return len(text)
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    # io.TextIOBase defines these (to raise or answer for itself): answer for the real stream instead,
    # so code that asks sys.stdout/sys.stderr for its file descriptor (subprocess, faulthandler) works.
    def fileno(self) -> int:
        return self.real.fileno()

    def isatty(self) -> bool:
        return self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        logging.getLogger().addHandler(_Handler(level=logging.DEBUG))
        # Plugins log with logging.getLogger(__name__) -> "plugins...."; INFO must reach the handler.
        plugins_logger = logging.getLogger("plugins")
        if plugins_logger.level == logging.NOTSET:
            plugins_logger.setLevel(logging.INFO)
        _installed = True


@contextmanager
def capture(run_log: RunLog) -> Iterator[RunLog]:
    install()
    if not isinstance(sys.stdout, _StdoutProxy):  # someone (a test runner, a server) swapped stdout
        sys.stdout = _StdoutProxy(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _StdoutProxy):
        sys.stderr = _StdoutProxy(sys.stderr, keep=False)  # type: ignore[assignment]
    token = _current.set(run_log)
    try:
        yield run_log
    finally:
        _current.reset(token)
