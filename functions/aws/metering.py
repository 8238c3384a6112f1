"""Counts each AWS request of this process for the run being handled (``functions.core.usage``).

The hook is added to ``botocore.handlers.BUILTIN_HANDLERS``, the handlers every new botocore session
starts with, so it reaches boto3's clients (``functions.aws.clients``), pynamodb's connections and the
clients a plugin's tool makes alike. ``install`` runs before the process's first client or store is
made (``functions.platform``), where botocore is imported anyway: a cold start that calls no AWS
service imports nothing for it. ``before-send`` fires once per HTTP attempt: retries are billed too.
"""

from __future__ import annotations

import threading
from typing import Any

from functions.core import usage

_installed = False
_lock = threading.Lock()


def _sent(event_name: str, **_: Any) -> None:
    _, service, operation = event_name.split(".", 2)
    usage.count(service, operation)


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from botocore.handlers import BUILTIN_HANDLERS

        BUILTIN_HANDLERS.append(("before-send", _sent))
        _installed = True
