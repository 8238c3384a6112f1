"""Durable runs, the core's side: the ``DurableBackend`` Protocol the engine starts them on, and what an
operator or another service does to one (resume it, approve it, call it back).

A durable workflow (``"durable": true``) runs as a durable execution: its code (``functions.durable``,
the one handler ``functions.handlers.durable``) checkpoints each ``ctx.step`` and suspends while it
waits. Two backends carry it: the AWS Lambda durable functions API (``functions.aws.durable``) deployed,
the SDK's in-process runner locally (``local_dev.durable``). Both take an execution *name*: the run id
and a counter (``<run id>-1``; a resume or a local restart starts ``-2``...), since an execution, once
failed, is final (the service has no redrive).

What the run record keeps (``functions.core.runs``): its steps with their bounded results, what it
waits for, the callbacks granted to it (a callback URL's token only as a SHA-256 hash). A resume starts a
new execution of the same run carrying the completed steps' results: those steps return them without
running (``functions.durable.context``).

Single use: a callback or an approval completes a callback of the backend, which takes one answer only
(the service, and the SDK's runner, refuse a second: ``Conflict``); the run marks the grant ``answered``
when its code sees the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any, Protocol

from functions.core.runs import CallbackGrant, Run, utcnow
from functions.errors import Conflict, NotFound, Unauthorized

#: ``functions.core.engine.Engine`` (not imported: the engine imports this module).
Engine = Any

#: ``Run.runner`` of a durable run: ``durable:<execution name>`` (no ``host:pid``: no process owns it).
RUNNER_PREFIX = "durable:"
#: A callback URL's path (``POST /api/callbacks/{token}``): reachable without the admin token.
CALLBACK_PATH = "/api/callbacks/"


class DurableBackend(Protocol):
    """Where durable executions run. ``start`` returns once the execution is started (not finished)."""

    def start(self, execution: str, event: dict[str, Any]) -> None: ...

    #: Complete a callback the execution waits on (``ok``: success with ``payload`` as JSON, else a
    #: failure with ``payload["error"]``); ``Conflict`` if it is not waiting any more (answered,
    #: timed out), ``NotFound`` if the backend does not know it.
    def send_callback(self, callback_id: str, ok: bool, payload: Any) -> None: ...

    #: The execution's state as the backend reports it (``RUNNING``, ``SUCCEEDED``, ``FAILED``...), or
    #: None when it does not know it.
    def state(self, execution: str) -> str | None: ...


def execution_name(run_id: str, number: int = 1) -> str:
    return f"{run_id}-{number}"


def execution_number(execution: str | None) -> int:
    tail = (execution or "").rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def event(run: Run, data: dict[str, Any], completed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The input of a run's durable execution: which run, its inputs, and the results of the steps it
    need not run again (a resume's)."""
    return {"run_id": run.run_id, "workflow": run.workflow, "execution": run.durable_execution, "input": data,
            "completed": completed or {}}


def completed_steps(run: Run) -> dict[str, Any]:
    """The results a new execution of ``run`` reuses: its steps that succeeded, whole (not truncated)."""
    return {step.name: step.output for step in run.steps if step.status == "success" and not step.output_truncated}


# ----- callback tokens -----------------------------------------------------------------------------------
def new_token(run_id: str) -> tuple[str, str]:
    """A callback URL's token (``<run id>.<random>``: the run is found without a scan) and its hash."""
    token = f"{run_id}.{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def callback_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{CALLBACK_PATH}{token}"


def _grant_for_token(engine: Engine, token: str) -> tuple[Run, str, CallbackGrant]:
    run_id, dot, secret = token.partition(".")
    if not dot or not secret or not run_id.isalnum() or len(run_id) > 64:
        raise NotFound("no such callback: the URL is not one a durable run handed out")
    run = engine.runs.get(run_id, consistent=True)  # NotFound: 404
    digest = token_hash(token)
    for name, grant in run.callbacks.items():
        if grant.kind == "callback" and grant.token_hash and hmac.compare_digest(grant.token_hash, digest):
            return run, name, grant
    raise Unauthorized("wrong callback token: use the URL the run handed out, unchanged")


