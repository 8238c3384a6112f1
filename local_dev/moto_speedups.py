"""Two of moto's SQS costs removed from the local AWS, with the same answers.

A webhook burst leaves a backlog in the runs queue, and moto's SQS made every call on it pay for the
whole backlog several times over (py-spy of the local AWS under the bench's webhook load: about half its
time in ``receive_message``, a fifth in ``send_message``):

- for each message a receive looks at, ``is_message_valid_based_on_retention_period`` asks the queue
  for its attributes, and ``Queue.attributes`` counts the queue's visible, delayed and in-flight
  messages each time: a receive was quadratic in the backlog. The retention period is an attribute
  of the queue: it is read directly.
- ``unix_time()`` without an argument (every visibility and delay check of every message) built two
  datetimes and subtracted them. It is ``time.time()``, which is what it returns.

moto 5.x; each patch checks that the code it replaces is still there and otherwise leaves moto alone
(a test fails then, so an upgrade is noticed). Installed by the local AWS (``LocalAws.serve_here``, in
the process that serves it); the answers are the same, so a test serving a local AWS in its own process
gets them too.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

_installed = False


def _fast_unix_time(original: Any) -> Any:
    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original(dt)
    unix_time.__wrapped__ = original  # type: ignore[attr-defined]
    return unix_time


def _fast_unix_time_millis(unix_time: Any) -> Any:
    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0
    return unix_time_millis


def _retention_check(self: Any, queue_name: str, message: Any) -> bool:
    retention = self.get_queue(queue_name).message_retention_period
    return bool(retention + message.sent_timestamp / 1000 > time.time())


def install() -> bool:
    """Patch moto's SQS and time helpers (once); False when moto's code is not what this expects."""
    global _installed
    if _installed:
        return True
    from moto.core import utils
    from moto.sqs import models

    checks = {
        "unix_time": "utcnow()" in inspect.getsource(utils.unix_time),
        "retention": "get_queue_attributes" in inspect.getsource(
            models.SQSBackend.is_message_valid_based_on_retention_period),
    }
    if not all(checks.values()):
        log.warning("moto's SQS is not what local_dev.moto_speedups expects (%s): left as it is",
                    ", ".join(k for k, ok in checks.items() if not ok))
        return False
    unix_time = _fast_unix_time(utils.unix_time)
    unix_time_millis = _fast_unix_time_millis(unix_time)
    for module in (utils, models):
        module.unix_time = unix_time  # type: ignore[attr-defined]
        module.unix_time_millis = unix_time_millis  # type: ignore[attr-defined]
    models.SQSBackend.is_message_valid_based_on_retention_period = _retention_check  # type: ignore[method-assign]
    _installed = True
    return True
