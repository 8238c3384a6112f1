"""The local durable backend across a dev-server restart: the SDK's runner keeps executions in memory, so
``recover`` gives each open durable run a new execution carrying its completed steps (not run again)
that waits until the same absolute time, or for the same approval."""

from __future__ import annotations

import time

import pytest
from durable_support import count, durable_workflow, finished, waiting

from local_dev.durable import LocalDurableBackend

SLEEPY = '''
def execute(data, tools, ctx):
    ctx.step("before", effect, data, "before")
    ctx.sleep(seconds=3600, name="nap")
    ctx.step("after", effect, data, "after")
    return {"status": "success"}
'''

APPROVAL = '''
def execute(data, tools, ctx):
    ctx.step("before", effect, data, "before")
    answer = ctx.wait_for_approval("go", timeout=3600)
    ctx.step("after", effect, data, "after")
    return {"status": "success", "approved": answer.approved}
'''


def test_a_run_sleeping_through_a_restart_goes_on_until_the_same_time(make_platform, plugin_dir, tmp_path):
    durable_workflow(plugin_dir, "sleepy", SLEEPY)
    before_restart = LocalDurableBackend(skip_time=False)  # waits really wait
    platform = make_platform(plugin_dir.root, parts={"durable": before_restart})
    log = tmp_path / "sleepy.log"
    run = platform.engine.accept("sleepy", {"log": str(log)}, "manual", wait=None).run
    record = waiting(platform, run.run_id)
    assert record.status == "waiting" and record.waiting_for.kind == "time"
    until = record.waiting_for.until
    assert 3590 < (until - record.created_at).total_seconds() < 3610
    before_restart.close()  # the server stops: the runner's executions and timers are gone

    after_restart = LocalDurableBackend(skip_time=True)
    try:
        assert after_restart.recover(platform.core) == [run.run_id]
        execution = f"{run.run_id}-2"
        result = after_restart.wait(execution)
        record = finished(platform, run.run_id)
        assert record.status == "success", record.error
        assert record.durable_execution == execution
        assert count(log, "before") == 1 and count(log, "after") == 1
        assert record.step("nap.until").output == until.isoformat()  # the same absolute time
        assert result.get_wait("nap") is not None  # and it waited for what was left of it
        assert after_restart.recover(platform.core) == []  # nothing open any more
    finally:
        after_restart.close()


def test_a_run_waiting_for_an_approval_through_a_restart_still_takes_it(make_platform, plugin_dir, tmp_path):
    durable_workflow(plugin_dir, "approve", APPROVAL)
    before_restart = LocalDurableBackend(skip_time=False)
    platform = make_platform(plugin_dir.root, parts={"durable": before_restart})
    log = tmp_path / "approve.log"
    run = platform.engine.accept("approve", {"log": str(log)}, "manual", wait=None).run
    expires = waiting(platform, run.run_id).callbacks["go"].expires
    before_restart.close()

    after_restart = LocalDurableBackend(skip_time=True)
    platform.core.__dict__["durable"] = after_restart  # the new server's backend
    try:
        assert after_restart.recover(platform.core) == [run.run_id]
        record = platform.core.runs.get(run.run_id, consistent=True)
        old = record.callbacks["go"]
        for _ in range(200):  # the new execution re-creates the callback under the same name
            record = platform.core.runs.get(run.run_id, consistent=True)
            if record.status == "waiting" and record.callbacks["go"].callback_id != old.callback_id:
                break
            time.sleep(0.02)
        assert record.status == "waiting" and record.callbacks["go"].expires == expires
        answer = platform.client.post(f"/api/runs/{run.run_id}/approvals/go", json={"approve": True})
        assert answer.status_code == 202, answer.text
        record = finished(platform, run.run_id)
        assert record.status == "success" and record.output["approved"] is True
        assert count(log, "before") == 1 and count(log, "after") == 1
    finally:
        after_restart.close()


def test_a_run_with_masked_inputs_cannot_be_recovered_and_says_so(make_platform, plugin_dir, tmp_path):
    durable_workflow(plugin_dir, "secret", SLEEPY, inputs_schema=[{"name": "log"}, {"name": "pw", "type": "password"}])
    before_restart = LocalDurableBackend(skip_time=False)
    platform = make_platform(plugin_dir.root, parts={"durable": before_restart})
    run = platform.engine.accept("secret", {"log": str(tmp_path / "s.log"), "pw": "hunter2"}, "manual",
                                 wait=None).run
    waiting(platform, run.run_id)
    before_restart.close()
    after_restart = LocalDurableBackend(skip_time=True)
    try:
        assert after_restart.recover(platform.core) == []
        record = platform.core.runs.get(run.run_id)
        assert record.status == "interrupted" and "/resume" in record.error
        assert "hunter2" not in record.model_dump_json()
    finally:
        after_restart.close()


def test_a_wait_can_be_skipped_locally(make_platform, plugin_dir, tmp_path):
    durable_workflow(plugin_dir, "sleepy", SLEEPY)
    backend = LocalDurableBackend(skip_time=False)  # a real hour
    platform = make_platform(plugin_dir.root, parts={"durable": backend})
    try:
        log = tmp_path / "skip.log"
        run = platform.engine.accept("sleepy", {"log": str(log)}, "manual", wait=None).run
        assert waiting(platform, run.run_id).waiting_for.name == "nap"
        assert platform.client.post(f"/api/runs/{run.run_id}/skip-wait").status_code == 202
        record = finished(platform, run.run_id, timeout=10)
        assert record.status == "success" and count(log, "after") == 1
        assert platform.client.post(f"/api/runs/{run.run_id}/skip-wait").status_code == 409  # nothing to skip
    finally:
        backend.close()


def test_deployed_a_wait_cannot_be_skipped(make_platform, plugin_dir, durable_backend, tmp_path):
    from functions.core.durable import skip_wait
    from functions.errors import Conflict

    durable_workflow(plugin_dir, "approve", APPROVAL)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("approve", {"log": str(tmp_path / "a.log")}, "manual", wait=None).run
    waiting(platform, run.run_id)
    answer = platform.client.post(f"/api/runs/{run.run_id}/skip-wait")
    assert answer.status_code == 409 and "not sleeping" in answer.json()["error"]

    class Deployed:  # a backend without skip_wait (the Lambda one)
        def start(self, *a): ...

    record = platform.core.runs.get(run.run_id)
    record.waiting_for = record.waiting_for.model_copy(update={"kind": "time"})
    platform.core.runs.save(record)
    platform.core.__dict__["durable"] = Deployed()
    with pytest.raises(Conflict, match="local development only"):
        skip_wait(platform.engine, run.run_id)