def _check_open(run: Run, name: str, grant: CallbackGrant, now: datetime) -> None:
    if grant.status == "answered":
        raise Conflict(f"callback '{name}' of run {run.run_id} was already answered: it takes one answer",
                       {"status": grant.status})
    if grant.status == "timed_out" or (grant.expires is not None and grant.expires <= now) or run.finished:
        raise NotFound(f"callback '{name}' of run {run.run_id} expired (its timeout passed, or the run ended)")


def answer_callback(engine: Engine, token: str, payload: Any) -> Run:
    """``POST /api/callbacks/{token}``: complete the callback the token was issued for with ``payload``.
    Wrong token 401, unknown or expired 404, already answered 409; nothing changes in each case (the
    backend is asked for only once the token is known good)."""
    run, name, grant = _grant_for_token(engine, token)
    _check_open(run, name, grant, utcnow())
    engine.durable_backend().send_callback(grant.callback_id, True, payload)
    return run


def answer_approval(engine: Engine, run_id: str, name: str, approve: bool,
                    comment: str | None = None, by: str | None = None) -> Run:
    """``POST /api/runs/{id}/approvals/{name}``: approve or reject what the run waits for."""
    run = engine.runs.get(run_id, consistent=True)
    grant = run.callbacks.get(name)
    if grant is None or grant.kind != "approval":
        raise NotFound(f"run {run_id} asks for no approval named {name!r}"
                       + (f" (it asks for: {', '.join(n for n, g in run.callbacks.items() if g.kind == 'approval')})"
                          if any(g.kind == "approval" for g in run.callbacks.values()) else ""))
    _check_open(run, name, grant, utcnow())
    engine.durable_backend().send_callback(grant.callback_id, True, {"approved": bool(approve), "comment": comment,
                                                    "by": by or "admin"})
    return run


def skip_wait(engine: Engine, run_id: str) -> Run:
    """``POST /api/runs/{id}/skip-wait``, development only: a run sleeping (``ctx.sleep``) goes on now. Only
    a backend with ``skip_wait(execution)`` offers it (the local one); deployed it is a 409."""
    run = engine.runs.get(run_id, consistent=True)
    if run.status != "waiting" or run.waiting_for is None or run.waiting_for.kind != "time":
        raise Conflict(f"run {run_id} is not sleeping (it is {run.status}"
                       f"{', waiting for an ' + run.waiting_for.kind if run.waiting_for else ''}): no wait to skip")
    backend = engine.durable_backend()
    skip = getattr(backend, "skip_wait", None)
    if skip is None:
        raise Conflict("skipping a wait is for local development only: this backend waits for real")
    if not skip(run.durable_execution):
        raise Conflict(f"run {run_id}'s execution has no pending wait here (a restart recovers it: try again)")
    return run


def resume(engine: Engine, run_id: str, given: dict[str, Any] | None = None, *, wait: float | None) -> Run:
    """Resume a failed durable run (``POST /api/runs/{id}/resume``): a new execution of the same run whose
    completed steps return their recorded results without running. Masked inputs must be given again
    (as for a re-run, ``functions.core.rerun``)."""
    from functions.core.rerun import rerun_inputs

    run = engine.runs.get(run_id, consistent=True)
    if not run.durable:
        raise Conflict(f"run {run_id} is not a durable run: re-run it instead (POST /api/runs/{run_id}/rerun)")
    if run.status not in ("error", "timed_out", "interrupted"):
        raise Conflict(f"run {run_id} is {run.status}: only a failed durable run is resumed",
                       {"status": run.status})
    try:
        _, config = engine.registry.workflow(run.workflow)
    except NotFound:
        raise Conflict(f"workflow '{run.workflow}' of run {run_id} no longer exists: nothing to resume") from None
    data = rerun_inputs(run, config, given)
    _, config, clean = engine.prepare(run.workflow, data, "rerun")
    return engine.resume_durable(run, config, clean, wait=wait)
