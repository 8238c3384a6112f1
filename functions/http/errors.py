"""Error responses, written one way: ``{"error": ..., "detail": ...}`` (``functions.errors.error_body``)
with the status it says, from the exception handlers (``functions.http.app``) and the middleware alike."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from functions.errors import error_body


def error_response(status: int, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, detail), status_code=status, headers=headers)
