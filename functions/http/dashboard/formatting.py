"""How the dashboard writes durations, times and JSON for people (also Jinja filters)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


def duration(ms: int | float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def when(value: datetime | None) -> str:
    """UTC, to the second; the page's script adds the reader's local time as a tooltip."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 3 h``, ``5 min ago``: how far a time is from now, roughly."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = (value - (now or datetime.now(timezone.utc))).total_seconds()
    ahead, seconds = delta >= 0, abs(delta)
    if seconds < 60:
        text = f"{int(seconds)} s"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} min"
    elif seconds < 86400 * 2:
        text = f"{int(seconds // 3600)} h"
    else:
        text = f"{int(seconds // 86400)} days"
    return f"in {text}" if ahead else f"{text} ago"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def size(n: int | None) -> str:
    """Bytes as a person reads them: 980 B, 12.3 KB, 2.0 MB."""
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


#: How the run page names each usage key (``functions.core.usage``), in this order.
USAGE_NAMES = {"lambda.gb_seconds": "Lambda GB-s", "lambda.invocations": "Lambda invocations",
               "dynamodb.writes": "DynamoDB writes", "dynamodb.reads": "DynamoDB reads", "sqs.requests": "SQS requests",
               "s3.writes": "S3 PUTs", "s3.reads": "S3 GETs", "secretsmanager.requests": "Secrets Manager calls",
               "ses.messages": "emails"}


def usage_text(usage: dict[str, float]) -> str:
    """``0.0145 Lambda GB-s, 1 Lambda invocations, 2 DynamoDB writes`` (unnamed kinds last, by key)."""
    keys = [k for k in USAGE_NAMES if usage.get(k)] + sorted(k for k in usage if k not in USAGE_NAMES and usage[k])
    return ", ".join(f"{_amount(usage[k])} {USAGE_NAMES.get(k, k)}" for k in keys) or "nothing measured"


def _amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
