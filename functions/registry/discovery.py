"""Plugin discovery: what lives in ``plugins/tools``, ``plugins/workflows`` and ``plugins/interfaces``.

Discovery reads and validates every ``config.json`` (cheap) but imports a plugin's ``main.py`` only
when it is first needed, so a cold start does not pay for hundreds of plugins. ``check_all()``
imports everything (the CLI, the local server and ``GET /api/plugins`` use it to report what is
broken). A broken plugin is recorded with the file and the reason; it never stops the others.
What counts as broken (reserved routes and ids, duplicate ROUTEs, unknown ``tools_required``...) is
``functions.registry.rules``: the same rules for the CLI's check and the server.

Plugins are imported under their package names (``plugins.tools.<name>.main``) so that the seed's
imports keep working: ``from ..base import BaseTool`` in a tool and
``from plugins.tools.<tool>.main import <Tool>`` in a workflow.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import shutil
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from functions.errors import NotFound, PluginError
from functions.registry import rules
from functions.registry.config import NAME_RE, InputField, ToolConfig, WorkflowConfig

Kind = Literal["tool", "workflow", "interface"]
KIND_DIRS: dict[str, str] = {"tool": "tools", "workflow": "workflows", "interface": "interfaces"}
PACKAGE = "plugins"


@dataclass
class Plugin:
    kind: Kind
    name: str
    path: Path
    config: ToolConfig | WorkflowConfig | None = None
    error: str | None = None
    error_file: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Interfaces only: DISPLAY_NAME, DESCRIPTION, ROUTE, ICON read from main.py.
    meta: dict[str, Any] = field(default_factory=dict)
    module: ModuleType | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "ok"

    @property
    def module_name(self) -> str:
        return f"{PACKAGE}.{KIND_DIRS[self.kind]}.{self.name}.main"

    def fail(self, reason: str, file: str | None = None) -> None:
        self.error, self.error_file, self.module = reason, file, None

    def raise_if_broken(self) -> None:
        if self.error:
            raise PluginError(self.kind, self.name, self.error, self.error_file)


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, with the dotted path of the key: ``inputs_schema.0.type: ...``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


class Registry:
    def __init__(self, plugins_dir: Path) -> None:
        self.plugins_dir = Path(plugins_dir).resolve()
        self.plugins: dict[tuple[str, str], Plugin] = {}
        self._lock = threading.RLock()

    # ----- discovery -------------------------------------------------------------------------------------
    @classmethod
    def discover(cls, plugins_dir: Path) -> "Registry":
        registry = cls(plugins_dir)
        for kind, sub in KIND_DIRS.items():
            folder = registry.plugins_dir / sub
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if not path.is_dir() or path.name.startswith((".", "_")):
                    continue
                registry.plugins[(kind, path.name)] = registry._read(kind, path)  # type: ignore[arg-type]
        registry._check_tools_required()
        return registry

    def _check_tools_required(self) -> None:
        """A workflow that requires a tool there is no folder of is broken (known without importing)."""
        tools = [name for (kind, name) in self.plugins if kind == "tool"]
        for plugin in self.of_kind("workflow"):
            if plugin.error or not isinstance(plugin.config, WorkflowConfig):
                continue
            problem = rules.unknown_tools_problem(plugin.config, tools)
            if problem:
                plugin.fail(problem, self._rel(plugin.path / "config.json"))

    def _rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.plugins_dir.parent))
        except ValueError:
            return str(path)

    def _read(self, kind: Kind, path: Path) -> Plugin:
        plugin = Plugin(kind=kind, name=path.name, path=path)
        if not NAME_RE.match(path.name):
            plugin.fail(f"folder name {path.name!r} is not a valid plugin name: use only a-z, 0-9 and _",
                        self._rel(path))
            return plugin
        reserved = rules.name_problem(kind, path.name)
        if reserved:
            plugin.fail(reserved, self._rel(path))
            return plugin
        if not (path / "main.py").is_file():
            plugin.fail("main.py is missing", self._rel(path / "main.py"))
            return plugin
        if kind == "interface":
            return plugin  # interfaces describe themselves in main.py; read when loaded
        config_file = path / "config.json"
        try:
            text = config_file.read_text(encoding="utf-8")
            raw = json.loads(text)
        except FileNotFoundError:
            plugin.fail("config.json is missing", self._rel(config_file))
            return plugin
        except json.JSONDecodeError as exc:
            plugin.fail(rules.json_problem(text, exc), self._rel(config_file))
            return plugin
        except UnicodeDecodeError as exc:
            plugin.fail(f"invalid JSON: {exc}", self._rel(config_file))
            return plugin
        if not isinstance(raw, dict):
            plugin.fail("config.json must hold a JSON object", self._rel(config_file))
            return plugin
        model: type[BaseModel] = ToolConfig if kind == "tool" else WorkflowConfig
        try:
            config = model.model_validate(raw)
        except ValidationError as exc:
            plugin.fail(f"invalid config: {format_validation_error(exc)}", self._rel(config_file))
            return plugin
        if isinstance(config, ToolConfig) and config.tool_name != path.name:
            plugin.fail(f"tool_name {config.tool_name!r} must equal the folder name {path.name!r} "
                        "(profiles are read from variables named after it)", self._rel(config_file))
            return plugin
        plugin.config = config
        plugin.warnings = config.unknown_keys()
        return plugin

    # ----- lookup ----------------------------------------------------------------------------------------
    def of_kind(self, kind: Kind) -> list[Plugin]:
        return [p for (k, _), p in sorted(self.plugins.items()) if k == kind]

    def get(self, kind: Kind, name: str) -> Plugin:
        plugin = self.plugins.get((kind, name))
        if plugin is None:
            known = ", ".join(p.name for p in self.of_kind(kind)) or "none"
            raise NotFound(f"no {kind} named {name!r} (known: {known})")
        return plugin

    def workflow(self, name: str) -> tuple[Plugin, WorkflowConfig]:
        plugin = self.get("workflow", name)
        plugin.raise_if_broken()
        assert isinstance(plugin.config, WorkflowConfig)
        return plugin, plugin.config

    # ----- loading ---------------------------------------------------------------------------------------
    def _ensure_package(self) -> None:
        """Make ``import plugins...`` resolve to this registry's folder, whatever the folder is called."""
        current = sys.modules.get(PACKAGE)
        if current is not None and list(getattr(current, "__path__", [])) == [str(self.plugins_dir)]:
            return
        purge_plugin_modules()
        init = self.plugins_dir / "__init__.py"
        if init.exists():
            spec = importlib.util.spec_from_file_location(
                PACKAGE, init, submodule_search_locations=[str(self.plugins_dir)])
        else:
            spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
            spec.submodule_search_locations = [str(self.plugins_dir)]
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        if spec.loader is not None:
            spec.loader.exec_module(module)

    def module(self, plugin: Plugin) -> ModuleType:
        """Import the plugin's main.py (once) and check its contract; a failure marks it broken."""
        plugin.raise_if_broken()
        if plugin.module is not None:
            return plugin.module
        with self._lock:
            if plugin.module is not None:
                return plugin.module
            self._ensure_package()
            try:
                module = importlib.import_module(plugin.module_name)
            except BaseException as exc:  # noqa: BLE001 - a plugin may raise anything, even SystemExit
                if isinstance(exc, KeyboardInterrupt):
                    raise
                sys.modules.pop(plugin.module_name, None)
                reason, file = self._describe_import_error(exc, plugin)
                plugin.fail(reason, file)
                raise PluginError(plugin.kind, plugin.name, reason, file) from None
            problem = self._check_contract(plugin, module)
            if problem:
                plugin.fail(problem, self._rel(plugin.path / "main.py"))
                raise PluginError(plugin.kind, plugin.name, problem, plugin.error_file)
            plugin.module = module
            return module

    def _describe_import_error(self, exc: BaseException, plugin: Plugin) -> tuple[str, str]:
        if isinstance(exc, SyntaxError) and exc.filename:
            return (f"SyntaxError: {exc.msg} (line {exc.lineno})", f"{self._rel(Path(exc.filename))}:{exc.lineno}")
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).resolve().is_relative_to(self.plugins_dir)]
        where = f"{self._rel(Path(frames[-1].filename))}:{frames[-1].lineno}" if frames else self._rel(
            plugin.path / "main.py")
        return f"{type(exc).__name__}: {exc}", where

    def _check_contract(self, plugin: Plugin, module: ModuleType) -> str | None:
        if plugin.kind == "workflow":
            if not callable(getattr(module, "execute", None)):
                return "main.py defines no execute(data, tools) function"
            assert isinstance(plugin.config, WorkflowConfig)
            problem = rules.execute_problem(plugin.config, module.execute)
            return problem or self._merge_module_config(plugin, module)
        if plugin.kind == "tool":
            return None if find_tool_class(module) else "main.py defines no BaseTool subclass"
        # interface
        missing = [n for n in ("ROUTE", "get_router") if not hasattr(module, n)]
        if missing:
            return f"main.py must define {' and '.join(missing)}"
        route = getattr(module, "ROUTE")
        problem = rules.route_form_problem(route) or rules.reserved_route_problem(route)
        if problem:
            return problem
        try:
            router = module.get_router()
        except Exception as exc:  # noqa: BLE001 - plugin code
            return f"get_router() raised {type(exc).__name__}: {exc}"
        problem = rules.router_problem(router)
        if problem:
            return problem
        plugin.meta = {
            "display_name": str(getattr(module, "DISPLAY_NAME", plugin.name)),
            "description": str(getattr(module, "DESCRIPTION", "")),
            "route": rules.normalize_route(route),
            "icon": str(getattr(module, "ICON", "")),
        }
        return None

    @staticmethod
    def _merge_module_config(plugin: Plugin, module: ModuleType) -> str | None:
        """The seed lets main.py declare inputs (get_required_inputs) and profiles (get_tools_profiles);
        config.json wins where both say something."""
        config = plugin.config
        assert isinstance(config, WorkflowConfig)
        updates: dict[str, Any] = {}
        try:
            if not config.inputs_schema and callable(getattr(module, "get_required_inputs", None)):
                updates["inputs_schema"] = [InputField.model_validate(f) for f in module.get_required_inputs()]
            if callable(getattr(module, "get_tools_profiles", None)):
                updates["tools_profiles"] = {**module.get_tools_profiles(), **config.tools_profiles}
        except ValidationError as exc:
            return f"get_required_inputs() returned an invalid input: {format_validation_error(exc)}"
        except Exception as exc:  # noqa: BLE001
            return f"get_required_inputs()/get_tools_profiles() raised {type(exc).__name__}: {exc}"
        if updates:
            plugin.config = config.model_copy(update=updates)
        return None

    def tool_class(self, name: str) -> type:
        plugin = self.get("tool", name)
        cls = find_tool_class(self.module(plugin))
        assert cls is not None
        return cls

    def check_all(self, env: Mapping[str, str] | None = None) -> "Registry":
        """Import every plugin so that every problem is known (and reported) now, then apply the rules that
        look at several plugins: two interfaces on one ROUTE (the first, by name, keeps it, as when the
        server mounts them). With ``env`` (``wfp plugins check``: the environment and ``.env``), a
        profile ``tools_profiles`` names that it does not configure is a warning; the server passes none
        (deployed, profiles live in Secrets Manager)."""
        for plugin in self.plugins.values():
            if not plugin.error:
                try:
                    self.module(plugin)
                except PluginError:
                    pass
        taken: dict[str, str] = {}
        for plugin in self.of_kind("interface"):
            if plugin.error:
                continue
            route = plugin.meta["route"]
            problem = rules.route_problem(route, taken)
            if problem:
                plugin.fail(problem, self._rel(plugin.path / "main.py"))
            else:
                taken[route] = plugin.name
        if env is not None:
            tools = {p.name: p.config for p in self.of_kind("tool") if isinstance(p.config, ToolConfig)}
            for plugin in self.of_kind("workflow"):
                if isinstance(plugin.config, WorkflowConfig):
                    for warning in rules.profile_warnings(plugin.config, tools, env):
                        if warning not in plugin.warnings:
                            plugin.warnings.append(warning)
        return self

    def errors(self) -> list[Plugin]:
        return [p for p in self.plugins.values() if p.error]


def find_tool_class(module: ModuleType) -> type | None:
    """The BaseTool subclass the tool's main.py defines (not one it merely imports)."""
    from functions.registry.base_tool import BaseTool

    for _, obj in inspect.getmembers(module, inspect.isclass):
        if issubclass(obj, BaseTool) and obj is not BaseTool and obj.__module__ == module.__name__:
            return obj
    return None


def purge_plugin_modules(plugins_dir: Path | None = None) -> None:
    """Forget every imported plugin module so the next import reads the files again."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    if plugins_dir is not None:
        # A .pyc with the same source size and mtime second would be reused by the import system.
        for cache in Path(plugins_dir).rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
    importlib.invalidate_caches()


def load_registry(plugins_dir: Path, manifest: Path | None = None) -> Registry:
    """The plugins a process starts with: the build-time manifest when there is one (a cold start reads
    one JSON file instead of scanning plugins/), else a scan of ``plugins_dir``."""
    if manifest is not None and manifest.is_file():
        from functions.registry.manifest import registry_from_manifest

        return registry_from_manifest(manifest, plugins_dir)
    return Registry.discover(plugins_dir)
