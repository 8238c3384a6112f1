"""The engine: what it refuses (and then records nothing), what it records for every accepted run
(before the code starts, and after whatever the code did), the tools it builds, the log lines and
output it keeps (bounded), timeouts, and run history read with a Query."""

from __future__ import annotations

import threading

import pytest

from functions.core.runs import new_run_id
from functions.errors import (
    BadRequest,
    Conflict,
    InputValidationError,
    NotFound,
    PluginError,
)

CRM = {"tool_name": "crm", "required_params": ["api_key"], "optional_params": {"region": "eu"}}
CRM_CODE = """
from ..base import BaseTool

class CrmTool(BaseTool):
    def execute(self, action, params=None):
        return {"status": "success", "data": {"region": self.config["region"]}}
"""


@pytest.fixture
def flows(plugin_dir):
    """A plugins folder with one workflow per behaviour under test."""
    w = plugin_dir.workflow
    w("ok", {"triggers": ["manual", "webhook", "schedule", "api"], "schedule": "0 9 * * *"},
      "def execute(data, tools):\n    return {'status': 'success', 'message': 'done', 'data': data}\n")
    w("err", {}, "def execute(data, tools):\n    return {'status': 'error', 'message': 'the API said no'}\n")
    w("weird", {}, "def execute(data, tools):\n    return {'status': 'maybe'}\n")
    w("raises", {}, "def helper(x):\n    raise ValueError(f'kaboom {x}')\n\n"
                    "def execute(data, tools):\n    helper(42)\n")
    w("exits", {}, "import sys\n\ndef execute(data, tools):\n    sys.exit(3)\n")
    w("needs", {"inputs_schema": [{"name": "email", "type": "email", "required": True},
                                  {"name": "n", "type": "integer", "default": 1},
                                  {"name": "pw", "type": "password"}]})
    w("inactive", {"active": False})
    w("hook_only", {"triggers": ["webhook"]})
    w("broken", {"inputs_schema": [{"name": "a"}]}, "def execute(data, tools)\n    return {}\n")
    w("one_param", {}, "def execute(data):\n    return {'status': 'success', 'data': sorted(data)}\n")
    w("with_tool", {"tools_required": ["crm"], "tools_profiles": {"crm": "PROD"}},
      "def execute(data, tools):\n    crm = tools['crm']\n"
      "    return {'status': 'success', 'data': {'profile': crm.profile, 'type': type(crm).__name__,\n"
      "            'result': crm.execute('x'), 'authenticated': crm.is_authenticated()}}\n")
    w("no_profile", {"tools_required": ["crm"], "tools_profiles": {"crm": "NOPE"}},
      "def execute(data, tools):\n    raise AssertionError('must not run without its tool')\n")
    w("peek", {}, "from functions.platform import get_platform\n\n"
                  "def execute(data, tools):\n    (latest,), _ = get_platform().runs.history('peek', 1)\n"
                  "    return {'status': 'success', 'data': {'run_id': latest.run_id, 'status': latest.status}}\n")
    w("chatty", {}, "import logging\nlogger = logging.getLogger(__name__)\n\n"
                    "def execute(data, tools):\n"
                    "    logger.info('info line %s', data.get('tag'))\n"
                    "    logger.debug('debug lines are not kept')\n"
                    "    print('printed', data.get('tag'))\n"
                    "    print('partial', end='')\n"
                    "    for i in range(data.get('extra', 0)):\n"
                    "        logger.warning('extra %d %s', i, data.get('fill', ''))\n"
                    "    return {'status': 'success'}\n")
    w("big", {}, "def execute(data, tools):\n    return {'status': 'success', 'data': 'x' * data['size']}\n")
    w("slow", {"timeout_seconds": 1}, "import time\n\ndef execute(data, tools):\n    print('started')\n"
                                      "    time.sleep(2.5)\n    return {'status': 'success'}\n")
    plugin_dir.tool("crm", CRM, CRM_CODE)
    return plugin_dir


@pytest.fixture
def platform(make_platform, flows, monkeypatch):
    monkeypatch.setenv("CRM_PROD_API_KEY", "sk-prod-value")
    return make_platform(flows.root)


def stored(platform, run):
    """The run as the store has it (what the API and dashboard show), not the engine's copy."""
    return platform.engine.runs.get(run.run_id)


def history(platform, name):
    return platform.engine.runs.history(name, 100)[0]


