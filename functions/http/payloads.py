"""Turn an HTTP request into workflow inputs: query parameters plus a JSON or form body.

Kept apart from the routes so that every trigger endpoint reads bodies the same way and refuses bad
ones with the same clear 4xx: malformed JSON, a JSON value that is not an object, an unsupported
content type, or a body over the size limit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from functions.errors import BadRequest, PayloadTooLarge, PlatformError

MAX_BODY_BYTES = 256 * 1024
#: Inputs are walked recursively (validation, redaction, storage): a body nested deeper is refused.
MAX_DEPTH = 64
_TOO_DEEP = object()


class UnsupportedMediaType(PlatformError):
    status_code = 415


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
    return body


def _no_constant(name: str) -> Any:
    """Python's json accepts NaN and Infinity; JSON does not, and they could not be answered back."""
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


def _depth_over(value: Any, limit: int) -> bool:
    """Is ``value`` nested more than ``limit`` levels deep? Iterative: deep input cannot exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse_body(body: bytes, content_type: str, text_as_json: bool = True) -> dict[str, Any]:
    """The body's inputs. ``text_as_json``: a ``text/plain`` body is read as JSON (webhook senders such as
    Amazon SNS label their JSON so); else it is a 415, since a person sending it made a mistake."""
    if not body.strip():
        return {}
    media = content_type.split(";")[0].strip().lower()
    if media == "text/plain" and not text_as_json:
        raise UnsupportedMediaType("unsupported content type 'text/plain': send the inputs as application/json "
                                   "(curl: -H 'Content-Type: application/json') or application/x-www-form-urlencoded")
    if media == "application/x-www-form-urlencoded" and body.lstrip()[:1] in (b"{", b"["):
        media = "application/json"  # `curl -d '{"a": 1}'` sends JSON labelled as a form
    if media in ("", "application/json", "text/plain") or media.endswith("+json"):
        try:
            value = json.loads(body, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None
        except RecursionError:
            value = _TOO_DEEP
        if value is _TOO_DEEP or _depth_over(value, MAX_DEPTH):
            raise BadRequest(f"request body is nested too deeply: at most {MAX_DEPTH} levels of objects and lists")
        if not isinstance(value, dict):
            raise BadRequest(f"request body must be a JSON object of inputs, not a {type(value).__name__}")
        return value
    if media == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadRequest("form body is not valid UTF-8") from None
    raise UnsupportedMediaType(f"unsupported content type {media!r}: send application/json or "
                               "application/x-www-form-urlencoded")


async def request_inputs(request: Request, with_query: bool = True, text_as_json: bool = True) -> dict[str, Any]:
    """Query parameters, overridden by the body's keys."""
    data: dict[str, Any] = dict(request.query_params) if with_query else {}
    data.update(parse_body(await read_body(request), request.headers.get("content-type", ""), text_as_json))
    return data
