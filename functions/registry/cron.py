"""Cron expressions: the seed's 5-field Unix cron, validated, evaluated in a timezone, and converted for AWS.

croniter does the calendar arithmetic. This module pins down the dialect the platform accepts so that
what fires locally is exactly what EventBridge fires when deployed:

* five fields ``minute hour day-of-month month day-of-week``; numbers, ``*``, ranges (``1-5``), steps
  (``*/15``, ``5/15``, ``1-20/5``), lists (``1,15``), names (``JAN``, ``MON-FRI``), day-of-week 0-7
  (0 and 7 are Sunday), ``?`` as a synonym of ``*`` in the day fields;
* two extensions both sides understand: ``L`` alone in day-of-month (last day of the month) and a
  single ``day#n`` in day-of-week (the n-th such weekday of the month, ``1#1`` = first Monday);
* not accepted: restricting both day-of-month and day-of-week (Unix cron reads that as "either
  matches", which EventBridge cannot express), ``W``, ``H``, ``@daily``-style macros, seconds or years.

Times (``next_runs``) follow EventBridge Scheduler's documented daylight-saving rules, so the local
scheduler and a deployed non-UTC schedule agree: a wall-clock time that does not exist on a given day
(the hour skipped in spring) does not fire that day, and a wall-clock time that happens twice (the
hour repeated in autumn) fires once, at its first occurrence. croniter alone would fire the skipped
time an hour late and the repeated time twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: Zone names that are UTC: such workflows are deployed as plain (UTC) EventBridge rules.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
                       "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0",
                       "Greenwich", "Etc/Greenwich"})
#: EventBridge refuses schedule expressions longer than this.
MAX_EXPRESSION_LENGTH = 256
EXAMPLES = "e.g. '0 9 * * 1-5' (09:00 Monday to Friday) or '*/15 * * * *' (every 15 minutes)"
_ATOM = re.compile(r"^(\*|\?|\d+|[A-Za-z]{3})$")
_NTH = re.compile(r"^(\d|[A-Za-z]{3})#([1-5])$")
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


class CronError(ValueError):
    """A cron expression or timezone the platform cannot schedule; the message says what to write."""


def validate_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CronError(
            f"unknown timezone {name!r}: use an IANA name such as 'UTC', 'Europe/Paris' or 'America/New_York'"
        ) from exc


def is_utc(tz: str) -> bool:
    return tz in UTC_NAMES


# ----- validation ----------------------------------------------------------------------------------------
def _check_atoms(expression: str, index: int, field: str) -> None:
    """Refuse, with a precise message, what croniter would accept but EventBridge (or users) would not."""
    name = FIELDS[index]
    where = f"cron expression {expression!r}, {name} field {field!r}"
    if index == 2 and field.upper() == "L":
        return
    if index == 4 and "#" in field:
        match = _NTH.match(field)
        if not match:
            raise CronError(f"{where}: '#' takes one weekday and a week number 1-5, alone in the field "
                            "(e.g. '1#1' for the first Monday of the month); EventBridge allows only one")
        if not match.group(1).isdigit() and match.group(1).upper() not in DAYS:
            raise CronError(f"{where}: {match.group(1)!r} is not a day name (SUN, MON ... SAT)")
        return
    names = MONTHS if index == 3 else DAYS if index == 4 else ()
    for item in field.split(","):
        base, _, step = item.partition("/")
        if step and not step.isdigit():
            raise CronError(f"{where}: the step after '/' must be a number, as in '*/15'")
        for atom in base.split("-") if base not in ("*", "?") else [base]:
            if not _ATOM.match(atom):
                hint = ""
                if atom.upper() in ("L", "W", "LW") or atom.upper().endswith(("W", "L")):
                    hint = " ('L' is accepted only alone in day-of-month; 'W' and 'nL' are not supported)"
                elif atom.upper() == "H":
                    hint = " (hashed 'H' values are not supported: pick a number)"
                raise CronError(f"{where}: {atom!r} is not a number, '*' or a name{hint}")
            if atom == "?" and index not in (2, 4):
                raise CronError(f"{where}: '?' is only meaningful in day-of-month and day-of-week; use '*'")
            if atom.isalpha() and atom != "*" and atom.upper() not in names:
                expected = ("month names JAN ... DEC" if index == 3 else
                            "day names SUN ... SAT" if index == 4 else "numbers")
                raise CronError(f"{where}: {atom!r} is not valid here; this field takes {expected}")


def _expand(expression: str) -> tuple[list[list[int | str]], dict[int, set[int | str]]]:
    from croniter import (
        croniter,  # imported lazily: only plugin loading and schedules need it
    )

    try:
        fields, nth = croniter.expand(expression)
    except Exception as exc:  # noqa: BLE001 - croniter raises several types; all mean "invalid"
        lo_hi = ", ".join(f"{n} {lo}-{hi}" for n, (lo, hi) in zip(FIELDS, BOUNDS))
        raise CronError(f"invalid cron expression {expression!r} ({exc}); values must be within {lo_hi}; "
                        f"{EXAMPLES}") from None
    return [list(f) for f in fields], {int(k): set(v) for k, v in (nth or {}).items()}


def validate(expression: str) -> str:
    """Return the normalised expression (single spaces) or raise CronError saying what to write instead.

    An expression is valid when croniter can run it, it fires at least once, and EventBridge can run
    it too (so ``wfp plugins check`` catches what a deployment would otherwise reject).
    """
    if not isinstance(expression, str):
        raise CronError(f"a cron expression is a string, got {type(expression).__name__}")
    return _validate(expression)


@lru_cache(maxsize=512)
def _validate(expression: str) -> str:
    """``validate`` proper; pure, so cached (listings and the scheduler evaluate the same few expressions)."""
    fields = expression.split()
    if len(fields) == 1 and fields[0].lower() in _MACROS:
        raise CronError(f"cron macro {fields[0]!r} is not supported: write {_MACROS[fields[0].lower()]!r} instead")
    if len(fields) != 5:
        extra = (" (no seconds and no year: EventBridge's 6-field 'cron(...)' form is generated for you)"
                 if len(fields) in (6, 7) else "")
        raise CronError(f"cron expression {expression!r} has {len(fields)} field(s); write exactly 5: "
                        f"minute hour day-of-month month day-of-week{extra}; {EXAMPLES}")
    for index, field in enumerate(fields):
        _check_atoms(expression, index, field)
    normalised = " ".join(fields)
    _to_eventbridge_fields(normalised, expression)
    if not _fires(normalised):
        raise CronError(f"cron expression {expression!r} never fires (no such day in the months it names, "
                        "e.g. February 30th); check the day-of-month and month fields")
    return normalised


def _fires(expression: str) -> bool:
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


# ----- EventBridge ---------------------------------------------------------------------------------------
def _field(values: list[int | str], lo: int, hi: int, steps: bool = True) -> str:
    """Expanded values back to a compact field: ``*``, ``a/s``, ranges ``1-3`` and lists."""
    if values == ["*"]:
        return "*"
    numbers = sorted({int(v) for v in values})
    if numbers == list(range(lo, hi + 1)):
        return "*"
    if steps and len(numbers) >= 3:
        step = numbers[1] - numbers[0]
        if step > 1 and numbers == list(range(numbers[0], hi + 1, step)):
            return f"{numbers[0]}/{step}"
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
    return ",".join(parts)


def _to_eventbridge_fields(normalised: str, original: str) -> list[str]:
    (minute, hour, dom, month, dow), nth = _expand(normalised)
    # "Restricted" exactly as croniter decides between "either matches" and "both match": a field is
    # unrestricted only when it expands to '*' (so '1-31' with a weekday means every day to croniter).
    dom_any = dom == ["*"]
    dow_any = dow == ["*"] and not nth
    if not dom_any and not dow_any:
        raise CronError(
            f"cron expression {original!r} restricts both day-of-month and day-of-week; Unix cron runs it "
            "on days matching either one, and EventBridge cannot express that. Restrict only one of them "
            "(e.g. '0 9 1 * *' for the 1st of the month, '0 9 * * 1' for Mondays), or split it into two "
            "workflows with one schedule each"
        )
    if dow_any:
        dow_field = "?"
    elif nth:
        (day, weeks), = nth.items()
        dow_field = f"{day % 7 + 1}#{next(iter(weeks))}"
    else:
        dow_field = _field([int(d) % 7 + 1 for d in dow], 1, 7, steps=False)
    if not dow_any:
        dom_field = "?"
    elif dom == ["l"]:
        dom_field = "L"
    else:
        dom_field = _field(dom, 1, 31)
    fields = [_field(minute, 0, 59), _field(hour, 0, 23), dom_field, _field(month, 1, 12), dow_field, "*"]
    if len(f"cron({' '.join(fields)})") > MAX_EXPRESSION_LENGTH:
        raise CronError(f"cron expression {original!r} is too long once converted for EventBridge "
                        f"(over {MAX_EXPRESSION_LENGTH} characters); use ranges or steps instead of long lists")
    return fields


def to_eventbridge(expression: str) -> str:
    """The EventBridge ``cron(...)`` equivalent of a 5-field Unix cron expression.

    EventBridge has six fields (a year is added), numbers days of the week 1-7 from Sunday (Unix: 0-6,
    7 = Sunday again), does not take ``/`` in day-of-week (steps there are expanded to lists), and
    needs ``?`` in whichever of day-of-month and day-of-week is not restricted.
    """
    normalised = validate(expression)
    return f"cron({' '.join(_to_eventbridge_fields(normalised, expression))})"


def to_scheduler(expression: str, tz: str = "UTC") -> tuple[str, str]:
    """``(ScheduleExpression, ScheduleExpressionTimezone)`` for an EventBridge Scheduler schedule.

    EventBridge Scheduler takes the same ``cron(...)`` syntax as rules plus an IANA timezone, and
    applies the daylight-saving rules ``next_runs`` documents.
    """
    zone = validate_timezone(tz)
    return to_eventbridge(expression), zone.key


# ----- fire times ----------------------------------------------------------------------------------------
def _resolve(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant of a naive wall-clock time in ``zone``: its first occurrence, or None if it does not exist."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
        return None  # in the gap of a spring-forward change
    return aware


def iter_runs(expression: str, tz: str = "UTC", after: datetime | None = None) -> Iterator[datetime]:
    """Fire times strictly after ``after`` (default: now), ascending, as aware datetimes in ``tz``.

    croniter iterates the expression over naive wall-clock time; each wall time is then placed in the
    zone with the daylight-saving rules described in the module docstring.
    """
    from croniter import croniter

    zone = validate_timezone(tz)
    start = (after or datetime.now(timezone.utc)).astimezone(timezone.utc)
    wall_start = start.astimezone(zone).replace(tzinfo=None)
    # Every wall time before ``wall_start`` is an instant before ``start``; after it, the only instants
    # not after ``start`` are first passes of a repeated hour when ``start`` is in its second pass: the
    # filter below drops them.
    it = croniter(validate(expression), wall_start)
    misses = 0
    while True:
        wall = it.get_next(datetime)
        fire = _resolve(wall, zone)
        if fire is None or fire <= start:
            misses += 1
            if misses > 100_000:  # an expression whose every time falls in DST gaps; cannot happen in practice
                return
            continue
        misses = 0
        yield fire


#: The next fire times of each (expression, time zone) as last computed for "now". They stay the
#: exact answer for any later "now" until the first of them passes (no fire time can fall in between),
#: so listing workflows computes each schedule once per fire instead of once per request: croniter
#: costs ~0.2 ms per expression, i.e. 40 ms for a list of 200 scheduled workflows.
_upcoming: dict[tuple[str, str], tuple[datetime, ...]] = {}
_UPCOMING_MAX = 2048


def next_runs(expression: str, tz: str = "UTC", count: int = 1, after: datetime | None = None) -> list[datetime]:
    """The next ``count`` fire times after ``after`` (default: now), as aware datetimes in ``tz``."""
    if count <= 0:
        return []
    if after is not None:
        return _next_runs(expression, tz, count, after)
    now = datetime.now(timezone.utc)
    key = (expression, tz)
    known = _upcoming.get(key)
    if known is not None and len(known) >= count and known[0] > now:
        return list(known[:count])
    runs = _next_runs(expression, tz, count, now)
    if len(_upcoming) >= _UPCOMING_MAX:
        _upcoming.clear()
    if len(runs) == count:
        _upcoming[key] = tuple(runs)
    return runs


def _next_runs(expression: str, tz: str, count: int, after: datetime) -> list[datetime]:
    runs: list[datetime] = []
    for fire in iter_runs(expression, tz, after):
        runs.append(fire)
        if len(runs) >= count:
            break
    return runs
