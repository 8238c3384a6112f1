"""Re-running a recorded run: the same workflow with the same inputs, through ``Engine.accept`` (trigger
``rerun``), optionally with other tool profiles (a PROD failure re-run against TEST, for that run only).

The record holds the inputs masked (password fields, secret-looking keys, secret values: ``***``), so
what was masked must be supplied again: the caller's ``inputs`` override and fill the stored ones, and a
masked one left out is a 422 naming it. ``profiles`` map tools of the workflow to profile names; they
go in the new run's record (``Run.profiles``) and, for a queued run, in its queue message, and
``functions.core.execution.build_tools`` prefers them to the workflow's ``tools_profiles``.

The new run says what it re-runs (``rerun_of``); the original lists its newest re-runs (``reruns``, the
last ``MAX_RERUNS``), added with one conditional UpdateItem. Only a finished run is re-run (an open one
would overwrite the link when it finishes: cancel it first). Everything that can refuse is checked before
anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from functions.core import inputs
from functions.core.redaction import MASK
from functions.core.runs import Run, RunStore, new_run_id
from functions.errors import (
    BadRequest,
    Conflict,
    InputValidationError,
    NotFound,
    PlatformError,
)
from functions.registry.config import WorkflowConfig
from functions.registry.profile import normalize_profile

if TYPE_CHECKING:
    from functions.core.engine import Engine, Submission

log = logging.getLogger(__name__)

TRIGGER = "rerun"
#: How many re-runs a run lists (the newest).
MAX_RERUNS = 20


def _masked(value: Any) -> bool:
    if isinstance(value, str):
        return MASK in value or value == inputs.REDACTED
    if isinstance(value, dict):
        return any(_masked(v) for v in value.values())
    if isinstance(value, list):
        return any(_masked(v) for v in value)
    return False


def masked_inputs(run: Run) -> list[str]:
    """The inputs a re-run of ``run`` must be given again (masked in its record)."""
    return [key for key, value in run.inputs.items() if key != "_truncated" and _masked(value)]


def rerun_inputs(original: Run, config: WorkflowConfig, given: dict[str, Any] | None) -> dict[str, Any]:
    """The stored inputs with ``given`` over them; a 422 naming every masked input not given again."""
    given = dict(given or {})
    truncated = set(original.inputs) == {"_truncated"}
    stored = {} if truncated else dict(original.inputs)
    labels = {spec.name: spec.display_label for spec in config.inputs_schema}
    errors = [{"field": key, "message": f"{labels.get(key, key)} is masked in the run record (secrets are not "
                                        f"stored): supply it again in \"inputs\""}
              for key in masked_inputs(original) if key not in given]
    if truncated:  # nothing usable was stored: every required input must be given (validate names them)
        log.info("run %s stored truncated inputs: re-run with the given ones only", original.run_id)
    if errors:
        raise InputValidationError(original.workflow, errors)
    return {**stored, **given}


def rerun_profiles(name: str, config: WorkflowConfig, profiles: dict[str, str] | None) -> dict[str, str]:
    """``{tool: PROFILE}`` for tools the workflow uses, names normalized; a 422 for any other."""
    result: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    for tool, profile in (profiles or {}).items():
        field = f"profiles.{tool}"
        if tool not in config.tools_required:
            uses = ", ".join(config.tools_required) or "none"
            errors.append({"field": field, "message": f"workflow '{name}' does not use a tool '{tool}' "
                                                      f"(its tools_required: {uses})"})
            continue
        try:
            result[tool] = normalize_profile(str(profile))
        except BadRequest as exc:
            errors.append({"field": field, "message": exc.message})
    if errors:
        raise InputValidationError(name, errors)
    return result


def link(runs: RunStore, original: Run, rerun_id: str) -> None:
    """Add ``rerun_id`` to the original's ``reruns`` (one UpdateItem; read again if another re-run won)."""
    seen = list(original.reruns)
    for _ in range(5):
        if runs.add_rerun(original.run_id, rerun_id, seen, MAX_RERUNS):
            return
        seen = runs.get(original.run_id, consistent=True).reruns
    log.warning("could not link run %s to its re-run %s (concurrent re-runs)", original.run_id, rerun_id)


