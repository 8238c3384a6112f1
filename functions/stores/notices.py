"""Failure notices' de-duplication state: one item per workflow that ever had a failure notified.

``fail`` is one conditional UpdateItem that takes the notice when none was sent within the window (of
concurrent failures exactly one wins it; the others fold: a second UpdateItem adds them to ``folded``).
Taking the notice copies ``folded`` into ``reported`` (DynamoDB evaluates every right-hand side on the
item before the update, so ``SET reported = folded, folded = 0`` moves the count in one write) and returns
it. ``recover`` is conditional on ``failing``: of concurrent successes one reports the recovery. Nothing is
read or written for a workflow without ``on_error`` (``functions.core.notify.failures``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from functions.core.notify.state import NoticeState
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register


@register
class NoticeModel(Model):
    class Meta:
        # get: GetItem; fail/recover/record_error: UpdateItem (conditional).
        table_name = TableName("notices_table", operations=("GetItem", "UpdateItem"))
        billing_mode = "PAY_PER_REQUEST"

    workflow = UnicodeAttribute(hash_key=True)
    failing = BooleanAttribute(null=True)
    last_notice_at = UTCDateTimeAttribute(null=True)
    folded = NumberAttribute(null=True)
    #: What the last notice reported as folded (written by the same update that takes the notice).
    reported = NumberAttribute(null=True)
    last_run_id = UnicodeAttribute(null=True)
    last_status = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    last_error_at = UTCDateTimeAttribute(null=True)


def _state(item: NoticeModel) -> NoticeState:
    return NoticeState(workflow=item.workflow, failing=bool(item.failing), last_notice_at=item.last_notice_at,
                       folded=int(item.folded or 0), last_run_id=item.last_run_id, last_status=item.last_status,
                       last_error=item.last_error, last_error_at=item.last_error_at)


class DynamoNoticeStore:
    """NoticeStore on the notices table."""

    def __init__(self, settings: Settings) -> None:
        bind(settings)

    def get(self, workflow: str) -> NoticeState | None:
        """Strongly consistent: a success right after a failure notice sees it."""
        try:
            return _state(NoticeModel.get(workflow, consistent_read=True))
        except DoesNotExist:
            return None

    def fail(self, workflow: str, run_id: str, status: str, now: datetime, window_seconds: int) -> int | None:
        item = NoticeModel(workflow=workflow)
        seen = [NoticeModel.failing.set(True), NoticeModel.last_run_id.set(run_id),
                NoticeModel.last_status.set(status)]
        cutoff = now - timedelta(seconds=window_seconds)
        if conditionally(lambda: item.update(
                actions=[*seen, NoticeModel.last_notice_at.set(now),
                         NoticeModel.reported.set(NoticeModel.folded | 0), NoticeModel.folded.set(0)],
                condition=NoticeModel.last_notice_at.does_not_exist() | (NoticeModel.last_notice_at <= cutoff))):
            return int(item.reported or 0)
        item.update(actions=[*seen, NoticeModel.folded.add(1)])
        return None

    def recover(self, workflow: str, run_id: str, now: datetime) -> int | None:
        item = NoticeModel(workflow=workflow)
        if conditionally(lambda: item.update(
                actions=[NoticeModel.failing.set(False), NoticeModel.reported.set(NoticeModel.folded | 0),
                         NoticeModel.folded.set(0), NoticeModel.last_notice_at.remove(),
                         NoticeModel.last_run_id.set(run_id), NoticeModel.last_status.set("success")],
                condition=NoticeModel.failing == True)):
            return int(item.reported or 0)
        return None

    def record_error(self, workflow: str, message: str, now: datetime) -> None:
        NoticeModel(workflow=workflow).update(actions=[NoticeModel.last_error.set(message),
                                                       NoticeModel.last_error_at.set(now)])
