"""Lambda ``api``: API Gateway (REST payload v1 or HTTP API payload v2) → the FastAPI app.

Mangum translates events to ASGI and back (binary bodies base64, HTML and JSON as text);
``gateway`` adds the stage as the ASGI root path so links, redirects and /docs work under
``/prod/...``. Lifespan is off: the app has no startup work, and a cold start should not pay for it.

Cold start (see README, Performance):
- the garbage collector is off while the app is imported and built: building FastAPI routes and
  pydantic models allocates hundreds of thousands of objects, and the collections they trigger (a
  full one among them) cost ~60 ms of a ~600 ms import for nothing, since what is built lives as
  long as the process. On Lambda the heap is then frozen (``gc.freeze``): later collections never
  scan the application again (warm requests spend ~10x less in the collector);
- tracing loads the X-Ray SDK with the first AWS call (``observability.trace_aws_calls``);
- with SnapStart, ``snapstart`` primes the app before the snapshot and resets what must not be
  shared after a restore.
"""

from __future__ import annotations

import gc
import os

gc.disable()
try:
    from typing import Any

    from mangum import Mangum

    from functions.handlers import observability, snapstart
    from functions.handlers.gateway import HANDLERS
    from functions.handlers.observability import logger
    from functions.http.app import create_app
    from functions.platform import get_platform

    app = create_app()  # over the process's platform (functions.platform.get_platform)
    observability.trace_aws_calls()  # X-Ray: AWS calls are subsegments; the SDK loads with the first one
    asgi = Mangum(app, lifespan="off", custom_handlers=HANDLERS)
    snapstart.register(app)
finally:
    if os.environ.get("LAMBDA_TASK_ROOT") and not gc.get_freeze_count():
        gc.freeze()  # in a Lambda runtime only: a test process's heap is left to the collector
    gc.enable()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The correlation id is API Gateway's request id (REST and HTTP API events alike), read here rather
    # than through the decorator's JMESPath expression (~4% of a warm request).
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
    observability.install(get_platform())
    return asgi(event, context)
