"""Platform errors. Each carries its HTTP status; ``functions.http.app`` maps them to responses in one place.

Messages are written for the person who has to fix the problem: they say what is wrong and what to do.
"""

from __future__ import annotations

from typing import Any


def error_body(message: str, detail: Any = None) -> dict[str, Any]:
    """Every error the platform answers, whatever raised it: ``{"error": what to do, "detail": ...}``."""
    return {"error": message, "detail": detail}


class PlatformError(Exception):
    status_code: int = 500

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.message, self.detail)


class BadRequest(PlatformError):
    status_code = 400


class Unauthorized(PlatformError):
    """A credential of the request itself (a callback URL's token) is wrong."""

    status_code = 401


class Unavailable(PlatformError):
    """Something the request needs is not configured or not reachable (a durable backend)."""

    status_code = 503


class NotFound(PlatformError):
    status_code = 404


class Conflict(PlatformError):
    """The request is valid but the target is not in a state that allows it (inactive, broken...)."""

    status_code = 409


class PayloadTooLarge(PlatformError):
    status_code = 413


class InputValidationError(PlatformError):
    """One entry per invalid field in ``detail``: ``[{"field": ..., "message": ...}]``."""

    status_code = 422

    def __init__(self, workflow: str, errors: list[dict[str, str]]) -> None:
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(f"invalid inputs for workflow '{workflow}': {fields}", errors)
        self.errors = errors


class ProfileError(PlatformError):
    """A tool profile lacks a required parameter; the message names the variable or secret to set."""

    status_code = 424


class PluginError(PlatformError):
    """A plugin could not be loaded (syntax error, bad config, missing function...)."""

    status_code = 409

    def __init__(self, kind: str, name: str, reason: str, file: str | None = None) -> None:
        where = f" ({file})" if file else ""
        super().__init__(f"{kind} '{name}' is broken{where}: {reason}", {"file": file, "reason": reason})
        self.kind, self.name, self.reason, self.file = kind, name, reason, file
