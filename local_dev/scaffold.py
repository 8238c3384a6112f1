"""``wfp new``: working starting points for a tool, a workflow or an interface."""

from __future__ import annotations

import json
from pathlib import Path

from functions.registry.config import NAME_RE
from functions.registry.rules import interface_route, new_name_problem

KINDS = {"tool": "tools", "workflow": "workflows", "interface": "interfaces"}

TOOL_MAIN = '''"""{display} tool."""

import logging
from typing import Any, Dict, List

from ..base import BaseTool

logger = logging.getLogger(__name__)


class {cls}(BaseTool):
    def authenticate(self) -> bool:
        # Check the profile here (e.g. call the API once); self.config holds its parameters.
        self.authenticated = self.validate_config()
        return self.authenticated

    def execute(self, action: str, params: Dict[str, Any] = None) -> Dict[str, Any]:
        params = params or {{}}
        if action == "ping":
            logger.info("ping from profile %s", self.profile)
            return {{"status": "success", "data": {{"pong": params.get("message", "pong")}}}}
        return self.unknown_action(action)

    def get_available_actions(self) -> List[str]:
        return ["ping"]
'''

TOOL_BASE = '''"""Tools import their base class from here, as in the seed: ``from ..base import BaseTool``."""

from functions.registry.base_tool import BaseTool

__all__ = ["BaseTool"]
'''

WORKFLOW_MAIN = '''"""{display} workflow."""

import logging
from typing import Any, Dict

logger = logging.getLogger(__name__)


def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    data = data or {{}}
    logger.info("running with %s", sorted(data))
    return {{"status": "success", "message": f"Hello, {{data.get('name', 'world')}}!", "data": data}}
'''

INTERFACE_MAIN = '''"""{display} interface."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

DISPLAY_NAME = "{display}"
DESCRIPTION = "A custom page"
ROUTE = "/{route}"
ICON = "🧩"

router = APIRouter(prefix=ROUTE)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(Path(__file__).parent / "src" / "index.html")


def get_router() -> APIRouter:
    return router
'''

INTERFACE_HTML = '''<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{display}</title><link rel="stylesheet" href="style.css"></head>
<body>
  <h1>{display}</h1>
  <p>Edit plugins/interfaces/{name}/src/index.html. Files in src/ are served under {route_path}/.</p>
</body>
</html>
'''


def create(kind: str, name: str, plugins_dir: Path) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use tool, workflow or interface")
    if not NAME_RE.match(name):
        raise ValueError(f"invalid name {name!r}: use only a-z, 0-9 and _ (e.g. my_{kind})")
    reserved = new_name_problem(kind, name)
    if reserved:
        raise ValueError(reserved)
    folder = plugins_dir / KINDS[kind] / name
    if folder.exists():
        raise ValueError(f"{folder} already exists")
    display = name.replace("_", " ").title()
    folder.mkdir(parents=True)
    if kind == "tool":
        base = plugins_dir / "tools" / "base.py"
        if not base.exists():  # a new plugins folder: what `from ..base import BaseTool` imports
            base.write_text(TOOL_BASE)
        cls = "".join(part.title() for part in name.split("_")) + "Tool"
        (folder / "main.py").write_text(TOOL_MAIN.format(display=display, cls=cls))
        config = {"tool_name": name, "display_name": display, "description": f"{display} connector",
                  "required_params": [], "optional_params": {"timeout": 30},
                  "actions": {"ping": {"description": "Answer with a pong (replace with real actions)",
                                       "parameters": {"message": "Text to echo (optional)"},
                                       "example": {"action": "ping", "params": {"message": "hi"}}}},
                  "profile_examples": {"TEST": {"timeout": 10}}}
        (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    elif kind == "workflow":
        (folder / "main.py").write_text(WORKFLOW_MAIN.format(display=display))
        config = {"name": display, "description": f"{display} (describe what it automates)",
                  "triggers": ["manual"], "category": "general", "tools_required": [], "tools_profiles": {},
                  "inputs_schema": [{"name": "name", "type": "text", "label": "Name", "required": False,
                                     "default": "world", "description": "Who to greet"}],
                  "active": True}
        (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    else:
        route = interface_route(name).lstrip("/")
        (folder / "main.py").write_text(INTERFACE_MAIN.format(display=display, route=route))
        (folder / "src").mkdir()
        (folder / "src" / "index.html").write_text(
            INTERFACE_HTML.format(display=display, name=name, route_path="/" + route))
        (folder / "src" / "style.css").write_text("body { font-family: system-ui, sans-serif; margin: 2rem; }\n")
    return folder


def next_steps(kind: str, name: str, folder: Path) -> list[str]:
    """What ``wfp new`` prints after ``created ...``: the files to edit and how to try the plugin."""
    files = {"tool": ["main.py", "config.json"], "workflow": ["main.py", "config.json"],
             "interface": ["main.py", "src/index.html", "src/style.css"]}[kind]
    lines = ["files:", *(f"  {folder / f}" for f in files), "next:"]
    if kind == "tool":
        lines += [f"  wfp tool {name} ping -p message=hi    call its ping action (profile DEFAULT)",
                  (f"  profiles: {name.upper()}_<PROFILE>_<PARAM>=... in .env (e.g. {name.upper()}_TEST_TIMEOUT=10), "
                   "then --profile TEST"),
                  f"  a workflow uses it with \"tools_required\": [\"{name}\"] in its config.json"]
    elif kind == "workflow":
        lines += [f"  wfp run {name} -i name=Ada    run it here and print the result",
                  f"  wfp dev    then open http://127.0.0.1:8000/dashboard/workflows/{name}"]
    else:
        lines += [f"  wfp dev    then open http://127.0.0.1:8000{interface_route(name)}/"]
    lines.append("  wfp plugins check    import and validate every plugin")
    return lines
