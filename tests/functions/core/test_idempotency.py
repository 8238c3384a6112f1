"""Idempotency-Key: one run per key and payload, even for concurrent duplicates; 409 for another payload."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from support import drain

COUNTED = {"name": "Counted", "triggers": ["manual", "webhook"], "timeout_seconds": 10,
           "inputs_schema": [{"name": "ledger", "type": "text", "required": True},
                             {"name": "amount", "type": "integer", "required": False, "default": 1},
                             {"name": "pin", "type": "password", "required": False}]}
COUNTED_CODE = """
import time

def execute(data, tools):
    time.sleep(0.3)  # long enough for duplicates to overlap
    with open(data["ledger"], "a") as ledger:
        ledger.write(f"{data['amount']}\\n")
    return {"status": "success", "message": f"charged {data['amount']}"}
"""


@pytest.fixture
def shop(make_platform, plugin_dir):
    plugin_dir.workflow("counted", COUNTED, COUNTED_CODE)
    plugin_dir.workflow("other", COUNTED, COUNTED_CODE)
    return make_platform(plugin_dir.root)


def charges(ledger: Path) -> list[str]:
    return ledger.read_text().split() if ledger.exists() else []


def test_the_same_key_and_payload_return_the_same_run_which_runs_once(shop, tmp_path):
    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "order-1001"}
    first = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "amount": 5},
                             headers=headers)
    again = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "amount": 5},
                             headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["run_id"] == first.json()["run_id"] and again.json()["status"] == "success"
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert charges(ledger) == ["5"]
    assert len(shop.engine.runs.history("counted", 10)[0]) == 1


def test_concurrent_duplicates_run_the_workflow_once(shop, tmp_path):
    ledger = tmp_path / "ledger"
    results: list = []
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        results.append(shop.engine.accept("counted", {"ledger": str(ledger), "amount": 7}, "manual", wait=10,
                                          idempotency_key="concurrent-key"))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 8
    assert len({r.run.run_id for r in results}) == 1
    assert sum(not r.replay for r in results) == 1
    assert {r.run.status for r in results} == {"success"}  # the replays waited for the run to finish
    assert charges(ledger) == ["7"]


def test_the_same_key_with_another_payload_is_a_409_and_runs_nothing(shop, tmp_path):
    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "order-1002"}
    assert shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "amount": 5},
                            headers=headers).status_code == 200
    other = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "amount": 6},
                             headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key 'order-1002' was already used for workflow 'counted'" in other.json()["error"]
    via_trigger = shop.client.get("/api/workflows/trigger/counted", params={"ledger": str(ledger), "amount": "5"},
                                  headers=headers)
    assert via_trigger.status_code == 409  # another endpoint is another request
    assert charges(ledger) == ["5"] and len(shop.engine.runs.history("counted", 10)[0]) == 1


def test_secrets_do_not_count_in_the_payload_and_are_not_stored(shop, tmp_path):
    from functions.stores.idempotency import IdempotencyModel

    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "with-pin"}
    first = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "pin": "9911-secret"},
                             headers=headers)
    again = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger), "pin": "other-pin"},
                             headers=headers)
    assert again.status_code == 200 and again.json()["run_id"] == first.json()["run_id"]
    (record,) = list(IdempotencyModel.scan())  # a test may Scan; the platform never does
    assert "9911-secret" not in str(record.attribute_values) and "with-pin" not in record.key


def test_keys_are_scoped_per_workflow(shop, tmp_path):
    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "shared-key"}
    one = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger)}, headers=headers)
    two = shop.client.post("/api/workflows/execute/other", json={"ledger": str(ledger)}, headers=headers)
    assert one.json()["run_id"] != two.json()["run_id"] and charges(ledger) == ["1", "1"]


def test_webhooks_and_async_calls_with_a_key_queue_one_run(shop, tmp_path):
    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "delivery-42"}
    first = shop.client.post("/api/webhooks/counted", json={"ledger": str(ledger)}, headers=headers)
    again = shop.client.post("/api/webhooks/counted", json={"ledger": str(ledger)}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["run_id"] == first.json()["run_id"] and again.json()["replayed"] is True
    assert drain() == 1 and charges(ledger) == ["1"]
    late = shop.client.post("/api/webhooks/counted", json={"ledger": str(ledger)}, headers=headers)
    assert late.status_code == 202 and late.json()["status"] == "success" and drain() == 0


@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 256, "tab\there"])
def test_a_malformed_key_is_refused_before_anything_runs(shop, tmp_path, key):
    """The documented answer for a malformed header: 400, saying what a key must be."""
    response = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(tmp_path / "l")},
                                headers={"Idempotency-Key": key.encode("utf-8")})
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["error"] and "1 to 255 printable ASCII" in response.json()["error"]
    assert shop.engine.runs.history("counted", 10)[0] == []


def test_an_expired_key_starts_a_new_run(shop, tmp_path):
    from functions.core.idempotency import record_key
    from functions.core.runs import utcnow
    from functions.stores.idempotency import IdempotencyModel

    ledger = tmp_path / "ledger"
    headers = {"Idempotency-Key": "yesterday"}
    first = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger)}, headers=headers)
    record = IdempotencyModel.get(record_key("counted", "yesterday"))
    record.expires_at = utcnow() - timedelta(minutes=1)  # past its 24 h, not yet deleted by DynamoDB's TTL
    record.save()
    second = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger)}, headers=headers)
    assert second.json()["run_id"] != first.json()["run_id"] and charges(ledger) == ["1", "1"]


def test_a_key_whose_request_died_before_recording_its_run_is_taken_over(shop, tmp_path, monkeypatch):
    from functions.core import engine as engine_module
    from functions.core.idempotency import fingerprint

    monkeypatch.setattr(engine_module, "RESERVATION_GRACE", timedelta(seconds=0.3))
    ledger = tmp_path / "ledger"
    probe = shop.engine.new_run("counted", "manual", shop.engine.registry.workflow("counted")[1],
                                {"ledger": str(ledger), "amount": 1})
    # a request reserved the key for a run it never created (its process died)
    shop.core.idempotency.reserve("counted", "orphan", fingerprint("manual", probe.inputs), "deadbeef" * 3)
    response = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger)},
                                headers={"Idempotency-Key": "orphan"})
    assert response.status_code == 200 and response.json()["status"] == "success"
    assert charges(ledger) == ["1"]
    replay = shop.client.post("/api/workflows/execute/counted", json={"ledger": str(ledger)},
                              headers={"Idempotency-Key": "orphan"})
    assert replay.json()["run_id"] == response.json()["run_id"] and charges(ledger) == ["1"]


def test_a_key_costs_one_more_write_and_no_read(shop, tmp_path, aws_calls):
    shop.client.get("/api/workflows")
    aws_calls.clear()
    shop.client.post("/api/workflows/execute/counted", json={"ledger": str(tmp_path / "l")},
                     headers={"Idempotency-Key": "cost"})
    assert [op for service, op, _ in aws_calls if service == "dynamodb"] == ["PutItem", "PutItem", "PutItem"]
