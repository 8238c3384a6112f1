"""A small bar chart of a workflow's recent runs, as inline SVG built on the server.

One bar per run, newest at the right edge (so charts of different workflows line up): height is the run's duration (scaled to the slowest shown),
colour is its status (CSS classes ``st-<status>``, so the stylesheet decides the palette and no inline
style is needed under the dashboard's Content-Security-Policy). Each bar links to its run page and
carries a ``<title>`` tooltip. Server-side because it needs no script, costs microseconds and shows up
in a screenshot or a page without JavaScript; a charting library would be a large vendored file for
twenty rectangles.

The scale is HTML beside the SVG (the SVG stretches to its box, so text inside it would stretch too):
the longest duration shown at the top, 0 at the axis, in the page's font at any width. A run that took
0 ms still gets a ``MIN_BAR`` sliver, so every run is visible and clickable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from functions.http.dashboard.formatting import duration, when

if TYPE_CHECKING:
    from functions.core.runs import RunSummary

WIDTH, HEIGHT, GAP, MIN_BAR = 240, 48, 2, 3


def runs_chart(runs: Sequence[RunSummary], link: Callable[[str], str], slots: int = 20) -> Markup:
    """SVG for ``runs`` (newest first, as the store returns them); empty string when there are none."""
    shown = list(reversed(list(runs)[:slots]))
    if not shown:
        return Markup("")
    slowest = max((r.duration_ms or 0 for r in shown), default=0)
    longest = slowest or 1
    bar = (WIDTH - GAP * (slots - 1)) / slots
    offset = slots - len(shown)
    parts = []
    for i, run in enumerate(shown, start=offset):
        ms = run.duration_ms
        height = HEIGHT if ms is None else max(MIN_BAR, round(HEIGHT * ms / longest, 1))
        x = round(i * (bar + GAP), 1)
        label = f"{run.status} · {duration(ms)} · {when(run.started_at or run.created_at)} · {run.trigger}"
        extra = " pending" if ms is None else ""
        parts.append(
            f'<a href="{escape(link(run.run_id))}"><rect class="bar st-{escape(run.status)}{extra}" '
            f'x="{x}" y="{round(HEIGHT - height, 1)}" width="{round(bar, 1)}" height="{height}" rx="1">'
            f"<title>{escape(label)}</title></rect></a>")
    summary = f"Durations of the last {len(shown)} run(s); the longest took {duration(slowest)}"
    scale = (f'<div class="chart-scale" data-chart-scale aria-hidden="true"><span class="chart-max">{escape(duration(slowest))}'
             '</span><span class="chart-zero">0</span></div>')
    return Markup(
        f'<div class="chart-plot">{scale}'
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        f'<line class="axis" x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}"></line>'
        f'<line class="grid" x1="0" y1="0.5" x2="{WIDTH}" y2="0.5"></line>{"".join(parts)}</svg></div>')
