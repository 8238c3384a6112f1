"""Each model declares the DynamoDB operations its store issues (``TableName(..., operations=...)``) and
the stack grants exactly those: here every public method of every store runs against moto, through every
branch that calls DynamoDB, and the operations botocore sees per table must equal the declared ones."""

from __future__ import annotations

import inspect
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest

from functions.core.runs import Run, new_run_id, utcnow
from functions.errors import Conflict, NotFound
from functions.settings import Settings
from functions.stores import all_models
from functions.stores import oauth as oauth_store
from functions.stores.base import OPERATIONS, TableName
from functions.stores.idempotency import DynamoIdempotencyStore
from functions.stores.metrics import DynamoMetricsStore
from functions.stores.notices import DynamoNoticeStore
from functions.stores.oauth import OAuthStore
from functions.stores.runs import DynamoRunStore
from functions.stores.schedules import DynamoScheduleStore

STORES = (DynamoRunStore, DynamoScheduleStore, DynamoIdempotencyStore, OAuthStore, DynamoMetricsStore,
          DynamoNoticeStore)


def table_names_of(params: dict[str, Any]) -> list[str]:
    """The tables a request is about: ``TableName``, or the keys of a batch's ``RequestItems``."""
    if "TableName" in params:
        return [params["TableName"]]
    return list(params.get("RequestItems", {}))


