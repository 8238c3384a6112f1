"""An independent evaluator of EventBridge ``cron(...)`` expressions, for tests only.

Written from AWS's documentation (eb-scheduled-rule-pattern / eb-cron-expressions), not from
``functions.registry.cron`` nor croniter, so that converting with one and evaluating with the other is a real
check. What the documentation says, and what this implements:

* six fields: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or
  SUN-SAT (1 = Sunday), year 1970-2199; times are UTC for rules;
* ``,`` lists, ``-`` ranges, ``*`` all values, ``/`` increments (``1/10`` in minutes: 1, 11, 21 ...);
* ``?`` "any": exactly one of day-of-month and day-of-week is ``?`` (``*`` in both is refused);
* ``L`` in day-of-month: the last day of the month; in day-of-week: ``L`` alone is the last day of the
  week (Saturday), ``nL`` the last such weekday of the month;
* ``W`` in day-of-month: ``nW`` the weekday (Mon-Fri) nearest day n, within the same month; ``LW`` the
  last weekday of the month;
* ``#`` in day-of-week: ``d#n`` the n-th weekday d of the month, and only one such expression.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
WILDCARDS = {  # per field, from the documentation's table
    "minutes": set(",-*/"), "hours": set(",-*/"), "day-of-month": set(",-*?/LW"), "month": set(",-*/"),
    "day-of-week": set(",-*?L#"), "year": set(",-*/"),
}


class InvalidExpression(ValueError):
    pass


def eb_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday (Python: Monday = 0)."""
    return (day.weekday() + 1) % 7 + 1


def _number(token: str, names: dict[str, int] | None) -> int:
    if token.isdigit():
        return int(token)
    if names and token.upper() in names:
        return names[token.upper()]
    raise InvalidExpression(f"bad value {token!r}")


def _values(field: str, name: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int]:
    if set(field) - set("0123456789") - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") - WILDCARDS[name]:
        raise InvalidExpression(f"{name}: characters not allowed in {field!r}")
    values: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = int(step_text) if slash else 1
        if slash and (not step_text.isdigit() or step < 1):
            raise InvalidExpression(f"{name}: bad increment in {item!r}")
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            first, last = base.split("-")
            start, end = _number(first, names), _number(last, names)
            if start > end:
                raise InvalidExpression(f"{name}: range {base!r} runs backwards")
        else:
            start = _number(base, names)
            end = hi if slash else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise InvalidExpression(f"{name}: {item!r} out of {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return values


class EventBridgeCron:
    def __init__(self, expression: str) -> None:
        match = re.fullmatch(r"cron\((.*)\)", expression.strip())
        if not match:
            raise InvalidExpression("not a cron(...) expression")
        fields = match.group(1).split()
        if len(fields) != 6:
            raise InvalidExpression(f"{len(fields)} fields instead of 6")
        minute, hour, self.dom, month, self.dow, year = fields
        if (self.dom == "?") == (self.dow == "?"):
            raise InvalidExpression("exactly one of day-of-month and day-of-week must be '?'")
        self.minutes = _values(minute, "minutes", 0, 59)
        self.hours = _values(hour, "hours", 0, 23)
        self.months = _values(month, "month", 1, 12, MONTHS)
        self.years = _values(year, "year", 1970, 2199)
        if self.dow.count("#") and ("," in self.dow or self.dow.count("#") > 1):
            raise InvalidExpression("'#' allows a single expression in day-of-week")
        if self.dom != "?":
            for item in self.dom.split(","):
                if item not in ("L", "LW") and not item.endswith("W"):
                    _values(item, "day-of-month", 1, 31)
        if self.dow != "?":
            for item in self.dow.split(","):
                if "#" not in item and not item.endswith("L"):
                    _values(item, "day-of-week", 1, 7, DAYS)

    # ----- days -------------------------------------------------------------------------------------------
    def _dom_item(self, item: str, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if item == "L":
            return day.day == last
        if item == "LW":
            target = date(day.year, day.month, last)
            while target.weekday() >= 5:
                target -= timedelta(days=1)
            return day == target
        if item.endswith("W"):
            wanted = int(item[:-1])
            if wanted > last:
                return False
            target = date(day.year, day.month, wanted)
            if target.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
                target = target - timedelta(days=1) if wanted > 1 else target + timedelta(days=2)
            elif target.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
                target = target + timedelta(days=1) if wanted < last else target - timedelta(days=2)
            return day == target
        return day.day in _values(item, "day-of-month", 1, 31)

    def _dow_item(self, item: str, day: date) -> bool:
        weekday = eb_weekday(day)
        if "#" in item:
            wanted, nth = item.split("#")
            return weekday == _number(wanted, DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        if item == "L":
            return weekday == 7
        if item.endswith("L"):
            last = calendar.monthrange(day.year, day.month)[1]
            return weekday == _number(item[:-1], DAYS) and day.day + 7 > last
        return weekday in _values(item, "day-of-week", 1, 7, DAYS)

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.dow == "?":
            return self.dom == "*" or any(self._dom_item(item, day) for item in self.dom.split(","))
        return self.dow == "*" or any(self._dow_item(item, day) for item in self.dow.split(","))

    # ----- times ------------------------------------------------------------------------------------------
    def times_of_day(self) -> list[tuple[int, int]]:
        return [(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]

    def fire_times(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """Fire times (naive UTC) strictly after ``after`` and up to ``until`` (inclusive), ascending."""
        day = after.date()
        times = self.times_of_day()
        while until is None or day <= until.date():
            if day.year > 2199:
                return
            if self.day_matches(day):
                for hour, minute in times:
                    moment = datetime(day.year, day.month, day.day, hour, minute)
                    if moment <= after:
                        continue
                    if until is not None and moment > until:
                        return
                    yield moment
            day += timedelta(days=1)
