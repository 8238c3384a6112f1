"""``GET /api/runs``: runs of every workflow by status, workflow, trigger, window and run id, newest first
across pages, Query and GetItem requests only (never a Scan), parameters refused with clear messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from run_seed import DAYS, expected, seed

from functions.core import run_search


@pytest.fixture
def seeded(make_platform, aws_calls):
    platform = make_platform()
    now = datetime.now(timezone.utc)
    written = seed(platform.core.runs, count=120, now=now)
    aws_calls.clear()
    return platform, written, now, aws_calls


def walk(client, calls, **params):
    ids, cursor = [], None
    for _ in range(100):
        start = len(calls)
        response = client.get("/api/runs", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        operations = [op for service, op, _ in calls[start:] if service == "dynamodb"]
        assert set(operations) <= {"Query"} and len(operations) <= run_search.MAX_QUERIES_PER_PAGE
        assert len(body["runs"]) <= int(params.get("limit", 20))
        ids += [r["run_id"] for r in body["runs"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids
    raise AssertionError("no last page")


def test_filters_and_pages_through_the_api(seeded):
    platform, written, now, calls = seeded
    since, until = now - timedelta(days=DAYS + 1), now
    window = {"since": since.isoformat(), "until": until.isoformat()}
    for filters in ({}, {"status": "error"}, {"workflow": "alpha"}, {"trigger": "webhook"},
                    {"status": "success", "workflow": "beta", "trigger": "schedule"}):
        ids = walk(platform.client, calls, limit=7, **window, **filters)
        assert ids == expected(written, since, until, **filters), filters
    # the default window: the last 7 days, and the page size of a workflow's history
    body = platform.client.get("/api/runs").json()
    assert [r["run_id"] for r in body["runs"]] == expected(written, now - timedelta(days=7), now)[:20]
    assert body["next_cursor"] and {"workflow", "status", "trigger", "created_at"} <= set(body["runs"][0])


def test_dates_are_whole_utc_days(seeded):
    platform, written, now, calls = seeded
    day = (now - timedelta(days=3)).date()
    ids = walk(platform.client, calls, since=day.isoformat(), until=day.isoformat(), limit=100)
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    assert ids == expected(written, start, start + timedelta(days=1, microseconds=-1)) and ids


def test_a_run_id_is_one_get_item(seeded):
    platform, written, now, calls = seeded
    old = min(written, key=lambda r: r.run_id)  # older than the default window: found all the same
    calls.clear()
    body = platform.client.get("/api/runs", params={"run_id": old.run_id}).json()
    assert [r["run_id"] for r in body["runs"]] == [old.run_id]
    assert [op for _, op, _ in calls] == ["GetItem"]
    other = "success" if old.status != "success" else "error"
    assert platform.client.get("/api/runs", params={"run_id": old.run_id, "status": other}).json()["runs"] == []
    assert platform.client.get("/api/runs", params={"run_id": "0" * 24}).json()["runs"] == []


@pytest.mark.parametrize("params, status, message", [
    ({"since": "2026-12-05", "until": "2026-12-01"}, 400, "is after until"),
    ({"since": "2026-02-30"}, 400, "since"),
    ({"until": "yesterday"}, 422, "until"),
    ({"cursor": "not-a-cursor"}, 400, "invalid cursor"),
    ({"limit": "0"}, 422, "limit"),
    ({"limit": "101"}, 422, "limit"),
    ({"status": "exploded"}, 422, "status"),
    ({"workflow": "Not A Name"}, 422, "workflow"),
    ({"run_id": "xyz"}, 422, "run_id"),
])
def test_bad_parameters_are_refused_with_what_is_wrong(platform, params, status, message):
    response = platform.client.get("/api/runs", params=params)
    assert response.status_code == status, response.text
    assert message in response.text


def test_the_openapi_document_declares_the_parameters(platform):
    operation = platform.client.get("/openapi.json").json()["paths"]["/api/runs"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"status", "workflow", "trigger", "since", "until", "run_id", "limit", "cursor"}
    status_schema = parameters["status"]["schema"]["anyOf"][0]
    assert {"error", "success", "queued", "running"} <= set(status_schema["enum"])
    assert parameters["since"]["schema"]["anyOf"][0]["pattern"] == run_search.MOMENT_PATTERN
    assert {"200", "400", "422"} <= set(operation["responses"])