class Exercised:
    """Wraps the public methods of the stores: which ones the exercise called, and the AWS calls made
    while one of them ran (the test's own calls, to set a case up, are not the stores')."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.calls = calls
        self.attributed: list[tuple[str, str, dict[str, Any]]] = []
        self.depth = 0
        self.called: set[str] = set()
        self.public: set[str] = set()
        for cls in STORES:
            for name, member in vars(cls).items():
                if not name.startswith("_") and inspect.isfunction(member):
                    self._wrap(monkeypatch, cls, name, f"{cls.__name__}.{name}")

    def _wrap(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        self.public.add(label)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.called.add(label)
            if self.depth:  # called by another store method (reserve retries itself): counted there
                return original(*args, **kwargs)
            self.depth, start = 1, len(self.calls)
            try:
                return original(*args, **kwargs)
            finally:
                self.depth = 0
                self.attributed.extend(self.calls[start:])

        monkeypatch.setattr(owner, name, wrapper)


def run(status: str = "queued", **fields: Any) -> Run:
    return Run(run_id=new_run_id(), workflow="w", trigger="manual", status=status, created_at=utcnow(), **fields)


def exercise_runs(settings: Settings) -> None:
    store = DynamoRunStore(settings)
    queued = run(lease_until=int(utcnow().timestamp()) + 60)
    store.create(queued)
    with pytest.raises(Conflict):
        store.create(queued)
    assert store.get(queued.run_id, consistent=True).status == "queued"
    with pytest.raises(NotFound):
        store.get("missing")
    claimed = store.claim(queued.run_id, "host:1", 60)
    assert claimed is not None and claimed.status == "running"
    assert store.claim(queued.run_id, "host:2", 60) is None  # taken already
    assert store.release(queued.run_id, claimed.attempt, claimed.lease_until or 0, "retry")
    assert store.extend(queued.run_id, "queued", claimed.lease_until or 0, (claimed.lease_until or 0) + 5)
    assert [r.run_id for r in store.open_runs()] == [queued.run_id]
    assert store.open_runs(expired_before=0) == []
    assert store.close(queued.run_id, "interrupted", "lost", ("queued", "running"))
    assert not store.close(queued.run_id, "error", "again", ("running",), lease_until=1)
    measured = run(status="success", usage={"dynamodb.writes": 2.0})
    store.save(measured)
    page, cursor = store.history("w", 1)
    assert len(page) == 1 and cursor
    store.history("w", 1, cursor)
    from functions.core.run_search import RunFilter

    assert store.search(RunFilter(since=utcnow() - timedelta(days=1), until=utcnow()), 5).runs
    assert len(store.outcomes_between("w", utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1))) == 2
    [(run_id, measured_usage)] = store.usage_between("w", utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1))
    assert run_id == measured.run_id and measured_usage["dynamodb.writes"] == 2.0
    # re-run links (a conditional UpdateItem) and the save that a cancel refuses (a conditional PutItem)
    assert store.add_rerun(queued.run_id, "ab12", [], 20) and not store.add_rerun(queued.run_id, "cd34", [], 20)
    cancelled = run(lease_until=int(utcnow().timestamp()) + 60).model_copy(update={"workflow": "w-cancelled"})
    store.create(cancelled)
    assert store.close(cancelled.run_id, "cancelled", "by request", ("queued",))
    from functions.core.runs import RunCancelled

    with pytest.raises(RunCancelled):
        store.save(cancelled.model_copy(update={"status": "success"}))


def exercise_schedules(settings: Settings) -> None:
    store = DynamoScheduleStore(settings)
    assert store.get("w").enabled is True  # no item yet
    assert store.set_enabled("w", False).enabled is False
    with pytest.raises(Conflict):
        store.set_enabled("w", False)
    store.set_enabled("w", True)
    older, newer = run(status="success"), run(status="success")  # run ids sort by creation time
    store.record("w", newer, utcnow())
    store.record("w", older, utcnow())  # older than the recorded one: the condition refuses it
    assert store.get("w").last_run_id == newer.run_id
    assert set(store.get_many(["w", "other"])) == {"w", "other"}


def exercise_oauth(settings: Settings) -> None:
    store = OAuthStore(settings)
    sign_in = oauth_store.PendingSignIn(oauth_store.new_state(), "google", "google_calendar", "calendar", "TEST",
                                        "http://127.0.0.1/oauth/google/callback", "verifier")
    store.save_state(sign_in)
    assert store.consume_state(sign_in.state).tool == "google_calendar"
    for state, reason in ((sign_in.state, "used"), ("unknown", "unknown"), (None, "missing")):
        with pytest.raises(oauth_store.StateError) as refused:
            store.consume_state(state)
        assert refused.value.reason == reason
    expired = oauth_store.PendingSignIn(oauth_store.new_state(), "google", "google_drive", "drive", "TEST",
                                        "http://127.0.0.1/cb", None)
    store.save_state(expired)
    item = oauth_store.OAuthStateModel.get(expired.state)  # the test's own calls: not attributed
    item.update(actions=[oauth_store.OAuthStateModel.expires_at.set(utcnow() - timedelta(seconds=1))])
    with pytest.raises(oauth_store.StateError):
        store.consume_state(expired.state)
    assert store.get_token("google_calendar", "TEST") is None
    store.save_token(oauth_store.TokenRecord(tool="google_calendar", profile="TEST", provider="google",
                                                   access_token="a", refresh_token="r"))
    assert store.get_token("google_calendar", "TEST").refresh_token == "r"


def exercise_idempotency(settings: Settings) -> None:
    store = DynamoIdempotencyStore(settings)
    assert store.reserve("w", "key-1", "print", "run-1") is None
    held = store.reserve("w", "key-1", "print", "run-2")
    assert held is not None and held.run_id == "run-1"
    assert store.take_over("w", "key-1", held, "run-3") is True
    assert store.take_over("w", "key-1", held, "run-4") is False  # it points at run-3 now


def exercise_metrics(settings: Settings) -> None:
    from functions.core.metrics import Aggregate, DayRecord

    store = DynamoMetricsStore(settings)
    day = utcnow().date()
    assert store.days("w", day, day) == {}
    assert store.save_day("w", day, DayRecord({1, 2}, {2: Aggregate({"success": 1})}))
    assert not store.save_day("w", day, DayRecord({1}))  # covers fewer hours than the stored item
    assert store.days("w", day, day)[day].covered == {1, 2}


def exercise_notices(settings: Settings) -> None:
    store = DynamoNoticeStore(settings)
    now = utcnow()
    assert store.get("w") is None
    assert store.recover("w", "r0", now) is None  # never failed
    assert store.fail("w", "r1", "error", now, 3600) == 0  # takes the notice
    assert store.fail("w", "r2", "error", now, 3600) is None  # folded into its window
    assert store.fail("w", "r3", "timed_out", now + timedelta(hours=2), 3600) == 1  # the next window's notice
    store.record_error("w", "slack (OPS): refused", now)
    state = store.get("w")
    assert state.failing and state.last_status == "timed_out" and state.last_error == "slack (OPS): refused"
    assert store.recover("w", "r4", now) == 0
    assert store.get("w").failing is False


def test_each_table_is_used_with_exactly_the_operations_its_model_declares(aws_calls, monkeypatch):
    from functions.stores import create_tables

    settings = Settings()
    create_tables(settings)
    exercised = Exercised(monkeypatch, aws_calls)
    aws_calls.clear()
    exercise_runs(settings)
    exercise_schedules(settings)
    exercise_idempotency(settings)
    exercise_oauth(settings)
    exercise_metrics(settings)
    exercise_notices(settings)

    assert exercised.public - exercised.called == set(), "a store method the test does not exercise"
    setting_of = {str(getattr(settings, m.Meta.__dict__["table_name"].setting)): m.Meta.__dict__["table_name"]
                  for m in all_models()}
    used: dict[str, set[str]] = defaultdict(set)
    assert exercised.attributed
    for service, operation, params in exercised.attributed:
        assert service == "dynamodb", (service, operation)
        for table in table_names_of(params):
            used[setting_of[table].setting].add(operation)
    declared = {name.setting: set(name.operations) for name in setting_of.values()}
    assert dict(used) == declared
    assert "DescribeTable" not in set().union(*used.values())  # pynamodb builds requests from the model


def test_nothing_scans_or_deletes():
    declared = set().union(*(m.Meta.__dict__["table_name"].operations for m in all_models()))
    assert declared.isdisjoint({"Scan", "DeleteItem", "BatchWriteItem"}), declared
    assert not hasattr(oauth_store.OAuthStore, "delete_token")


@pytest.mark.parametrize("operations, message", [
    ((), "declare the DynamoDB operations"),
    (("GetItem", "Getitem"), "unknown DynamoDB operation"),
])
def test_a_table_name_needs_known_operations(operations, message):
    with pytest.raises(ValueError, match=message):
        TableName("runs_table", operations=operations)
    assert TableName("runs_table", operations=("GetItem",)).operations == {"GetItem"}
    assert {"GetItem", "Query"} <= OPERATIONS
