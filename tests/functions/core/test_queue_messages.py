"""The queued-run message format (functions.core.message)."""

from __future__ import annotations

import json

import pytest

from functions.core.message import QueuedRun, QueueMessageError


def test_a_message_round_trips():
    message = QueuedRun("0123abcd", "hello_world", {"name": "Ada", "when": "2026-01-01", "n": 3})
    body = message.encode()
    assert json.loads(body) == {"v": 1, "run_id": "0123abcd", "workflow": "hello_world",
                                "data": {"name": "Ada", "when": "2026-01-01", "n": 3}}
    assert QueuedRun.decode(body) == message


@pytest.mark.parametrize("body,reason", [
    ("Hello from SQS!", "not JSON"),
    ("[1, 2]", "not a version 1"),
    ('{"v": 2, "run_id": "a", "workflow": "w", "data": {}}', "not a version 1"),
    ('{"v": 1, "run_id": 5, "workflow": "w", "data": {}}', "string 'run_id'"),
    ('{"v": 1, "run_id": "a", "workflow": "w", "data": []}', "object 'data'"),
])
def test_what_is_not_a_queued_run_is_refused_with_the_reason(body, reason):
    with pytest.raises(QueueMessageError, match=reason):
        QueuedRun.decode(body)
