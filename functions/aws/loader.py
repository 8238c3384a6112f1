"""One botocore data loader for every botocore session of the process.

pynamodb opens a botocore session per model's connection (the runs table, the schedules table, the
idempotency keys...), boto3 has its own and a plugin's tool may make more; each new session reads and
parses the service's model files again: 50 to 90 ms a client here, paid once per session at every cold
start (the scheduler's tick touches two tables, a run with a delivery id three). The files never change
while the process lives and botocore's ``Loader`` caches what it parsed, so one loader (per data path)
serves every session: a client after the first costs a few milliseconds.

botocore has no setting for this: a session builds its loader with ``botocore.session.create_loader``,
which ``share`` replaces with a cached one, once, before the process's first session (called where the
metering hook is installed: ``functions.aws.clients`` and ``functions.stores.base``).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_shared = False


def share() -> None:
    global _shared
    with _lock:
        if _shared:
            return
        import botocore.session

        original = botocore.session.create_loader
        loaders: dict[Any, Any] = {}

        def create_loader(search_path_string: Any = None) -> Any:
            with _lock:
                if search_path_string not in loaders:
                    loaders[search_path_string] = original(search_path_string)
                return loaders[search_path_string]

        botocore.session.create_loader = create_loader
        _shared = True