# ----- outcomes -----------------------------------------------------------------------------------------
def test_success_is_recorded_with_inputs_output_and_timings(platform):
    run = platform.run("ok", {"x": 1, "token": "secret-value"}, trigger="webhook")
    record = stored(platform, run)
    assert record.status == "success" and record.trigger == "webhook" and record.workflow == "ok"
    assert record.message == "done"
    # secret-looking keys are never stored, nor their values wherever the workflow repeats them
    assert record.output == {"status": "success", "message": "done", "data": {"x": 1, "token": "***"}}
    assert record.inputs == {"x": 1, "token": "***"}
    assert record.inputs_redacted is True
    assert record.error is None and record.traceback is None
    assert record.created_at <= record.started_at <= record.finished_at
    assert record.duration_ms is not None and record.duration_ms >= 0
    assert record.output_truncated is False


def test_an_error_result_is_an_error_run(platform):
    record = stored(platform, platform.run("err"))
    assert record.status == "error" and record.error == "the API said no" and record.traceback is None


def test_an_unknown_status_is_an_error_run_that_says_what_to_return(platform):
    record = stored(platform, platform.run("weird"))
    assert record.status == "error" and "'maybe'" in record.error and "'success' or 'error'" in record.error


@pytest.mark.parametrize("name, error, in_traceback", [
    ("raises", "ValueError: kaboom 42", "helper(42)"),
    ("exits", "SystemExit: 3", "sys.exit(3)"),
])
def test_a_raising_workflow_is_an_error_run_and_the_platform_keeps_working(platform, name, error, in_traceback):
    record = stored(platform, platform.run(name))
    assert record.status == "error" and record.error == error
    assert in_traceback in record.traceback and f"workflows/{name}/main.py" in record.traceback
    assert record.finished_at is not None
    assert platform.run("ok").status == "success"
    assert platform.client.get("/api/health").status_code == 200


def test_a_workflow_with_one_parameter_gets_only_data(platform):
    assert platform.run("one_param", {"b": 1, "a": 2}).output["data"] == ["a", "b"]


# ----- refusals record nothing --------------------------------------------------------------------------
@pytest.mark.parametrize("name, data, trigger, error, status, fragment", [
    ("needs", {"email": "nope", "n": "x"}, "manual", InputValidationError, 422, "email, n"),
    ("needs", {}, "manual", InputValidationError, 422, "email"),
    ("inactive", {}, "manual", Conflict, 409, '"active": true'),
    ("hook_only", {}, "manual", Conflict, 409, "does not accept 'manual'"),
    ("hook_only", {}, "api", Conflict, 409, 'add "manual" to "triggers"'),
    ("ok", {}, "schedule", None, None, None),  # accepted: the control case
    ("missing", {}, "manual", NotFound, 404, "no workflow named 'missing'"),
    ("broken", {"a": "x"}, "manual", PluginError, 409, "SyntaxError"),
])
def test_refused_runs_leave_no_trace(platform, aws_calls, name, data, trigger, error, status, fragment):
    aws_calls.clear()
    if error is None:
        platform.run(name, data, trigger)
        assert [op for _, op, _ in aws_calls].count("PutItem") == 2
        return
    with pytest.raises(error) as raised:
        platform.run(name, data, trigger)
    assert raised.value.status_code == status and fragment in raised.value.message
    assert [op for _, op, _ in aws_calls if op in ("PutItem", "UpdateItem", "BatchWriteItem")] == []
    if name != "missing":
        assert history(platform, name) == []


def test_validation_errors_come_one_per_field(platform):
    with pytest.raises(InputValidationError) as raised:
        platform.run("needs", {"email": "nope", "n": "x"})
    assert [e["field"] for e in raised.value.errors] == ["email", "n"]


def test_inputs_are_typed_defaulted_and_passwords_never_stored(platform, flows):
    flows.workflow("echo_inputs", {"inputs_schema": [{"name": "n", "type": "integer", "default": 1},
                                                     {"name": "pw", "type": "password", "required": True}]},
                   "def execute(data, tools):\n    return {'status': 'success', 'data': {'n': data['n'], "
                   "'pw_len': len(data['pw'])}}\n")
    platform.core.reload()
    run = platform.run("echo_inputs", {"pw": "hunter2", "n": "5"})
    assert run.output["data"] == {"n": 5, "pw_len": 7}
    assert stored(platform, run).inputs == {"n": 5, "pw": "***"}
    assert "hunter2" not in stored(platform, run).model_dump_json()


