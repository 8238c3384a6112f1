"""Cron: validation, EventBridge conversion (checked against an independent evaluator), DST-correct times."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from eventbridge_reference import EventBridgeCron, InvalidExpression, eb_weekday
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.registry import cron
from functions.registry.cron import CronError

UTC = timezone.utc
PARIS = "Europe/Paris"


# ----- the reference evaluator itself, on AWS's documented examples -------------------------------------
def test_reference_evaluator_follows_the_documented_examples() -> None:
    ten_am = EventBridgeCron("cron(0 10 * * ? *)")
    assert list(ten_am.fire_times(datetime(2025, 1, 1), datetime(2025, 1, 3)))[:2] == [
        datetime(2025, 1, 1, 10), datetime(2025, 1, 2, 10)]
    weekdays_6pm = EventBridgeCron("cron(0 18 ? * MON-FRI *)")
    assert {d.weekday() for d in weekdays_6pm.fire_times(datetime(2025, 1, 1), datetime(2025, 2, 1))} == {0, 1, 2, 3, 4}
    first_of_month = EventBridgeCron("cron(0 8 1 * ? *)")
    assert [d.month for d in first_of_month.fire_times(datetime(2025, 1, 1), datetime(2026, 1, 1))] == list(range(1, 13))
    every_10_from_1 = EventBridgeCron("cron(1/10 * * * ? *)")
    assert sorted(every_10_from_1.minutes) == [1, 11, 21, 31, 41, 51]
    second_tuesday = EventBridgeCron("cron(0 0 ? * 3#2 *)")
    assert [d.date() for d in second_tuesday.fire_times(datetime(2025, 3, 1), datetime(2025, 5, 1))] == [
        date(2025, 3, 11), date(2025, 4, 8)]
    assert eb_weekday(date(2025, 3, 30)) == 1  # a Sunday is 1
    assert [d.day for d in EventBridgeCron("cron(0 0 L 2 ? *)").fire_times(datetime(2024, 1, 1), datetime(2025, 12, 31))] == [29, 28]
    nearest_weekday = EventBridgeCron("cron(0 0 15W * ? *)")  # 15 March 2025 is a Saturday
    assert next(nearest_weekday.fire_times(datetime(2025, 3, 1))).date() == date(2025, 3, 14)
    for invalid in ("cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(0 10 * * ?)", "cron(0 0 ? * 1#1,3#2 *)",
                    "cron(0 0 ? * 1/2 *)"):
        with pytest.raises(InvalidExpression):
            EventBridgeCron(invalid)


# ----- conversion table ------------------------------------------------------------------------------------
WELL_KNOWN = [
    ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
    ("*/15 * * * *", "cron(0/15 * * * ? *)"),
    ("0 */2 * * *", "cron(0 0/2 * * ? *)"),
    ("0 0 1 * *", "cron(0 0 1 * ? *)"),
    ("* * * * *", "cron(* * * * ? *)"),
    ("0 9 * * MON-FRI", "cron(0 9 ? * 2-6 *)"),
    ("0 9 * * mon-fri", "cron(0 9 ? * 2-6 *)"),
    ("30 8 * JAN *", "cron(30 8 * 1 ? *)"),
    ("0 0 1 JAN-MAR,DEC *", "cron(0 0 1 1-3,12 ? *)"),
    ("0 0 * 11-2 *", "cron(0 0 * 1,2,11,12 ? *)"),
    ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
    ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
    ("0 0 * * SAT,SUN", "cron(0 0 ? * 1,7 *)"),
    ("0 0 * * 0-6", "cron(0 0 * * ? *)"),
    ("0 0 * * 1-7", "cron(0 0 * * ? *)"),
    ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),
    ("5/15 * * * *", "cron(5/15 * * * ? *)"),
    ("0-30/10 * * * *", "cron(0,10,20,30 * * * ? *)"),
    ("0 8-17 * * 1-5", "cron(0 8-17 ? * 2-6 *)"),
    ("15 10 ? * *", "cron(15 10 * * ? *)"),
    ("0 12 1,15 * *", "cron(0 12 1,15 * ? *)"),
    ("0 0 L * *", "cron(0 0 L * ? *)"),
    ("0 10 * * 2#1", "cron(0 10 ? * 3#1 *)"),
    ("0 10 * * SUN#3", "cron(0 10 ? * 1#3 *)"),
    ("0 0 1-31 * *", "cron(0 0 * * ? *)"),
    ("  0   9 * *   1-5 ", "cron(0 9 ? * 2-6 *)"),
]


@pytest.mark.parametrize(("unix", "eventbridge"), WELL_KNOWN)
def test_well_known_expressions_convert(unix: str, eventbridge: str) -> None:
    assert cron.to_eventbridge(unix) == eventbridge
    EventBridgeCron(eventbridge)  # and EventBridge's documented grammar accepts it


@pytest.mark.parametrize(("expression", "message"), [
    ("0 9 1 * 1", "restricts both day-of-month and day-of-week"),
    ("0 0 1-31 * 1", "restricts both"),
    ("0 0 L * FRI", "restricts both"),
    ("0 9 * *", "has 4 field(s); write exactly 5"),
    ("0 0 9 * * 1-5", "no seconds and no year"),
    ("@daily", "write '0 0 * * *' instead"),
    ("61 * * * *", "minute 0-59"),
    ("0 24 * * *", "hour 0-23"),
    ("0 0 * * FOO", "day names SUN ... SAT"),
    ("0 0 * BAR *", "month names JAN ... DEC"),
    ("0 0 15W * *", "'W' and 'nL' are not supported"),
    ("0 0 * * 5L", "not supported"),
    ("0 0 * * 1#1,3#2", "EventBridge allows only one"),
    ("0 0 H * *", "hashed 'H'"),
    ("0 ? * * *", "'?' is only meaningful"),
    ("*/x * * * *", "the step after '/' must be a number"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 31 4,6,9,11 *", "never fires"),
    ("", "has 0 field(s)"),
])
def test_invalid_expressions_say_what_to_write(expression: str, message: str) -> None:
    with pytest.raises(CronError) as raised:
        cron.validate(expression)
    assert message in str(raised.value)


def test_restricting_both_day_fields_is_a_plugin_error_in_plugins_check(plugin_dir, monkeypatch, capsys) -> None:
    plugin_dir.workflow("both_days", {"schedule": "0 9 1 * 1", "triggers": ["schedule"]})
    plugin_dir.workflow("fine", {"schedule": "0 9 * * 1", "triggers": ["schedule"], "timezone": PARIS})
    monkeypatch.setenv("WFP_PLUGINS_DIR", str(plugin_dir.root))
    monkeypatch.setenv("WFP_ENV_FILE", str(plugin_dir.root / "missing.env"))
    from local_dev.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["plugins", "check"])
    out = capsys.readouterr().out
    assert exited.value.code == 1
    assert "ERROR workflow  both_days" in out and "ok    workflow  fine" in out
    assert "restricts both day-of-month and day-of-week" in out and "'0 9 1 * *'" in out


def test_timezones() -> None:
    assert cron.validate_timezone("Europe/Paris").key == "Europe/Paris"
    with pytest.raises(CronError, match="IANA name"):
        cron.validate_timezone("Mars/Olympus")
    assert cron.is_utc("UTC") and cron.is_utc("Etc/UTC") and not cron.is_utc(PARIS)
    assert cron.to_scheduler("0 9 * * 1-5", PARIS) == ("cron(0 9 ? * 2-6 *)", PARIS)
    with pytest.raises(CronError):
        cron.to_scheduler("0 9 * * 1-5", "Nowhere/Town")


# ----- property: croniter and EventBridge agree ----------------------------------------------------------
def _field(draw: st.DrawFn, lo: int, hi: int, names: tuple[str, ...] = (), name_base: int = 0) -> str:
    def value() -> str:
        n = draw(st.integers(lo, hi))
        if names and draw(st.booleans()) and 0 <= n - name_base < len(names):
            return names[n - name_base]
        return str(n)

    items = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "value", "range", "star_step", "range_step", "value_step"]))
        if kind == "value":
            items.append(value())
        elif kind == "star_step":
            items.append(f"*/{draw(st.integers(1, hi - lo + 1))}")
        else:
            a = draw(st.integers(lo, hi))
            b = draw(st.integers(a, hi))
            step = f"/{draw(st.integers(1, max(1, hi - lo)))}" if kind.endswith("step") else ""
            items.append(f"{a}{step}" if kind == "value_step" else f"{a}-{b}{step}")
    return ",".join(items)


def fields(lo: int, hi: int, names: tuple[str, ...] = (), name_base: int = 0) -> st.SearchStrategy[str]:
    return st.composite(lambda draw: _field(draw, lo, hi, names, name_base))()


@st.composite
def unix_expressions(draw: st.DrawFn) -> str:
    minute = draw(st.one_of(st.just("*"), fields(0, 59)))
    hour = draw(st.one_of(st.just("*"), fields(0, 23)))
    month = draw(st.one_of(st.just("*"), fields(1, 12, cron.MONTHS, 1)))
    mode = draw(st.sampled_from(["dom", "dow", "none", "last", "nth"]))
    any_day = draw(st.sampled_from(["*", "?"]))
    dom = dow = any_day
    if mode == "dom":
        dom = draw(fields(1, 31))
    elif mode == "dow":
        dow = draw(fields(0, 7, cron.DAYS))
    elif mode == "last":
        dom = "L"
    elif mode == "nth":
        dow = f"{draw(st.sampled_from(['0', '3', '7', 'MON', 'fri']))}#{draw(st.integers(1, 5))}"
    return f"{minute} {hour} {dom} {month} {dow}"


def _croniter_times(expression: str, start: datetime, end: datetime, limit: int) -> list[datetime]:
    it = croniter(expression, start)
    times = []
    while len(times) < limit:
        moment = it.get_next(datetime)
        if moment > end:
            break
        times.append(moment)
    return times


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=unix_expressions(), year=st.sampled_from([2024, 2025, 2026, 2028]),
       offset_days=st.integers(0, 364))
def test_croniter_and_eventbridge_agree_over_a_year(expression: str, year: int, offset_days: int) -> None:
    try:
        normalised = cron.validate(expression)
    except CronError as exc:
        assert "never fires" in str(exc)  # e.g. '0 0 31 2 *': the generator may produce impossible dates
        return
    reference = EventBridgeCron(cron.to_eventbridge(expression))
    start, end = datetime(year, 1, 1) - timedelta(minutes=1), datetime(year + 1, 1, 1) - timedelta(minutes=1)

    # 1. The same days over the whole year (croniter run with the time pinned to midnight).
    minute, hour, dom, month, dow = normalised.split()
    cron_days = {t.date() for t in _croniter_times(f"0 0 {dom} {month} {dow}", start, end, 400)}
    reference_days = {start.date() + timedelta(days=i) for i in range(1, 367)
                      if (start.date() + timedelta(days=i)).year == year
                      and reference.day_matches(start.date() + timedelta(days=i))}
    assert cron_days == reference_days

    # 2. The same times of day.
    day_start = datetime(year, 1, 1) - timedelta(minutes=1)
    cron_times = {(t.hour, t.minute) for t in _croniter_times(f"{minute} {hour} * * *", day_start,
                                                               day_start + timedelta(days=1), 1500)}
    assert cron_times == set(reference.times_of_day())

    # 3. The same fire times, in order, from a point in the year (the whole year when it is small).
    origin = start + timedelta(days=offset_days)
    limit = 1500
    assert _croniter_times(normalised, origin, end, limit) == [
        t for _, t in zip(range(limit), reference.fire_times(origin, end))]


@settings(max_examples=60, deadline=None)
@given(dom=fields(1, 31), dow=fields(0, 7, cron.DAYS))
def test_restricting_both_day_fields_is_always_refused(dom: str, dow: str) -> None:
    expression = f"0 12 {dom} * {dow}"
    expanded, _ = croniter.expand(expression)
    if expanded[2] == ["*"] or expanded[4] == ["*"]:
        return  # croniter reads e.g. '*/1' or '0-7' as unrestricted: then it converts
    with pytest.raises(CronError, match="restricts both"):
        cron.validate(expression)


# ----- fire times and timezones --------------------------------------------------------------------------
def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_next_runs_default_to_utc_and_are_strictly_after() -> None:
    assert cron.next_runs("0 9 * * *", after=_utc(2025, 1, 1, 9)) == [_utc(2025, 1, 2, 9)]
    runs = cron.next_runs("*/15 * * * *", count=3, after=_utc(2025, 1, 1, 9, 7))
    assert runs == [_utc(2025, 1, 1, 9, 15), _utc(2025, 1, 1, 9, 30), _utc(2025, 1, 1, 9, 45)]
    assert cron.next_runs("0 9 * * *", count=0) == []


@pytest.mark.parametrize(("after", "expected_utc"), [
    # March: Paris goes from UTC+1 to UTC+2 on Sunday 30 March 2025 at 02:00.
    (_utc(2025, 3, 28, 12), [_utc(2025, 3, 29, 8), _utc(2025, 3, 30, 7), _utc(2025, 3, 31, 7)]),
    # October: back to UTC+1 on Sunday 26 October 2025 at 03:00.
    (_utc(2025, 10, 24, 12), [_utc(2025, 10, 25, 7), _utc(2025, 10, 26, 8), _utc(2025, 10, 27, 8)]),
])
def test_nine_in_paris_is_nine_in_paris_across_dst(after: datetime, expected_utc: list[datetime]) -> None:
    runs = cron.next_runs("0 9 * * *", PARIS, 3, after)
    assert [r.astimezone(UTC) for r in runs] == expected_utc
    assert all((r.hour, r.minute) == (9, 0) and r.tzinfo == ZoneInfo(PARIS) for r in runs)


def test_skipped_hour_does_not_fire_and_repeated_hour_fires_once() -> None:
    """EventBridge Scheduler's documented rule: a time in the spring gap is skipped that day; a time in
    the repeated autumn hour runs once (its first occurrence)."""
    spring = cron.next_runs("30 2 * * *", PARIS, 2, _utc(2025, 3, 29, 12))
    assert [r.astimezone(UTC) for r in spring] == [_utc(2025, 3, 31, 0, 30), _utc(2025, 4, 1, 0, 30)]
    autumn = cron.next_runs("30 2 * * *", PARIS, 2, _utc(2025, 10, 25, 12))
    assert [r.astimezone(UTC) for r in autumn] == [_utc(2025, 10, 26, 0, 30), _utc(2025, 10, 27, 1, 30)]
    # Every 20 minutes through the autumn change: each wall-clock time once, none twice.
    runs = cron.next_runs("*/20 * * * *", PARIS, 8, _utc(2025, 10, 25, 23, 30))
    walls = [r.strftime("%H:%M") for r in runs]
    assert walls == ["01:40", "02:00", "02:20", "02:40", "03:00", "03:20", "03:40", "04:00"]
    assert len(set(walls)) == len(walls)
    # Started inside the second pass of the repeated hour: nothing from that hour again.
    second_pass = _utc(2025, 10, 26, 1, 10)  # 02:10 Paris, second time
    assert cron.next_runs("*/20 * * * *", PARIS, 1, second_pass)[0].astimezone(UTC) == _utc(2025, 10, 26, 2)
    # New York's November change, a daily 01:30 run: once, in daylight time.
    ny = cron.next_runs("30 1 * * *", "America/New_York", 2, _utc(2025, 11, 1, 12))
    assert [r.astimezone(UTC) for r in ny] == [_utc(2025, 11, 2, 5, 30), _utc(2025, 11, 3, 6, 30)]


@settings(max_examples=40, deadline=None)
@given(expression=unix_expressions(),
       tz=st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]),
       start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)))
def test_next_runs_are_increasing_distinct_wall_times_matching_the_expression(expression: str, tz: str,
                                                                              start: datetime) -> None:
    try:
        cron.validate(expression)
    except CronError:
        return
    runs = cron.next_runs(expression, tz, 20, start)
    assert runs and runs[0] > start
    assert all(a < b for a, b in zip(runs, runs[1:]))
    walls = [r.replace(tzinfo=None) for r in runs]
    assert len(set(walls)) == len(walls)
    assert all(croniter.match(expression, wall) for wall in walls)
    assert all(r.astimezone(UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None) == r.replace(tzinfo=None)
               for r in runs)


# ----- the fire times kept for "now" -----------------------------------------------------------------------
class _Clock(datetime):
    """``datetime`` whose ``now`` is set by the test (``functions.registry.cron`` reads the time through it)."""

    current = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.current.astimezone(tz) if tz else cls.current.replace(tzinfo=None)


def test_next_runs_for_now_are_kept_until_the_first_of_them_passes(monkeypatch) -> None:
    monkeypatch.setattr(cron, "datetime", _Clock)
    monkeypatch.setattr(cron, "_upcoming", {})
    computed: list[datetime] = []
    real = cron._next_runs

    def counting(expression: str, tz: str, count: int, after: datetime) -> list[datetime]:
        computed.append(after)
        return real(expression, tz, count, after)

    monkeypatch.setattr(cron, "_next_runs", counting)
    _Clock.current = _utc(2025, 1, 1, 7, 0)
    assert cron.next_runs("0 9 * * *", PARIS) == [_utc(2025, 1, 1, 8)]  # 09:00 Paris is 08:00 UTC in winter
    _Clock.current = _utc(2025, 1, 1, 7, 30)  # (before the first fire: answered from what was kept)
    assert cron.next_runs("0 9 * * *", PARIS) == [_utc(2025, 1, 1, 8)]
    assert len(computed) == 1
    assert cron.next_runs("0 9 * * *", PARIS, 2) == [_utc(2025, 1, 1, 8), _utc(2025, 1, 2, 8)]  # more: computed
    assert len(computed) == 2
    _Clock.current = _utc(2025, 1, 1, 8, 0, 30)  # the first fire time has passed: computed again
    assert cron.next_runs("0 9 * * *", PARIS) == [_utc(2025, 1, 2, 8)]
    assert len(computed) == 3
    assert cron.next_runs("0 9 * * *", "UTC") == [_utc(2025, 1, 1, 9)]  # per time zone (it is now 08:00:30)
    assert cron.next_runs("0 9 * * *", PARIS, after=_utc(2024, 6, 1)) == [_utc(2024, 6, 1, 7)]  # explicit: never kept
    assert len(computed) == 5
