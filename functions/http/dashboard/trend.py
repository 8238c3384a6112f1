"""The workflow page's metrics section: two small SVG charts of a ``WorkflowMetrics`` (``functions.core.metrics``).

Built on the server like ``charts.runs_chart`` (no script, CSS classes for colours, so the strict CSP
holds; the scale is HTML beside the SVG, which stretches to its box):

* runs per bucket (hour or day), stacked by outcome: success at the bottom, then errors, timeouts and
  interruptions, skipped, cancelled, and the runs still open in the live hours on top;
* p95 duration per bucket, one bar each, scaled to the slowest p95 shown.

Each bucket carries a ``<title>`` (its time, counts and p50/p95), the SVG an ``aria-label`` with the
totals. The width follows the page (a 390 px phone shows 168 hourly bars about 2 px wide each: the
shape of a week, the tooltips for the details).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from functions.http.dashboard.formatting import duration

if TYPE_CHECKING:
    from functions.core.metrics import MetricsBucket, WorkflowMetrics

WIDTH, HEIGHT = 240, 72
#: Stacking order, bottom up: (CSS class ``st-<name>``, the statuses it counts, the legend's words).
OUTCOMES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("success", ("success",), "success"),
    ("error", ("error",), "error"),
    ("timed_out", ("timed_out", "interrupted"), "timed out / interrupted"),
    ("skipped", ("skipped",), "skipped"),
    ("cancelled", ("cancelled",), "cancelled"),
    ("running", ("queued", "running"), "still running"),
)


def _label(bucket: MetricsBucket, unit: str) -> str:
    start = bucket.start.strftime("%Y-%m-%d" if unit == "day" else "%Y-%m-%d %H:00") + " UTC"
    counts = ", ".join(f"{n} {status}" for status, n in bucket.by_status.items()) or "no runs"
    timing = f" · p50 {duration(bucket.p50_ms)} · p95 {duration(bucket.p95_ms)}" if bucket.p95_ms is not None else ""
    return f"{start} · {counts}{timing}"


def _plot(scale_top: str, svg: str, summary: str) -> Markup:
    scale = (f'<div class="chart-scale tall" aria-hidden="true"><span class="chart-max">{escape(scale_top)}</span>'
             '<span class="chart-zero">0</span></div>')
    return Markup(
        f'<div class="chart-plot">{scale}<svg class="chart tall" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="none" role="img" aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        f'<line class="axis" x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}"></line>'
        f'<line class="grid" x1="0" y1="0.5" x2="{WIDTH}" y2="0.5"></line>{svg}</svg></div>')


def runs_by_outcome(metrics: WorkflowMetrics) -> Markup:
    buckets = metrics.buckets
    most = max((b.runs for b in buckets), default=0) or 1
    width = WIDTH / max(len(buckets), 1)
    bar = round(width * (0.8 if len(buckets) <= 48 else 1.0), 2)
    parts = []
    for i, bucket in enumerate(buckets):
        x, y, rects = round(i * width, 2), float(HEIGHT), []
        for css, statuses, _ in OUTCOMES:
            n = sum(bucket.by_status.get(s, 0) for s in statuses)
            if not n:
                continue
            height = round(HEIGHT * n / most, 2)
            y = round(y - height, 2)
            rects.append(f'<rect class="st-{css}" x="{x}" y="{y}" width="{bar}" height="{height}"></rect>')
        if rects:
            parts.append(f'<g class="bucket"><title>{escape(_label(bucket, metrics.bucket))}</title>{"".join(rects)}</g>')
    totals = metrics.totals
    rate = "no result yet" if totals.success_rate is None else f"{totals.success_rate:.0%} success"
    summary = (f"Runs per {metrics.bucket} over {metrics.window}: {totals.runs} in all, {rate}; "
               f"the busiest {metrics.bucket} had {most if totals.runs else 0}")
    return _plot(str(most if totals.runs else 0), "".join(parts), summary)


def p95_duration(metrics: WorkflowMetrics) -> Markup:
    buckets = metrics.buckets
    slowest = max((b.p95_ms or 0 for b in buckets), default=0)
    width = WIDTH / max(len(buckets), 1)
    bar = round(width * (0.8 if len(buckets) <= 48 else 1.0), 2)
    parts = []
    for i, bucket in enumerate(buckets):
        if bucket.p95_ms is None:
            continue
        height = max(1.5, round(HEIGHT * bucket.p95_ms / (slowest or 1), 2))
        parts.append(f'<rect class="p95" x="{round(i * width, 2)}" y="{round(HEIGHT - height, 2)}" width="{bar}" '
                     f'height="{height}"><title>{escape(_label(bucket, metrics.bucket))}</title></rect>')
    summary = (f"p95 duration per {metrics.bucket} over {metrics.window}; the slowest p95 was {duration(slowest)}"
               if parts else f"No durations over {metrics.window}")
    return _plot(duration(slowest) if parts else "0", "".join(parts), summary)


def legend() -> Markup:
    items = "".join(f'<li><span class="swatch st-{css}" aria-hidden="true"></span>{escape(words)}</li>'
                    for css, _, words in OUTCOMES)
    return Markup(f'<ul class="legend small">{items}</ul>')
