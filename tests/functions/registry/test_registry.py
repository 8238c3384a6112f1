"""Plugin discovery: good plugins load, every kind of broken plugin is reported with file and reason
while the others keep working, seed-style imports resolve, and the build-time manifest round-trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import REPO

from functions.errors import NotFound, PluginError
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Registry, purge_plugin_modules
from functions.registry.manifest import (
    registry_from_manifest,
    to_manifest,
    write_manifest,
)

OK_TOOL = """
from ..base import BaseTool

class OkTool(BaseTool):
    def execute(self, action, params=None):
        return {"status": "success", "data": {"action": action}}
"""

INTERFACE = """
from fastapi import APIRouter
DISPLAY_NAME = "Page"
DESCRIPTION = "A page"
ROUTE = "/page"
ICON = "*"
router = APIRouter()

@router.get("/")
def index():
    return {"page": True}

def get_router():
    return router
"""


def discover(root: Path) -> Registry:
    return Registry.discover(root).check_all()


def state(registry: Registry) -> dict[str, tuple[str, str | None, str | None]]:
    return {f"{p.kind}/{p.name}": (p.status, p.error_file, p.error) for p in registry.plugins.values()}


# ----- discovery ----------------------------------------------------------------------------------------
def test_discovers_the_example_plugins_without_errors(aws):
    registry = discover(REPO / "plugins")
    assert registry.errors() == []
    names = {(p.kind, p.name) for p in registry.plugins.values()}
    assert {("tool", "mon_outil"), ("tool", "http_json"), ("workflow", "hello_world"),
            ("workflow", "daily_digest"), ("workflow", "incoming_webhook"), ("interface", "mon_interface")} <= names
    # base.py, __init__.py and scratch/ are not plugins
    assert not any(name in ("base", "__pycache__", "scratch") for _, name in names)


def test_discovery_reads_configs_but_imports_nothing(plugin_dir):
    plugin_dir.workflow("lazy", {"name": "Lazy"}, "raise RuntimeError('imported too early')\n")
    registry = Registry.discover(plugin_dir.root)
    plugin = registry.get("workflow", "lazy")
    assert plugin.status == "ok" and plugin.module is None
    assert isinstance(plugin.config, WorkflowConfig) and plugin.config.name == "Lazy"
    registry.check_all()
    assert plugin.status == "error" and "RuntimeError: imported too early" in plugin.error


def test_hidden_and_private_folders_and_loose_files_are_ignored(plugin_dir):
    plugin_dir.workflow("real", {})
    plugin_dir.workflow("_private", {})
    plugin_dir.workflow(".hidden", {})
    (plugin_dir.root / "workflows" / "notes.txt").write_text("not a plugin")
    assert [p.name for p in discover(plugin_dir.root).of_kind("workflow")] == ["real"]


def test_missing_kind_folders_are_fine(tmp_path):
    (tmp_path / "plugins").mkdir()
    assert Registry.discover(tmp_path / "plugins").plugins == {}


def test_unknown_plugin_is_not_found_and_lists_the_known_ones(plugin_dir):
    plugin_dir.workflow("alpha", {})
    with pytest.raises(NotFound, match=r"no workflow named 'beta' \(known: alpha\)"):
        Registry.discover(plugin_dir.root).get("workflow", "beta")


# ----- broken plugins -----------------------------------------------------------------------------------
BROKEN_CASES: list[tuple[str, Any]] = [
    # (id, writer(plugin_dir), expected key, expected file, fragments of the reason)
    ("syntax error",
     lambda d: d.workflow("syntax", {}, "def execute(data, tools)\n    return {}\n"),
     "workflow/syntax", "plugins/workflows/syntax/main.py:1", ["SyntaxError", "line 1"]),
    ("invalid JSON",
     lambda d: d.workflow("badjson", '{"name": "x",, }'),
     "workflow/badjson", "plugins/workflows/badjson/config.json", ["invalid JSON", "line 1"]),
    ("JSON that is not an object",
     lambda d: d.workflow("jsonlist", '["manual"]'),
     "workflow/jsonlist", "plugins/workflows/jsonlist/config.json", ["must hold a JSON object"]),
    ("invalid config, with the field path",
     lambda d: d.workflow("badcfg", {"inputs_schema": [{"name": "a", "type": "text"}, {"name": "b", "type": "colour"}],
                                     "timeout_seconds": 0}),
     "workflow/badcfg", "plugins/workflows/badcfg/config.json",
     ["invalid config", "inputs_schema.1.type", "timeout_seconds", "greater than or equal to 1"]),
    ("invalid cron",
     lambda d: d.workflow("badcron", {"triggers": ["schedule"], "schedule": "every day"}),
     "workflow/badcron", "plugins/workflows/badcron/config.json", ["schedule", "5"]),
    ("schedule trigger without schedule",
     lambda d: d.workflow("nosched", {"triggers": ["schedule"]}),
     "workflow/nosched", "plugins/workflows/nosched/config.json", ["no 'schedule' cron expression"]),
    ("select without options",
     lambda d: d.workflow("noopts", {"inputs_schema": [{"name": "lang", "type": "select"}]}),
     "workflow/noopts", "plugins/workflows/noopts/config.json", ["inputs_schema.0", "'select' but no 'options'"]),
    ("duplicate inputs",
     lambda d: d.workflow("dups", {"inputs_schema": [{"name": "a"}, {"name": "a"}]}),
     "workflow/dups", "plugins/workflows/dups/config.json", ["declares a more than once"]),
    ("missing execute",
     lambda d: d.workflow("noexec", {}, "def run(data, tools):\n    return {}\n"),
     "workflow/noexec", "plugins/workflows/noexec/main.py", ["no execute(data, tools) function"]),
    ("execute that is not callable",
     lambda d: d.workflow("execvar", {}, "execute = 3\n"),
     "workflow/execvar", "plugins/workflows/execvar/main.py", ["no execute(data, tools) function"]),
    ("import of a missing module",
     lambda d: d.workflow("importerr", {}, "import os\nimport does_not_exist_anywhere\n\ndef execute(d, t):\n    return {}\n"),
     "workflow/importerr", "plugins/workflows/importerr/main.py:2",
     ["ModuleNotFoundError", "does_not_exist_anywhere"]),
    ("exception at import",
     lambda d: d.workflow("boom", {}, "x = 1 / 0\n"),
     "workflow/boom", "plugins/workflows/boom/main.py:1", ["ZeroDivisionError"]),
    ("sys.exit at import",
     lambda d: d.workflow("exits", {}, "import sys\nsys.exit(3)\n"),
     "workflow/exits", "plugins/workflows/exits/main.py:2", ["SystemExit"]),
    ("tool without a BaseTool subclass",
     lambda d: d.tool("notool", None, "class NotATool:\n    pass\n"),
     "tool/notool", "plugins/tools/notool/main.py", ["no BaseTool subclass"]),
    ("tool that only imports BaseTool",
     lambda d: d.tool("onlyimport", None, "from ..base import BaseTool\n"),
     "tool/onlyimport", "plugins/tools/onlyimport/main.py", ["no BaseTool subclass"]),
    ("tool config without tool_name",
     lambda d: d.tool("noname", {"display_name": "x"}),
     "tool/noname", "plugins/tools/noname/config.json", ["tool_name", "Field required"]),
    ("tool_name different from the folder",
     lambda d: d.tool("folder", {"tool_name": "other"}),
     "tool/folder", "plugins/tools/folder/config.json", ["'other' must equal the folder name 'folder'"]),
    ("interface without ROUTE",
     lambda d: d.interface("noroute", "def get_router():\n    return None\n"),
     "interface/noroute", "plugins/interfaces/noroute/main.py", ["must define ROUTE"]),
    ("interface without get_router",
     lambda d: d.interface("norouter", "ROUTE = '/x'\n"),
     "interface/norouter", "plugins/interfaces/norouter/main.py", ["must define get_router"]),
    ("interface under /api",
     lambda d: d.interface("apiroute", "ROUTE = '/api/mine'\ndef get_router():\n    return None\n"),
     "interface/apiroute", "plugins/interfaces/apiroute/main.py", ["outside /api"]),
    ("bad folder name",
     lambda d: d.workflow("My-Flow", {}),
     "workflow/My-Flow", "plugins/workflows/My-Flow", ["not a valid plugin name", "a-z, 0-9 and _"]),
    ("missing config.json",
     lambda d: (d.root / "workflows" / "nocfg").mkdir() or (d.root / "workflows" / "nocfg" / "main.py").write_text(
         "def execute(d, t):\n    return {}\n"),
     "workflow/nocfg", "plugins/workflows/nocfg/config.json", ["config.json is missing"]),
    ("missing main.py",
     lambda d: (d.root / "tools" / "nomain").mkdir() or (d.root / "tools" / "nomain" / "config.json").write_text(
         json.dumps({"tool_name": "nomain"})),
     "tool/nomain", "plugins/tools/nomain/main.py", ["main.py is missing"]),
]


@pytest.mark.parametrize("case", BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_a_broken_plugin_is_reported_and_the_others_still_work(case, plugin_dir, aws):
    _, write, key, file, fragments = case
    plugin_dir.workflow("good", {"name": "Good"})
    plugin_dir.tool("good_tool", None, OK_TOOL)
    plugin_dir.interface("good_page", INTERFACE)
    write(plugin_dir)

    registry = discover(plugin_dir.root)
    report = state(registry)
    status, error_file, error = report.pop(key)
    assert status == "error"
    assert error_file == file
    for fragment in fragments:
        assert fragment in error
    assert report == {"workflow/good": ("ok", None, None), "tool/good_tool": ("ok", None, None),
                      "interface/good_page": ("ok", None, None)}
    # the good ones are usable, the broken one refuses with a PluginError that says why (409)
    assert registry.tool_class("good_tool").__name__ == "OkTool"
    assert callable(registry.module(registry.get("workflow", "good")).execute)
    kind, name = key.split("/")
    with pytest.raises(PluginError) as refused:
        registry.module(registry.get(kind, name))  # type: ignore[arg-type]
    assert refused.value.status_code == 409 and fragments[0] in refused.value.message
    assert refused.value.detail == {"file": file, "reason": error}


def test_a_workflow_importing_a_broken_tool_names_the_tools_file(plugin_dir):
    plugin_dir.tool("bad_tool", None, "from ..base import BaseTool\nclass T(BaseTool):\n    x = undefined_name\n")
    plugin_dir.workflow("user", {}, "from plugins.tools.bad_tool.main import T\n\ndef execute(d, t):\n    return {}\n")
    registry = discover(plugin_dir.root)
    user = registry.get("workflow", "user")
    assert user.status == "error"
    assert user.error_file == "plugins/tools/bad_tool/main.py:3"
    assert "NameError" in user.error and "undefined_name" in user.error


def test_a_failed_import_can_be_fixed_and_rediscovered(plugin_dir):
    folder = plugin_dir.workflow("fixme", {}, "def execute(data, tools)\n    pass\n")
    assert discover(plugin_dir.root).get("workflow", "fixme").status == "error"
    (folder / "main.py").write_text("def execute(data, tools):\n    return {'status': 'success'}\n")
    purge_plugin_modules(plugin_dir.root)
    assert discover(plugin_dir.root).get("workflow", "fixme").status == "ok"


# ----- warnings -----------------------------------------------------------------------------------------
def test_unknown_keys_are_listed_as_warnings_and_the_plugin_loads(plugin_dir):
    plugin_dir.workflow("typo", {"trigers": ["webhook"], "active": True,
                                 "inputs_schema": [{"name": "lang", "type": "select", "colour": "red",
                                                    "options": [{"value": "en", "flag": "uk"}]}]})
    plugin_dir.tool("tooly", {"tool_name": "tooly", "requierd_params": ["key"],
                              "actions": {"go": {"description": "d", "paramters": {}}}})
    registry = discover(plugin_dir.root)
    typo, tooly = registry.get("workflow", "typo"), registry.get("tool", "tooly")
    assert typo.status == "ok" and tooly.status == "ok"
    assert sorted(typo.warnings) == ["unknown key 'inputs_schema[lang].colour' (ignored)",
                                     "unknown key 'inputs_schema[lang].options[0].flag' (ignored)",
                                     "unknown key 'trigers' (ignored)"]
    assert sorted(tooly.warnings) == ["unknown key 'actions[go].paramters' (ignored)",
                                      "unknown key 'requierd_params' (ignored)"]
    # the typo has consequences the user can see: the default trigger applies
    assert typo.config.triggers == ["manual"]


def test_a_clean_config_has_no_warnings(plugin_dir):
    plugin_dir.workflow("clean", {"name": "C", "description": "d", "schedule": "*/5 * * * *",
                                  "triggers": ["manual", "schedule", "webhook"], "category": "x",
                                  "tools_required": [], "tools_profiles": {}, "active": True,
                                  "timezone": "Europe/Paris", "timeout_seconds": 30, "webhook_auth": "none",
                                  "concurrency": 1,
                                  "inputs_schema": [{"name": "a", "type": "select", "label": "A", "required": True,
                                                     "description": "d", "default": "x", "options": ["x", "y"]}]})
    assert discover(plugin_dir.root).get("workflow", "clean").warnings == []


# ----- seed-style plugins -------------------------------------------------------------------------------
SEED_TOOL = """
import logging
from typing import Any, Dict, List
from ..base import BaseTool

