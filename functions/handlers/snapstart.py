"""Lambda SnapStart for the three functions: what to do before the snapshot and after a restore.

With SnapStart (``infrastructure.stack``: on for every function's published versions unless
``-c snapstart=off``), Lambda runs the function's initialisation once, when a version is published, and
snapshots the memory; a cold start then restores that snapshot instead of importing anything. The hooks come from
``snapshot_restore_py``, which the Lambda Python runtime ships (not installed elsewhere: outside
Lambda ``register()`` does nothing).

Before the snapshot (``prime``), everything a first request would otherwise do once is done, so it
is in the snapshot: the plugins listed in the build-time manifest are imported, the run store's
modules (pynamodb, botocore, the X-Ray patch of botocore) and every route module are imported, the
OpenAPI document is built,
the dashboard's templates are compiled, the workflow list is computed once (pydantic validators, cron
fire times) and a request goes through Mangum and the whole app. Nothing calls AWS (the request is a
health check, which reads no admin token) and no AWS client is created: a connection or a credential cached in a snapshot would be shared, stale, by every restored
environment. Then the heap is frozen out of the garbage collector (what is left is the application).

The worker and the scheduler (``prime_background``) cannot rehearse their work: every run they handle
reads and writes DynamoDB. Before their snapshot the plugins are imported, the parts a run goes through
are built (engine, queued runs, schedules, failure handling: objects, no client), pynamodb's models are
imported and the DynamoDB, SQS and S3 service models are parsed into botocore's shared data loader
(``functions.aws.loader``), which is what makes a first client cost 50 to 90 ms. Still no client and
no credential: those are built after the restore.

After a restore (``restore``): the ``random`` module is reseeded (every environment restored from
one snapshot would otherwise draw the same numbers; run ids and tokens use ``secrets``, which reads
the kernel's generator and is safe), and any AWS client or cached secret is dropped, so that each
environment builds its own with fresh connections and credentials.
"""

from __future__ import annotations

import gc
import logging
import random
from typing import Any

log = logging.getLogger(__name__)


def prime(app: Any) -> None:
    """Do before the snapshot what a first request would do once. Never raises: a snapshot taken
    without priming still works, it is only slower on its first request."""
    from functions.http.routes.groups import load_all
    from functions.platform import get_platform

    platform = get_platform()
    steps = {
        "plugins": lambda: platform.registry.check_all(),
        "run store": lambda: platform.runs,
        "routes": lambda: load_all(app),
        "openapi": app.openapi,
        "workflow list": _workflow_list,
        "dashboard templates": _templates,
        "request": lambda: _request(app),
    }
    _run(steps)


def _run(steps: dict[str, Any]) -> None:
    """Each priming step, a failure logged and skipped; then the heap is frozen out of the collector."""
    for name, step in steps.items():
        try:
            step()
        except Exception:  # noqa: BLE001 - priming is an optimisation
            log.exception("SnapStart priming step %r failed", name)
    gc.collect()
    gc.freeze()


def _workflow_list() -> None:
    from functions.http import catalog
    from functions.http.schemas import WorkflowOut
    from functions.platform import get_platform

    for workflow in catalog.workflows(get_platform(), "https://snapstart.invalid"):
        WorkflowOut.model_validate(workflow.model_dump()).model_dump_json()


def _templates() -> None:
    from functions.http.dashboard.render import TEMPLATES, environment

    env = environment()
    for template in TEMPLATES.glob("*.html"):
        env.get_template(template.name)


def _request(app: Any) -> dict[str, Any]:
    """GET /api/health through Mangum and the whole app (middleware, routing, the endpoint); its response.
    Health is exempt from the admin token and reads no secret (``middleware.auth``): no AWS call. A failure
    inside the app is a 500 Mangum does not raise: the status is checked."""
    from mangum import Mangum

    from functions.handlers.gateway import HANDLERS

    event = {"version": "2.0", "routeKey": "$default", "rawPath": "/api/health", "rawQueryString": "",
             "headers": {"host": "snapstart.invalid"}, "isBase64Encoded": False,
             "requestContext": {"http": {"method": "GET", "path": "/api/health", "protocol": "HTTP/1.1",
                                         "sourceIp": "127.0.0.1", "userAgent": "snapstart"},
                                "stage": "$default", "requestId": "snapstart", "routeKey": "$default"}}
    response: dict[str, Any] = Mangum(app, lifespan="off", custom_handlers=HANDLERS)(event, None)
    if response.get("statusCode") != 200:
        raise RuntimeError(f"the priming request was answered {response.get('statusCode')}: {response.get('body')}")
    return response


#: The AWS services a background function calls on its first run: their models are parsed before the snapshot.
BACKGROUND_SERVICES = ("dynamodb", "sqs", "s3")


def prime_background() -> None:
    """The worker's and the scheduler's priming: never raises, makes no AWS call, creates no client."""
    from functions.platform import get_platform

    platform = get_platform()
    steps = {
        "plugins": lambda: platform.registry.check_all(),
        "run store": lambda: platform.runs,
        "queued runs": lambda: platform.queued,
        "schedules": lambda: platform.schedules,
        "failure handling": lambda: platform.failures,
        "service models": _service_models,
    }
    _run(steps)


def _service_models() -> None:
    import botocore.session

    from functions.aws import loader

    loader.share()
    session = botocore.session.get_session()
    for service in BACKGROUND_SERVICES:
        session.get_service_model(service)
    session.get_component("endpoint_resolver")  # endpoints.json, partitions


def restore() -> None:
    """After a restore: new random state, no AWS client or secret from before the snapshot."""
    random.seed()
    from functions.platform import get_platform

    get_platform().forget_clients()


def register(app: Any = None) -> bool:
    """Register the hooks with the Lambda runtime: the api's priming for its ``app``, the background
    functions' without one. False where there is no SnapStart (tests, local)."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    if app is None:
        register_before_snapshot(prime_background)
    else:
        register_before_snapshot(prime, app)
    register_after_restore(restore)
    return True
