"""One cold start: a fresh interpreter imports a Lambda handler and answers its first events.

Run by path (``python child.py spec.json``) by ``local_dev.bench.coldstart``; it imports nothing of
the benchmark, so every candidate (the platform's api handler and the baselines) pays exactly for its
own imports. The spec names the handler (module, attribute, extra ``sys.path`` entries), the events to
answer and where to write what was measured.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

#: Top-level packages whose presence after the first response says what the cold start paid for.
WATCHED = ("boto3", "botocore.client", "pynamodb", "aws_xray_sdk", "googleapiclient", "google.auth", "jinja2",
           "croniter", "moto", "plugins")


class Context:
    function_name = "wfp-bench-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:wfp-bench-api"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/wfp-bench-api"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:0] = spec.get("path", [])
    before_import = time.perf_counter()
    module = __import__(spec["module"], fromlist=["_"])
    handler = getattr(module, spec["attr"])
    imported = time.perf_counter()
    statuses, answered = [], []
    for event in spec["events"]:
        response = handler(event, Context())
        statuses.append(response.get("statusCode"))
        answered.append(time.perf_counter())
    result = {
        "startup_ms": (before_import - STARTED) * 1000,
        "import_ms": (imported - before_import) * 1000,
        "first_ms": (answered[0] - imported) * 1000 if answered else 0.0,
        "total_ms": ((answered[-1] if answered else imported) - STARTED) * 1000,
        "cpu_ms": time.process_time() * 1000,
        "statuses": statuses,
        "loaded": [name for name in WATCHED if name in sys.modules],
    }
    with open(spec["result"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
    # A Lambda environment lives on after its first response: the interpreter's teardown (which grows
    # with the heap) is no part of a cold start, so the process ends here without it.
    sys.stdout.flush()
    os._exit(0)
