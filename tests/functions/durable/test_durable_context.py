"""A durable workflow's ctx on the SDK's runner (virtual clock: no test sleeps through a wait): steps run
once across replays, retries as declared (never the SDK's default 6), sleeps keep their absolute time,
approvals, resume from the failed step, the sweep, the registry rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from durable_support import count, durable_workflow, finished, waiting

STEPS = '''
def execute(data, tools, ctx):
    one = ctx.step("one", effect, data, "one")
    ctx.sleep(seconds=3600)
    two = ctx.step("two", effect, data, "two")
    ctx.sleep(seconds=86400, name="a-day")
    three = ctx.step("three", lambda: effect(data, "three") and {"n": 3})
    print("all done")
    return {"status": "success", "steps": [one, two, three["n"]]}
'''


def test_a_step_runs_once_across_replays_and_the_run_records_each(make_platform, plugin_dir, durable_backend,
                                                                   tmp_path):
    durable_workflow(plugin_dir, "steps", STEPS)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "effects.log"
    run = platform.engine.accept("steps", {"log": str(log)}, "manual", wait=None).run
    assert run.durable_execution == f"{run.run_id}-1" and run.status == "running"
    result = durable_backend.wait(run.durable_execution)
    record = finished(platform, run.run_id)
    assert record.status == "success", record.error
    assert record.output == {"status": "success", "steps": ["one", "two", 3]}
    # replayed after each of the 2 waits: the code before them ran again, the steps did not
    assert [count(log, what) for what in ("one", "two", "three")] == [1, 1, 1]
    assert result.get_step("one").attempt <= 1
    names = [(step.name, step.kind, step.status) for step in record.steps]
    assert names == [("one", "step", "success"), ("sleep-1.until", "sleep", "success"), ("sleep-1", "sleep", "success"),
                     ("two", "step", "success"), ("a-day.until", "sleep", "success"), ("a-day", "sleep", "success"),
                     ("three", "step", "success")]
    until = record.step("a-day.until").output
    assert until.startswith(str(record.created_at.year))
    assert record.step("one").output == "one" and record.step("one").attempts == 1
    assert record.lease_until is None and record.waiting_for is None
    assert any("all done" in line for line in record.logs)


RETRIES = '''
def execute(data, tools, ctx):
    def flaky():
        effect(data, "try")
        if effects(data, "try") < 3:
            raise ConnectionError("not yet")
        return "ok"
    got = ctx.step("flaky", flaky, retries=data.get("retries", 2), backoff=30)
    return {"status": "success", "got": got}
'''


def test_a_failing_step_is_retried_as_declared_and_no_more(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "flaky", RETRIES, inputs_schema=[{"name": "log"}, {"name": "retries", "type": "integer"}])
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    ok_log, failing_log = tmp_path / "ok.log", tmp_path / "failing.log"
    ok = platform.engine.accept("flaky", {"log": str(ok_log), "retries": 2}, "manual", wait=None).run
    durable_backend.wait(ok.durable_execution)
    record = finished(platform, ok.run_id)
    assert record.status == "success" and record.output["got"] == "ok"
    assert count(ok_log, "try") == 3 and record.step("flaky").attempts == 3

    failing = platform.engine.accept("flaky", {"log": str(failing_log), "retries": 1}, "manual", wait=None).run
    durable_backend.wait(failing.durable_execution)
    record = finished(platform, failing.run_id)
    assert record.status == "error"
    assert count(failing_log, "try") == 2  # 1 + 1 retry: not the SDK's default 6 attempts
    assert record.error == "step 'flaky' failed after 2 attempt(s): ConnectionError: not yet"
    assert record.step("flaky").status == "error" and record.step("flaky").attempts == 2


def test_a_step_result_json_cannot_hold_is_a_clear_error_and_not_retried(make_platform, plugin_dir,
                                                                          durable_backend, tmp_path):
    durable_workflow(plugin_dir, "bad", '''
def execute(data, tools, ctx):
    ctx.step("object", lambda: effect(data, "ran") and object(), retries=3)
    return {"status": "success"}
''')
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "bad.log"
    run = platform.engine.accept("bad", {"log": str(log)}, "manual", wait=None).run
    durable_backend.wait(run.durable_execution)
    record = finished(platform, run.run_id)
    assert record.status == "error"
    assert "returned a object, which cannot be checkpointed" in record.error
    assert count(log, "ran") == 1


APPROVAL = '''
def execute(data, tools, ctx):
    ctx.step("request", effect, data, "request")
    answer = ctx.wait_for_approval("go", prompt="Ship it?", timeout=3600)
    if not answer.approved:
        return {"status": "error", "message": f"rejected by {answer.by}: {answer.comment}"}
    ctx.step("act", effect, data, "act")
    return {"status": "success", "by": answer.by, "comment": answer.comment}
'''


def test_an_approval_waits_for_a_person_then_goes_on_once(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "approve", APPROVAL)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "approve.log"
    run = platform.engine.accept("approve", {"log": str(log)}, "manual", wait=None).run
    record = waiting(platform, run.run_id)
    assert record.status == "waiting"
    assert record.waiting_for.kind == "approval" and record.waiting_for.name == "go"
    assert record.waiting_for.prompt == "Ship it?"
    assert record.waiting_for.until is not None
    assert record.callbacks["go"].kind == "approval" and record.callbacks["go"].status == "waiting"
    shown = platform.client.get(f"/api/runs/{run.run_id}").json()
    assert shown["status"] == "waiting" and shown["waiting_for"]["kind"] == "approval"
    assert "token_hash" not in shown["callbacks"]["go"]

    assert platform.client.post(f"/api/runs/{run.run_id}/approvals/nope", json={"approve": True}).status_code == 404
    answered = platform.client.post(f"/api/runs/{run.run_id}/approvals/go",
                                    json={"approve": True, "comment": "looks good", "by": "ada"})
    assert answered.status_code == 202, answered.text
    record = finished(platform, run.run_id)
    assert record.status == "success" and record.output["by"] == "ada" and record.output["comment"] == "looks good"
    assert record.callbacks["go"].status == "answered"
    assert record.step("go").output == {"approved": True, "comment": "looks good", "by": "ada"}
    assert count(log, "request") == 1 and count(log, "act") == 1
    again = platform.client.post(f"/api/runs/{run.run_id}/approvals/go", json={"approve": False})
    assert again.status_code == 409
    assert platform.core.runs.get(run.run_id).status == "success"


def test_a_rejection_is_returned_to_the_workflow(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "approve", APPROVAL)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "reject.log"
    run = platform.engine.accept("approve", {"log": str(log)}, "manual", wait=None).run
    waiting(platform, run.run_id)
    assert platform.client.post(f"/api/runs/{run.run_id}/approvals/go",
                                json={"approve": False, "comment": "not now"}).status_code == 202
    record = finished(platform, run.run_id)
    assert record.status == "error" and record.error == "rejected by admin: not now"
    assert count(log, "act") == 0


def test_an_approval_not_given_in_time_is_a_clear_error(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "late", '''
def execute(data, tools, ctx):
    ctx.wait_for_approval("sign-off", timeout=1)
    return {"status": "success"}
''')
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("late", {"log": str(tmp_path / "late.log")}, "manual", wait=None).run
    record = finished(platform, run.run_id)
    assert record.status == "error"
    assert record.error == "approval 'sign-off' got no answer within its timeout"
    assert record.callbacks["sign-off"].status == "timed_out"
    assert platform.client.post(f"/api/runs/{run.run_id}/approvals/sign-off",
                                json={"approve": True}).status_code == 404


RESUMABLE = '''
def execute(data, tools, ctx):
    first = ctx.step("charge", effect, data, "charge")
    ctx.sleep(seconds=600, name="settle")
    def ship():
        effect(data, "ship")
        if effects(data, "fixed") == 0:
            raise RuntimeError("carrier down")
        return "shipped"
    second = ctx.step("ship", ship)
    return {"status": "success", "first": first, "second": second}
'''


def test_a_failed_durable_run_resumes_from_the_failed_step(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "order", RESUMABLE)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "order.log"
    run = platform.engine.accept("order", {"log": str(log)}, "manual", wait=None).run
    record = finished(platform, run.run_id)
    assert record.status == "error" and "carrier down" in record.error
    log.write_text(log.read_text() + "fixed\n")
    before = count(log, "charge")
    resumed = platform.client.post(f"/api/runs/{run.run_id}/resume")
    assert resumed.status_code in (200, 202), resumed.text
    record = finished(platform, run.run_id)
    assert record.status == "success", record.error
    assert record.durable_execution == f"{run.run_id}-2" and record.attempt == 2
    assert record.output == {"status": "success", "first": "charge", "second": "shipped"}
    assert count(log, "charge") == before  # the completed step did not run again
    assert count(log, "ship") == 2  # the failed one did: once failing, once after the fix
    assert platform.client.post(f"/api/runs/{run.run_id}/resume").status_code == 409  # not failed any more


def test_only_a_failed_durable_run_resumes(platform):
    run = platform.run("hello_world", {"name": "Ada"})
    answer = platform.client.post(f"/api/runs/{run.run_id}/resume")
    assert answer.status_code == 409 and "not a durable run" in answer.json()["error"]
    assert platform.client.post("/api/runs/abc123/resume").status_code == 404


def test_the_sweep_times_out_a_run_waiting_past_its_durable_timeout(make_platform, plugin_dir, durable_backend,
                                                                    tmp_path):
    from functions.core.runs import utcnow
    from functions.core.sweep import sweep

    durable_workflow(plugin_dir, "approve", APPROVAL, durable_timeout_seconds=120)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("approve", {"log": str(tmp_path / "s.log")}, "manual", wait=None).run
    waiting(platform, run.run_id)
    settings = platform.core.settings
    assert sweep(platform.core.runs, settings, now=utcnow()).interrupted == []  # its lease holds
    later = utcnow() + timedelta(seconds=120 + settings.lease_grace_seconds + 5)
    report = sweep(platform.core.runs, settings, now=later, dead=lambda _: True)
    assert report.interrupted == [run.run_id]
    record = platform.core.runs.get(run.run_id)
    assert record.status == "timed_out" and "durable_timeout_seconds" in record.error
    # the execution's later writes are refused: an approval now is a 404 and the record stays closed
    assert platform.client.post(f"/api/runs/{run.run_id}/approvals/go", json={"approve": True}).status_code == 404
    assert platform.core.runs.get(run.run_id).status == "timed_out"


def test_a_durable_workflow_without_a_ctx_parameter_is_refused(make_platform, plugin_dir):
    plugin_dir.workflow("two_params", {"durable": True}, "def execute(data, tools):\n    return {}\n")
    platform = make_platform(plugin_dir.root)
    answer = platform.client.post("/api/workflows/execute/two_params", json={})
    assert answer.status_code == 409
    assert "def execute(data, tools, ctx)" in answer.json()["error"]


def test_without_a_durable_backend_a_durable_run_is_refused_before_anything_is_written(make_platform, plugin_dir):
    plugin_dir.workflow("d", {"durable": True}, "def execute(data, tools, ctx):\n    return {}\n")
    platform = make_platform(plugin_dir.root)  # no WFP_DURABLE_FUNCTION, no local backend
    answer = platform.client.post("/api/workflows/execute/d", json={})
    assert answer.status_code == 503 and "WFP_DURABLE_FUNCTION" in answer.json()["error"]
    assert platform.client.get("/api/workflows/d/runs").json().get("runs", []) == []


@pytest.mark.parametrize("trigger", ["webhook", "schedule"])
def test_every_trigger_starts_a_durable_execution(make_platform, plugin_dir, durable_backend, tmp_path, trigger):
    durable_workflow(plugin_dir, "any", STEPS, triggers=["manual", "webhook", "schedule"], schedule="0 9 * * *",
                     webhook_auth="none")
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / f"{trigger}.log"
    if trigger == "webhook":
        answer = platform.client.post("/api/webhooks/any", json={"log": str(log)})
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["run_id"]
    else:
        from functions.core.engine import UNTIL_DONE

        run_id = platform.engine.accept("any", {"log": str(log)}, "schedule", wait=UNTIL_DONE,
                                        run_id="0" * 12 + "abcdef123456").run.run_id
    record = finished(platform, run_id)
    assert record.status == "success" and record.trigger == trigger
    assert count(log, "one") == 1


def test_secrets_never_reach_a_durable_runs_record(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "secretive", '''
def execute(data, tools, ctx):
    echoed = ctx.step("echo", lambda: print("using", data["api_key"]) or {"key": data["api_key"]})
    return {"status": "success", "echoed": echoed, "message": "key " + data["api_key"]}
''', inputs_schema=[{"name": "log"}, {"name": "api_key", "type": "password"}])
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    run = platform.engine.accept("secretive", {"log": str(tmp_path / "x"), "api_key": "sk-live-123456"}, "manual",
                                 wait=None).run
    record = finished(platform, run.run_id)
    assert record.status == "success"
    dumped = platform.client.get(f"/api/runs/{run.run_id}").text
    assert "sk-live-123456" not in dumped and "sk-live-123456" not in record.model_dump_json()
    assert record.step("echo").output == {"key": "***"} and any("using ***" in line for line in record.logs)


def test_an_idempotency_key_starts_one_durable_execution(make_platform, plugin_dir, durable_backend, tmp_path):
    durable_workflow(plugin_dir, "steps", STEPS)
    platform = make_platform(plugin_dir.root, parts={"durable": durable_backend})
    log = tmp_path / "once.log"
    first = platform.client.post("/api/workflows/execute/steps?async=1", json={"log": str(log)},
                                 headers={"Idempotency-Key": "k-1"})
    again = platform.client.post("/api/workflows/execute/steps?async=1", json={"log": str(log)},
                                 headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["run_id"] == first.json()["run_id"]
    assert finished(platform, first.json()["run_id"]).status == "success"
    assert count(log, "one") == 1
