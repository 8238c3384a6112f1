"""Refuse absurd request lines before any route sees them: a clear 4xx, never a 500, nothing recorded.

A query string becomes workflow inputs (the trigger endpoint, webhooks) and a path names workflows and
files, so both are checked once, here: length, number of parameters, percent-encoding that is not
``%`` + two hex digits, bytes that do not decode as UTF-8, and NUL characters (which no workflow name
or input needs, and which some stores and loggers truncate at). Behind API Gateway, requests over its
own limits never reach the app; locally and in tests these are the limits.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import Scope

MAX_QUERY_BYTES = 8 * 1024
MAX_QUERY_PARAMS = 256
MAX_PATH_BYTES = 2 * 1024
BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def problem(scope: Scope) -> tuple[int, str] | None:
    """``(status, message)`` for a request line the platform refuses, else None."""
    query: bytes = scope.get("query_string", b"") or b""
    raw_path: bytes = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "surrogateescape")
    path = str(scope.get("path", ""))
    if len(raw_path) > MAX_PATH_BYTES:
        return 414, f"the URL path is {len(raw_path)} bytes long; the limit is {MAX_PATH_BYTES}"
    if "\x00" in path or b"%00" in raw_path:
        return 400, "the URL path contains a NUL character"
    # Most paths have no '%' and are ASCII: then nothing below can fail (checked on every request).
    if b"%" in raw_path and BAD_PERCENT.search(raw_path):
        return 400, "the URL path has a '%' not followed by two hex digits: encode '%' as %25"
    try:
        if b"%" in raw_path or not raw_path.isascii():
            unquote_to_bytes(raw_path).decode("utf-8")
        if not path.isascii():
            path.encode("utf-8")
    except UnicodeError:
        return 400, "the URL path is not valid UTF-8 once percent-decoded"
    if not query:
        return None
    if len(query) > MAX_QUERY_BYTES:
        return 414, (f"the query string is {len(query)} bytes long; the limit is {MAX_QUERY_BYTES}: "
                     "send large inputs as a JSON body")
    if query.count(b"&") + 1 > MAX_QUERY_PARAMS:
        return 400, f"the query string has more than {MAX_QUERY_PARAMS} parameters"
    if b"\x00" in query or b"%00" in query:
        return 400, "the query string contains a NUL character (%00)"
    if BAD_PERCENT.search(query):
        return 400, "the query string has a '%' not followed by two hex digits: encode '%' as %25"
    try:
        unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the query string is not valid UTF-8 once percent-decoded"
    return None
