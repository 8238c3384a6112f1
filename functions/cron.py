"""Cron expressions: the seed's 5-field Unix cron, validated and evaluated in a timezone.

croniter does the calendar arithmetic; this module pins down what we accept (exactly five fields,
no seconds, no ``@reboot``) so that what runs locally is also what EventBridge can run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class CronError(ValueError):
    """A cron expression or timezone the platform cannot schedule; the message says what to write."""


def validate_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(
            f"unknown timezone {name!r}: use an IANA name such as 'UTC', 'Europe/Paris' or 'America/New_York'"
        ) from exc


def validate(expression: str) -> str:
    """Return the normalised expression or raise CronError explaining what is wrong."""
    from croniter import croniter  # imported lazily: only plugin loading and schedules need it

    fields = expression.split()
    if len(fields) != 5:
        raise CronError(
            f"cron expression {expression!r} has {len(fields)} field(s); write exactly 5: "
            "minute hour day-of-month month day-of-week, e.g. '0 9 * * 1-5'"
        )
    normalised = " ".join(fields)
    if not croniter.is_valid(normalised):
        raise CronError(
            f"invalid cron expression {expression!r}: each field takes numbers, '*', ranges (1-5), "
            "steps (*/15), lists (1,15) or names (MON-FRI, JAN); e.g. '*/15 * * * *'"
        )
    return normalised


def next_runs(expression: str, tz: str = "UTC", count: int = 1, after: datetime | None = None) -> list[datetime]:
    """The next ``count`` fire times after ``after`` (default: now), as aware datetimes in ``tz``.

    croniter iterates in local wall-clock time of the start datetime's zone, which is what users mean
    by "09:00 Europe/Paris" across DST changes.
    """
    from croniter import croniter

    zone = validate_timezone(tz)
    start = (after or datetime.now(timezone.utc)).astimezone(zone)
    it = croniter(validate(expression), start)
    return [it.get_next(datetime) for _ in range(count)]
