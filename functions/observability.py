"""Logs, traces and metrics of the Lambda handlers (Powertools), in one place.

- ``logger``: JSON lines; the handlers set the correlation id to the API Gateway request id (api),
  the EventBridge event id (scheduler) or the run id (worker, per record).
- ``tracer``: X-Ray; Powertools switches it off outside Lambda. Only botocore is patched (DynamoDB,
  Secrets Manager and SQS calls become subsegments); patching everything would import requests,
  httplib2 and friends at cold start for nothing.
- ``record_run``: one CloudWatch EMF document per finished run with the workflow as dimension:
  ``Runs``, ``Errors`` (0 or 1) and ``Duration`` (ms). A dedicated EMF provider is used instead of the
  shared ``Metrics`` object because one worker invocation finishes runs of several workflows and
  each needs its own dimension set. EMF is a log line: no API call, no latency.

Only the handlers import this module (the local server and tests of the core do not print EMF).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Tracer

if TYPE_CHECKING:
    from .runs import Run

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "workflow-platform"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "WorkflowPlatform"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])

_log = logging.getLogger(__name__)


def record_run(run: "Run") -> None:
    """Publish the run's metrics (EMF) and log one line that says how it ended."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    failed = run.status not in ("success", "skipped")
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


def install() -> None:
    """Have the engine report every finished run (idempotent; the handlers call it at import)."""
    from .engine import run_hooks

    if record_run not in run_hooks:
        run_hooks.append(record_run)
