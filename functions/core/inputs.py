"""Workflow inputs: checked against ``inputs_schema``, coerced, defaulted, redacted for storage.

Inputs arrive as JSON (typed) or as query/form strings (``?count=3``), so every type accepts its
string spelling. Keys not in the schema pass through untouched: webhooks deliver whatever the
sender sends and the seed's workflows read it from ``data``.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from functions.core.redaction import is_secret_name
from functions.errors import InputValidationError
from functions.registry.config import InputField, WorkflowConfig
from functions.settings import as_bool

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # fromisoformat alone also takes 20240101 and 2024-W01-1
REDACTED = "***"


_INTEGER = TypeAdapter(int)
_NUMBER = TypeAdapter(Annotated[float, Field(allow_inf_nan=False)])
_DATE = TypeAdapter(date)
#: Longer digit strings are refused (Python's own limit on int() of a string, against slow parses).
MAX_DIGITS = 4300


def _number(value: Any, whole: bool) -> Any:
    """pydantic's lax number parsing (strings, ints, floats; finite only); a bool is not a number, and a
    number keeps the type it was written in (``"7"`` and 7 are ints, ``"7.0"`` a float)."""
    if isinstance(value, bool) or (isinstance(value, str) and len(value) > MAX_DIGITS):
        raise ValueError("must be a whole number" if whole else "must be a number")
    try:
        if whole:
            return _INTEGER.validate_python(value)
        number = _NUMBER.validate_python(value)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        if kind == "finite_number":
            raise ValueError("must be a finite number") from None
        raise ValueError("must be a whole number" if whole else "must be a number") from None
    if isinstance(value, int) or (isinstance(value, str) and number.is_integer()
                                  and not any(c in value for c in ".")):
        return int(number)
    return number


def _coerce(spec: InputField, value: Any) -> Any:
    """The typed value, or ValueError with a message for the person filling the form (never the value).

    Numbers, booleans and dates are parsed by pydantic in lax mode (what a query string or a form sends,
    ``"3"``, ``"yes"``, ``"2024-02-29"``), with the platform's rules on top: a bool is not a number, a date
    is written YYYY-MM-DD, and yes/no follows the platform's one rule (``functions.settings.as_bool``)."""
    kind = spec.type
    if kind in ("text", "string", "textarea", "password"):
        if isinstance(value, (dict, list)):
            raise ValueError("must be text, not an object or a list")
        return value if isinstance(value, str) else str(value)
    if kind == "email":
        if not isinstance(value, str) or not EMAIL_RE.match(value.strip()):
            raise ValueError("must be an email address like name@example.com")
        return value.strip()
    if kind in ("integer", "number"):
        return _number(value, whole=kind == "integer")
    if kind == "boolean":
        try:
            return as_bool(value)
        except ValueError:
            raise ValueError("must be true or false") from None
    if kind == "date":
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not DATE_RE.match(text):
                raise ValueError
            return _DATE.validate_python(text).isoformat()
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None
    if kind == "select":
        allowed = [o.value for o in spec.options or []]
        text = str(value)
        if text not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return text
    raise ValueError(f"unsupported input type {kind!r}")  # pragma: no cover - the config model forbids it


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


#: The input under which a workflow with ``"webhook_request": true`` receives the request it came from
#: (``functions.http.webhooks.request_view``).
REQUEST_KEY = "_request"


def validate(workflow: str, config: WorkflowConfig, data: dict[str, Any]) -> dict[str, Any]:
    """The inputs the workflow will receive, or InputValidationError with one entry per bad field."""
    result = dict(data)
    errors: list[dict[str, str]] = []
    for spec in config.inputs_schema:
        value = data.get(spec.name)
        if _blank(value):
            if spec.default is not None:
                value = spec.default
            elif spec.required:
                errors.append({"field": spec.name, "message": f"{spec.display_label} is required"})
                continue
            else:
                result.pop(spec.name, None)
                continue
        try:
            result[spec.name] = _coerce(spec, value)
        except ValueError as exc:
            errors.append({"field": spec.name, "message": f"{spec.display_label} {exc}"})
    if errors:
        raise InputValidationError(workflow, errors)
    return result


def sensitive_fields(config: WorkflowConfig | None) -> set[str]:
    return {f.name for f in config.inputs_schema if f.type == "password"} if config else set()


def secret_values(data: Any, sensitive: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The values ``redact`` would hide (password-typed fields, secret-looking keys), to hide them by
    value too wherever the workflow repeats them (``functions.core.redaction``)."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in sensitive or is_secret_name(key):
                found += [v for v in _strings(value)]
            else:
                found += secret_values(value, sensitive)
    elif isinstance(data, list):
        for value in data:
            found += secret_values(value, sensitive)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def redact(data: Any, sensitive: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """A copy safe to store: password-typed fields and secret-looking keys replaced by ``***``."""
    if isinstance(data, dict):
        return {k: REDACTED if (k in sensitive or is_secret_name(k)) and v not in (None, "")
                else redact(v, sensitive) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v, sensitive) for v in data]
    return data


def _finite(value: Any) -> Any:
    """NaN and infinities become null: they are not JSON, and a response holding one cannot be sent."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def bounded_json(value: Any, limit: int) -> tuple[Any, bool]:
    """The value if its JSON fits in ``limit`` bytes, else a truncated preview string; plus a flag."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere (made null), or a circular structure (its repr)
        try:
            text = json.dumps(_finite(value), default=str, ensure_ascii=False, allow_nan=False)
        except (ValueError, RecursionError):
            text = json.dumps(repr(value)[: limit + 1], ensure_ascii=False)
    if len(text.encode()) <= limit:
        return json.loads(text), False
    return text.encode()[: max(limit - 3, 0)].decode(errors="ignore") + "...", True
