"""Tool profiles: named sets of parameters (``TEST``, ``PROD``...) for one tool.

Resolution order, later wins: the tool's ``optional_params`` defaults, then the Secrets Manager secret
``<prefix>/profiles/<tool>/<PROFILE>`` (a JSON object), then environment variables
``{TOOL}_{PROFILE}_{PARAM}`` (``.env`` is loaded into the environment by the local server and the CLI).
The secret is only read when the environment does not already provide every required parameter, so a
fully ``.env``-configured profile costs no AWS call; read secrets are cached by the platform's secret
reader (``functions.aws.secrets``), so warm Lambdas do not call Secrets Manager on every run.

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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import TypeAdapter

from functions.core import redaction
from functions.core.inputs import secret_values as nested_secrets
from functions.core.ports import SecretReader
from functions.core.redaction import is_secret_name
from functions.registry.config import ToolConfig
from functions.registry.profile import PROFILE_RE, ResolvedProfile, normalize_profile
from functions.settings import Settings, as_bool

log = logging.getLogger(__name__)

#: Most names one listing asks Secrets Manager about (one DescribeSecret each, uncached): the bound on
#: what a listing can cost whatever the configuration and the index hold.
MAX_LISTED_NAMES = 200
#: DescribeSecret calls in flight at once when a listing is not cached (one shared boto3 client).
LISTING_THREADS = 8


def index_secret_name(prefix: str) -> str:
    """``<prefix>/profiles-index``: beside ``<prefix>/profiles/``, never inside it, so no tool and profile
    name can collide with it (a profile secret is always ``<prefix>/profiles/<tool>/<PROFILE>``)."""
    return f"{prefix}/profiles-index"


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


def coerce(value: str, like: Any) -> Any:
    """An environment value typed like the parameter's declared default (pydantic, lax: ``"45"`` → 45,
    ``"yes"`` → True); left a string when it has no default or does not fit it."""
    if like is None or isinstance(like, str):
        return value
    try:
        return as_bool(value) if isinstance(like, bool) else TypeAdapter(type(like)).validate_python(value)
    except ValueError:
        return value


def from_env(config: ToolConfig, profile: str) -> tuple[dict[str, Any], dict[str, str]]:
    prefix = f"{config.tool_name}_{profile}_".upper()
    # Variables are upper-case; a parameter declared as `apiKey` must still get its value.
    declared = {p.lower(): p for p in config.params}
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for var, value in os.environ.items():
        if var.startswith(prefix) and len(var) > len(prefix):
            param = declared.get(var[len(prefix):].lower(), var[len(prefix):].lower())
            params[param] = coerce(value, config.optional_params.get(param))
            sources[param] = f"env:{var}"
    return params, sources


def secret_values(config: ToolConfig, params: dict[str, Any], sources: dict[str, str]) -> list[Any]:
    """The profile values a run must never show: required parameters (credentials, mostly), secret-named
    ones (``api_key``, ``token``...) and everything read from a Secrets Manager secret. Optional settings
    such as ``base_url`` or ``timeout`` stay readable in logs."""
    found: list[Any] = []
    for name, value in params.items():
        if sources.get(name) == "default":
            continue
        if name in config.required_params or is_secret_name(name) or sources.get(name, "").startswith("secret:"):
            found += [value] if not isinstance(value, (dict, list)) else nested_secrets({name: value}, {name})
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


class Profiles:
    """Profiles of this deployment: resolved for a tool, and listed. ``secrets`` is called on first need
    (a profile fully set in the environment never builds a Secrets Manager client)."""

    def __init__(self, settings: Settings, secrets: Callable[[], SecretReader]) -> None:
        self.settings = settings
        self._secrets = secrets

    @property
    def secrets(self) -> SecretReader:
        return self._secrets()

    def secret_name(self, tool: str, profile: str) -> str:
        return self.settings.profile_secret_name(tool, profile)

    def read(self, name: str) -> dict[str, Any] | None:
        """The JSON object stored in a profile secret, ``None`` when it does not exist."""
        value = self.secrets.json(name)
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"secret {name!r} must hold a JSON object of parameters")
        return value

    def resolve(self, config: ToolConfig, profile: str) -> ResolvedProfile:
        profile = normalize_profile(profile)
        params: dict[str, Any] = dict(config.optional_params)
        sources = {p: "default" for p in params}
        env_params, env_sources = from_env(config, profile)
        resolved = ResolvedProfile(config.tool_name, profile, params, self.secret_name(config.tool_name, profile),
                                   sources)
        if not env_params or any(p not in env_params for p in config.required_params):
            try:
                secret = self.read(resolved.secret_name) or {}
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

    # ----- which profiles exist in Secrets Manager ---------------------------------------------------------
    def read_index(self) -> dict[str, set[str]]:
        """The profile index, ``{}`` when nobody pushed a profile yet."""
        return parse_index(self.secrets.json(index_secret_name(self.settings.prefix)) or {})

    def in_secrets(self, candidates: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
        """``{tool: {PROFILE, ...}}``: which of these tools' profiles have a secret in this deployment.

        Asked about: each tool's ``candidates`` (names the configuration mentions) and the names the profile
        index records for it. Bounded: one read of the index, then one DescribeSecret per name (at most
        ``MAX_LISTED_NAMES``), in parallel, each answer cached by the secret reader. If the index cannot
        be read (Secrets Manager unreachable, no permission) this raises at once, before any other call.
        """
        index = self.read_index()
        wanted = sorted({(tool, profile.upper()) for tool, names in candidates.items()
                         for profile in {*names, *index.get(tool, ())} if PROFILE_RE.match(profile)})
        if len(wanted) > MAX_LISTED_NAMES:
            log.warning("%d profile names to look up, more than %d: only the first %d are listed",
                        len(wanted), MAX_LISTED_NAMES, MAX_LISTED_NAMES)
            wanted = wanted[:MAX_LISTED_NAMES]

        def exists(pair: tuple[str, str]) -> bool:
            try:
                return self.secrets.exists(self.secret_name(*pair))
            except Exception as exc:  # noqa: BLE001 - one name that cannot be described is left out, not the rest
                log.warning("profile secret %s could not be described: %s", self.secret_name(*pair), exc)
                return False

        if len(wanted) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(LISTING_THREADS, len(wanted))) as pool:
                answers = dict(zip(wanted, pool.map(exists, wanted)))
        else:
            answers = {pair: exists(pair) for pair in wanted}
        found: dict[str, set[str]] = {}
        for (tool, profile), present in answers.items():
            if present:
                found.setdefault(tool, set()).add(profile)
        return found
