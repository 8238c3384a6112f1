"""The runs table: the pynamodb model of a run record and ``DynamoRunStore``, the ``RunStore`` over it.

Every accepted trigger becomes a run record before the workflow starts (``create``) and is completed
after (``save``): two writes per sync run. History is a Query on the ``by_workflow`` index, newest
first (run ids sort by creation time), paginated with an opaque cursor; never a Scan. The index
projects only the summary fields, so a history page never drags outputs and logs along.

Imported on first use of the store (``functions.engine.Engine.store``): pynamodb imports botocore
(~100 ms at a cold start), which requests that never touch a run (/docs, the workflow list, the
dashboard's static files) do not need.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
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
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from .errors import BadRequest, Conflict, NotFound
from .runs import SUMMARY_FIELDS, Run, RunSummary
from .settings import get_settings
from .tables import TableName


class WorkflowIndex(GlobalSecondaryIndex["RunModel"]):
    class Meta:
        index_name = "by_workflow"
        projection = IncludeProjection(SUMMARY_FIELDS)

    workflow = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)


class RunModel(Model):
    class Meta:
        table_name = TableName("runs_table")
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
    error = UnicodeAttribute(null=True)
    traceback = UnicodeAttribute(null=True)
    logs = ListAttribute(of=UnicodeAttribute, null=True)
    scheduled_time = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    by_workflow = WorkflowIndex()


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

    def _item(self, run: Run) -> RunModel:
        data = run.model_dump()
        item = RunModel(**{k: v for k, v in data.items() if k in RunModel.get_attributes() and v is not None})
        item.logs = run.logs or None
        item.expires_at = run.created_at + timedelta(days=get_settings().run_retention_days)
        return item

    def create(self, run: Run) -> None:
        try:
            self._item(run).save(condition=RunModel.run_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"run {run.run_id} already exists") from None
            raise

    def save(self, run: Run) -> None:
        self._item(run).save()

    @staticmethod
    def _to_run(item: RunModel, cls: type[RunSummary] = Run) -> Any:
        data = {k: v for k, v in item.attribute_values.items() if k in cls.model_fields}
        if cls is Run:
            data["inputs"] = data.get("inputs") or {}
            data["logs"] = list(data.get("logs") or [])
        return cls.model_validate(data)

    def get(self, run_id: str) -> Run:
        try:
            return self._to_run(RunModel.get(run_id))
        except DoesNotExist:
            raise NotFound(f"no run with id {run_id!r}") from None

    def history(self, workflow: str, limit: int, cursor: str | None = None) -> tuple[list[RunSummary], str | None]:
        result = RunModel.by_workflow.query(
            workflow, scan_index_forward=False, limit=limit,
            last_evaluated_key=_decode_cursor(cursor, workflow) if cursor else None,
        )
        page = [self._to_run(item, RunSummary) for item in result]
        return page, _encode_cursor(result.last_evaluated_key)