def test_unknown_trigger_is_a_programming_error(platform):
    with pytest.raises(ValueError, match="unknown trigger"):
        platform.run("ok", {}, trigger="carrier-pigeon")


# ----- the record exists before the code runs -----------------------------------------------------------
def test_the_run_is_recorded_as_running_before_the_workflow_starts(platform):
    run = platform.run("peek")
    assert run.status == "success"
    assert run.output["data"] == {"run_id": run.run_id, "status": "running"}


# ----- tools --------------------------------------------------------------------------------------------
def test_tools_are_built_with_the_workflows_profiles(platform):
    run = platform.run("with_tool")
    assert run.status == "success", run.error
    assert run.output["data"] == {"profile": "PROD", "type": "CrmTool", "authenticated": True,
                                  "result": {"status": "success", "data": {"region": "eu"}}}
    assert "sk-prod-value" not in stored(platform, run).model_dump_json()


def test_a_missing_profile_parameter_is_a_recorded_error_naming_the_variable(platform):
    run = platform.run("no_profile")
    record = stored(platform, run)
    assert record.status == "error"
    assert "CRM_NOPE_API_KEY" in record.error and "wfp-test/profiles/crm/NOPE" in record.error
    assert record.traceback is None  # a configuration problem, not a crash
    assert "must not run" not in record.model_dump_json()


def test_a_tool_that_fails_to_authenticate_is_a_recorded_error(platform, flows):
    flows.tool("grumpy", {"tool_name": "grumpy"},
               "from ..base import BaseTool\n\nclass Grumpy(BaseTool):\n"
               "    def authenticate(self):\n        self.last_error = 'token expired: reconnect'\n        return False\n")
    flows.workflow("uses_grumpy", {"tools_required": ["grumpy"]})
    platform.core.reload()
    record = stored(platform, platform.run("uses_grumpy"))
    assert record.status == "error" and "grumpy" in record.error and "token expired: reconnect" in record.error


# ----- logs and output ----------------------------------------------------------------------------------
def test_logging_and_print_lines_are_kept_with_the_run(platform):
    record = stored(platform, platform.run("chatty", {"tag": "T1"}))
    lines = record.logs
    assert any(line.endswith("INFO plugins.workflows.chatty.main: info line T1") for line in lines)
    assert any(line.endswith("PRINT printed T1") for line in lines)
    assert any(line.endswith("PRINT partial") for line in lines)
    assert not any("debug lines" in line for line in lines)


def test_log_lines_are_bounded(make_platform, flows):
    platform = make_platform(flows.root, WFP_MAX_LOG_LINES="5")
    record = stored(platform, platform.run("chatty", {"extra": 50, "fill": "y" * 2000}))
    assert len(record.logs) == 6
    assert record.logs[-1] == "... 48 more line(s) not kept"
    assert all(len(line) <= 500 for line in record.logs)


def test_a_flood_of_wide_log_lines_still_fits_in_one_record(platform):
    """300 lines of 500 four-byte characters would make a 600 KB item, over DynamoDB's limit: the record
    keeps the first 64 KB of them, the run-data bucket the whole log, and reading the run gives it whole."""
    from functions.stores.runs import RunModel

    run = platform.run("chatty", {"extra": 300, "fill": "\N{GRINNING FACE}" * 600})
    item = RunModel.get(run.run_id)
    assert sum(len(line.encode()) for line in item.logs) <= 64 * 1024
    assert item.logs[-1].endswith("more line(s): the whole log is kept with the run")
    assert item.logs_ref == f"runs/{run.run_id}/logs.json"
    record = stored(platform, run)
    assert record.status == "success"
    assert len(record.logs) == len(run.logs) and record.logs == run.logs
    assert sum(len(line.encode()) for line in record.logs) > 500 * 1024
    assert not any(line.endswith("not kept") for line in record.logs)


def test_without_a_run_data_bucket_the_record_keeps_its_part(make_platform, flows):
    """No bucket (S3 refuses the put): the run is still saved, with the record's part and a line saying so."""
    platform = make_platform(flows.root, WFP_RUN_DATA_BUCKET="no-such-bucket-here")
    import boto3

    boto3.client("s3").delete_bucket(Bucket="no-such-bucket-here")
    run = platform.run("chatty", {"extra": 300, "fill": "x" * 600})
    record = stored(platform, run)
    assert record.status == "success"
    assert sum(len(line.encode()) for line in record.logs) <= 64 * 1024
    assert record.logs[-1].endswith("more line(s) not kept")


