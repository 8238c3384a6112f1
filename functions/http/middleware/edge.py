"""The one ASGI middleware: every request's line checked, its admin token checked, every response's
security headers set.

The three concerns live in their own modules (``limits``, ``auth``, ``security_headers``) as plain
functions; this layer applies them in that order. One layer rather than three because each ASGI layer
is a coroutine call and a wrapped ``send`` on every request, and on the most frequent warm request
(``GET /api/workflows``) the three layers were a fifth of the time. Pure ASGI (not
``BaseHTTPMiddleware``): no task and no buffering of streamed responses.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.http.errors import error_response
from functions.http.middleware import auth, limits, security_headers


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            if await auth.refusal(scope) is not None:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        path = auth.route_path(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                security_headers.add(message, path)
            await send(message)

        found = limits.problem(scope)  # absurd paths and query strings: a 4xx before anything
        response = error_response(*found) if found is not None else await auth.refusal(scope)
        if response is not None:
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
