"""Logs, traces and metrics of the Lambda handlers (Powertools), in one place.

- ``logger``: JSON lines; the handlers set the correlation id to the API Gateway request id (api),
  the EventBridge event id (scheduler) or the run id (worker, per record).
- ``tracer``: X-Ray; Powertools switches it off outside Lambda. Only botocore is patched (DynamoDB,
  Secrets Manager and SQS calls become subsegments); patching everything would import requests,
  httplib2 and friends at cold start for nothing. Built on first use (``get_tracer()``, or the
  module attribute ``tracer``): the X-Ray SDK costs ~150-300 ms to import and itself imports botocore.
  The scheduler and worker always call AWS, so they build it at import and keep Powertools' handler
  subsegment. The api function does not: many of its requests (/docs, the workflow list, the
  dashboard's static files) touch no AWS service, so ``trace_aws_calls()`` builds the tracer, and
  patches botocore, at the moment botocore's client module is first imported, i.e. just before the
  first AWS call. Every AWS call is still a subsegment; the invocation itself is traced by Lambda
  (the function's own segment), so only Powertools' extra "## handler" subsegment is given up.
- ``record_run``: one CloudWatch EMF document per finished run with the workflow as dimension:
  ``Runs``, ``Errors`` (0 or 1) and ``Duration`` (ms). A dedicated EMF provider is used instead of the
  shared ``Metrics`` object because one worker invocation finishes runs of several workflows and
  each needs its own dimension set. EMF is a log line: no API call, no latency.

Only the handlers import this module (the local server and tests of the core do not print EMF).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from functions.core.runs import Run
    from functions.platform import Platform

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "workflow-platform"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "WorkflowPlatform"

logger = Logger(service=SERVICE)

_log = logging.getLogger(__name__)
_tracer: "Tracer | None" = None


def get_tracer() -> "Tracer":
    """The Powertools tracer (botocore patched when tracing is on), built once."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE, patch_modules=["botocore"])
    return _tracer


def tracing_enabled() -> bool:
    """Powertools' own rule: on in a Lambda function, unless POWERTOOLS_TRACE_DISABLED says otherwise."""
    from aws_lambda_powertools.tracing.tracer import Tracer

    return not Tracer._is_tracer_disabled()


def trace_aws_calls() -> None:
    """Trace every AWS call without paying for the X-Ray SDK before the first one (api function).

    The tracer is built (and botocore patched) when ``botocore.client`` is imported, or at once if it
    already is. Outside Lambda tracing is off and nothing is registered.
    """
    if not tracing_enabled():
        return
    module = sys.modules.get("botocore.client")
    if module is not None:
        _patch_on_import(module)
    elif not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport("botocore.client", _patch_on_import))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Call ``callback(module)`` once ``name`` has executed: a post-import hook.

    wrapt's ``register_post_import_hook`` does this too, but importing wrapt costs ~4 ms of a cold
    start that may never call AWS (the X-Ray SDK imports it anyway, with the first AWS call). The
    finder removes itself on first use and lets the regular finders locate the module; only the
    module's own loader is wrapped.
    """

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute, callback = spec.loader.exec_module, self.callback

        def exec_module(module: ModuleType) -> None:
            execute(module)
            callback(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign] - this module's loader only
        return spec


def _patch_on_import(module: ModuleType) -> None:
    # The hook runs as soon as botocore.client has executed, a moment before the import system binds
    # it as an attribute of its package; the X-Ray patch reads ``botocore.client``, so bind it now.
    sys.modules["botocore"].client = module  # type: ignore[attr-defined]
    get_tracer()


def __getattr__(name: str) -> Any:
    """``from functions.handlers.observability import tracer`` builds the tracer (scheduler and worker)."""
    if name == "tracer":
        return get_tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def record_run(run: "Run") -> None:
    """Publish the run's metrics (EMF) and log one line that says how it ended."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    failed = run.status not in ("success", "skipped", "cancelled")
    emf = AmazonCloudWatchEMFProvider(namespace=NAMESPACE, service=SERVICE)
    emf.add_dimension(name="workflow", value=run.workflow)
    emf.add_metric(name="Runs", unit=MetricUnit.Count, value=1)
    emf.add_metric(name="Errors", unit=MetricUnit.Count, value=1 if failed else 0)
    if run.duration_ms is not None:
        emf.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=run.duration_ms)
    emf.add_metadata(key="run_id", value=run.run_id)
    emf.add_metadata(key="trigger", value=run.trigger)
    emf.flush_metrics()
    logger.info("run finished", extra={"run_id": run.run_id, "workflow": run.workflow, "trigger": run.trigger,
                                        "status": run.status, "duration_ms": run.duration_ms})


def install(platform: "Platform") -> "Platform":
    """Have ``platform`` report every finished run (idempotent: the handlers call it on each invocation,
    a list lookup, so a platform built or replaced after their import reports too)."""
    if record_run not in platform.run_hooks:
        platform.run_hooks.append(record_run)
    return platform
