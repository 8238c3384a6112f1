"""The composition root: one ``Platform`` builds the engine and everything it talks to, once, lazily.

Edges ask it for what they need and nothing else builds a store, a client or an engine:

* the HTTP app's routes get it through FastAPI's ``Depends(get_platform)`` (``functions.http.deps``);
  tests override that dependency the FastAPI way;
* the Lambda handlers and the tools a plugin builds itself (``Tool(profile="PROD")``, the seed's way)
  use ``get_platform()``, the process's platform, built from the environment on first use;
* the local server and the CLI build theirs with their local pieces (a queue that wakes the local
  worker, no EventBridge to toggle) and install it with ``use()``.

Everything is a ``cached_property``: a cold start serving ``/docs`` builds the settings and the
registry, never a store or a client (pynamodb and boto3 are imported by the first request that reads or
writes a record). ``forget_clients`` is the one thing SnapStart's restore calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from functions.settings import Settings

if TYPE_CHECKING:
    from functions.aws.clients import Clients
    from functions.core.durable import DurableBackend
    from functions.core.engine import Engine
    from functions.core.idempotency import IdempotencyStore
    from functions.core.metrics import MetricsStore
    from functions.core.notify import FailureHandler, NoticeStore
    from functions.core.ports import (
        BlobStore,
        Mailer,
        Queue,
        ScheduleToggler,
        SecretReader,
    )
    from functions.core.profiles import Profiles
    from functions.core.queued import QueuedRuns
    from functions.core.runs import Run, RunStore
    from functions.core.schedule_state import ScheduleStore
    from functions.core.schedules import Schedules
    from functions.durable.runner import DurableRuns
    from functions.registry.discovery import Registry
    from functions.stores.oauth import OAuthStore

#: What a Platform may be given instead of building it (the local server's queue, a test's store...).
PARTS = ("registry", "runs", "idempotency", "metrics", "schedule_store", "queue", "toggler", "secrets", "oauth", "clients",
         "notices", "mailer", "blobs", "durable")


class Platform:
    def __init__(self, settings: Settings | None = None, **parts: Any) -> None:
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise TypeError(f"Platform() got unknown parts {sorted(unknown)}; it takes {', '.join(PARTS)}")
        self.settings = settings or Settings()
        #: Called with every finished run, after it is saved (the Lambda handlers publish metrics); a
        #: failing hook is logged and never changes the run.
        self.run_hooks: list[Callable[["Run"], None]] = [self._on_error]
        self._reload_lock = threading.Lock()
        self.__dict__.update(parts)  # a given part shadows its cached_property

    # ----- AWS -------------------------------------------------------------------------------------------
    @cached_property
    def clients(self) -> "Clients":
        from functions.aws.clients import Clients

        return Clients()

    @cached_property
    def secrets(self) -> "SecretReader":
        from functions.aws.secrets import SecretsManager

        return SecretsManager(self.clients)

    @cached_property
    def queue(self) -> "Queue":
        from functions.aws.queue import SqsQueue

        return SqsQueue(self.clients, self.settings.queue_url)

    @cached_property
    def toggler(self) -> "ScheduleToggler":
        from functions.aws.eventbridge import EventBridgeToggler

        return EventBridgeToggler(self.clients)

    @cached_property
    def durable(self) -> "DurableBackend":
        """Where durable workflows' executions run (``functions.core.durable``): the durable Lambda
        (``WFP_DURABLE_FUNCTION``); the local server gives its own (``local_dev.durable``)."""
        from functions.aws.durable import LambdaDurableBackend

        return LambdaDurableBackend(self.clients, self.settings.durable_function)

    # ----- stores (pynamodb) ------------------------------------------------------------------------------
    @cached_property
    def runs(self) -> "RunStore":
        from functions.stores.runs import DynamoRunStore

        return DynamoRunStore(self.settings, self.blobs)

    @cached_property
    def blobs(self) -> "BlobStore":
        """The run-data bucket: outputs and logs too large for their run record."""
        from functions.aws.blobs import S3Blobs

        return S3Blobs(self.clients, self.settings.run_data_bucket)

    @cached_property
    def idempotency(self) -> "IdempotencyStore":
        from functions.stores.idempotency import DynamoIdempotencyStore

        return DynamoIdempotencyStore(self.settings)

    @cached_property
    def schedule_store(self) -> "ScheduleStore":
        from functions.stores.schedules import DynamoScheduleStore

        return DynamoScheduleStore(self.settings)

    @cached_property
    def metrics(self) -> "MetricsStore":
        from functions.stores.metrics import DynamoMetricsStore

        return DynamoMetricsStore(self.settings)

    @cached_property
    def notices(self) -> "NoticeStore":
        from functions.stores.notices import DynamoNoticeStore

        return DynamoNoticeStore(self.settings)

    @cached_property
    def mailer(self) -> "Mailer":
        from functions.aws.email import SesMailer

        return SesMailer(self.clients)

    @cached_property
    def failures(self) -> "FailureHandler":
        """``on_error``: notices and error workflows for failed runs (``functions.core.notify``)."""
        from functions.core.notify.failures import FailureHandler

        return FailureHandler(self)

    def _on_error(self, run: "Run") -> None:
        """The first run hook: a failed (or recovered) run's ``on_error``; nothing at all without one."""
        self.failures.finished(run)

    @cached_property
    def oauth(self) -> "OAuthStore":
        from functions.stores.oauth import OAuthStore

        return OAuthStore(self.settings)

    # ----- the core --------------------------------------------------------------------------------------
    @cached_property
    def registry(self) -> "Registry":
        from functions.registry.discovery import load_registry

        return load_registry(self.settings.plugins_dir, self.settings.manifest)

    @cached_property
    def profiles(self) -> "Profiles":
        from functions.core.profiles import Profiles

        return Profiles(self.settings, lambda: self.secrets)

    @cached_property
    def engine(self) -> "Engine":
        from functions.core.engine import Engine

        return Engine(self)

    @cached_property
    def queued(self) -> "QueuedRuns":
        from functions.core.queued import QueuedRuns

        # the failure handler is built when a run is given up on, not with every worker
        return QueuedRuns(self.engine, closed=lambda run_id, workflow: self.failures.closed(run_id, workflow))

    @cached_property
    def schedules(self) -> "Schedules":
        from functions.core.schedules import Schedules

        return Schedules(self.engine, self.schedule_store, self.toggler)

    @cached_property
    def durable_runs(self) -> "DurableRuns":
        """One invocation of a durable run (the durable handler's, ``functions.durable.runner``)."""
        from functions.durable.runner import DurableRuns

        return DurableRuns(self.engine)

    def reload(self) -> "Registry":
        """Re-discover plugins and forget their imported code: edits take effect on the next use."""
        from functions.registry.discovery import Registry, purge_plugin_modules

        with self._reload_lock:
            purge_plugin_modules(self.settings.plugins_dir)
            registry = Registry.discover(self.settings.plugins_dir)
            registry.check_all()
            self.registry = registry  # shadows the cached property: every part reads it from here
            return registry

    def forget_clients(self) -> None:
        """Drop every AWS client and cached secret (SnapStart's restore; a changed endpoint)."""
        for name in ("clients", "secrets"):
            part = self.__dict__.get(name)
            if part is not None:
                part.forget()
        if "runs" in self.__dict__ or "schedule_store" in self.__dict__ or "idempotency" in self.__dict__ \
                or "notices" in self.__dict__:
            from functions.stores.base import reset_connections

            reset_connections()


# ----- the process's platform --------------------------------------------------------------------------
_current: Platform | None = None
_lock = threading.Lock()


def get_platform() -> Platform:
    """The process's platform, built from the environment on first use (a Lambda, a plugin's tool)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = Platform()
    return _current


def use(platform: Platform | None) -> Platform | None:
    """Install ``platform`` as the process's (the local server, the CLI, tests); ``None`` forgets it, so
    the next ``get_platform()`` reads the environment again. Returns the one it replaces."""
    global _current
    with _lock:
        previous, _current = _current, platform
    return previous
