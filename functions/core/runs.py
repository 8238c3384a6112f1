"""Run records: the ``Run`` the engine works with and the ``RunStore`` interface that keeps them.

The DynamoDB side (the pynamodb model, its indexes and ``DynamoRunStore``) lives in
``functions.stores.runs``: this module imports only pydantic, so the API's response models, the engine
and the dashboard use run records without importing pynamodb and botocore at cold start (a request
that reads or writes no run never pays for them).

Open runs (``queued``, ``running``) carry a lease (``lease_until``, epoch seconds): a run whose lease
passed was left behind by a process that died (``functions.core.sweep``); the worker takes a queued run
with ``claim`` (see ``functions.stores.runs``).
"""


from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

from functions.errors import Conflict

if TYPE_CHECKING:
    from functions.core.run_search import RunFilter, RunPage

RunStatus = Literal["queued", "running", "waiting", "success", "error", "timed_out", "interrupted", "skipped",
                   "cancelled"]
FINAL_STATUSES = {"success", "error", "timed_out", "interrupted", "skipped", "cancelled"}
#: ``waiting``: a durable run (``functions.durable``) between invocations, on a time, an approval or a
#: callback (``Run.waiting_for``); it holds a lease like the others (its declared durable timeout).
OPEN_STATUSES = {"queued", "running", "waiting"}
#: The failures: what ``on_error`` answers (``functions.core.notify``) and the success rate counts against.
FAILED_STATUSES = frozenset({"error", "timed_out", "interrupted"})
#: How a run can start (``rerun``: ``POST /api/runs/{id}/rerun``, allowed wherever a trigger is; a
#: workflow's config never lists it: ``registry.config.Trigger`` has the others).
TRIGGERS = ("manual", "api", "webhook", "schedule", "rerun")
#: The ``open_runs`` key of runs left open before the index was sharded (``functions.core.shards``).
OPEN_SHARD = "open"
SUMMARY_FIELDS = ["trigger", "status", "created_at", "started_at", "finished_at", "duration_ms", "message",
                  "attempt"]


_last_ms = 0
_id_lock = threading.Lock()


def new_run_id() -> str:
    """Sortable by creation time (12 hex digits of milliseconds) and unguessable (12 random hex).

    The millisecond part never repeats within a process (a run created in the same millisecond as
    the previous one takes the next), otherwise the random part would order them at random and
    history would not be newest first for bursts of webhooks.
    """
    global _last_ms
    with _id_lock:
        _last_ms = max(int(time.time() * 1000), _last_ms + 1)
        millis = _last_ms
    return f"{millis:012x}{secrets.token_hex(6)}"


def created_ms(run_id: str) -> int | None:
    """The creation epoch milliseconds a run id starts with (``new_run_id``), or None for an id that does not."""
    try:
        return int(run_id[:12], 16) if len(run_id) >= 12 else None
    except ValueError:
        return None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RunSummary(BaseModel):
    # Built on first use, not at import (a cold start that records no run never needs them).
    model_config = ConfigDict(defer_build=True)

    run_id: str
    workflow: str
    trigger: str
    status: RunStatus
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    message: str | None = None
    attempt: int = 1


StepStatus = Literal["running", "waiting", "success", "error"]
StepKind = Literal["step", "sleep", "approval", "callback"]


class StepRecord(BaseModel):
    """One operation of a durable run (``functions.durable``): a ``ctx.step`` or a wait. ``output`` is the
    step's result, bounded (``WFP_MAX_STEP_OUTPUT_BYTES``): what a resume hands the new execution so the
    step is not run again (a truncated one runs again)."""

    model_config = ConfigDict(defer_build=True)

    name: str
    kind: StepKind = "step"
    status: StepStatus = "running"
    attempts: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    output: Any = None
    output_truncated: bool = False
    error: str | None = None
    #: The step's own log lines (bounded); a wait has none.
    logs: list[str] = []


class WaitingFor(BaseModel):
    """What a ``waiting`` run waits for: a time (``until``), an approval (``prompt``) or a callback."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["time", "approval", "callback"]
    name: str
    until: datetime | None = None
    prompt: str | None = None


class CallbackGrant(BaseModel):
    """An approval or callback a durable run waits for: the backend's callback id, and for a callback the
    hash of its URL's single-use token (the token itself is never stored); ``expires``: its timeout."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["approval", "callback"]
    callback_id: str
    #: Never in an answer (``exclude``): the store writes it explicitly.
    token_hash: str | None = Field(None, exclude=True)
    expires: datetime | None = None
    #: ``waiting`` until answered (``answered``: the run saw the answer) or ``timed_out``.
    status: Literal["waiting", "answered", "timed_out"] = "waiting"


