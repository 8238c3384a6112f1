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
    """One workflow's JSON and what it was made from (compared on every request, cheapest test first)."""

    config: Any  # compared by identity: a config is replaced, never changed in place
    error: str | None
    warnings: list[str]
    base_url: str
    settings: Any  # by identity
    secret_var: str | None  # the webhook secret's variable, for a webhook workflow
    secret: str | None  # its value when encoded
    until: float  # epoch seconds: the next fire time shown (inf: none)
    body: bytes

    def valid(self, plugin: Plugin, base_url: str, settings: Any, now: float) -> bool:
        return (self.config is plugin.config and self.settings is settings and self.base_url == base_url
                and self.error == plugin.error and self.warnings == plugin.warnings and now < self.until
                and (self.secret_var is None or os.environ.get(self.secret_var) == self.secret))


#: Per registry (dropped with it), per workflow: its encoded JSON and what it was made from.
_encoded: WeakKeyDictionary[Registry, dict[str, _Encoded]] = WeakKeyDictionary()


def _encode(platform: Platform, plugin: Plugin, base_url: str) -> _Encoded:
    config = plugin.config
    secret_var = env_var(plugin.name) if isinstance(config, WorkflowConfig) and "webhook" in config.triggers else None
    secret = os.environ.get(secret_var) if secret_var else None
    shown = catalog.workflow_out(platform, plugin, base_url)
    return _Encoded(config, plugin.error, list(plugin.warnings), base_url, platform.settings, secret_var, secret,
                    shown.next_run.timestamp() if shown.next_run else math.inf, _ENCODER.dump_json(shown))


def workflows_json(platform: Platform, base_url: str) -> bytes:
    """The JSON array of ``catalog.workflows(platform, base_url)``, from what is still valid."""
    registry, settings = platform.registry, platform.settings
    entries = _encoded.setdefault(registry, {})
    now = time.time()
    parts = []
    for plugin in registry.of_kind("workflow"):
        entry = entries.get(plugin.name)
        if entry is None or not entry.valid(plugin, base_url, settings, now):
            entry = entries[plugin.name] = _encode(platform, plugin, base_url)
        parts.append(entry.body)
    return b"[" + b",".join(parts) + b"]"
