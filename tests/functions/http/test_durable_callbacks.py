"""A durable run's callback URL (``POST /api/callbacks/{token}``): usable without the admin token, single
use, bound to its run; wrong 401, unknown or expired 404, replayed 409, and nothing changes in each case."""

from __future__ import annotations

from pathlib import Path

import pytest
from durable_support import count, durable_workflow, finished, waiting

CALLBACK = '''
def execute(data, tools, ctx):
    ctx.step("ask", effect, data, "ask")
    def send(url):
        with open(data["log"] + ".url", "w") as f:
            f.write(url)
        return "sent"
    payload = ctx.wait_for_callback("shipped", timeout=data.get("timeout") or 3600, send=send)
    ctx.step("after", effect, data, "after")
    return {"status": "success", "payload": payload}
'''
TOKEN = "s3cret-admin-token"


@pytest.fixture
def callbacks(make_platform, plugin_dir, durable_backend):
    durable_workflow(plugin_dir, "ship", CALLBACK, inputs_schema=[{"name": "log"}, {"name": "timeout", "type": "integer"}])
    return make_platform(plugin_dir.root, parts={"durable": durable_backend}, WFP_ADMIN_TOKEN=TOKEN,
                         WFP_PUBLIC_URL="https://wfp.example")


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def start(platform, log: Path, timeout: int | None = None):
    data = {"log": str(log), **({"timeout": timeout} if timeout else {})}
    run = platform.engine.accept("ship", data, "manual", wait=None).run
    waiting(platform, run.run_id)
    return run, Path(f"{log}.url")


def test_the_callback_url_completes_the_run_once_without_the_admin_token(callbacks, tmp_path):
    log = tmp_path / "ship.log"
    run, url_file = start(callbacks, log)
    url = url_file.read_text()
    assert url.startswith("https://wfp.example/api/callbacks/" + run.run_id + ".")
    path = url.removeprefix("https://wfp.example")
    record = callbacks.core.runs.get(run.run_id)
    assert record.waiting_for.kind == "callback" and record.waiting_for.name == "shipped"
    token = path.rsplit("/", 1)[1]
    stored = callbacks.core.runs.get(run.run_id)
    assert token not in stored.model_dump_json() and stored.callbacks["shipped"].token_hash  # hashed only
    assert callbacks.client.get(f"/api/runs/{run.run_id}").status_code == 401  # the rest needs the token

    answer = callbacks.client.post(path, json={"tracking": "1Z999"})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True, "run_id": run.run_id}
    record = finished(callbacks, run.run_id)
    assert record.status == "success" and record.output["payload"] == {"tracking": "1Z999"}
    assert count(log, "ask") == 1 and count(log, "after") == 1

    replay = callbacks.client.post(path, json={"tracking": "other"})
    assert replay.status_code == 409
    assert callbacks.core.runs.get(run.run_id).model_dump() == record.model_dump()


def test_a_wrong_or_unknown_token_changes_nothing(callbacks, tmp_path):
    log = tmp_path / "wrong.log"
    run, url_file = start(callbacks, log)
    before = callbacks.core.runs.get(run.run_id, consistent=True).model_dump()
    right = url_file.read_text().rsplit("/", 1)[1]
    wrong = f"{run.run_id}.{'A' * 43}"
    assert callbacks.client.post(f"/api/callbacks/{wrong}", json={}).status_code == 401
    assert callbacks.client.post(f"/api/callbacks/{right[:-1]}x", json={}).status_code == 401
    assert callbacks.client.post(f"/api/callbacks/{'0' * 24}.{right.split('.', 1)[1]}", json={}).status_code == 404
    assert callbacks.client.post("/api/callbacks/not-a-token", json={}).status_code == 404
    assert callbacks.core.runs.get(run.run_id, consistent=True).model_dump() == before
    assert count(log, "after") == 0
    # and the right one still works afterwards
    assert callbacks.client.post(f"/api/callbacks/{right}", json={"ok": 1}).status_code == 202
    assert finished(callbacks, run.run_id).status == "success"


def test_an_expired_callback_is_gone(callbacks, tmp_path):
    log = tmp_path / "late.log"
    run, url_file = start(callbacks, log, timeout=1)
    path = url_file.read_text().removeprefix("https://wfp.example")
    record = finished(callbacks, run.run_id)
    assert record.status == "error" and record.error == "callback 'shipped' got no answer within its timeout"
    assert callbacks.client.post(path, json={}).status_code == 404
    assert callbacks.core.runs.get(run.run_id).model_dump() == record.model_dump()


def test_approvals_need_the_admin_token(callbacks, make_platform, plugin_dir, tmp_path):
    run, _ = start(callbacks, tmp_path / "a.log")
    answer = callbacks.client.post(f"/api/runs/{run.run_id}/approvals/shipped", json={"approve": True})
    assert answer.status_code == 401
    # a callback is not an approval: the admin cannot approve it by name either
    answer = callbacks.client.post(f"/api/runs/{run.run_id}/approvals/shipped", json={"approve": True},
                                   headers=admin())
    assert answer.status_code == 404
