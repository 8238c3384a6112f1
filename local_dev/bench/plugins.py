"""Plugin folders for the benchmark: the repository's examples, and the examples grown to hundreds.

Each folder gets its build-time manifest (``layers.build.write_plugin_manifest``, the same function
the layer build uses), so the api handler starts as it does on Lambda: ``WFP_MANIFEST`` set, no folder
scan, plugins imported only when a request needs one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from functions.settings import REPO_ROOT

CRONS = ("0 9 * * 1-5", "*/15 * * * *", "30 2 * * *", "0 0 1 * *", "0 */6 * * *")
INPUT_TYPES = ("text", "email", "integer", "boolean", "select", "date", "number")


@dataclass(frozen=True)
class PluginSet:
    root: Path
    manifest: Path
    workflows: int
    tools: int


def copy_examples(dest: Path) -> Path:
    shutil.copytree(REPO_ROOT / "plugins", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "scratch"))
    return dest


def _tool(root: Path, index: int) -> None:
    name = f"gen_tool_{index:03d}"
    folder = root / "tools" / name
    folder.mkdir(parents=True)
    config = {
        "tool_name": name, "display_name": f"Generated tool {index}",
        "description": "A generated connector (benchmark)", "required_params": ["api_key"],
        "optional_params": {"timeout": 30, "base_url": f"https://api{index}.example.com"},
        "actions": {action: {"description": f"{action} things", "parameters": {"query": "what to look for"},
                             "example": {"action": action, "params": {"query": "x"}}}
                    for action in ("search", "create", "delete")},
        "profile_examples": {"TEST": {"api_key": "your_key"}},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "main.py").write_text(
        "from typing import Any, Dict, List\n\nfrom ..base import BaseTool\n\n\n"
        f"class GenTool{index:03d}(BaseTool):\n"
        "    def authenticate(self) -> bool:\n        self.authenticated = self.validate_config()\n"
        "        return self.authenticated\n\n"
        "    def execute(self, action: str, params: Dict[str, Any] = None) -> Dict[str, Any]:\n"
        "        return {'status': 'success', 'data': {'action': action, 'params': params or {}}}\n\n"
        "    def get_available_actions(self) -> List[str]:\n        return ['search', 'create', 'delete']\n")


def _input(index: int, position: int) -> dict[str, object]:
    kind = INPUT_TYPES[(index + position) % len(INPUT_TYPES)]
    field: dict[str, object] = {"name": f"field_{position}", "type": kind, "label": f"Field {position}",
                                "required": position == 0, "description": f"Input {position} of the workflow"}
    if kind == "select":
        field["options"] = ["a", "b", "c"]
        field["default"] = "a"
    return field


def _workflow(root: Path, index: int, tools: int) -> None:
    name = f"gen_workflow_{index:03d}"
    folder = root / "workflows" / name
    folder.mkdir(parents=True)
    triggers = ["manual"] + (["webhook"] if index % 2 == 0 else []) + (["schedule"] if index % 3 == 0 else [])
    config: dict[str, object] = {
        "name": f"Generated workflow {index}", "description": "A generated workflow (benchmark)",
        "triggers": triggers, "category": f"group_{index % 7}",
        "inputs_schema": [_input(index, p) for p in range(1 + index % 4)],
        "tools_required": [f"gen_tool_{index % tools:03d}"] if tools and index % 4 == 0 else [],
        "active": True, "timeout_seconds": 30,
    }
    if "schedule" in triggers:
        config["schedule"] = CRONS[index % len(CRONS)]
    if "webhook" in triggers:
        config["webhook_auth"] = "none"
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "main.py").write_text(
        "from typing import Any, Dict\n\n\n"
        "def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:\n"
        f"    return {{'status': 'success', 'message': 'workflow {index} done', 'data': data}}\n")


#: The no-op workflow whose runs the benchmark measures (no tool, no input, returns at once), and
#: the one whose history it reads (runs are seeded into the table directly).
NOOP = "bench_noop"
HISTORY = "bench_history"
#: Fails every run: one without ``on_error``, one that notifies a webhook (profile BENCH) when it fails.
FAILING, NOTIFYING = "bench_failing", "bench_notifying"
#: A scheduled no-op (every minute): what one scheduler tick costs the platform itself.
SCHEDULED = "bench_scheduled"


def _noop(root: Path, name: str) -> None:
    folder = root / "workflows" / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "name": f"Benchmark {name}", "description": "Does nothing: what a run costs the platform itself",
        "triggers": ["manual", "webhook"], "webhook_auth": "none", "category": "benchmark", "active": True}))
    (folder / "main.py").write_text("def execute(data, tools):\n    return {'status': 'success'}\n")


def _scheduled(root: Path, name: str) -> None:
    folder = root / "workflows" / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "name": f"Benchmark {name}", "description": "Does nothing, every minute: what a tick costs the platform",
        "schedule": "* * * * *", "triggers": ["schedule", "manual"], "category": "benchmark", "active": True}))
    (folder / "main.py").write_text("def execute(data, tools):\n    return {'status': 'success'}\n")


def _failing(root: Path, name: str, on_error: dict[str, object] | None) -> None:
    folder = root / "workflows" / name
    folder.mkdir(parents=True)
    config: dict[str, object] = {"name": f"Benchmark {name}", "description": "Fails at once: what a failure costs",
                                 "triggers": ["manual"], "category": "benchmark", "active": True}
    if on_error:
        config["on_error"] = on_error
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "main.py").write_text("def execute(data, tools):\n    return {'status': 'error', 'message': 'bench'}\n")


def build(dest: Path, workflows: int = 0, tools: int = 0) -> PluginSet:
    """The examples plus the benchmark's two no-op workflows, ``workflows`` generated workflows and
    ``tools`` generated tools, with their manifest."""
    from layers.build import MANIFEST_NAME, write_plugin_manifest

    shutil.rmtree(dest, ignore_errors=True)
    root = copy_examples(dest / "plugins")
    _noop(root, NOOP)
    _noop(root, HISTORY)
    _scheduled(root, SCHEDULED)
    _failing(root, FAILING, None)
    _failing(root, NOTIFYING, {"notify": [{"type": "webhook", "profile": "BENCH"}], "window_seconds": 3600})
    for index in range(tools):
        _tool(root, index)
    for index in range(workflows):
        _workflow(root, index, tools)
    manifest = dest / MANIFEST_NAME
    errors = write_plugin_manifest(root, manifest)
    if errors:
        raise RuntimeError(f"generated plugins are broken: {errors[:3]}")
    return PluginSet(root, manifest, workflows, tools)
