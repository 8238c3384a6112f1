"""The de-duplication state of failure notices, one record per workflow (``functions.stores.notices``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class NoticeState:
    workflow: str
    #: A failure was notified (or folded) and no success came since.
    failing: bool = False
    last_notice_at: datetime | None = None
    #: Failures folded into the last notice's window, not yet reported.
    folded: int = 0
    last_run_id: str | None = None
    last_status: str | None = None
    #: The last notifier or error-workflow failure, and when (visible where the state is read).
    last_error: str | None = None
    last_error_at: datetime | None = None


class NoticeStore(Protocol):
    def get(self, workflow: str) -> NoticeState | None: ...

    def fail(self, workflow: str, run_id: str, status: str, now: datetime, window_seconds: int) -> int | None:
        """Count a failure; when no notice was sent within the window, take the notice (one conditional
        write: of concurrent failures exactly one wins) and return the count folded since the last one;
        ``None``: folded into the current window."""
        ...

    def recover(self, workflow: str, run_id: str, now: datetime) -> int | None:
        """End a failing episode (conditional on ``failing``): the folded count to report, ``None`` when it
        was not failing (or a concurrent success ended it)."""
        ...

    def record_error(self, workflow: str, message: str, now: datetime) -> None: ...
