"""Jinja2 rendering for the dashboard: one environment, built on first use (cold starts skip it).

Every template gets ``base``, the stage prefix (``/prod`` behind API Gateway, ``""`` locally): links
are written ``{{ base }}/dashboard/...`` and the script reads it from ``<body data-base>``, so nothing
assumes the app sits at ``/``. Autoescaping is on for every template.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse

from functions.core.pricing import dollars
from functions.http.dashboard import formatting
from functions.http.dashboard.charts import runs_chart
from functions.http.middleware.auth import root_path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
#: The templates compiled to Python modules by the build (``layers.build``, with their byte code): a
#: deployed function loads them instead of parsing and compiling each template at its first page (about
#: 100 ms of a cold dashboard page). Not in the source tree: locally the templates are read as they are.
COMPILED = HERE / "compiled_templates"
STATIC = HERE / "static"
FINAL = {"success", "error", "timed_out", "interrupted", "skipped", "cancelled"}


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A hash of the static files, appended to their URLs so browsers never run a stale script."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@lru_cache(maxsize=1)
def environment() -> Any:
    return build_environment(compiled=COMPILED.is_dir())


def build_environment(compiled: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.ModuleLoader(str(COMPILED)) if compiled else jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=formatting.duration, when=formatting.when, iso=formatting.iso,
                       relative=formatting.relative, pretty_json=formatting.pretty_json, size=formatting.size,
                       usage_text=formatting.usage_text, dollars=dollars,
                       urlpart=lambda value: quote(str(value), safe=""))
    env.globals.update(runs_chart=runs_chart, final_statuses=FINAL,
                       run_link=lambda base: (lambda run_id: f"{base}/dashboard/runs/{run_id}"))
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    base = root_path(request.scope)
    state = request.scope.get("state") or {}
    html = environment().get_template(template).render(
        base=base,
        static=lambda name: f"{base}/dashboard/static/{name}?v={asset_version()}",
        auth_enabled=bool(state.get("auth_enabled")),
        page=context.pop("page", ""),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def compile_templates(target: Path) -> int:
    """Compile every template into ``target`` (what ``COMPILED`` is in a build); the count."""
    env = build_environment(compiled=False)
    names = sorted(path.name for path in TEMPLATES.glob("*.html"))
    env.compile_templates(str(target), zip=None, filter_func=lambda name: name in names, ignore_errors=False)
    return len(names)
