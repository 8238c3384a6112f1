"""Lambda ``api``: API Gateway (REST payload v1 or HTTP API payload v2) → the FastAPI app.

Mangum translates events to ASGI and back (binary bodies base64, HTML and JSON as text);
``gateway`` adds the stage as the ASGI root path so links, redirects and /docs work under
``/prod/...``. Lifespan is off: the app has no startup work, and a cold start should not pay for it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from functions import observability
from functions.app import app
from functions.handlers.gateway import HANDLERS
from functions.observability import logger, tracer

observability.install()
asgi = Mangum(app, lifespan="off", custom_handlers=HANDLERS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return asgi(event, context)