def rerun(engine: Engine, run_id: str, given: dict[str, Any] | None = None,
          profiles: dict[str, str] | None = None, *, wait: float | None) -> Submission:
    """Start a new run of ``run_id``'s workflow with its inputs (``given`` over them) and ``profiles``;
    it executes and answers as ``Engine.accept`` does with ``wait``."""
    original = engine.runs.get(run_id, consistent=True)  # NotFound: 404
    if not original.finished:
        raise Conflict(f"run {run_id} is still {original.status}: wait for it to finish, or cancel it "
                       f"(POST /api/runs/{run_id}/cancel) and then re-run it", {"status": original.status})
    name = original.workflow
    try:
        _, config = engine.registry.workflow(name)  # broken: PluginError, 409
    except NotFound:
        raise Conflict(f"workflow '{name}' of run {run_id} no longer exists: nothing to re-run") from None
    overrides = rerun_profiles(name, config, profiles)
    data = rerun_inputs(original, config, given)
    engine.prepare(name, data, TRIGGER)  # inactive 409, invalid inputs 422: refused before any write
    submission = engine.accept(name, data, TRIGGER, wait=wait, run_id=new_run_id(), rerun_of=run_id,
                               profiles=overrides)
    # linked once the new run exists (a refused accept leaves the original naming no phantom); the
    # original is finished, so no save of its own can overwrite the link
    link(engine.runs, original, submission.run.run_id)
    return submission


# ----- a filtered set at once ------------------------------------------------------------------------------
#: The most runs one bulk re-run takes (``POST /api/runs/rerun``, ``wfp runs --rerun``).
BULK_MAX = 50


@dataclass
class BulkItem:
    run_id: str
    workflow: str
    status: str
    #: The new run (queued), or None when this one was refused (``error`` says why).
    rerun_id: str | None = None
    error: str | None = None


@dataclass
class Bulk:
    confirmed: bool
    runs: list[Any]  # RunSummary, newest first
    #: More runs match than ``limit``: the newest were taken.
    more: bool
    results: list[BulkItem] = field(default_factory=list)
    message: str = ""


def bulk_rerun(engine: Engine, *, confirm: bool, limit: int, profiles: dict[str, str] | None = None,
               **filters: Any) -> Bulk:
    """The newest ``limit`` runs matching ``filters`` (``functions.core.run_search.find``'s); with ``confirm``,
    each re-run through the queue (as ``POST /api/runs/{id}/rerun?async=1``), one refusal not stopping the
    others."""
    from functions.core.run_search import find

    settings = engine.settings
    runs: list[Any] = []
    cursor: str | None = None
    for _ in range(10):  # pages: a rare filter may answer short pages (functions.stores.run_search)
        page = find(engine.runs, settings.run_retention_days, settings.history_page_size,
                    limit=limit - len(runs) + 1, cursor=cursor, **filters)
        runs += page.runs
        cursor = page.next_cursor
        if len(runs) > limit or cursor is None:
            break
    more = len(runs) > limit or cursor is not None
    runs = runs[:limit]
    if not confirm:
        return Bulk(False, runs, more, message=f"{len(runs)} run(s) match"
                    f"{' (and more: the newest are taken)' if more else ''}; "
                    "repeat the request with confirm=true to re-run them")
    results = []
    for run in runs:
        item = BulkItem(run.run_id, run.workflow, run.status)
        try:
            item.rerun_id = rerun(engine, run.run_id, None, profiles, wait=None).run.run_id
        except PlatformError as exc:
            item.error = exc.message
        results.append(item)
    started = sum(1 for r in results if r.rerun_id)
    return Bulk(True, runs, more, results, f"{started} of {len(runs)} run(s) re-run (queued)")
