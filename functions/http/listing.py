"""``GET /api/workflows`` answered from JSON encoded once per workflow state.

The list is what clients, scripts and the dashboard's pages read most, and building it was most of a
warm request: per workflow a pydantic model built and validated (``catalog.workflow_out``), validated
again against the route's ``response_model`` and serialized (about 260 µs of 415 for the examples). Each
workflow's JSON is now kept until what it shows can change:

- its plugin: the config object (replaced when main.py's inputs are merged on import), its error (a
  failed import marks it broken) and warnings; a reload replaces the whole registry, and its entries go
  with it (a weak key);
- the base URL (its webhook URL) and the settings object;
- its webhook secret's variable (the unsigned-webhook warning: ``.env`` is re-read by the dev server);
- its next fire time, once passed (the schedule's next run).

Checking that is a few attribute reads per workflow. The body is the same JSON FastAPI produced (pydantic's
JSON mode, the route still declares its ``response_model`` for the OpenAPI document).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from pydantic import TypeAdapter

from functions.http import catalog
from functions.http.schemas import WorkflowOut
from functions.http.webhooks.auth import env_var
from functions.platform import Platform
from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Plugin, Registry

_ENCODER = TypeAdapter(WorkflowOut)


@dataclass(frozen=True)
class _Encoded:
    config: Any  # compared by identity: a config is replaced, never changed in place
    key: tuple[Any, ...]
    body: bytes
    until: float  # epoch seconds: the next fire time shown (inf: none)


#: Per registry (dropped with it), per workflow: its encoded JSON and what it was made from.
_encoded: WeakKeyDictionary[Registry, dict[str, _Encoded]] = WeakKeyDictionary()


def _key(plugin: Plugin, base_url: str, settings: Any) -> tuple[Any, ...]:
    config = plugin.config
    webhook = isinstance(config, WorkflowConfig) and "webhook" in config.triggers
    return (plugin.error, tuple(plugin.warnings), base_url, id(settings),
            os.environ.get(env_var(plugin.name)) if webhook else None)


def workflows_json(platform: Platform, base_url: str) -> bytes:
    """The JSON array of ``catalog.workflows(platform, base_url)``, from what is still valid."""
    registry = platform.registry
    entries = _encoded.setdefault(registry, {})
    now = time.time()
    parts = []
    for plugin in registry.of_kind("workflow"):
        key = _key(plugin, base_url, platform.settings)
        entry = entries.get(plugin.name)
        if entry is None or entry.config is not plugin.config or entry.key != key or now >= entry.until:
            shown = catalog.workflow_out(platform, plugin, base_url)
            entry = _Encoded(plugin.config, key, _ENCODER.dump_json(shown),
                             shown.next_run.timestamp() if shown.next_run else math.inf)
            entries[plugin.name] = entry
        parts.append(entry.body)
    return b"[" + b",".join(parts) + b"]"
