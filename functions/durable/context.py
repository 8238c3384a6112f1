"""``DurableRun``: the ``ctx`` a durable workflow's ``execute(data, tools, ctx)`` gets, over the SDK's
``DurableContext``.

The code of ``execute`` runs again from the top on every invocation of the execution (a replay): what
is inside ``ctx.step`` runs once and returns its checkpointed result on replay; what is outside must be
deterministic (no clock, no randomness, no I/O: put those in steps). Names identify steps and waits in
the run record and must be unique within a run.

- ``ctx.step(name, fn, *args, retries=0, backoff=2.0, **kwargs)``: ``fn(*args, **kwargs)`` once, its
  result (JSON) checkpointed; ``retries`` more attempts after a failure, the first ``backoff`` seconds
  later, doubling (at most 5 min apart; the SDK's own default of 6 attempts is never inherited). The last
  failure raises ``ctx.StepFailed`` (catch it to go on).
- ``ctx.sleep(seconds=..., until=..., name=...)``: a durable wait, no compute while waiting. The absolute
  time is computed once, in a step, and kept: a replay, a resume or a local restart waits until the same
  moment.
- ``ctx.wait_for_approval(name, prompt=..., timeout=...)``: an ``Approval`` (``approved``, ``comment``,
  ``by``) once a person answers (dashboard, ``POST /api/runs/{id}/approvals/{name}``). A rejection is
  returned (``approved`` False), not raised: the workflow decides. No answer within ``timeout`` seconds
  raises ``ctx.TimedOut``.
- ``ctx.wait_for_callback(name, timeout=..., send=fn)``: the JSON payload another system posts to the
  run's single-use callback URL (``POST /api/callbacks/{token}``, no admin token); ``send(url)`` runs once,
  as a step, to hand the URL over. No call within ``timeout`` raises ``ctx.TimedOut``.

A resume (``POST /api/runs/{id}/resume``) hands the new execution the results of the completed steps
(``completed``): such a step returns its recorded result without running its function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from aws_durable_execution_sdk_python import (
    CallbackError,
    CallbackTimeoutError,
    DurableContext,
    StepError,
)
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig
from aws_durable_execution_sdk_python.exceptions import SuspendExecution
from aws_durable_execution_sdk_python.retries import RetryDecision

from functions.core import durable as core_durable
from functions.core.runlog import RunLog, capture
from functions.core.runs import utcnow
from functions.durable.errors import NotSerializable, RunClosed, StepFailed, TimedOut
from functions.durable.recorder import Recorder

#: The longest delay between two attempts of a step.
MAX_BACKOFF_SECONDS = 300
DEFAULT_APPROVAL_TIMEOUT = 7 * 86400


@dataclass(frozen=True)
class Approval:
    approved: bool
    comment: str | None = None
    by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"approved": self.approved, "comment": self.comment, "by": self.by}


def retry_strategy(retries: int, backoff: float) -> Callable[[Exception, int], RetryDecision]:
    """``retries`` more attempts, ``backoff`` seconds before the first, doubling; never for a result JSON
    cannot hold (it would fail again)."""

    def decide(error: Exception, attempts_made: int) -> RetryDecision:
        if attempts_made > retries or isinstance(error, NotSerializable):
            return RetryDecision.no_retry()
        delay = min(MAX_BACKOFF_SECONDS, max(1, math.ceil(backoff * 2 ** (attempts_made - 1))))
        return RetryDecision.retry(Duration.from_seconds(delay))

    return decide


def _json(name: str, value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotSerializable(f"step '{name}' returned a {type(value).__name__}, which cannot be checkpointed "
                              f"({exc}): return JSON (dict, list, str, number, bool, None)") from None
    return value


class DurableRun:
    StepFailed = StepFailed
    TimedOut = TimedOut
    NotSerializable = NotSerializable

    def __init__(self, context: DurableContext, recorder: Recorder, completed: dict[str, Any] | None = None,
                 public_url: str | None = None) -> None:
        self.context = context
        self.recorder = recorder
        self.completed = dict(completed or {})
        self.public_url = public_url or ""
        self._names: set[str] = set()
        self._sleeps = 0

    @property
    def run_id(self) -> str:
        return self.recorder.run.run_id

    def _claim(self, name: str) -> str:
        if not isinstance(name, str) or not name or len(name) > 200:
            raise ValueError(f"a step or wait needs a name (1 to 200 characters), got {name!r}")
        if name in self._names:
            raise ValueError(f"'{name}' names two steps or waits of this run: names must be unique")
        self._names.add(name)
        return name

    # ----- steps ---------------------------------------------------------------------------------------
    def step(self, name: str, fn: Callable[..., Any], *args: Any, retries: int = 0, backoff: float = 2.0,
             **kwargs: Any) -> Any:
        self._claim(name)
        if retries < 0 or backoff < 0:
            raise ValueError("retries and backoff must be >= 0")
        config = StepConfig(retry_strategy=retry_strategy(retries, backoff))
        if name in self.completed:  # a resume: the recorded result, checkpointed again, fn not run
            recorded = self.completed[name]
            return self.context.step(lambda _: recorded, name=name, config=config)
        return self._step(name, "step", lambda: fn(*args, **kwargs), config)

    def _step(self, name: str, kind: str, call: Callable[[], Any], config: StepConfig) -> Any:
        recorder = self.recorder
        failure: dict[str, Any] = {}

        def attempt(step_context: Any) -> Any:
            recorder.step_started(name, kind, getattr(step_context, "attempt", 1))
            step_log = RunLog(recorder.settings.max_step_log_lines + 1, recorder.settings.max_log_line_chars,
                              recorder.settings.max_log_bytes, recorder.redactor)
            try:
                with capture(step_log):
                    value = _json(name, call())
            except RunClosed:
                failure["closed"] = True
                raise
            except Exception as exc:
                recorder.step_failed(name, f"{type(exc).__name__}: {exc}" if not isinstance(exc, NotSerializable)
                                     else exc.message, step_log.result())
                failure["message"] = exc.message if isinstance(exc, NotSerializable) else f"{type(exc).__name__}: {exc}"
                raise
            recorder.step_succeeded(name, kind, value, step_log.result())
            return value

        try:
            return self.context.step(attempt, name=name, config=config)
        except StepError as exc:
            if failure.get("closed"):
                raise RunClosed(recorder.run.run_id) from None
            step = recorder.run.step(name)
            attempts = step.attempts if step else 1
            detail = failure.get("message") or (step.error if step else None) or exc.message or str(exc)
            raise StepFailed(f"step '{name}' failed after {attempts} attempt(s): {detail}") from None

    # ----- waits ---------------------------------------------------------------------------------------
    def sleep(self, seconds: float | None = None, *, until: datetime | None = None, name: str | None = None) -> None:
        if (seconds is None) == (until is None):
            raise ValueError("ctx.sleep takes seconds=... or until=..., one of them")
        self._sleeps += 1
        name = self._claim(name or f"sleep-{self._sleeps}")
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)

        def deadline() -> str:
            target = until if until is not None else utcnow() + timedelta(seconds=float(seconds or 0))
            return target.isoformat()

        key = f"{name}.until"
        self._names.add(key)
        if key in self.completed:
            recorded = self.completed[key]
            stamp = self.context.step(lambda _: recorded, name=key, config=StepConfig(retry_strategy=retry_strategy(0, 0)))
        else:
            stamp = self._step(key, "sleep", deadline, StepConfig(retry_strategy=retry_strategy(0, 0)))
        if name in self.completed:
            return
        target = datetime.fromisoformat(stamp)
        left = math.ceil((target - utcnow()).total_seconds())
        if left >= 1:
            try:
                self.context.wait(Duration.from_seconds(left), name=name)
            except SuspendExecution:
                self.recorder.waiting("time", name, until=target)
                raise
        if not self.recorder.done(name):
            self.recorder.step_succeeded(name, "sleep", stamp)

    def _callback(self, name: str, kind: str, timeout: float) -> Any:
        """Create (or, replaying, find) the backend's callback for ``name``; the grant recorded."""
        grant = self.recorder.run.callbacks.get(name)
        if grant is not None and grant.status == "waiting" and grant.expires is not None:
            left = max(1, math.ceil((grant.expires - utcnow()).total_seconds()))  # a restart: what is left
        else:
            left = max(1, math.ceil(timeout))
        return self.context.create_callback(name, CallbackConfig(timeout=Duration.from_seconds(left)))

    def _await(self, name: str, kind: str, callback: Any, prompt: str | None) -> Any:
        grant = self.recorder.run.callbacks.get(name)
        try:
            raw = callback.result()
        except SuspendExecution:
            self.recorder.waiting(kind, name, until=grant.expires if grant else None, prompt=prompt)
            raise
        except CallbackTimeoutError:
            what = "approval" if kind == "approval" else "callback"
            message = f"{what} '{name}' got no answer within its timeout"
            step = self.recorder.run.step(name)
            if step is None or step.status not in ("success", "error"):
                self.recorder.timed_out(name, kind, message)
            raise TimedOut(message) from None
        except CallbackError as exc:
            raise TimedOut(f"{kind} '{name}' failed: {exc.message or exc}") from None
        value = json.loads(raw) if isinstance(raw, (str, bytes, bytearray)) and raw else raw
        if not self.recorder.done(name):
            self.recorder.answered(name, kind, value)
        return value

    def wait_for_approval(self, name: str, prompt: str | None = None,
                          timeout: float = DEFAULT_APPROVAL_TIMEOUT) -> Approval:
        self._claim(name)
        if name in self.completed:
            return _approval(self.completed[name])
        callback = self._callback(name, "approval", timeout)
        if name not in self.recorder.run.callbacks or self.recorder.run.callbacks[name].callback_id != callback.callback_id:
            self.recorder.grant(name, "approval", callback.callback_id, utcnow() + timedelta(seconds=timeout))
        return _approval(self._await(name, "approval", callback, prompt))

    def wait_for_callback(self, name: str, timeout: float = DEFAULT_APPROVAL_TIMEOUT,
                          send: Callable[[str], Any] | None = None) -> Any:
        self._claim(name)
        if name in self.completed:
            return self.completed[name]
        callback = self._callback(name, "callback", timeout)
        grant = self.recorder.run.callbacks.get(name)
        url = None
        if grant is None or grant.status != "waiting":
            token, digest = core_durable.new_token(self.run_id)
            self.recorder.redactor.add(token)
            self.recorder.grant(name, "callback", callback.callback_id, utcnow() + timedelta(seconds=timeout), digest)
            url = core_durable.callback_url(self.public_url, token)
        elif grant.callback_id != callback.callback_id:
            self.recorder.grant(name, "callback", callback.callback_id, grant.expires)
        if send is not None:
            key = f"{name}.send"
            self._names.add(key)
            if key not in self.completed:
                def hand_over() -> Any:
                    if url is None:
                        raise RuntimeError(f"the URL of callback '{name}' was issued by an earlier invocation "
                                           "that stopped before handing it over: resume the run")
                    return send(url)

                self._step(key, "callback", hand_over, StepConfig(retry_strategy=retry_strategy(0, 0)))
        return self._await(name, "callback", callback, None)


def _approval(value: Any) -> Approval:
    value = value if isinstance(value, dict) else {"approved": bool(value)}
    return Approval(bool(value.get("approved")), value.get("comment"), value.get("by"))
