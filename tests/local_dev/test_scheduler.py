"""The local scheduler, with time under the test's control: one run per tick, none twice, no catch-up."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from local_dev.scheduler import LocalScheduler, SystemClock

UTC = timezone.utc


class FakeClock:
    """Virtual time: ``wait`` advances it instead of sleeping, and stops the loop at ``end``."""

    def __init__(self, start: datetime, end: datetime | None = None) -> None:
        self.t, self.end = start, end
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.t

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        self.t += timedelta(seconds=max(seconds, 0.001))
        if self.end is not None and self.t >= self.end:
            stop.set()
        return stop.is_set()


def inline(job: Any, name: str) -> None:
    job()


def t(hour: int, minute: int, second: float = 0, day: int = 31, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC) + timedelta(seconds=second)


def runs_of(platform: Any, workflow: str) -> list[Any]:
    runs, _ = platform.engine.runs.history(workflow, 100)
    return [platform.engine.runs.get(r.run_id) for r in reversed(runs)]


@pytest.fixture
def every_minute(make_platform, plugin_dir) -> Any:
    plugin_dir.workflow("every_minute", {"schedule": "* * * * *", "triggers": ["schedule"]})
    plugin_dir.workflow("paris", {"schedule": "0 9 * * *", "timezone": "Europe/Paris", "triggers": ["schedule"]})
    plugin_dir.workflow("night", {"schedule": "30 2 * * *", "timezone": "Europe/Paris", "triggers": ["schedule"]})
    plugin_dir.workflow("manual", {"triggers": ["manual"]})
    return make_platform(plugin_dir.root)


def only(platform: Any, *keep: str) -> None:
    """Keep only some scheduled workflows in the registry (the others would tick too)."""
    registry = platform.engine.registry
    for key in [k for k in registry.plugins if k[0] == "workflow" and k[1] not in keep]:
        del registry.plugins[key]


def test_every_minute_one_run_per_minute_none_twice(every_minute) -> None:
    only(every_minute, "every_minute")
    clock = FakeClock(t(10, 0, 30), end=t(10, 30, 5))
    scheduler = LocalScheduler(clock=clock, dispatch=inline)
    fired_at: list[tuple[datetime, str]] = []
    handler = scheduler.handler
    scheduler.handler = lambda event: (fired_at.append((clock.now(), event["time"])), handler(event))[1]
    scheduler.run()  # the real loop, over 30 virtual minutes

    runs = runs_of(every_minute, "every_minute")
    expected = [(t(10, 0) + timedelta(minutes=i)).isoformat() for i in range(1, 31)]
    assert [r.scheduled_time for r in runs] == expected
    assert all(r.status == "success" and r.trigger == "schedule" for r in runs)
    assert len({r.run_id for r in runs}) == 30
    # Each tick was handed over within a second of its time (the loop sleeps until the next tick).
    assert all(timedelta(0) <= now - datetime.fromisoformat(at.replace("Z", "+00:00")) < timedelta(seconds=1)
               for now, at in fired_at)
    assert max(clock.waits) <= 1.0  # never sleeps more than a second: reloads and stop are noticed


def test_no_catch_up_after_downtime(every_minute) -> None:
    only(every_minute, "every_minute")
    clock = FakeClock(t(10, 0, 30), end=t(10, 5, 10))
    LocalScheduler(clock=clock, dispatch=inline).run()
    # The server is down from 10:05:10 to 11:00:10; a new one starts.
    clock = FakeClock(t(11, 0, 10), end=t(11, 3, 30))
    LocalScheduler(clock=clock, dispatch=inline).run()
    times = [r.scheduled_time[11:16] for r in runs_of(every_minute, "every_minute")]
    assert times == ["10:01", "10:02", "10:03", "10:04", "10:05", "11:01", "11:02", "11:03"]


def test_a_long_stall_while_running_drops_old_ticks_instead_of_a_burst(every_minute) -> None:
    only(every_minute, "every_minute")
    scheduler = LocalScheduler(dispatch=inline, max_lateness=timedelta(seconds=60))
    scheduler.step(t(10, 0, 30))
    scheduler.step(t(10, 1, 0.5))
    scheduler.step(t(10, 2, 40))  # a 100 s stall (a slow pass): the 10:02 tick is 40 s late, still fired
    events = scheduler.step(t(11, 0, 30))  # a laptop that slept for an hour: only the 11:00 tick
    assert [e["time"] for e in events] == ["2025-03-31T11:00:00Z"]
    assert scheduler.dropped == 1
    times = [r.scheduled_time[11:16] for r in runs_of(every_minute, "every_minute")]
    assert times == ["10:01", "10:02", "11:00"]


def test_the_same_tick_from_two_schedulers_gives_one_run(every_minute) -> None:
    """Two local servers sharing one local AWS: both fire, the platform runs once."""
    only(every_minute, "every_minute")
    first, second = LocalScheduler(dispatch=inline), LocalScheduler(dispatch=inline)
    for scheduler in (first, second):
        scheduler.step(t(10, 0, 30))
    for scheduler in (first, second):
        assert len(scheduler.step(t(10, 1, 0.2))) == 1
    assert len(runs_of(every_minute, "every_minute")) == 1


def test_daylight_saving_changes_in_the_local_scheduler(every_minute) -> None:
    only(every_minute, "paris", "night")
    clock = FakeClock(datetime(2025, 3, 28, 12, tzinfo=UTC), end=datetime(2025, 4, 1, 12, tzinfo=UTC))
    LocalScheduler(clock=clock, dispatch=inline, max_sleep=600).run()
    clock = FakeClock(datetime(2025, 10, 24, 12, tzinfo=UTC), end=datetime(2025, 10, 28, 12, tzinfo=UTC))
    LocalScheduler(clock=clock, dispatch=inline, max_sleep=600).run()
    assert [r.scheduled_time for r in runs_of(every_minute, "paris")] == [
        "2025-03-29T08:00:00+00:00", "2025-03-30T07:00:00+00:00", "2025-03-31T07:00:00+00:00",
        "2025-04-01T07:00:00+00:00",  # 09:00 Paris in winter (UTC+1) and in summer (UTC+2)
        "2025-10-25T07:00:00+00:00", "2025-10-26T08:00:00+00:00", "2025-10-27T08:00:00+00:00",
        "2025-10-28T08:00:00+00:00"]
    # 02:30 does not exist on 30 March (no run that day) and happens twice on 26 October (one run).
    assert [r.scheduled_time for r in runs_of(every_minute, "night")] == [
        "2025-03-29T01:30:00+00:00", "2025-03-31T00:30:00+00:00", "2025-04-01T00:30:00+00:00",
        "2025-10-25T00:30:00+00:00", "2025-10-26T00:30:00+00:00", "2025-10-27T01:30:00+00:00",
        "2025-10-28T01:30:00+00:00"]


def test_a_paused_schedule_ticks_into_nothing(every_minute) -> None:
    only(every_minute, "every_minute")
    assert every_minute.client.post("/api/scheduler/jobs/every_minute/pause").status_code == 200
    clock = FakeClock(t(10, 0, 30), end=t(10, 3, 5))
    LocalScheduler(clock=clock, dispatch=inline).run()
    assert runs_of(every_minute, "every_minute") == []
    every_minute.client.post("/api/scheduler/jobs/every_minute/resume")
    clock = FakeClock(t(10, 3, 5), end=t(10, 5, 5))
    LocalScheduler(clock=clock, dispatch=inline).run()
    assert [r.scheduled_time[11:16] for r in runs_of(every_minute, "every_minute")] == ["10:04", "10:05"]


def test_schedule_changes_and_removed_workflows_follow_the_registry(every_minute) -> None:
    only(every_minute, "every_minute")
    scheduler = LocalScheduler(dispatch=inline)
    scheduler.step(t(10, 0, 30))
    config_file = every_minute.plugins_dir / "workflows" / "every_minute" / "config.json"
    config_file.write_text('{"schedule": "*/5 * * * *", "triggers": ["schedule"]}')
    every_minute.core.reload()
    only(every_minute, "every_minute")
    fired = [e["time"][11:16] for minute in range(1, 11) for e in scheduler.step(t(10, minute, 0.1))]
    assert fired == ["10:05", "10:10"]
    del every_minute.engine.registry.plugins[("workflow", "every_minute")]
    assert scheduler.step(t(10, 15, 0.1)) == [] and scheduler.entries == {}


def test_a_failing_handler_does_not_stop_the_scheduler(every_minute) -> None:
    only(every_minute, "every_minute")
    seen: list[str] = []

    def handler(event: dict[str, Any]) -> None:
        seen.append(event["time"])
        if len(seen) == 1:
            raise RuntimeError("boom")

    clock = FakeClock(t(10, 0, 30), end=t(10, 3, 5))
    LocalScheduler(handler=handler, clock=clock, dispatch=inline).run()
    assert [s[11:16] for s in seen] == ["10:01", "10:02", "10:03"]


def test_events_have_the_deployed_target_shape(every_minute) -> None:
    only(every_minute, "every_minute")
    scheduler = LocalScheduler(handler=lambda e: None, dispatch=inline)
    scheduler.step(t(10, 0, 30))
    (event,) = scheduler.step(t(10, 1, 0.3))
    assert set(event) == {"workflow", "time", "id"}
    assert event["workflow"] == "every_minute" and event["time"] == "2025-03-31T10:01:00Z"


class OffsetClock(SystemClock):
    """Real time shifted so that a minute boundary comes in a fraction of a second."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_real_thread_fires_within_a_second_and_stops_cleanly(every_minute) -> None:
    only(every_minute, "every_minute")
    real = datetime.now(UTC)
    boundary = (real + timedelta(minutes=2)).replace(second=0, microsecond=0)
    offset = boundary - real - timedelta(seconds=0.4)  # the shifted clock reaches the boundary in 0.4 s
    scheduler = LocalScheduler(clock=OffsetClock(offset)).start()
    try:
        for _ in range(300):
            runs = runs_of(every_minute, "every_minute")
            if runs and runs[0].finished_at:
                break
            time.sleep(0.01)
    finally:
        scheduler.stop()
    assert not scheduler.running
    assert not [th for th in threading.enumerate() if th.name in ("local-scheduler", "tick-every_minute")]
    (run,) = runs
    assert run.scheduled_time == boundary.isoformat() and run.status == "success"
    latency = run.created_at + offset - boundary
    assert timedelta(0) <= latency < timedelta(seconds=1), latency


def test_the_dev_server_starts_and_stops_the_scheduler(every_minute, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from functions.aws import eventbridge
    from local_dev import environment, server

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["threads"] = [th.name for th in threading.enumerate()]
        seen["toggler"] = app.state.platform.toggler

    # The fixture already provides AWS (moto) and its environment: the server builds its local platform.
    monkeypatch.setattr(server, "prepare", lambda: environment.Local(None, environment.local_platform()))
    monkeypatch.setattr(server, "load_env", lambda: None)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    server.serve(port=0, watch=False)
    assert "local-scheduler" in seen["threads"]
    assert isinstance(seen["toggler"], eventbridge.NoopToggler)  # the server's own piece, passed in
    for _ in range(100):
        if "local-scheduler" not in [th.name for th in threading.enumerate()]:
            break
        time.sleep(0.01)
    assert "local-scheduler" not in [th.name for th in threading.enumerate()]