logger = logging.getLogger(__name__)

class SeedTool(BaseTool):
    def authenticate(self) -> bool:
        if not self.validate_config():
            return False
        self.authenticated = True
        return True

    def execute(self, action: str, params: Dict[str, Any] = None) -> Dict[str, Any]:
        return {"status": "success", "data": {"action": action, "key": self.config.get("api_key")[:2] + "..."}}

    def get_available_actions(self) -> List[str]:
        return ["search"]
"""

SEED_WORKFLOW = """
from typing import Dict, Any, List
from plugins.tools.seed_tool.main import SeedTool

def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    try:
        tool = SeedTool(profile=get_tools_profiles()["seed_tool"])
        if not tool.authenticate():
            return {"status": "error", "message": "Authentication failed for seed_tool", "auth_required": True}
        result = tool.execute("search", {"query": f"user:{data['user_email']}"})
        return {"status": "success", "message": "Workflow completed",
                "data": {"search": result["data"], "same_class": type(tool).__module__}}
    except Exception as e:
        return {"status": "error", "message": str(e)}

def get_required_inputs() -> List[Dict[str, Any]]:
    return [{"name": "user_email", "type": "email", "label": "Email utilisateur", "required": True,
             "description": "Email de l'utilisateur"}]

def get_tools_profiles() -> Dict[str, str]:
    return {"seed_tool": "PROD", "other_tool": "WORK"}