def test_runs_in_parallel_keep_their_own_lines(platform):
    results = {}

    def go(tag):
        results[tag] = platform.run("chatty", {"tag": tag})

    threads = [threading.Thread(target=go, args=(f"tag{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tag, run in results.items():
        joined = "\n".join(stored(platform, run).logs)
        assert f"info line {tag}" in joined and f"printed {tag}" in joined
        assert all(other not in joined for other in results if other != tag)


def test_output_is_bounded_with_a_truncation_flag(make_platform, flows):
    platform = make_platform(flows.root, WFP_MAX_OUTPUT_BYTES="1000")
    small = stored(platform, platform.run("big", {"size": 100}))
    assert small.output_truncated is False and small.output["data"] == "x" * 100
    large = stored(platform, platform.run("big", {"size": 300_000}))
    assert large.status == "success" and large.output_truncated is True
    assert isinstance(large.output, str) and len(large.output.encode()) <= 1000 and large.output.endswith("...")


def test_timeout_gives_a_timed_out_run(platform):
    run = platform.run("slow")
    record = stored(platform, run)
    assert record.status == "timed_out"
    assert "timeout of 1 s" in record.error and "timeout_seconds" in record.error
    assert 1000 <= record.duration_ms < 2400
    assert any(line.endswith("PRINT started") for line in record.logs)


# ----- history ------------------------------------------------------------------------------------------
def test_run_ids_sort_in_creation_order_even_within_one_millisecond():
    ids = [new_run_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_history_is_newest_first_and_paginated_with_a_cursor(platform):
    runs = [platform.run("ok", {"i": i}) for i in range(5)]
    platform.run("err")  # another workflow's run is not in this history
    store = platform.engine.runs
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = store.history("ok", 2, cursor)
        pages += 1
        seen += page
        if not cursor:
            break
    assert [r.run_id for r in seen] == [r.run_id for r in reversed(runs)]
    assert pages in (3, 4)  # 2 + 2 + 1 (DynamoDB may answer one more, empty page)
    assert all(r.status == "success" and r.workflow == "ok" for r in seen)


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", "eyJhIjogMX0", "W10"])
def test_a_bad_cursor_is_a_400(platform, cursor):
    with pytest.raises(BadRequest, match="invalid cursor"):
        platform.engine.runs.history("ok", 2, cursor)


def test_a_cursor_of_another_workflow_is_a_400(platform):
    for _ in range(3):
        platform.run("ok")
    _, cursor = platform.engine.runs.history("ok", 1)
    assert cursor
    with pytest.raises(BadRequest):
        platform.engine.runs.history("err", 1, cursor)


def test_history_is_a_query_on_the_index_never_a_scan(platform, aws_calls):
    for _ in range(3):
        platform.run("ok")
    aws_calls.clear()
    page, cursor = platform.engine.runs.history("ok", 2)
    platform.engine.runs.history("ok", 2, cursor)
    dynamodb = [(op, params) for service, op, params in aws_calls if service == "dynamodb"]
    # A page: one Query per history shard, and one of the pre-sharding index (runs written before it).
    per_page = platform.core.settings.history_shards + 1
    assert [op for op, _ in dynamodb] == ["Query"] * 2 * per_page
    assert all(params["IndexName"] in ("by_history", "by_workflow") and params["ScanIndexForward"] is False
               for _, params in dynamodb)
    assert sum(params["IndexName"] == "by_workflow" for _, params in dynamodb) == 2
    # The second page starts below the first page's last run, in every partition.
    last = page[-1].run_id
    assert all(last in [v["S"] for v in params["ExpressionAttributeValues"].values()]
               for _, params in dynamodb[per_page:])


def test_a_run_costs_two_writes_and_no_scan(platform, aws_calls):
    aws_calls.clear()
    platform.run("ok", {"a": 1})
    ops = [op for service, op, _ in aws_calls if service == "dynamodb"]
    assert ops == ["PutItem", "PutItem"]
    assert "ConditionExpression" in aws_calls[0][2]  # the first write never overwrites another run


def test_get_of_an_unknown_run_is_not_found(platform):
    with pytest.raises(NotFound):
        platform.engine.runs.get("0" * 24)
