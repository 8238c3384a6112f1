"""The base class every tool extends (the seed's ``BaseTool``; plugins import it as ``..base``).

A tool instance is one tool with one profile: ``CalendarTool(profile="TEST")``. ``self.config`` holds
the profile's parameters merged over the tool's ``optional_params``. Constructing a tool never raises
for a missing parameter, so the seed's ``if tool.authenticate(): ...`` pattern keeps working;
``validate_config()`` says False and logs which variable to set, ``require_config()`` raises it.

A tool is built by plugin code (``Tool(profile="TEST")``, the seed's contract), which has no platform
to hand it: it resolves its profile through the process's platform (``functions.platform``), so a tool a
seed workflow builds itself reads the same secrets, with the same cache, as the ones the engine builds.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from functions.registry import profile as profiles
from functions.registry.config import ToolConfig

log = logging.getLogger(__name__)


def _platform_profiles() -> Any:
    """The process's profile source (``functions.core.profiles.Profiles``), looked up at call time."""
    from functions.platform import get_platform

    return get_platform().profiles


class BaseTool:
    _tool_config: ToolConfig | None = None

    def __init__(self, profile: str = "DEFAULT", config: dict[str, Any] | None = None) -> None:
        self.tool_config = type(self).load_tool_config()
        self.tool_name = self.tool_config.tool_name
        self.profile = profiles.normalize_profile(profile)
        source = _platform_profiles()
        if config is None:
            self._resolved = source.resolve(self.tool_config, self.profile)
        else:  # explicit parameters (tests, scratch scripts): no environment or secret lookup
            merged = {**self.tool_config.optional_params, **config}
            self._resolved = profiles.ResolvedProfile(
                self.tool_name, self.profile, merged, source.secret_name(self.tool_name, self.profile),
                {k: "explicit" for k in config},
                [p for p in self.tool_config.required_params if merged.get(p) in (None, "")])
        self.config: dict[str, Any] = self._resolved.params
        self.authenticated = False
        self.last_error: str | None = None

    @classmethod
    def load_tool_config(cls) -> ToolConfig:
        """The tool's config.json, found next to the module that defines the class (read once)."""
        if cls.__dict__.get("_tool_config") is None:
            module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
            if module_file is None:
                raise RuntimeError(f"{cls.__name__} is not defined in a tool's main.py")
            path = Path(module_file).parent / "config.json"
            cls._tool_config = ToolConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
        assert cls._tool_config is not None
        return cls._tool_config

    # ----- the seed's interface ---------------------------------------------------------------------------
    def validate_config(self) -> bool:
        if self._resolved.missing:
            self.last_error = self._resolved.missing_message()
            log.error(self.last_error)
            return False
        return True

    def require_config(self) -> None:
        """Raise ProfileError naming the variables or secret to set, if a required parameter is missing."""
        self._resolved.require()

    def authenticate(self) -> bool:
        """Default: a tool whose required parameters are all set is ready. Override to test a connection."""
        self.authenticated = self.validate_config()
        return self.authenticated

    def is_authenticated(self) -> bool:
        return self.authenticated

    def execute(self, action: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement execute(action, params)")

    def get_available_actions(self) -> list[str]:
        return list(self.tool_config.actions)

    def get_oauth_status(self) -> dict[str, Any]:
        """Tools without OAuth report whether their profile is complete; OAuth tools override this."""
        return {
            "tool": self.tool_name,
            "profile": self.profile,
            "requires_oauth": False,
            "connected": not self._resolved.missing,
            "missing_params": list(self._resolved.missing),
        }

    # ----- helpers for tool authors -----------------------------------------------------------------------
    def unknown_action(self, action: str) -> dict[str, Any]:
        actions = ", ".join(self.get_available_actions()) or "none"
        return {"status": "error", "error": f"action {action!r} not supported by {self.tool_name} "
                                            f"(available: {actions})"}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} profile={self.profile}>"
