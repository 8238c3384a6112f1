"""Tool profiles: named sets of parameters (``TEST``, ``PROD``...) for one tool.

Resolution order, later wins: the tool's ``optional_params`` defaults, then the Secrets Manager secret
``<prefix>/profiles/<tool>/<PROFILE>`` (a JSON object), then environment variables
``{TOOL}_{PROFILE}_{PARAM}`` (``.env`` is loaded into the environment by the local server and the CLI).
The secret is only read when the environment does not already provide every required parameter, so a
fully ``.env``-configured profile costs no AWS call. Secrets go through Powertools Parameters, whose
cache keeps warm Lambdas from calling Secrets Manager on every run.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from . import redaction
from .errors import BadRequest, ProfileError
from .plugin_config import ToolConfig
from .settings import get_settings

log = logging.getLogger(__name__)

PROFILE_RE = re.compile(r"^[A-Za-z0-9_]+$")
SECRET_MAX_AGE = 300  # seconds a secret stays cached in a warm Lambda


def normalize_profile(profile: str) -> str:
    if not profile or not PROFILE_RE.match(profile):
        raise BadRequest(f"invalid profile name {profile!r}: use letters, digits and _ (e.g. TEST, PROD)")
    return profile.upper()


def env_var(tool: str, profile: str, param: str) -> str:
    return f"{tool}_{profile}_{param}".upper()


@dataclass
class ResolvedProfile:
    tool: str
    profile: str
    params: dict[str, Any]
    #: param -> where its value came from: ``env:VAR``, ``secret:NAME`` or ``default``.
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    secret_error: str | None = None

    @property
    def secret_name(self) -> str:
        return get_settings().profile_secret_name(self.tool, self.profile)

    def missing_message(self) -> str:
        if not self.missing:
            return ""
        names = ", ".join(env_var(self.tool, self.profile, p) for p in self.missing)
        keys = ", ".join(f'"{p}"' for p in self.missing)
        why = f" (the secret could not be read: {self.secret_error})" if self.secret_error else ""
        return (f"tool '{self.tool}' profile '{self.profile}' is missing required parameter(s) "
                f"{', '.join(self.missing)}: set {names} in .env or the environment, or put {keys} in the "
                f"Secrets Manager secret '{self.secret_name}'{why}")

    def require(self) -> "ResolvedProfile":
        if self.missing:
            raise ProfileError(self.missing_message(), {"tool": self.tool, "profile": self.profile,
                                                        "missing": self.missing,
                                                        "variables": [env_var(self.tool, self.profile, p)
                                                                      for p in self.missing],
                                                        "secret": self.secret_name})
        return self


def _coerce(value: str, like: Any) -> Any:
    """Environment values are strings; give them the type of the declared default when it has one."""
    try:
        if isinstance(like, bool):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            return float(value)
    except ValueError:
        return value
    return value


def _from_env(config: ToolConfig, profile: str) -> tuple[dict[str, Any], dict[str, str]]:
    prefix = f"{config.tool_name}_{profile}_".upper()
    # Variables are upper-case; a parameter declared as `apiKey` must still get its value.
    declared = {p.lower(): p for p in config.params}
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for var, value in os.environ.items():
        if var.startswith(prefix) and len(var) > len(prefix):
            param = declared.get(var[len(prefix):].lower(), var[len(prefix):].lower())
            params[param] = _coerce(value, config.optional_params.get(param))
            sources[param] = f"env:{var}"
    return params, sources


def read_secret(name: str) -> dict[str, Any] | None:
    """The JSON object stored in a secret, ``None`` when it does not exist."""
    from aws_lambda_powertools.utilities.parameters import GetParameterError, get_secret

    try:
        value = get_secret(name, transform="json", max_age=SECRET_MAX_AGE)
    except GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__
        code = getattr(cause, "response", {}).get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            return None
        raise
    if not isinstance(value, dict):
        raise ValueError(f"secret {name!r} must hold a JSON object of parameters")
    return value


def resolve(config: ToolConfig, profile: str) -> ResolvedProfile:
    profile = normalize_profile(profile)
    params: dict[str, Any] = dict(config.optional_params)
    sources = {p: "default" for p in params}
    env_params, env_sources = _from_env(config, profile)
    resolved = ResolvedProfile(config.tool_name, profile, params, sources)
    if not env_params or any(p not in env_params for p in config.required_params):
        try:
            secret = read_secret(resolved.secret_name) or {}
        except Exception as exc:  # noqa: BLE001 - no credentials, no network, bad JSON: say which
            resolved.secret_error = f"{type(exc).__name__}: {exc}"
            log.warning("profile secret %s unavailable: %s", resolved.secret_name, resolved.secret_error)
            secret = {}
        params.update(secret)
        sources.update({p: f"secret:{resolved.secret_name}" for p in secret})
    params.update(env_params)
    sources.update(env_sources)
    resolved.missing = [p for p in config.required_params if params.get(p) in (None, "")]
    redaction.register(*secret_values(config, params, sources))
    return resolved


def secret_values(config: ToolConfig, params: dict[str, Any], sources: dict[str, str]) -> list[Any]:
    """The profile values a run must never show: required parameters (credentials, mostly), secret-named
    ones (``api_key``, ``token``...) and everything read from a Secrets Manager secret. Optional settings
    such as ``base_url`` or ``timeout`` stay readable in logs."""
    from .inputs import SENSITIVE_RE, secret_values as nested

    found: list[Any] = []
    for name, value in params.items():
        if sources.get(name) == "default":
            continue
        if name in config.required_params or SENSITIVE_RE.search(name) or sources.get(name, "").startswith("secret:"):
            found += [value] if not isinstance(value, (dict, list)) else nested({name: value}, {name})
    return found


def profiles_in_env(config: ToolConfig) -> set[str]:
    """Profile names that have at least one declared parameter set in the environment."""
    tool = config.tool_name.upper() + "_"
    params = [p.upper() for p in config.params]
    found: set[str] = set()
    for var in os.environ:
        if not var.startswith(tool):
            continue
        rest = var[len(tool):]
        for param in params:
            if rest.endswith("_" + param) and len(rest) > len(param) + 1:
                found.add(rest[: -len(param) - 1])
    return found


def profiles_in_secrets() -> dict[str, set[str]]:
    """``{tool: {PROFILE, ...}}`` for every profile secret of this deployment (one paginated call)."""
    import boto3

    prefix = f"{get_settings().prefix}/profiles/"
    client = boto3.client("secretsmanager")
    found: dict[str, set[str]] = {}
    for page in client.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [prefix]}]
    ):
        for secret in page.get("SecretList", []):
            parts = secret["Name"][len(prefix):].split("/")
            if secret["Name"].startswith(prefix) and len(parts) == 2:
                found.setdefault(parts[0], set()).add(parts[1])
    return found
