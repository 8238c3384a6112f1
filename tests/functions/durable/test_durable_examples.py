"""The durable examples (plugins/workflows/approval_request, multi_step_report) run locally with no
credentials, on the SDK's runner."""

from __future__ import annotations

import time

from durable_support import finished, waiting


def test_the_approval_example_reminds_then_acts_once_approved(make_platform, durable_backend):
    platform = make_platform(parts={"durable": durable_backend})
    run = platform.engine.accept("approval_request", {"request": "Ship it", "answer_within_seconds": 1}, "manual",
                                 wait=None).run
    record = waiting(platform, run.run_id)
    assert record.waiting_for.name == "approve" and record.waiting_for.prompt == "Approve: Ship it?"
    record = platform.core.runs.get(run.run_id)
    for _ in range(300):  # nobody answers within 1 s: the reminder, then the second approval
        record = platform.core.runs.get(run.run_id, consistent=True)
        if record.waiting_for and record.waiting_for.name == "approve after reminder":
            break
        time.sleep(0.02)
    assert record.step("reminder").status == "success"
    assert any("is still waiting for an approval" in line for line in record.step("reminder").logs)
    answer = platform.client.post(f"/api/runs/{run.run_id}/approvals/approve after reminder",
                                  json={"approve": True, "by": "grace"})
    assert answer.status_code == 202, answer.text
    record = finished(platform, run.run_id)
    assert record.status == "success" and record.message == "done: Ship it"
    assert record.output["data"] == {"approved": True, "by": "grace", "comment": None}


def test_the_multi_step_example_retries_its_flaky_step_and_resumes_from_it(make_platform, durable_backend):
    platform = make_platform(parts={"durable": durable_backend})
    ok = platform.engine.accept("multi_step_report", {"upstream_failures": 2, "retries": 2}, "manual", wait=None).run
    record = finished(platform, ok.run_id)
    assert record.status == "success", record.error
    assert record.step("publish").attempts == 3 and record.output["data"]["attempt"] == 3

    failing = platform.engine.accept("multi_step_report", {"upstream_failures": 1, "retries": 0}, "manual",
                                     wait=None).run
    record = finished(platform, failing.run_id)
    assert record.status == "error" and "upstream unavailable (attempt 1)" in record.error
    collected = record.step("collect").finished
    assert platform.client.post(f"/api/runs/{failing.run_id}/resume").status_code in (200, 202)
    record = finished(platform, failing.run_id)
    assert record.status == "success", record.error
    assert record.output["data"]["attempt"] == 2 and record.durable_execution == f"{failing.run_id}-2"
    assert record.step("collect").finished == collected  # not collected again
