"""Known secret values, scrubbed from what a run stores and from what the process writes while it runs.

Key-based redaction (``inputs.redact``: password-typed inputs, keys like ``token``) cannot stop a
workflow from printing, logging, raising with or returning a secret it was given. This module does it
by value: a ``Redactor`` knows the secret strings of one run and replaces every occurrence with
``***`` in the run's output, message, error, traceback and log lines before they are saved (so they
never reach a response either), and in the log records and ``print`` output the process emits while
the run executes (so they never reach the server log or CloudWatch).

Where the values come from:
- the run's password-typed and secret-named inputs (the engine, when the run starts);
- every tool profile the run resolves (``functions.core.profiles``: required and secret-named parameters,
  and anything read from a Secrets Manager secret), including tools a seed workflow builds itself;
- OAuth tokens and client secrets a Google tool loads (``functions.google.oauth``);
- process-wide values registered with ``register_global``: the admin token and the webhook secrets.

The current run's redactor lives in a context variable set in the thread that runs the workflow, so
``register`` from deep inside a tool reaches it, and runs in other threads never share values.
Values shorter than ``MIN_LENGTH`` characters are not tracked (masking every "on" or "42" would make
outputs unreadable); such values are still masked by key in the stored inputs.

Hand-written: the logging and secret-masking libraries we looked at mask by key or by regex of
known token formats, not by the exact values a run was given.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from functions.core.log_safety import hold_secret_loggers

MASK = "***"

#: Name segments that mark a value as secret; a name is split at ``_ - . /``, spaces and camelCase
#: humps, and matched segment by segment, never as a substring: ``max_tokens``, ``passenger``,
#: ``tokenizer`` or ``bypass_cache`` are ordinary settings, while ``access_token``, ``db_pass`` and
#: ``apiKey`` are secrets.
SECRET_WORDS = frozenset({"password", "passwd", "pass", "pwd", "passphrase", "secret", "token", "apikey",
                          "authorization", "credential", "credentials", "cookie", "privatekey"})
#: Two consecutive segments that mean one secret word (``api_key``, ``private-key``, ``accessKey``).
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")})
_SEGMENTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def is_secret_name(name: object) -> bool:
    """Whether a key (an input, a profile parameter) names a secret: by whole name segments."""
    parts = [part.lower() for part in _SEGMENTS.findall(str(name))]
    return any(part in SECRET_WORDS for part in parts) or any(pair in SECRET_PAIRS for pair in zip(parts, parts[1:]))
MIN_LENGTH = 4

_current: contextvars.ContextVar["Redactor | None"] = contextvars.ContextVar("wfp_redactor", default=None)
_global: set[str] = set()
_global_version = 0
_global_lock = threading.Lock()
_factory_installed = False


def _usable(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if len(value) >= MIN_LENGTH and value != MASK else None


def register_global(*values: Any) -> None:
    """Secrets every run must hide (admin token, webhook secrets): known to every redactor from now on."""
    global _global_version
    fresh = {v for v in map(_usable, values) if v and v not in _global}
    if fresh:
        with _global_lock:
            _global.update(fresh)
            _global_version += 1


def register(*values: Any) -> None:
    """Secrets the current run was given (profile values, tokens); nothing happens outside a run."""
    redactor = _current.get()
    if redactor is not None:
        redactor.add(*values)


def current() -> "Redactor | None":
    return _current.get()


def environment_secrets() -> list[str]:
    """The platform's own secrets set as variables (locally): the admin token and the webhook secrets.
    Deployed they come from Secrets Manager and are registered when read (``register_global``)."""
    return [value for key, value in os.environ.items()
            if key == "WFP_ADMIN_TOKEN" or key.startswith("WFP_WEBHOOK_SECRET_")]


class Redactor:
    """The secret values of one run, and the means to scrub them from text and JSON-like values."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._built_for = -1
        self.add(*values)

    def add(self, *values: Any) -> None:
        fresh = {v for v in map(_usable, values) if v and v not in self._values}
        if fresh:
            with self._lock:
                self._values.update(fresh)
                self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is not None and self._built_for == _global_version:
            return pattern
        with self._lock:
            values = self._values | _global
            if not values:
                return None
            # Longest first: a secret that contains another is masked whole.
            self._pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
            self._built_for = _global_version
            return self._pattern

    def __bool__(self) -> bool:
        return bool(self._values or _global)

    def text(self, value: str) -> str:
        pattern = self._compiled()
        return pattern.sub(MASK, value) if pattern is not None and value else value

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) scrubbed."""
        if self._compiled() is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


@contextmanager
def active(redactor: Redactor) -> Iterator[Redactor]:
    """Make ``redactor`` the current run's (in this thread) and scrub log records while it is."""
    install()
    token = _current.set(redactor)
    try:
        yield redactor
    finally:
        _current.reset(token)


# ----- log records -----------------------------------------------------------------------------------------
def scrub_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Replace a record's message and exception text by scrubbed ones when they hold a secret.

    Handlers format records after they are made, each in its own way (a console, Powertools' JSON,
    the Lambda runtime); changing the record itself is the only place where all of them are covered.
    A record holding no secret is left exactly as it was.
    """
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a record whose args do not fit its format: leave it to the handler
        return
    clean = redactor.text(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean_text = redactor.text(text)
        if clean_text != text:
            exc = record.exc_info[1]
            record.msg = f"{clean} ({type(exc).__name__}: {redactor.text(str(exc))})"
            record.args = None
            record.exc_info, record.exc_text = None, clean_text


def install() -> None:
    """Wrap the log record factory once: records made while a run's redactor is active are scrubbed."""
    global _factory_installed
    with _global_lock:
        if _factory_installed:
            return
        hold_secret_loggers()
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redactor = _current.get()
            if redactor:
                scrub_record(record, redactor)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True
