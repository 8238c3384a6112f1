"""boto3 clients, one per service, created on first use and kept: the platform's one lazy mechanism.

A cold start that serves ``/docs`` or the workflow list calls no AWS service and must not pay for
boto3 (~100 ms) or a client (~50 ms each); a warm Lambda must not build a client per request. Every
adapter in ``functions/aws`` asks this object for its client. ``forget`` drops them all: SnapStart's
restore does (a client in a snapshot would be shared, with its connections and credentials, by every
restored environment), and so does anything that changes the endpoint (the local server, tests).
"""

from __future__ import annotations

import threading
from typing import Any

from functions.core.log_safety import hold_secret_loggers

#: Connections each client (and each pynamodb model, ``functions.stores.base.bind``) keeps open to its
#: service. botocore's default, 10, is fewer than the threads of one process that call one service at
#: once (the run search's 16 shard readers; the local server's request threads and queue pollers): each
#: call over the pool opened a TCP connection and dropped it afterwards (py-spy of the local server under
#: a webhook burst: an eighth of its busy time in ``create_connection``).
POOL_CONNECTIONS = 32


class Clients:
    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    import boto3
                    from botocore.config import Config

                    from functions.aws import loader
                    from functions.aws.metering import install

                    install()  # before the first session: each run's requests are counted
                    loader.share()  # and its service models parsed once for every session
                    hold_secret_loggers()  # botocore logs request and response bodies at DEBUG
                    client = self._clients[service] = boto3.client(
                        service, config=Config(max_pool_connections=POOL_CONNECTIONS))
        return client

    def forget(self) -> None:
        with self._lock:
            self._clients.clear()
