"""``wfp run`` of a durable workflow and ``wfp resume`` of its failed run, as a user types them: the CLI's
process runs the local durable backend; the resumed run does not run its completed step again."""

from __future__ import annotations

import json

from local_platform import LocalSetup, local  # noqa: F401 - fixture

CODE = '''
from pathlib import Path

def execute(data, tools, ctx):
    log = Path(data["log"])
    def mark(what):
        with log.open("a") as f:
            f.write(what + "\\n")
        return what
    ctx.step("first", mark, "first")
    def second():
        mark("second")
        if not Path(data["log"] + ".fixed").exists():
            raise RuntimeError("not fixed yet")
        return "ok"
    return {"status": "success", "message": ctx.step("second", second)}
'''


def test_resume_a_failed_durable_run_from_the_cli(local: LocalSetup, tmp_path):
    local.plugins.workflow("durable_cli", {"durable": True, "inputs_schema": [{"name": "log"}]}, CODE)
    log = tmp_path / "cli.log"
    failed = local.cli("run", "durable_cli", "-i", f"log={log}")
    assert failed.returncode == 1, failed.stderr
    run = json.loads(failed.stdout)
    assert run["status"] == "error" and "not fixed yet" in run["error"]
    assert log.read_text().split() == ["first", "second"]

    (tmp_path / "cli.log.fixed").write_text("")
    resumed = local.cli("resume", run["run_id"])
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "success" and result["execution"] == f"{run['run_id']}-2"
    assert log.read_text().split() == ["first", "second", "second"]  # "first" did not run again
    assert local.cli("resume", run["run_id"]).returncode == 2  # not failed any more
    assert local.cli("resume", "0123456789abcdef01234567").returncode == 2
