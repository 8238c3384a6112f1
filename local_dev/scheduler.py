"""The local scheduler: EventBridge's job on a laptop.

A thread that sleeps until the next fire time of any scheduled workflow, then hands each due tick to
the deployed scheduler's entry point (``Schedules.handle``, on the process's platform) with the payload the
deployed target delivers (``{"workflow", "time", "id"}``), in a thread of its own so a long run never
delays another workflow's tick. Everything after that — pause state, duplicate ticks, overlap, run
records — is the platform's code, exactly as on AWS.

Fire times come from ``functions.registry.cron`` (timezones and daylight-saving changes included). Ticks are
tracked per workflow: every tick between two wake-ups fires, so none is missed while the server runs,
but ticks older than ``max_lateness`` are dropped rather than replayed, so a server that was stopped
(or a laptop that slept) does not start with a burst of catch-up runs. A workflow seen for the first
time (server start, new plugin, changed schedule) starts from its next fire time.

Time comes from an injectable clock so tests drive days of ticks in milliseconds.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from functions.registry import cron
from functions.registry.config import WorkflowConfig

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Sleep ``seconds`` or until ``stop`` is set; True when stopped."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(seconds)


@dataclass
class _Entry:
    key: tuple[str, str]
    next_fire: datetime


def _default_registry() -> Any:
    from functions.platform import get_platform

    return get_platform().registry


def _default_handler(event: dict[str, Any]) -> Any:
    """The scheduler Lambda's entry into the platform: ``Schedules.handle`` on the process's platform."""
    from functions.platform import get_platform

    return get_platform().schedules.handle(event)


def _thread_dispatch(job: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=job, name=name, daemon=True)
    thread.start()
    return thread


class LocalScheduler:
    def __init__(
        self,
        handler: Callable[[dict[str, Any]], Any] = _default_handler,
        registry: Callable[[], Any] = _default_registry,
        clock: Clock | None = None,
        dispatch: Callable[[Callable[[], None], str], threading.Thread | None] = _thread_dispatch,
        max_lateness: timedelta = timedelta(seconds=60),
        max_sleep: float = 1.0,
    ) -> None:
        self.handler = handler
        self.registry = registry
        self.clock: Clock = clock or SystemClock()
        self.dispatch = dispatch
        self.max_lateness = max_lateness
        #: Upper bound of a sleep, so reloaded plugins and a stop request are noticed quickly.
        self.max_sleep = max_sleep
        self.entries: dict[str, _Entry] = {}
        self.fired: int = 0
        self.dropped: int = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inflight: list[threading.Thread] = []

    # ----- one pass ----------------------------------------------------------------------------------------
    def scheduled(self) -> dict[str, WorkflowConfig]:
        """Healthy, active, scheduled workflows of the current registry (it changes on reload)."""
        found = {}
        for plugin in self.registry().of_kind("workflow"):
            config = plugin.config
            if not plugin.error and isinstance(config, WorkflowConfig) and config.scheduled and config.active:
                found[plugin.name] = config
        return found

    def step(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire every tick due at ``now``; return the events handed to the handler."""
        now = now or self.clock.now()
        workflows = self.scheduled()
        for name in set(self.entries) - set(workflows):
            del self.entries[name]
        events = []
        for name, config in sorted(workflows.items()):
            assert config.schedule is not None
            key = (config.schedule, config.timezone)
            entry = self.entries.get(name)
            if entry is None or entry.key != key:
                entry = self.entries[name] = _Entry(key, cron.next_runs(*key, after=now)[0])
                log.info("scheduler: %s (%s %s) next at %s", name, key[0], key[1], entry.next_fire.isoformat())
            if now - entry.next_fire > self.max_lateness:
                resume = cron.next_runs(*key, after=now - self.max_lateness)[0]
                log.warning("scheduler: ticks of %s from %s to %s are older than %ss and not replayed",
                            name, entry.next_fire.isoformat(), (now - self.max_lateness).isoformat(),
                            int(self.max_lateness.total_seconds()))
                self.dropped += 1
                entry.next_fire = resume
            while entry.next_fire <= now:
                events.append(self._fire(name, entry.next_fire))
                entry.next_fire = cron.next_runs(*key, after=entry.next_fire)[0]
        return events

    def _fire(self, workflow: str, when: datetime) -> dict[str, Any]:
        event = {"workflow": workflow,
                 "time": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "id": str(uuid.uuid4())}
        self.fired += 1

        def job() -> None:
            try:
                result = self.handler(event)
                status = getattr(result, "status", None)
                log.info("scheduler: %s tick %s -> %s", workflow, event["time"],
                         f"run {result.run_id} {status}" if result is not None else "no run")
            except Exception:  # noqa: BLE001 - one failing tick must not stop the scheduler
                log.exception("scheduler: %s tick %s failed", workflow, event["time"])

        thread = self.dispatch(job, f"tick-{workflow}")
        if thread is not None:
            self._inflight = [t for t in self._inflight if t.is_alive()] + [thread]
        return event

    def seconds_until_next(self, now: datetime | None = None) -> float:
        now = now or self.clock.now()
        if not self.entries:
            return self.max_sleep
        soonest = min(entry.next_fire for entry in self.entries.values())
        return min(self.max_sleep, max(0.0, (soonest - now).total_seconds()))

    # ----- the thread --------------------------------------------------------------------------------------
    def run(self) -> None:
        """Loop until ``stop()``: fire what is due, sleep until the next tick (at most ``max_sleep``)."""
        while not self._stop.is_set():
            try:
                self.step()
                delay = self.seconds_until_next()
            except Exception:  # noqa: BLE001 - e.g. a plugin reload in progress; try again shortly
                log.exception("scheduler: pass failed")
                delay = self.max_sleep
            if self.clock.wait(self._stop, delay):
                break

    def start(self) -> "LocalScheduler":
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="local-scheduler", daemon=True)
        self._thread.start()
        log.info("local scheduler started")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop firing, then give in-flight runs up to ``timeout`` seconds to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        deadline = datetime.now(timezone.utc) + timedelta(seconds=timeout)
        for thread in self._inflight:
            thread.join(max(0.0, (deadline - datetime.now(timezone.utc)).total_seconds()))
        still = [t.name for t in self._inflight if t.is_alive()]
        if still:
            log.warning("scheduler stopped with runs still in progress: %s", ", ".join(still))
        self._inflight = []
        log.info("local scheduler stopped")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
