"""Workflow inputs: every type from JSON and from its string spelling (query/form), defaults, required,
select options, one error per field, redaction for storage, and bounded JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.inputs import (
    REDACTED,
    bounded_json,
    redact,
    secret_values,
    sensitive_fields,
    validate,
)
from functions.errors import InputValidationError
from functions.registry.config import WorkflowConfig


def config(*fields: dict[str, Any]) -> WorkflowConfig:
    return WorkflowConfig.model_validate({"inputs_schema": list(fields)})


def one(kind: str, value: Any, **spec: Any) -> Any:
    return validate("w", config({"name": "f", "type": kind, **spec}), {"f": value})["f"]


def error_of(kind: str, value: Any, **spec: Any) -> str:
    with pytest.raises(InputValidationError) as raised:
        one(kind, value, **spec)
    (error,) = raised.value.errors
    assert error["field"] == "f"
    return error["message"]


@pytest.mark.parametrize("kind, value, expected", [
    ("text", "hello", "hello"),
    ("text", 42, "42"),
    ("string", "  spaced  ", "  spaced  "),
    ("textarea", "line1\nline2", "line1\nline2"),
    ("password", "hunter2", "hunter2"),
    ("email", " ada@example.com ", "ada@example.com"),
    ("integer", 3, 3),
    ("integer", "3", 3),
    ("integer", " -12 ", -12),
    ("integer", 4.0, 4),
    ("number", 2.5, 2.5),
    ("number", 7, 7),
    ("number", "2.5", 2.5),
    ("number", "7", 7),
    ("number", "-1e3", -1000),
    ("number", "7.0", 7.0),
    ("boolean", True, True),
    ("boolean", False, False),
    ("boolean", "true", True),
    ("boolean", "FALSE", False),
    ("boolean", "1", True),
    ("boolean", "0", False),
    ("boolean", "yes", True),
    ("boolean", "off", False),
    ("boolean", 1, True),
    ("date", "2024-02-29", "2024-02-29"),
    ("date", " 2024-12-25 ", "2024-12-25"),
    ("select", "fr", "fr"),
])
def test_each_type_accepts_its_json_and_string_spellings(kind, value, expected):
    extra = {"options": ["en", "fr"]} if kind == "select" else {}
    result = one(kind, value, **extra)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("kind, value, fragment", [
    ("text", {"a": 1}, "must be text"),
    ("text", [1], "must be text"),
    ("email", "not-an-email", "email address"),
    ("email", "a@b", "email address"),
    ("email", 12, "email address"),
    ("integer", "3.5", "whole number"),
    ("integer", 3.5, "whole number"),
    ("integer", "three", "whole number"),
    ("integer", True, "whole number"),
    ("integer", "9" * 5000, "whole number"),
    ("number", "abc", "must be a number"),
    ("number", False, "must be a number"),
    ("number", "nan", "finite"),
    ("number", "inf", "finite"),
    ("number", float("nan"), "finite"),
    ("number", float("-inf"), "finite"),
    ("boolean", "maybe", "true or false"),
    ("boolean", 2, "true or false"),
    ("date", "2023-02-29", "YYYY-MM-DD"),
    ("date", "25/12/2024", "YYYY-MM-DD"),
    ("date", 20240101, "YYYY-MM-DD"),
    ("select", "de", "must be one of: en, fr"),
])
def test_each_type_refuses_what_it_cannot_be(kind, value, fragment):
    extra = {"options": ["en", "fr"]} if kind == "select" else {}
    assert fragment in error_of(kind, value, label="Field", **extra)


def test_select_options_may_be_objects_and_values_are_compared_as_text():
    cfg = config({"name": "size", "type": "select", "options": [{"value": "1", "label": "Small"}, 2]})
    assert validate("w", cfg, {"size": 1}) == {"size": "1"}
    assert validate("w", cfg, {"size": "2"}) == {"size": "2"}


def test_defaults_fill_missing_and_blank_values_and_are_typed():
    cfg = config({"name": "times", "type": "integer", "default": "2"},
                 {"name": "lang", "type": "select", "options": ["en", "fr"], "default": "en"},
                 {"name": "shout", "type": "boolean", "default": False})
    assert validate("w", cfg, {}) == {"times": 2, "lang": "en", "shout": False}
    assert validate("w", cfg, {"times": "", "lang": "  ", "shout": None}) == {"times": 2, "lang": "en", "shout": False}
    assert validate("w", cfg, {"times": "5", "lang": "fr", "shout": "true"}) == {"times": 5, "lang": "fr", "shout": True}


def test_a_required_field_with_a_default_is_never_missing():
    cfg = config({"name": "n", "type": "integer", "required": True, "default": 1})
    assert validate("w", cfg, {}) == {"n": 1}


def test_false_and_zero_are_values_not_blanks():
    cfg = config({"name": "flag", "type": "boolean", "required": True},
                 {"name": "count", "type": "integer", "required": True})
    assert validate("w", cfg, {"flag": False, "count": 0}) == {"flag": False, "count": 0}


def test_optional_blank_fields_are_left_out_and_unknown_keys_pass_through():
    cfg = config({"name": "note", "type": "text"}, {"name": "when", "type": "date"})
    assert validate("w", cfg, {"note": "", "when": "   ", "event": "push", "nested": {"a": [1]}}) == {
        "event": "push", "nested": {"a": [1]}}


def test_one_error_per_invalid_field_with_labels():
    cfg = config({"name": "user_email", "type": "email", "label": "Email", "required": True},
                 {"name": "count", "type": "integer"},
                 {"name": "lang", "type": "select", "options": ["en"]},
                 {"name": "first_name", "required": True},
                 {"name": "fine", "type": "boolean"})
    with pytest.raises(InputValidationError) as raised:
        validate("greet", cfg, {"user_email": "nope", "count": "x", "lang": "de", "fine": "yes"})
    error = raised.value
    assert error.status_code == 422
    assert [e["field"] for e in error.errors] == ["user_email", "count", "lang", "first_name"]
    messages = {e["field"]: e["message"] for e in error.errors}
    assert messages["user_email"].startswith("Email ")
    assert messages["first_name"] == "First name is required"
    assert error.message == "invalid inputs for workflow 'greet': user_email, count, lang, first_name"
    assert error.detail == error.errors


def test_error_messages_never_echo_the_value():
    cfg = config({"name": "pin", "type": "integer"}, {"name": "pw", "type": "email"})
    with pytest.raises(InputValidationError) as raised:
        validate("w", cfg, {"pin": "s3cr3t-value", "pw": "other-s3cr3t"})
    assert "s3cr3t" not in json.dumps(raised.value.to_dict())


# ----- strings as a query string would send them ---------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-10**15, max_value=10**15))
def test_integers_survive_their_string_spelling(n):
    assert one("integer", str(n)) == n and one("number", str(n)) == n


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_survive_their_string_spelling(x):
    assert one("number", repr(x)) == x


@settings(max_examples=60, deadline=None)
@given(st.dates())
def test_dates_survive_their_string_spelling(d):
    assert one("date", d.isoformat()) == d.isoformat()


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none(),
                 st.lists(st.integers(), max_size=3)))
def test_any_value_gives_a_typed_result_or_one_clear_error(value):
    """Whatever a client sends, validation answers with a typed value or a field error, never a crash."""
    cfg = config(*({"name": kind, "type": kind, "options": ["a"]} for kind in
                   ("text", "email", "integer", "number", "boolean", "date", "select", "password")))
    data = {field.name: value for field in cfg.inputs_schema}
    try:
        result = validate("w", cfg, data)
    except InputValidationError as exc:
        assert len({e["field"] for e in exc.errors}) == len(exc.errors)
        assert all(e["message"] for e in exc.errors)
        return
    json.dumps(result, allow_nan=False)  # what the workflow receives is plain, finite JSON


# ----- redaction -----------------------------------------------------------------------------------------
def test_password_fields_and_secret_looking_keys_are_redacted():
    cfg = config({"name": "pin_code", "type": "password"}, {"name": "name"})
    data = {"pin_code": "1234", "name": "Ada", "api_key": "k", "apiKey": "k", "x-api-key": "k",
            "client_secret": "s", "access_token": "t", "Authorization": "Bearer t", "user_password": "p",
            "credentials": {"user": "u"}, "empty_password": "", "no_token": None,
            "nested": {"refresh_token": "t", "list": [{"password": "p", "ok": 1}], "pin_code": "5"}}
    safe = redact(data, sensitive_fields(cfg))
    assert safe == {"pin_code": REDACTED, "name": "Ada", "api_key": REDACTED, "apiKey": REDACTED,
                    "x-api-key": REDACTED, "client_secret": REDACTED, "access_token": REDACTED,
                    "Authorization": REDACTED, "user_password": REDACTED, "credentials": REDACTED,
                    "empty_password": "", "no_token": None,
                    "nested": {"refresh_token": REDACTED, "list": [{"password": REDACTED, "ok": 1}],
                               "pin_code": REDACTED}}
    assert data["pin_code"] == "1234"  # a copy: the workflow still receives the real values


@pytest.mark.parametrize("key", ["passenger", "bypass_cache", "max_tokens", "tokenizer", "compass", "maxTokens",
                                 "passport_country", "keyboard", "tokens_used", "secretary", "authority",
                                 "api_version", "surpass"])
def test_ordinary_names_that_contain_a_secret_word_are_kept(key):
    """Whole name segments are matched, not substrings: these are ordinary values, stored as given."""
    data = {key: "1000", "note": "ran 1000 times"}
    assert redact(data) == data
    assert secret_values(data) == []


@pytest.mark.parametrize("key", ["password", "passwd", "db_pass", "pwd", "passphrase", "secret", "client_secret",
                                 "token", "access_token", "refreshToken", "api_key", "apiKey", "x-api-key", "APIKEY",
                                 "authorization", "Authorization", "credential", "credentials", "private_key",
                                 "privateKey", "aws_secret_access_key", "aws.access-key", "session_cookie"])
def test_secret_names_are_redacted_whatever_their_spelling(key):
    assert redact({key: "s3cr3t-value"}) == {key: REDACTED}
    assert secret_values({key: "s3cr3t-value"}) == ["s3cr3t-value"]


def test_sensitive_fields_are_the_password_typed_inputs():
    cfg = config({"name": "a", "type": "password"}, {"name": "b"}, {"name": "c", "type": "password"})
    assert sensitive_fields(cfg) == {"a", "c"}
    assert sensitive_fields(None) == set()


@settings(max_examples=50, deadline=None)
@given(st.recursive(st.one_of(st.text(max_size=5), st.integers()),
                    lambda children: st.one_of(st.lists(children, max_size=3),
                                               st.dictionaries(st.sampled_from(["token", "name", "pw", "x"]),
                                                               children, max_size=3)),
                    max_leaves=10))
def test_redaction_never_leaves_a_value_under_a_sensitive_key(data):
    def check(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("token", "pw"):
                    assert item in (REDACTED, None, "")
                else:
                    check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)

    check(redact(data, {"pw"}))


# ----- bounded JSON --------------------------------------------------------------------------------------
def test_small_values_are_kept_as_json():
    value, truncated = bounded_json({"a": [1, 2], "when": __import__("datetime").date(2024, 1, 2)}, 1000)
    assert value == {"a": [1, 2], "when": "2024-01-02"} and truncated is False


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=400), st.integers(min_value=8, max_value=300))
def test_large_values_become_a_preview_within_the_limit(text, limit):
    value, truncated = bounded_json({"text": text}, limit)
    size = len(json.dumps({"text": text}, ensure_ascii=False).encode())
    assert truncated is (size > limit)
    if truncated:
        assert isinstance(value, str) and value.endswith("...")
        assert len(value.encode()) <= limit


def test_non_finite_numbers_are_stored_as_valid_json():
    value, truncated = bounded_json({"ratio": float("nan"), "big": float("inf"), "ok": 1.5}, 1000)
    assert truncated is False
    json.dumps(value, allow_nan=False)
    assert value["ok"] == 1.5 and value["ratio"] is None and value["big"] is None
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in value.values())


def test_a_circular_value_is_stored_as_its_repr():
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    value, truncated = bounded_json(loop, 1000)
    assert truncated is False and value.startswith("{'name': 'loop'")
