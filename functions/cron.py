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


def _join(values: list[int | str]) -> str:
    """``[1, 2, 3, 5]`` -> ``1-3,5``: runs of three or more become ranges."""
    if values == ["*"]:
        return "*"
    words = [str(v).upper() for v in values if not isinstance(v, int)]
    numbers = sorted(v for v in values if isinstance(v, int))
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{numbers[i]}-{numbers[j]}")
        else:
            parts.extend(str(n) for n in numbers[i:j + 1])
        i = j + 1
    return ",".join(parts + words)


def to_eventbridge(expression: str) -> str:
    """The EventBridge ``cron(...)`` equivalent of a 5-field Unix cron expression.

    EventBridge has six fields (a year is added), numbers days of the week 1-7 from Sunday (Unix: 0-6,
    7 = Sunday again), and needs ``?`` in day-of-month or day-of-week. Unix cron fires when *either*
    a restricted day-of-month or a restricted day-of-week matches; EventBridge cannot say that, so such
    an expression is refused with what to write instead.
    """
    from croniter import croniter

    normalised = validate(expression)
    (minute, hour, dom, month, dow), nth = croniter.expand(normalised)
    dom_any, dow_any = dom == ["*"], dow == ["*"] and not nth
    if not dom_any and not dow_any:
        raise CronError(
            f"cron expression {expression!r} restricts both day-of-month and day-of-week, which Unix cron "
            "reads as 'either matches'; EventBridge cannot schedule that. Restrict only one of them "
            "(e.g. '0 9 1 * *' or '0 9 * * 1') or split the schedule into two workflows"
        )
    if dow_any:
        dow_field = "?"
    elif nth:
        if len(dow) != 1 or len(nth.get(dow[0], ())) != 1:
            raise CronError(f"cron expression {expression!r}: EventBridge takes a single 'day#n' in day-of-week")
        dow_field = f"{int(dow[0]) + 1}#{next(iter(nth[dow[0]]))}"
    else:
        dow_field = _join([int(d) % 7 + 1 for d in dow])
    dom_field = "?" if dom_any and not dow_any else _join(dom)
    return f"cron({_join(minute)} {_join(hour)} {dom_field} {_join(month)} {dow_field} *)"