"""


def seed_plugins(plugin_dir):
    plugin_dir.tool("seed_tool", {"tool_name": "seed_tool", "required_params": ["api_key"],
                                  "actions": {"search": {"description": "Recherche"}}}, SEED_TOOL)
    plugin_dir.workflow("seed_flow", {"name": "Seed", "triggers": ["manual", "webhook"],
                                      "tools_profiles": {"other_tool": "OVERRIDE"}}, SEED_WORKFLOW)


def test_seed_style_imports_resolve_to_the_registrys_own_modules(plugin_dir):
    seed_plugins(plugin_dir)
    registry = discover(plugin_dir.root)
    assert registry.errors() == []
    flow = registry.module(registry.get("workflow", "seed_flow"))
    # the class the workflow imported is the very class the registry hands out
    assert flow.SeedTool is registry.tool_class("seed_tool")
    assert registry.tool_class("seed_tool").load_tool_config().tool_name == "seed_tool"


def test_get_required_inputs_and_get_tools_profiles_merge_into_the_config(plugin_dir):
    seed_plugins(plugin_dir)
    registry = discover(plugin_dir.root)
    config = registry.get("workflow", "seed_flow").config
    assert [(f.name, f.type, f.required) for f in config.inputs_schema] == [("user_email", "email", True)]
    # config.json wins where both say something
    assert config.tools_profiles == {"seed_tool": "PROD", "other_tool": "OVERRIDE"}


def test_config_inputs_schema_wins_over_get_required_inputs(plugin_dir):
    plugin_dir.workflow("both", {"inputs_schema": [{"name": "from_config"}]},
                        "def get_required_inputs():\n    return [{'name': 'from_code'}]\n"
                        "def execute(d, t):\n    return {}\n")
    config = discover(plugin_dir.root).get("workflow", "both").config
    assert [f.name for f in config.inputs_schema] == ["from_config"]


@pytest.mark.parametrize("code, fragment", [
    ("def get_required_inputs():\n    return [{'name': 'x', 'type': 'colour'}]\n", "get_required_inputs() returned an invalid input"),
    ("def get_required_inputs():\n    raise KeyError('k')\n", "raised KeyError"),
    ("def get_tools_profiles():\n    return 1 / 0\n", "raised ZeroDivisionError"),
])
def test_broken_seed_hooks_are_reported(plugin_dir, code, fragment):
    plugin_dir.workflow("hooks", {}, code + "def execute(d, t):\n    return {}\n")
    plugin = discover(plugin_dir.root).get("workflow", "hooks")
    assert plugin.status == "error" and fragment in plugin.error
    assert plugin.error_file == "plugins/workflows/hooks/main.py"


def test_seed_workflow_runs_end_to_end(make_platform, plugin_dir, monkeypatch):
    seed_plugins(plugin_dir)
    monkeypatch.setenv("SEED_TOOL_PROD_API_KEY", "sk-live-123")
    platform = make_platform(plugin_dir.root)
    run = platform.run("seed_flow", {"user_email": "ada@example.com"})
    assert run.status == "success", run.error
    assert run.output["data"] == {"search": {"action": "search", "key": "sk..."},
                                  "same_class": "plugins.tools.seed_tool.main"}
    refused = platform.client.post("/api/workflows/execute/seed_flow", json={"user_email": "nope"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "user_email"


def test_plugins_folder_with_another_name_still_imports_as_plugins(tmp_path, aws):
    from support import PluginDir

    other = PluginDir(tmp_path / "my_automations")
    other.tool("t1", None, OK_TOOL)
    other.workflow("w1", {}, "from plugins.tools.t1.main import OkTool\n\ndef execute(d, t):\n"
                            "    return {'status': 'success', 'data': OkTool(config={}).execute('a')}\n")
    registry = discover(other.root)
    assert registry.errors() == []
    assert registry.module(registry.get("workflow", "w1")).OkTool is registry.tool_class("t1")


# ----- manifest -----------------------------------------------------------------------------------------
def test_manifest_round_trip(plugin_dir, tmp_path, aws):
    seed_plugins(plugin_dir)
    plugin_dir.workflow("typo", {"name": "Typo", "trigers": [], "schedule": "0 9 * * 1-5",
                                 "triggers": ["schedule"], "timezone": "Europe/Paris",
                                 "inputs_schema": [{"name": "lang", "type": "select", "options": ["en", "fr"],
                                                    "default": "en"}]})
    plugin_dir.workflow("broken", {}, "def execute(:\n")
    plugin_dir.interface("page", INTERFACE)
    original = discover(plugin_dir.root)
    path = write_manifest(original, tmp_path / "manifest.json")

    loaded = registry_from_manifest(path, plugin_dir.root)
    assert to_manifest(loaded) == to_manifest(original)
    for key, plugin in original.plugins.items():
        twin = loaded.plugins[key]
        assert (twin.status, twin.error, twin.error_file, twin.warnings, twin.meta, twin.path) == (
            plugin.status, plugin.error, plugin.error_file, plugin.warnings, plugin.meta, plugin.path)
        assert (twin.config.model_dump() if twin.config else None) == (
            plugin.config.model_dump() if plugin.config else None)
        assert twin.module is None  # still imported lazily
    # merged seed hooks survive: a cold start needs no import to validate inputs
    assert [f.name for f in loaded.get("workflow", "seed_flow").config.inputs_schema] == ["user_email"]
    assert loaded.get("interface", "page").meta["route"] == "/page"
    # the manifest's registry imports plugin code on demand
    assert loaded.tool_class("seed_tool").__name__ == "SeedTool"
    with pytest.raises(PluginError, match="SyntaxError"):
        loaded.workflow("broken")


def test_engine_uses_the_manifest_when_configured(make_platform, plugin_dir, tmp_path):
    plugin_dir.workflow("listed", {"name": "Listed"})
    manifest = write_manifest(discover(plugin_dir.root), tmp_path / "manifest.json")
    plugin_dir.workflow("added_later", {"name": "Not in the manifest"})
    platform = make_platform(plugin_dir.root, WFP_MANIFEST=str(manifest))
    names = [w["name"] for w in platform.client.get("/api/workflows").json()]
    assert names == ["listed"]
    assert platform.run("listed", {"x": 1}).status == "success"


def test_manifest_with_another_version_is_refused(tmp_path, plugin_dir):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": 99, "plugins": []}))
    with pytest.raises(ValueError, match="version 99.*rebuild"):
        registry_from_manifest(path, plugin_dir.root)
