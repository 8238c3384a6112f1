"""Security headers, added to every response in one place (``functions.http.app`` installs the middleware).

Three levels, by what the page is:
- dashboard pages (``/``, ``/dashboard/...``, ``/login``, ``/logout``): a strict Content-Security-Policy.
  Scripts and styles only from the app's own files (no inline script, no ``'unsafe-inline'``, no CDN),
  no framing, no plugins, forms only to the app; plus ``Cache-Control: no-store`` on the HTML because
  it shows run data behind the admin login.
- other HTML (custom interfaces, ``/docs``): only ``frame-ancestors 'none'`` and
  ``X-Frame-Options: DENY``. Their authors write inline scripts and ``onclick=`` attributes (the seed's
  example does), and Swagger UI loads from a CDN, so a script policy would break them; refusing to be
  framed costs them nothing and stops clickjacking of buttons that run workflows.
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
FRAME_CSP = "frame-ancestors 'none'"
COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def is_dashboard(path: str) -> bool:
    return path == "/" or path in ("/login", "/logout", "/dashboard") or path.startswith("/dashboard/")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        dashboard = is_dashboard(path)
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
                elif html:
                    headers.setdefault("content-security-policy", FRAME_CSP)
                    headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
