"""The API docs at ``/docs`` (Swagger UI), offline: every file the page loads is the app's own.

FastAPI's ``/docs`` loads Swagger UI from a CDN (jsDelivr) and its favicon from fastapi.tiangolo.com: a
blank page without internet, and a script policy with other origins in it. Here the page names only
``<root>/docs/assets/...`` (the stage prefix included, ``/prod`` behind API Gateway):

- ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``favicon.png``: Swagger UI's dist files as the
  ``fastapi-offline`` package ships them (``fastapi_offline/static``; the package is a dependency for its
  files only and is never imported: Starlette's ``StaticFiles(packages=...)`` finds its folder with
  ``importlib.util.find_spec``);
- ``swagger-init.js`` (``static/`` here): starts Swagger UI, in place of FastAPI's inline script, so the
  page's policy (``DOCS_CSP`` in ``functions.http.middleware.security_headers``) needs no ``'unsafe-inline'``.

Only these files are served (``ASSETS``), the same locally and on Lambda, where the layer build leaves out
the package's other files. ReDoc (FastAPI's ``/redoc``, from a CDN too) is not served: it is the same
document in another reader, and its 1.1 MB script would put the layer over its size budget
(``layers/build.py``). The assets folder is looked up with the first asset request, not at import: a cold
start serving ``/docs`` builds one HTML string.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from functions.http.middleware.auth import root_path
from functions.http.static import SafeStaticFiles

DOCS = "/docs"
ASSETS_PATH = "/docs/assets"
#: The package whose Swagger UI files are served, and its folder that holds them.
PACKAGE, PACKAGE_FOLDER = "fastapi_offline", "static"
#: The app's own files (the init script).
STATIC = Path(__file__).resolve().parent / "static"
#: Every file ``/docs/assets/`` serves: what the page loads.
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png", "swagger-init.js"})

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


class DocsAssets:
    """``/docs/assets/<file>``: the files of ``ASSETS``, from this package's ``static/`` or the package's.
    The static files app is built with the first request (finding the package's folder)."""

    def __init__(self) -> None:
        self._files: SafeStaticFiles | None = None
        self._lock = threading.Lock()

    def files(self) -> SafeStaticFiles:
        if self._files is None:
            with self._lock:
                if self._files is None:
                    # Starlette finds a package's folder with importlib.util.find_spec: no import
                    self._files = SafeStaticFiles(directory=STATIC, packages=[(PACKAGE, PACKAGE_FOLDER)])
        return self._files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        files = self.files()
        if scope["type"] == "http" and files.get_path(scope) not in ASSETS:
            raise HTTPException(status_code=404)
        await files(scope, receive, send)


def swagger_ui(app: FastAPI) -> Callable[[Request], Awaitable[HTMLResponse]]:
    """The ``/docs`` endpoint: the page, with the stage prefix of the request in every URL."""
    title = html.escape(app.title)
    openapi_url = app.openapi_url or "/openapi.json"

    async def page(request: Request) -> HTMLResponse:
        root = root_path(request.scope)
        return HTMLResponse(PAGE.format(title=title, assets=html.escape(root + ASSETS_PATH),
                                        openapi=html.escape(root + openapi_url)))

    return page


def install(app: FastAPI) -> None:
    """``/docs`` and its assets, in place of FastAPI's (the app is built with ``docs_url=None``)."""
    app.add_route(DOCS, swagger_ui(app), methods=["GET"], include_in_schema=False)
    app.router.routes.append(Mount(ASSETS_PATH, app=DocsAssets(), name="docs-assets"))
    app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url = DOCS, None, None
