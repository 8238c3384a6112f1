"""The runs table: the pynamodb model of a run record, its indexes, and ``DynamoRunStore`` over them.

Every accepted trigger becomes a run record before the workflow starts (``create``) and is completed
after (``save``): two writes per sync run. History is a Query of each shard of the ``by_history`` index
(``<workflow>#<k>``, ``functions.core.shards``), side by side and merged newest first (run ids sort by
creation time), paginated with an opaque cursor; never a Scan. The index projects only the summary
fields, so a history page never drags outputs and logs along. Sharded, a busy workflow's history takes
``WFP_HISTORY_SHARDS`` x ~1,000 index writes a second instead of one partition's ~1,000 (SCALING.md); the
pre-sharding ``by_workflow`` index (one partition per workflow) is read too while
``WFP_LEGACY_HISTORY_INDEX`` is on, for the runs written before ``by_history`` existed.

Open runs (``queued``, ``running``) carry a lease: ``lease_until`` (epoch seconds) and ``lease_shard``,
the key of the sparse ``open_runs`` index. Both are written with the open record and dropped by the
write that finishes it (``save`` puts the whole item), so the index holds only open runs: the stale-run
sweep (``functions.core.sweep``) is one Query per shard of that index, cheap when nothing is open, never
a Scan. A run whose lease passed was left behind by a process that died. ``lease_shard`` is
``open-<k>``, ``k`` read from the run id among ``WFP_OPEN_RUN_SHARDS`` (every write of a run names the same
shard, so a claim names it without reading the item): each shard takes ~1,000 index writes a second and a
run makes 2 to 4. Runs left open by a release before sharding carry ``open``: the sweep reads it too.

The async worker takes a queued run with ``claim``: one conditional UpdateItem (queued, or running
with an expired lease) that returns the record, so two deliveries of one SQS message never both run it.

Imported on first use of the store (``functions.platform.Platform.runs``): pynamodb imports botocore
(~100 ms at a cold start), which requests that never touch a run (/docs, the workflow list, the
dashboard's static files) do not need.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from functions.core import usage
from functions.core.ports import BlobStore
from functions.core.run_search import RunFilter, RunPage, day_shard
from functions.core.runs import (
    OPEN_STATUSES,
    SUMMARY_FIELDS,
    OpenRun,
    Run,
    RunCancelled,
    RunExists,
    RunSummary,
    utcnow,
)
from functions.core.shards import Shards, history_key, open_shard, open_shard_keys
from functions.errors import BadRequest, NotFound
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register
from functions.stores.run_data import RunData
from functions.stores.run_search import DayIndex, HistoryIndex, between, usage_of_runs
from functions.stores.run_search import history as history_of
from functions.stores.run_search import search as search_runs


class WorkflowIndex(GlobalSecondaryIndex["RunModel"]):
    """Pre-sharding: one partition per workflow (~1,000 index writes a second, a few hundred runs). Kept in
    the template while ``WFP_LEGACY_HISTORY_INDEX`` is on (``retired_indexes``); read with ``by_history``."""

    class Meta:
        index_name = "by_workflow"
        projection = IncludeProjection(SUMMARY_FIELDS)

    workflow = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)


class OpenRunsIndex(GlobalSecondaryIndex["RunModel"]):
    """Sparse: only items with ``lease_shard`` (open runs) are in it, ordered by lease expiry."""

    class Meta:
        index_name = "open_runs"
        projection = IncludeProjection(["status", "workflow", "runner", "started_at", "attempt",
                                        "inputs_redacted", "queued"])

    lease_shard = UnicodeAttribute(hash_key=True)
    lease_until = NumberAttribute(range_key=True)


@register
class RunModel(Model):
    class Meta:
        # create/save: PutItem; get: GetItem; claim/release/close/extend/add_rerun: UpdateItem;
        # history, outcomes_between, search and open_runs: Query (on the by_history, by_workflow, by_day
        # and open_runs indexes).
        table_name = TableName("runs_table", operations=("GetItem", "PutItem", "UpdateItem", "Query"))
        billing_mode = "PAY_PER_REQUEST"

    run_id = UnicodeAttribute(hash_key=True)
    workflow = UnicodeAttribute()
    trigger = UnicodeAttribute()
    status = UnicodeAttribute()
    attempt = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    duration_ms = NumberAttribute(null=True)
    message = UnicodeAttribute(null=True)
    inputs = JSONAttribute(null=True)
    output = JSONAttribute(null=True)
    output_truncated = BooleanAttribute(default=False)
    #: Keys in the run-data bucket of the whole output / log lines when the record holds a preview
    #: (``functions.stores.run_data``).
    output_ref = UnicodeAttribute(null=True)
    logs_ref = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    traceback = UnicodeAttribute(null=True)
    logs = ListAttribute(of=UnicodeAttribute, null=True)
    scheduled_time = UnicodeAttribute(null=True)
    inputs_redacted = BooleanAttribute(null=True)
    queued = BooleanAttribute(null=True)
    lease_shard = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    runner = UnicodeAttribute(null=True)
    profiles = JSONAttribute(null=True)
    rerun_of = UnicodeAttribute(null=True)
    reruns = ListAttribute(of=UnicodeAttribute, null=True)
    #: ``functions.core.usage``: requests by kind, Lambda GB-seconds (projected by by_day for the metrics).
    usage = JSONAttribute(null=True)
    #: Durable runs (``functions.durable``): steps, what a waiting run waits for, its callbacks (token
    #: hashes), the execution carrying it. In no index.
    steps = JSONAttribute(null=True)
    waiting_for = JSONAttribute(null=True)
    callbacks = JSONAttribute(null=True)
    durable_execution = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    #: Key of the by_day index (``functions.core.run_search``), fixed by the run id.
    day_shard = UnicodeAttribute(null=True)
    #: Key of the by_history index (``functions.core.shards.history_key``), fixed by workflow and run id.
    history_key = UnicodeAttribute(null=True)

    by_workflow = WorkflowIndex()
    open_runs = OpenRunsIndex()
    by_day = DayIndex()
    by_history = HistoryIndex()

    @classmethod
    def retired_indexes(cls, settings: Settings) -> frozenset[str]:
        """The indexes the model still declares but this deployment no longer has (the template omits them,
        nothing reads them; ``functions.stores.retired_indexes``): ``by_workflow``, the pre-sharding history,
        once ``WFP_LEGACY_HISTORY_INDEX`` is off."""
        return frozenset() if settings.legacy_history_index else frozenset({cls.by_workflow.Meta.index_name})


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, workflow: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = (isinstance(key, dict) and set(key) == {"run_id", "workflow"}
              and key["workflow"] == {"S": workflow} and set(key["run_id"]) == {"S"})
    except (ValueError, binascii.Error, TypeError, AttributeError):
        ok = False
    if not ok:
        raise BadRequest("invalid cursor: pass the 'next_cursor' value of the previous page unchanged")
    return key


class DynamoRunStore:
    """RunStore on the runs table (moto locally and in tests, DynamoDB deployed)."""

    def __init__(self, settings: Settings, blobs: BlobStore | None = None) -> None:
        bind(settings)
        self.shards = Shards.of(settings)
        self.retention = timedelta(days=settings.run_retention_days)
        #: Outputs and logs too large for a record go to the run-data bucket (``blobs``; none: cut).
        self.data = RunData(blobs, settings)

    def _item(self, run: Run) -> RunModel:
        data = run.model_dump(exclude={"output", "logs", "steps", "waiting_for", "callbacks"})
        item = RunModel(**{k: v for k, v in data.items() if k in RunModel.get_attributes() and v is not None})
        kept = self.data.keep(run)
        item.output, item.output_truncated, item.logs = kept.output, kept.output_truncated, kept.logs or None
        item.output_ref, item.logs_ref = kept.output_ref, kept.logs_ref
        item.inputs_redacted = run.inputs_redacted or None
        item.queued = run.queued or None
        item.profiles, item.reruns = run.profiles or None, run.reruns or None
        item.steps = [step.model_dump(mode="json") for step in run.steps] or None
        item.waiting_for = run.waiting_for.model_dump(mode="json") if run.waiting_for else None
        item.callbacks = {name: {**grant.model_dump(mode="json"), "token_hash": grant.token_hash}
                          for name, grant in run.callbacks.items()} or None
        # The record carries what the run cost so far, this write included (functions.core.usage).
        run.usage = usage.charge(run.usage, dynamodb__writes=1)
        item.usage = run.usage or None
        if run.status in OPEN_STATUSES and run.lease_until is not None:
            item.lease_shard, item.lease_until = open_shard(run.run_id, self.shards.open_runs), run.lease_until
        else:  # a finished run leaves the open_runs index
            item.lease_shard = item.lease_until = None
        item.expires_at = run.created_at + self.retention
        item.day_shard = day_shard(run.run_id, self.shards.days)
        item.history_key = history_key(run.workflow, run.run_id, self.shards.history)
        return item

    def create(self, run: Run) -> None:
        if not conditionally(lambda: self._item(run).save(condition=RunModel.run_id.does_not_exist())):
            raise RunExists(f"run {run.run_id} already exists")

    def save(self, run: Run, open_only: bool = False) -> None:
        """Put the whole record, unless it was cancelled meanwhile (``RunCancelled``): a cancelled run's
        result is dropped. One write, conditional: a run finishing still costs two writes in all. With
        ``open_only`` (a durable run's writes), also refused once the record is finished (the sweep timed
        it out, an operator cancelled it)."""
        condition = RunModel.status.is_in(*OPEN_STATUSES) if open_only else RunModel.status != "cancelled"
        if not conditionally(lambda: self._item(run).save(condition=condition)):
            raise RunCancelled(f"run {run.run_id} was cancelled or closed meanwhile: this write is discarded")

    def add_rerun(self, run_id: str, rerun_id: str, seen: list[str], keep: int) -> bool:
        """Link a run to a re-run of it: its ``reruns`` become ``seen`` (as read) + the new id, the newest
        ``keep``. One UpdateItem, only if ``reruns`` is still what was read (False: read it again)."""
        unchanged = RunModel.reruns == seen if seen else RunModel.reruns.does_not_exist()
        return self._update(run_id, [RunModel.reruns.set([*seen, rerun_id][-keep:])],
                            RunModel.run_id.exists() & unchanged) is not None

    @staticmethod
    def _to_run(item: RunModel, cls: type[RunSummary] = Run) -> Any:
        data = {k: v for k, v in item.attribute_values.items() if k in cls.model_fields}
        if cls is Run:
            data["inputs"] = data.get("inputs") or {}
            data["logs"] = list(data.get("logs") or [])
            data["inputs_redacted"] = bool(data.get("inputs_redacted"))
            data["queued"] = bool(data.get("queued"))
            data["profiles"] = dict(data.get("profiles") or {})
            data["reruns"] = list(data.get("reruns") or [])
            data["usage"] = dict(data.get("usage") or {})
            data["steps"] = list(data.get("steps") or [])
            data["callbacks"] = dict(data.get("callbacks") or {})
            if data.get("lease_until") is not None:
                data["lease_until"] = int(data["lease_until"])
        return cls.model_validate(data)

    def get(self, run_id: str, consistent: bool = False) -> Run:
        """The whole run: its record, and what of its output and logs the run-data bucket holds."""
        try:
            item = RunModel.get(run_id, consistent_read=consistent)
        except DoesNotExist:
            raise NotFound(f"no such run: no run with id {run_id!r}") from None
        return self.data.whole(self._to_run(item), item.output_ref, item.logs_ref)

    # ----- leases ------------------------------------------------------------------------------------------
    @staticmethod
    def _update(run_id: str, actions: list[Any], condition: Any) -> RunModel | None:
        """One conditional UpdateItem; the updated item, or None when the condition did not hold."""
        item = RunModel(run_id)
        return item if conditionally(lambda: item.update(actions=actions, condition=condition)) else None

    def claim(self, run_id: str, runner: str, lease_seconds: int, now: datetime | None = None) -> Run | None:
        """Take a queued run (or a running one whose lease passed: its process died) to execute it now."""
        now = now or utcnow()
        epoch = int(now.timestamp())
        item = self._update(run_id, [
            RunModel.status.set("running"), RunModel.attempt.add(1), RunModel.started_at.set(now),
            RunModel.runner.set(runner), RunModel.lease_shard.set(open_shard(run_id, self.shards.open_runs)),
            RunModel.lease_until.set(epoch + lease_seconds),
        ], RunModel.run_id.exists() & ((RunModel.status == "queued")
                                       | ((RunModel.status == "running") & (RunModel.lease_until < epoch))))
        return self._to_run(item) if item is not None else None

    def release(self, run_id: str, attempt: int, lease_until: int, message: str) -> bool:
        """Give a claimed run back to the queue (a platform failure: SQS delivers the message again)."""
        return self._update(run_id, [
            RunModel.status.set("queued"), RunModel.lease_until.set(lease_until),
            RunModel.message.set(message[:1000]),
        ], (RunModel.status == "running") & (RunModel.attempt == attempt)) is not None

    def close(self, run_id: str, status: str, message: str, expect: tuple[str, ...],
              lease_until: int | None = None) -> bool:
        """Finish an open run the platform gave up on (``interrupted``, ``error``) without its process;
        only if it is still in one of ``expect`` (and still has the lease the caller saw)."""
        condition = RunModel.status.is_in(*expect)
        if lease_until is not None:
            condition = condition & (RunModel.lease_until == lease_until)
        now = utcnow()
        return self._update(run_id, [
            RunModel.status.set(status), RunModel.finished_at.set(now), RunModel.message.set(message[:1000]),
            RunModel.error.set(message[:1000]), RunModel.lease_shard.remove(), RunModel.lease_until.remove(),
        ], condition) is not None

    def extend(self, run_id: str, status: str, seen_lease: int, lease_until: int) -> bool:
        """Move an open run's lease (a re-queued run gets a new one); only if nobody moved it meanwhile."""
        return self._update(run_id, [RunModel.lease_until.set(lease_until)],
                            (RunModel.status == status) & (RunModel.lease_until == seen_lease)) is not None

    def open_runs(self, expired_before: int | None = None) -> list[OpenRun]:
        """Open runs from the sparse index, oldest lease first; only those expired before the given
        epoch second when given. One Query per shard (``WFP_OPEN_RUN_SHARDS``, and the pre-sharding key:
        ``functions.core.shards.open_shard_keys``), each paginated by pynamodb, never a Scan."""
        result = []
        for key in open_shard_keys(self.shards.open_runs):
            condition = RunModel.lease_until < expired_before if expired_before is not None else None
            for item in RunModel.open_runs.query(key, range_key_condition=condition):
                result.append(OpenRun(
                    run_id=item.run_id, workflow=item.workflow, status=item.status,
                    lease_until=int(item.lease_until), runner=item.runner, started_at=item.started_at,
                    attempt=int(item.attempt or 0), inputs_redacted=bool(item.inputs_redacted),
                    queued=bool(item.queued)))
        return sorted(result, key=lambda run: (run.lease_until, run.run_id))

    def history(self, workflow: str, limit: int, cursor: str | None = None) -> tuple[list[RunSummary], str | None]:
        """A page of the workflow's runs, newest first: one Query per history shard, side by side (and one
        of by_workflow while it is read), whatever the number of runs stored (``stores.run_search.history``).
        The cursor names the workflow and the last run returned (the shape by_workflow's own key had, so a
        cursor handed out before sharding still works)."""
        before = _decode_cursor(cursor, workflow)["run_id"]["S"] if cursor else None
        page, last = history_of(RunModel, lambda item: self._to_run(item, RunSummary), self.shards, workflow,
                                limit, before)
        return page, _encode_cursor({"run_id": {"S": last}, "workflow": {"S": workflow}} if last else None)

    def search(self, query: RunFilter, limit: int, cursor: str | None = None) -> RunPage:
        """Runs of every workflow, newest first, by day, status or workflow (``functions.stores.run_search``:
        Queries only, at most ``MAX_QUERIES_PER_PAGE`` a page)."""
        return search_runs(RunModel, lambda item: self._to_run(item, RunSummary), query, limit, cursor,
                           shards=self.shards)

    def outcomes_between(self, workflow: str, start: datetime, end: datetime) -> list[tuple[str, str, int | None]]:
        """(run id, status, duration ms) of the runs created in [start, end) (``functions.core.metrics``):
        one Query per history shard (and of by_workflow while it is read), side by side, bounded by run ids
        (their first 12 hex digits are the creation epoch ms), paginated by pynamodb; never a Scan. The
        indexes project status and duration_ms."""
        low, high = (f"{int(moment.timestamp() * 1000):012x}" for moment in (start, end))
        return [(item.run_id, item.status, None if item.duration_ms is None else int(item.duration_ms))
                for item in between(RunModel, self.shards, workflow, low, high) if item.run_id < high]

    def usage_between(self, workflow: str, start: datetime, end: datetime) -> list[tuple[str, dict[str, float]]]:
        """(run id, usage) of the workflow's runs created in [start, end) (``functions.core.metrics`` sums
        them): Queries of the by_day index, which projects ``usage`` (by_workflow does not, and an existing
        index's projection cannot change), bounded by run ids and filtered on the workflow:
        ``WFP_RUN_DAY_SHARDS`` Queries per UTC day of the range, side by side. Runs recorded before usage was
        measured have no ``day_shard`` either: nothing is missed."""
        return usage_of_runs(RunModel, workflow, start, end, self.shards)