class Run(RunSummary):
    inputs: dict[str, Any] = {}
    #: True when ``inputs`` hides something the workflow received (a password, a truncated value): such
    #: a run cannot be re-queued from its record.
    inputs_redacted: bool = False
    #: Went through the queue (webhook, ?async=1, a long sync run deployed): SQS delivers it again if
    #: the process running it dies, so a lost attempt is retried rather than interrupted.
    queued: bool = False
    output: Any = None
    output_truncated: bool = False
    error: str | None = None
    traceback: str | None = None
    logs: list[str] = []
    scheduled_time: str | None = None
    #: While queued or running: when (epoch seconds) the run is presumed lost if still open.
    lease_until: int | None = None
    #: ``host:pid`` of the process that runs it (which process to suspect when it never finishes).
    runner: str | None = None
    #: Tool profiles this run used instead of its workflow's ``tools_profiles`` (a re-run against TEST).
    profiles: dict[str, str] = {}
    #: The run this one re-runs (``functions.core.rerun``), and the newest re-runs of this one.
    rerun_of: str | None = None
    reruns: list[str] = []
    #: What the run cost where it ran (``functions.core.usage``): AWS requests by kind, Lambda GB-seconds
    #: and invocations, summed over its parts (api, each worker attempt); priced by ``cost_usd``.
    usage: dict[str, float] = {}
    #: Durable runs (``"durable": true``): their steps in order, what a ``waiting`` run waits for, the
    #: callbacks it was granted (by name), and the durable execution now carrying it (``<run id>-<n>``:
    #: a resume or a local restart starts the next one).
    steps: list[StepRecord] = []
    waiting_for: WaitingFor | None = None
    callbacks: dict[str, CallbackGrant] = {}
    durable_execution: str | None = None

    @property
    def durable(self) -> bool:
        return self.durable_execution is not None

    def step(self, name: str) -> StepRecord | None:
        return next((step for step in self.steps if step.name == name), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float | None:
        """The usage at AWS's list prices (``functions.core.pricing``); None before anything was measured."""
        from functions.core.pricing import cost

        return round(cost(self.usage), 13) if self.usage else None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class OpenRun:
    """What the ``open_runs`` index says about an open run (enough to decide what the sweep does)."""

    run_id: str
    workflow: str
    status: str
    lease_until: int
    runner: str | None
    started_at: datetime | None
    attempt: int
    inputs_redacted: bool
    queued: bool


class RunExists(Conflict):
    """``RunStore.create`` of a run id already taken: for a scheduled tick, a duplicate delivery."""


class RunCancelled(Conflict):
    """``RunStore.save`` of a run cancelled meanwhile (``functions.core.cancel``): its result is dropped."""


class RunStore(Protocol):
    def create(self, run: Run) -> None: ...
    #: ``open_only``: refused (``RunCancelled``) once the stored record is finished (a durable run's writes).
    def save(self, run: Run, open_only: bool = False) -> None: ...
    def add_rerun(self, run_id: str, rerun_id: str, seen: list[str], keep: int) -> bool: ...
    def get(self, run_id: str, consistent: bool = False) -> Run: ...
    def history(self, workflow: str, limit: int, cursor: str | None = None) -> tuple[list[RunSummary], str | None]: ...
    #: Runs of every workflow by day, status, workflow, trigger (``functions.core.run_search``).
    def search(self, query: RunFilter, limit: int, cursor: str | None = None) -> RunPage: ...
    def claim(self, run_id: str, runner: str, lease_seconds: int, now: datetime | None = None) -> Run | None: ...
    def release(self, run_id: str, attempt: int, lease_until: int, message: str) -> bool: ...
    def close(self, run_id: str, status: str, message: str, expect: tuple[str, ...],
              lease_until: int | None = None) -> bool: ...
    def extend(self, run_id: str, status: str, seen_lease: int, lease_until: int) -> bool: ...
    def open_runs(self, expired_before: int | None = None) -> list[OpenRun]: ...
