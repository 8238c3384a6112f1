"""Secrets Manager, the one wrapper the platform reads secrets through: the admin token, webhook secrets,
tool profiles and the profile index.

Values are read with Powertools Parameters (its ``SecretsProvider``, over this platform's own client) and
cached ``max_age`` seconds: a warm Lambda does not call Secrets Manager on every request, and a rotated
secret takes effect within minutes without a redeploy. A secret that does not exist is remembered as
absent for as long (Powertools caches only what it found), so a deployment without, say, a profile
index does not ask for it on every listing. Whether a secret *exists* (the profile listing
asks about exact names, never ListSecrets) is read with DescribeSecret, metadata only, and cached the
same way, "absent" included, since Powertools does not cache a miss.

Each failure is told apart, because callers answer them differently: ``None`` is "no such secret" (a
webhook that has no secret, a profile nobody pushed), ``SecretUnavailable`` is "it may exist but could
not be read" (no credentials, access denied, throttled), which callers refuse on rather than open.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from functions.aws.clients import Clients

NOT_FOUND = "ResourceNotFoundException"


class SecretUnavailable(Exception):
    """The secret could not be read (other than "it does not exist"); the message says why."""


def unwrap(text: str | None, *keys: str) -> str | None:
    """A secret that holds one value, stored either as plain text or as a JSON object under one of
    ``keys`` (``{"token": "..."}``, what a generated secret or a console user may write); ``None`` when
    empty."""
    value = (text or "").strip()
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            value = next((str(parsed[k]).strip() for k in keys if parsed.get(k)), "")
    return value or None


def _code(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__ or exc
    return str(getattr(cause, "response", {}).get("Error", {}).get("Code", ""))


class SecretsManager:
    def __init__(self, clients: Clients, max_age: int = 300) -> None:
        self.clients = clients
        self.max_age = max_age
        self._provider: Any = None
        self._exists: dict[str, tuple[float, bool]] = {}
        self._missing: dict[str, float] = {}
        self._lock = threading.Lock()

    def provider(self) -> Any:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self.clients.get("secretsmanager"))
        return self._provider

    def text(self, name: str) -> str | None:
        """The secret's value as text; ``None`` when there is no such secret."""
        from aws_lambda_powertools.utilities.parameters import GetParameterError

        missed = self._missing.get(name)
        if missed is not None and time.monotonic() - missed < self.max_age:
            return None
        try:
            value = self.provider().get(name, max_age=self.max_age)
        except GetParameterError as exc:
            if _code(exc) == NOT_FOUND:
                with self._lock:
                    self._missing[name] = time.monotonic()
                return None
            cause = exc.__cause__ or exc
            raise SecretUnavailable(f"the secret {name!r} could not be read ({type(cause).__name__}: {cause})") from None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def json(self, name: str) -> Any:
        """The secret's value parsed as JSON; ``None`` when there is no such secret."""
        text = self.text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise SecretUnavailable(f"the secret {name!r} is not JSON: store a JSON object in it") from None

    def exists(self, name: str) -> bool:
        """Whether the secret exists (and is not scheduled for deletion): DescribeSecret, cached."""
        now = time.monotonic()
        cached = self._exists.get(name)
        if cached and now - cached[0] < self.max_age:
            return cached[1]
        try:
            described = self.clients.get("secretsmanager").describe_secret(SecretId=name)
            found = "DeletedDate" not in described
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError, without importing botocore here
            if _code(exc) != NOT_FOUND:
                raise SecretUnavailable(f"the secret {name!r} could not be described ({type(exc).__name__})") from None
            found = False
        with self._lock:
            self._exists[name] = (now, found)
        return found

    def forget(self) -> None:
        """Drop cached values and the provider (SnapStart restore, a changed endpoint)."""
        with self._lock:
            self._provider = None
            self._exists.clear()
            self._missing.clear()
