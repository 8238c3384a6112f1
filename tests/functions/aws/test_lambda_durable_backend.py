"""The deployed durable backend (``functions.aws.durable``) against a real HTTP server on 127.0.0.1 that
records what botocore sends (moto implements none of the durable APIs): the Invoke that starts an
execution, the callback calls, and how the service's refusals are answered."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.errors import Conflict, NotFound, Unavailable


class Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict[str, Any]] = []
        #: (status, error type) to answer the next request with; None: 200/202 with an empty JSON body.
        self.fail: tuple[int, str] | None = None


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": self.rfile.read(length)})
        if self.server.fail:
            status, kind = self.server.fail
            body = json.dumps({"Type": "User", "message": "refused"}).encode()
            self.send_response(status)
            self.send_header("x-amzn-ErrorType", kind)
        else:
            body = b"{}" if "/durable-executions" not in self.path else json.dumps(
                {"DurableExecutions": [{"Status": "RUNNING", "DurableExecutionName": "r-1"}]}).encode()
            self.send_response(202 if "/invocations" in self.path else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch):
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()


def backend(function: str | None = "wfp-durable:live") -> Any:
    from functions.aws.clients import Clients
    from functions.aws.durable import LambdaDurableBackend

    return LambdaDurableBackend(Clients(), function)


def test_start_invokes_the_durable_function_asynchronously_with_the_execution_name(service):
    event = {"run_id": "abc", "workflow": "w", "execution": "abc-1", "input": {"x": 1}, "completed": {}}
    backend().start("abc-1", event)
    (request,) = service.requests
    assert request["method"] == "POST"
    assert request["path"] == "/2015-03-31/functions/wfp-durable/invocations?Qualifier=live"
    assert request["headers"]["X-Amz-Invocation-Type"] == "Event"
    assert request["headers"]["X-Amz-Durable-Execution-Name"] == "abc-1"
    assert json.loads(request["body"]) == event


def test_a_qualified_arn_is_split_into_function_and_qualifier(service):
    backend("arn:aws:lambda:eu-west-1:123456789012:function:wfp-durable:7").start("r-2", {"run_id": "r"})
    assert service.requests[0]["path"] == ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012"
                                           "%3Afunction%3Awfp-durable/invocations?Qualifier=7")


def test_callbacks_succeed_with_the_payload_as_json_or_fail_with_its_error(service):
    backend().send_callback("cb/1+", True, {"approved": True, "by": "ada"})
    backend().send_callback("cb2", False, {"error": "no stock"})
    ok, failed = service.requests
    assert ok["path"] == "/2025-12-01/durable-execution-callbacks/cb%2F1%2B/succeed"
    assert json.loads(ok["body"]) == {"approved": True, "by": "ada"}
    assert failed["path"] == "/2025-12-01/durable-execution-callbacks/cb2/fail"
    assert json.loads(failed["body"]) == {"ErrorType": "Rejected", "ErrorMessage": "no stock"}


@pytest.mark.parametrize(("status", "kind", "error"), [(404, "ResourceNotFoundException", NotFound),
                                                       (400, "InvalidParameterValueException", Conflict),
                                                       (400, "CallbackTimeoutException", Conflict)])
def test_the_services_refusals_are_platform_errors(service, status, kind, error):
    service.fail = (status, kind)
    with pytest.raises(error):
        backend().send_callback("cb", True, {})


def test_state_lists_the_execution_by_name(service):
    assert backend().state("r-1") == "RUNNING"
    (request,) = service.requests
    assert request["method"] == "GET"
    assert request["path"].startswith("/2025-12-01/functions/wfp-durable/durable-executions?")
    assert "DurableExecutionName=r-1" in request["path"] and "Qualifier=live" in request["path"]


def test_without_the_function_setting_durable_runs_are_unavailable():
    with pytest.raises(Unavailable, match="WFP_DURABLE_FUNCTION"):
        backend(None)
