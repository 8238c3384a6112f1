"""The plugin manifest: the registry's discovery, written at build time, read at cold start.

On Lambda the plugins are read-only and known when the layer is built, so the build runs discovery
and a full import check once and writes the result; a cold start then reads one JSON file instead
of listing folders and parsing hundreds of config.json files. Plugins are still imported lazily.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from functions.registry.config import FROM_MANIFEST, ToolConfig, WorkflowConfig
from functions.registry.discovery import KIND_DIRS, Plugin, Registry

VERSION = 1


def to_manifest(registry: Registry) -> dict[str, Any]:
    plugins = []
    for plugin in registry.plugins.values():
        plugins.append({
            "kind": plugin.kind,
            "name": plugin.name,
            "config": plugin.config.model_dump(mode="json", exclude_none=True) if plugin.config else None,
            "error": plugin.error,
            "error_file": plugin.error_file,
            "warnings": plugin.warnings,
            "meta": plugin.meta,
        })
    return {"version": VERSION, "plugins": plugins}


def write_manifest(registry: Registry, path: Path) -> Path:
    # Compact: a cold start parses it (a few hundred KB for hundreds of plugins).
    path.write_text(json.dumps(to_manifest(registry), sort_keys=True, separators=(",", ":")), encoding="utf-8")
    return path


def registry_from_manifest(path: Path, plugins_dir: Path) -> Registry:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("version") != VERSION:
        raise ValueError(f"plugin manifest {path} has version {data.get('version')}, expected {VERSION}: rebuild it")
    registry = Registry(plugins_dir)
    folders = {kind: Path(plugins_dir) / sub for kind, sub in KIND_DIRS.items()}
    for entry in data["plugins"]:
        kind = entry["kind"]
        model = ToolConfig if kind == "tool" else WorkflowConfig
        config = (model.model_validate(entry["config"], context=FROM_MANIFEST)
                  if entry.get("config") is not None else None)
        registry.plugins[(kind, entry["name"])] = Plugin(
            kind=kind, name=entry["name"], path=folders[kind] / entry["name"],
            config=config, error=entry.get("error"), error_file=entry.get("error_file"),
            warnings=list(entry.get("warnings") or []), meta=dict(entry.get("meta") or {}), declared=True)
    return registry
