"""Security headers, added to every response in one place (``functions.http.middleware.edge``).

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

from typing import Any

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


_COMMON = [(k.encode(), v.encode()) for k, v in COMMON.items()]
_DASHBOARD = [(b"content-security-policy", DASHBOARD_CSP.encode()), (b"x-frame-options", b"DENY")]
_DOCS = [(b"content-security-policy", DOCS_CSP.encode()), (b"x-frame-options", b"DENY")]
_FRAME = [(b"content-security-policy", FRAME_CSP.encode()), (b"x-frame-options", b"DENY")]
_NO_STORE = [(b"cache-control", b"no-store")]


def add(message: dict[str, Any], path: str) -> None:
    """Set the headers of an ``http.response.start`` message for ``path`` (``functions.http.middleware.edge``
    calls it on every response). What the response already sets is kept, except the dashboard's and the
    docs' policies (and the dashboard's HTML caching), which are the platform's. Works on the raw header
    list: this runs on every response, and ``MutableHeaders`` scans the list once per header set."""
    headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
    names = {name.lower() for name, _ in headers}
    html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)
    if is_dashboard(path):
        forced = _DASHBOARD + (_NO_STORE if html and not path.startswith("/dashboard/static/") else [])
    elif is_docs(path):
        forced = _DOCS
    else:
        forced = []
    if forced:
        replaced = {name for name, _ in forced}
        headers = [(name, value) for name, value in headers if name.lower() not in replaced] + forced
    defaults = _COMMON + (_FRAME if html and not forced else [])
    headers.extend((name, value) for name, value in defaults if name not in names)
    message["headers"] = headers
