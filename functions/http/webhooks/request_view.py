"""The request a webhook run came from, for a workflow that verifies a scheme the platform does not know
(``"webhook_request": true`` in its config.json; usually with ``"webhook_auth": "none"``).

The workflow finds it in its inputs under ``_request``: method, path, query, the headers (lower-cased;
those whose name says they carry a credential, such as ``Authorization``, ``Cookie`` or
``X-Webhook-Token``, removed) and the raw body as text (``body_base64`` instead when it is not UTF-8),
exactly as received, so a signature over it can be checked. It is stored with the run like any input
(bounded, secrets masked) and does not count in the Idempotency-Key comparison: a redelivery's
headers (signatures, timestamps, retry counts) differ, its payload does not.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from functions.core.inputs import REQUEST_KEY
from functions.core.redaction import is_secret_name

__all__ = ["REQUEST_KEY", "view"]


def view(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    kept = {name.lower(): value for name, value in headers.items() if not is_secret_name(name)}
    request: dict[str, Any] = {"method": method, "path": path, "query": dict(query), "headers": kept}
    try:
        request["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        request["body_base64"] = base64.b64encode(body).decode("ascii")
    return request
