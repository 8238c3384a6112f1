"""The plugin rules: what the platform refuses (or warns about) in a plugin, in one place.

Discovery and ``Registry.check_all`` (``functions.registry.discovery``) apply them, so ``wfp plugins check``,
``GET /api/plugins`` (the dashboard's broken-plugin banner), the layer build's manifest and the server's
mounting of interfaces (``functions.http.interfaces``) all refuse the same things; ``wfp new`` asks
``name_problem`` before it creates anything.

The reserved routes are the paths the app serves (``functions.http``: the API under ``/api``, the dashboard,
login, the OpenAPI docs, the OAuth callbacks). They are listed here, below the app, because the CLI checks
plugins without building one; ``tests/functions/http/test_dashboard_interfaces.py`` walks the app's routes
and fails when one of them is not covered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from functions.registry.config import ToolConfig, WorkflowConfig
from functions.registry.profile import PROFILE_RE, env_var

#: Paths the platform itself serves (each with everything under it); an interface there would hide them.
#: ``/`` is the dashboard's home and is reserved too (exactly, not as a prefix).
RESERVED_ROUTES = ("/api", "/dashboard", "/login", "/logout", "/docs", "/redoc", "/openapi.json", "/oauth")

#: Plugin ids the platform uses for something else:
#: - tool ``base``: ``plugins/tools/base.py``, the module every tool imports ``BaseTool`` from;
#: - workflows ``execute`` and ``trigger``: ``GET /api/workflows/<name>`` of those would reach the trigger
#:   routes (``/api/workflows/execute/...``, ``/api/workflows/trigger/...``), never the workflow.
RESERVED_NAMES: dict[str, frozenset[str]] = {
    "tool": frozenset({"base"}),
    "workflow": frozenset({"execute", "trigger"}),
    "interface": frozenset(),
}


def normalize_route(route: str) -> str:
    return route.rstrip("/") or "/"


def interface_route(name: str) -> str:
    """The ROUTE ``wfp new interface <name>`` gives an interface."""
    return "/" + name.replace("_", "-")


# ----- interfaces ------------------------------------------------------------------------------------------
def route_form_problem(route: Any) -> str | None:
    """A ROUTE that is not a path at all."""
    if not isinstance(route, str) or not route.startswith("/"):
        return f"ROUTE must be a path like '/my-interface', got {route!r}"
    return None


def reserved_route_problem(route: str) -> str | None:
    route = normalize_route(route)
    if route == "/" or any(route == r or route.startswith(r + "/") for r in RESERVED_ROUTES):
        return (f"ROUTE {route!r} is used by the platform: choose a path outside {', '.join(RESERVED_ROUTES)} "
                "and other than /, like '/my-interface'")
    return None


def route_problem(route: str, taken: Mapping[str, str]) -> str | None:
    """Why an interface may not be mounted at ``route``, given the routes ``taken`` (route → interface)
    by the interfaces before it (in name order: the first one keeps a disputed route)."""
    problem = reserved_route_problem(route)
    if problem:
        return problem
    route = normalize_route(route)
    if route in taken:
        return f"ROUTE {route!r} is already the route of interface {taken[route]!r}: choose another"
    return None


def router_problem(router: Any) -> str | None:
    """``get_router()`` must give a FastAPI ``APIRouter`` (recognised by its class, without importing FastAPI
    here; ``functions.http.interfaces`` mounts it)."""
    if not any(c.__name__ == "APIRouter" and c.__module__.startswith("fastapi")
               for c in type(router).__mro__):
        return f"TypeError: get_router() must return a fastapi.APIRouter, not {type(router).__name__}"
    return None


# ----- names -----------------------------------------------------------------------------------------------
def name_problem(kind: str, name: str) -> str | None:
    """A plugin id the platform reserves (and, for ``wfp new interface``, the ROUTE it would get)."""
    if name in RESERVED_NAMES.get(kind, frozenset()):
        return f"the {kind} name {name!r} is reserved by the platform: choose another"
    return None


def new_name_problem(kind: str, name: str) -> str | None:
    """What ``wfp new`` refuses besides an invalid name: a reserved id, or, for an interface, a ROUTE the
    platform serves."""
    problem = name_problem(kind, name)
    if problem is None and kind == "interface":
        route = interface_route(name)
        if reserved_route_problem(route):
            problem = (f"the interface {name!r} would get ROUTE {route!r}, which is reserved by the platform "
                       f"({', '.join(RESERVED_ROUTES)} and /): choose another name")
    return problem


# ----- workflows -------------------------------------------------------------------------------------------
def unknown_tools_problem(config: WorkflowConfig, tools: Iterable[str]) -> str | None:
    known = set(tools)
    unknown = [t for t in config.tools_required if t not in known]
    if not unknown:
        return None
    listed = ", ".join(sorted(known)) or "none"
    return f"tools_required names {', '.join(unknown)}, which is no tool of plugins/tools/ (known: {listed})"


def profile_warnings(config: WorkflowConfig, tools: Mapping[str, ToolConfig], env: Mapping[str, str]) -> list[str]:
    """The profiles ``tools_profiles`` names that ``env`` (the local environment and ``.env``) does not
    configure: a required parameter of the tool has no ``{TOOL}_{PROFILE}_{PARAM}`` variable. A warning
    only: deployed, a profile may live in Secrets Manager, which this never asks."""
    warnings = []
    upper = {k.upper(): v for k, v in env.items()}
    for tool, profile in config.tools_profiles.items():
        tool_config = tools.get(tool)
        if tool_config is None or not isinstance(profile, str) or not PROFILE_RE.match(profile):
            continue
        profile = profile.upper()
        missing = [env_var(tool, profile, p) for p in tool_config.required_params
                   if not upper.get(env_var(tool, profile, p))]
        if missing:
            warnings.append(f"tools_profiles: profile {profile!r} of tool {tool!r} is not configured here: "
                            f"set {', '.join(missing)} in .env or the environment (deployed, `wfp profiles push` "
                            "puts it in Secrets Manager)")
    return warnings


def execute_problem(config: WorkflowConfig, execute: Any) -> str | None:
    """A durable workflow's ``execute`` takes ``(data, tools, ctx)``: the context of its steps and waits
    (``functions.durable``) is its third parameter. Plain workflows keep ``execute(data, tools)``."""
    if not config.durable:
        return None
    import inspect

    try:
        params = list(inspect.signature(execute).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return ("config.json says \"durable\": true, so execute must take a third parameter, the durable context: "
            "def execute(data, tools, ctx)")


# ----- config.json -----------------------------------------------------------------------------------------
def json_problem(text: str, exc: json.JSONDecodeError) -> str:
    """``invalid JSON: ...`` naming the line where the problem is; a trailing comma (which JSON does not
    allow, and editors do not show) is named as such, at the comma's line, not the line after it."""
    if exc.msg.startswith(("Expecting property name", "Expecting value", "Illegal trailing comma")):
        if exc.msg.startswith("Illegal trailing comma"):  # Python >= 3.13 points at the comma itself
            comma = exc.pos
        else:  # earlier ones at what follows it
            comma = exc.pos - 1
            while comma >= 0 and text[comma].isspace():
                comma -= 1
        if 0 <= comma < len(text) and text[comma] == ",":
            rest = text[comma + 1:].lstrip()
            if rest[:1] in ("}", "]"):
                line = text.count("\n", 0, comma) + 1
                column = comma - (text.rfind("\n", 0, comma) + 1) + 1
                return (f"invalid JSON: line {line}: trailing comma after the last item (JSON allows none): "
                        f"remove the ',' at line {line}, column {column}")
    return f"invalid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
