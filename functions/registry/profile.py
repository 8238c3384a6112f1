"""What the plugin contract says about profiles: their names (``TEST``, ``PROD``...), the variables that set
them (``{TOOL}_{PROFILE}_{PARAM}``) and what a resolution gives a tool (``ResolvedProfile``). Resolving one
(environment, then Secrets Manager) is the core's job: ``functions.core.profiles``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from functions.errors import BadRequest, ProfileError

PROFILE_RE = re.compile(r"^[A-Za-z0-9_]+$")


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
    secret_name: str
    #: param -> where its value came from: ``env:VAR``, ``secret:NAME`` or ``default``.
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    secret_error: str | None = None

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
