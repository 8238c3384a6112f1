"""A minimal dashboard page (the full dashboard is its own piece of work): what is installed, links."""

from __future__ import annotations

from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from . import catalog
from .engine import get_engine
from .routes import base_url


async def render_home(request: Request) -> str:
    engine = get_engine()
    base = base_url(request)
    workflows = await run_in_threadpool(catalog.workflows, engine, base)
    rows = "".join(
        f"<tr><td>{escape(w.display_name)}</td><td><code>{escape(w.name)}</code></td><td>{escape(w.status)}</td>"
        f"<td>{escape(', '.join(w.triggers))}</td><td>{escape(w.schedule or '')}</td>"
        f"<td><a href='{escape(base)}/api/workflows/logs/{escape(w.name)}'>runs</a></td></tr>"
        for w in workflows)
    ifaces = "".join(f"<li>{escape(i.icon)} <a href='{escape(base + (i.route or ''))}/'>{escape(i.display_name)}</a></li>"
                     for i in catalog.interfaces(engine) if i.status == "ok")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Workflow Platform</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<h1>Workflow Platform</h1><p><a href="{escape(base)}/docs">API docs</a></p>
<h2>Workflows</h2><table><tr><th>Name</th><th>Id</th><th>Status</th><th>Triggers</th><th>Schedule</th><th></th></tr>
{rows or '<tr><td colspan=6>No workflows yet: add one under plugins/workflows/</td></tr>'}</table>
<h2>Interfaces</h2><ul>{ifaces or '<li>No interfaces yet</li>'}</ul></body></html>"""
