"""Static files (the dashboard's, and each interface's ``src/``), with content types that do not
depend on the host.

Starlette's ``StaticFiles`` refuses ``..`` and symlinks leading out of its folder and sets
``Content-Type`` from the file name through ``mimetypes``; ``SafeStaticFiles`` also refuses hidden
files and folders (``.env``, ``.git/``). A Lambda image has a small ``/etc/mime.types``, so the types
a web page needs are registered with ``mimetypes``, on the first file served rather than at import:
registering reads the host's tables (~5 ms), which a cold start that serves no file should not pay.
"""

from __future__ import annotations

import mimetypes
import re
from functools import cache
from os import PathLike, stat_result

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Content types that must not depend on the host's /etc/mime.types.
CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                 ".html": "text/html", ".svg": "image/svg+xml", ".json": "application/json",
                 ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
                 ".woff2": "font/woff2", ".ico": "image/x-icon", ".png": "image/png"}


@cache
def register_content_types() -> None:
    for extension, content_type in CONTENT_TYPES.items():
        mimetypes.add_type(content_type, extension)


class SafeStaticFiles(StaticFiles):
    """StaticFiles that also refuses hidden files and folders (``.env``, ``.git/config``)."""

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        # "." is the folder itself (its index.html); anything else starting with a dot is refused
        if any(part.startswith(".") and part != "." for part in re.split(r"[\\/]", path)):
            raise HTTPException(status_code=404)
        return path

    def file_response(self, full_path: str | PathLike[str], stat_result: stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        register_content_types()
        return super().file_response(full_path, stat_result, scope, status_code)
