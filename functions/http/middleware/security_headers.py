"""Security headers, added to every response in one place (``functions.http.app`` installs the middleware).

Four levels, by what the page is:
- dashboard pages (``/``, ``/dashboard/...``, ``/login``, ``/logout``): a strict Content-Security-Policy.
  Scripts and styles only from the app's own files (no inline script, no ``'unsafe-inline'``, no CDN),
  no framing, no plugins, forms only to the app; plus ``Cache-Control: no-store`` on the HTML because
  it shows run data behind the admin login.
- the API docs (``/docs`` and ``/docs/assets/...``, ``functions.http.api_docs``): a strict policy too,
  ``DOCS_CSP``. Swagger UI's files are served by the app (no CDN) and it is started by a served script
  instead of an inline one, so ``script-src 'self'``; Swagger UI 5 needs no inline style (no ``<style>``
  element, no ``style=`` markup), so ``style-src 'self'`` with no ``'unsafe-inline'``; ``connect-src
  'self'`` for the OpenAPI document and "Try it out"; ``img-src`` adds ``data:`` for the SVG icons
  Swagger UI's stylesheet inlines. ``tests/browser/test_browser_api_docs.py`` renders the page offline,
  runs an operation and fails on any violation.
- other HTML (custom interfaces): only ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``. Their
  authors write inline scripts and ``onclick=`` attributes (the seed's example does), so a script policy
  would break them; refusing to be framed costs them nothing and stops clickjacking of buttons that run
  workflows.
- everything: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (run and
  webhook URLs never leak to other sites through the Referer header).
Headers a response already sets (an interface with its own CSP) are kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.http.middleware.auth import route_path

DASHBOARD_CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
])
DOCS_CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
])
FRAME_CSP = "frame-ancestors 'none'"
COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def is_dashboard(path: str) -> bool:
    return path == "/" or path in ("/login", "/logout", "/dashboard") or path.startswith("/dashboard/")


def is_docs(path: str) -> bool:
    return path == "/docs" or path.startswith("/docs/")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        dashboard = is_dashboard(path)
        docs = is_docs(path)
        static = path.startswith("/dashboard/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in COMMON.items():
                    headers.setdefault(key, value)
                html = headers.get("content-type", "").startswith("text/html")
                if dashboard:
                    headers["content-security-policy"] = DASHBOARD_CSP
                    headers["x-frame-options"] = "DENY"
                    if html and not static:
                        headers["cache-control"] = "no-store"
                elif docs:
                    headers["content-security-policy"] = DOCS_CSP
                    headers["x-frame-options"] = "DENY"
                elif html:
                    headers.setdefault("content-security-policy", FRAME_CSP)
                    headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
