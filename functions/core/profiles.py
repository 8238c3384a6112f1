"""Tool profiles: named sets of parameters (``TEST``, ``PROD``...) for one tool.

Resolution order, later wins: the tool's ``optional_params`` defaults, then the Secrets Manager secret
``<prefix>/profiles/<tool>/<PROFILE>`` (a JSON object), then environment variables
``{TOOL}_{PROFILE}_{PARAM}`` (``.env`` is loaded into the environment by the local server and the CLI).
The secret is only read when the environment does not already provide every required parameter, so a
fully ``.env``-configured profile costs no AWS call. Secrets go through Powertools Parameters, whose
cache keeps warm Lambdas from calling Secrets Manager on every run.

Listing which profiles exist (``GET /api/tools``) never lists secrets (ListSecrets would need
``Resource: "*"``, i.e. the right to see every secret name of the account). The platform asks about
exact names instead: each tool's candidate names (its ``profile_examples``, the profiles workflows
use, ``DEFAULT``: see ``functions.http.catalog``) plus the names recorded in the profile index, the secret
``<prefix>/profiles-index`` (``{"<tool>": ["PROD", ...]}``) that ``wfp profiles push`` keeps up to date
for names the configuration does not mention. Each name costs one DescribeSecret (metadata only, never
the value), cached 5 minutes like the secrets themselves.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.core import redaction
from functions.errors import BadRequest, ProfileError
from functions.registry.config import ToolConfig
from functions.settings import get_settings

log = logging.getLogger(__name__)

PROFILE_RE = re.compile(r"^[A-Za-z0-9_]+$")
SECRET_MAX_AGE = 300  # seconds a secret stays cached in a warm Lambda
#: Most names one listing asks Secrets Manager about (one DescribeSecret each, uncached): the bound on
#: what a listing can cost whatever the configuration and the index hold.
MAX_LISTED_NAMES = 200
#: DescribeSecret calls in flight at once when a listing is not cached (one shared boto3 client).
LISTING_THREADS = 8


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
    from functions.core.inputs import secret_values as nested
    from functions.core.redaction import is_secret_name

    found: list[Any] = []
    for name, value in params.items():
        if sources.get(name) == "default":
            continue
        if name in config.required_params or is_secret_name(name) or sources.get(name, "").startswith("secret:"):
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


# ----- which profiles exist in Secrets Manager -----------------------------------------------------------
def index_secret_name(prefix: str | None = None) -> str:
    """``<prefix>/profiles-index``: beside ``<prefix>/profiles/``, never inside it, so no tool and profile
    name can collide with it (a profile secret is always ``<prefix>/profiles/<tool>/<PROFILE>``)."""
    return f"{prefix or get_settings().prefix}/profiles-index"


def parse_index(value: Any) -> dict[str, set[str]]:
    """The index's JSON (``{"<tool>": ["PROD", ...]}``) as ``{tool: {PROFILE}}``; what is not a valid
    tool or profile name is ignored (a hand-edited index must not break the listing)."""
    if not isinstance(value, dict):
        raise ValueError(f"the profile index must be a JSON object {{tool: [PROFILE, ...]}}, not {type(value).__name__}")
    index: dict[str, set[str]] = {}
    for tool, names in value.items():
        if isinstance(tool, str) and isinstance(names, list):
            valid = {n.upper() for n in names if isinstance(n, str) and PROFILE_RE.match(n)}
            if valid:
                index[tool] = valid
    return index


def _secrets_provider() -> Any:
    """Powertools' default Secrets Manager provider, the one ``get_secret`` uses: its boto3 client (created
    once, on first use) serves the listing too, and its cache keeps the listing's answers. Whatever drops
    that provider (SnapStart's restore, the tests) drops the listing's client and cache with it."""
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    if "secrets" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["secrets"] = SecretsProvider()
    return DEFAULT_PROVIDERS["secrets"]


def _cached(key: tuple[str, str], compute: Callable[[], Any]) -> Any:
    """``compute()``, kept ``SECRET_MAX_AGE`` seconds in the provider's cache under ``key`` (an answer
    that is "absent" is cached too; an exception is not)."""
    provider = _secrets_provider()
    if provider.has_not_expired_in_cache(key):
        return provider.fetch_from_cache(key)
    value = compute()
    provider.add_to_cache(key=key, value=value, max_age=SECRET_MAX_AGE)
    return value


def read_index() -> dict[str, set[str]]:
    """The profile index, ``{}`` when nobody pushed a profile yet; cached 5 minutes either way."""
    name = index_secret_name()
    return _cached(("wfp:profile-index", name), lambda: parse_index(read_secret(name) or {}))


def _exists_key(name: str) -> tuple[str, str]:
    return ("wfp:secret-exists", name)


def secret_exists(name: str) -> bool:
    """Whether the secret exists and is not scheduled for deletion: one DescribeSecret (metadata, never the
    value), cached 5 minutes. Raises on anything but "not found" (no access, no network)."""
    from botocore.exceptions import ClientError

    def describe() -> bool:
        try:
            return "DeletedDate" not in _secrets_provider().client.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            return False

    return bool(_cached(_exists_key(name), describe))


def profiles_in_secrets(candidates: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """``{tool: {PROFILE, ...}}``: which of these tools' profiles have a secret in this deployment.

    Asked about: each tool's ``candidates`` (names the configuration mentions) and the names the profile
    index records for it. Bounded: one read of the index, then one DescribeSecret per name (at most
    ``MAX_LISTED_NAMES``), the uncached ones in parallel, each answer cached 5 minutes. If the index
    cannot be read (Secrets Manager unreachable, no permission) this raises at once, before any other call.
    """
    index = read_index()
    wanted = sorted({(tool, profile.upper()) for tool, names in candidates.items()
                     for profile in {*names, *index.get(tool, ())} if PROFILE_RE.match(profile)})
    if len(wanted) > MAX_LISTED_NAMES:
        log.warning("%d profile names to look up, more than %d: only the first %d are listed",
                    len(wanted), MAX_LISTED_NAMES, MAX_LISTED_NAMES)
        wanted = wanted[:MAX_LISTED_NAMES]
    settings = get_settings()
    names = {pair: settings.profile_secret_name(*pair) for pair in wanted}

    def exists(pair: tuple[str, str]) -> bool:
        try:
            return secret_exists(names[pair])
        except Exception as exc:  # noqa: BLE001 - one name that cannot be described is left out, not the rest
            log.warning("profile secret %s could not be described: %s", names[pair], exc)
            return False

    provider = _secrets_provider()
    uncached = [pair for pair in wanted if not provider.has_not_expired_in_cache(_exists_key(names[pair]))]
    if len(uncached) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(LISTING_THREADS, len(uncached))) as pool:
            answers = dict(zip(uncached, pool.map(exists, uncached)))
    else:
        answers = {pair: exists(pair) for pair in uncached}
    found: dict[str, set[str]] = {}
    for pair in wanted:
        present = answers[pair] if pair in answers else exists(pair)  # the others were cached
        if present:
            found.setdefault(pair[0], set()).add(pair[1])
    return found
