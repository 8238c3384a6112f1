"""One cold start: a fresh interpreter imports a Lambda handler and answers its first events.

Run by path (``python child.py spec.json``) by ``local_dev.bench.coldstart``; it imports nothing of
the benchmark, so every candidate (the platform's handlers and the baselines) pays exactly for its
own imports. The spec names the handler (module, attribute, extra ``sys.path`` entries), the events to
answer and where to write what was measured, and optionally:

- ``snapstart``: the handler's module registers its SnapStart hooks with a stand-in for the runtime's
  ``snapshot_restore_py``; after the import they are run as the runtime runs them (before-snapshot,
  then after-restore) and the first response is timed from there, as a restored environment's is;
- ``record_aws``: every AWS request is listed (service, operation), for the tests (botocore's hooks
  are loaded before the handler, so it is never on in a measurement).

Compiling is timed in every child: ``SourceLoader.source_to_code`` is what an import runs for a ``.py``
file without usable byte code (none cached, or stale), so its time and count are what a layer without
``.pyc`` files costs.
"""

import time

STARTED = time.perf_counter()

import importlib._bootstrap_external as _external
import json
import os
import sys
import types
from collections import Counter

#: Top-level packages whose presence after the first response says what the cold start paid for.
WATCHED = ("boto3", "botocore.client", "pynamodb", "aws_xray_sdk", "googleapiclient", "google.auth", "jinja2",
           "croniter", "moto", "plugins")
COMPILED: list[tuple[str, float]] = []


def _timed_source_to_code(original):  # type: ignore[no-untyped-def]
    def source_to_code(self, data, path, *, _optimize=-1):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return original(self, data, path, _optimize=_optimize)
        finally:
            COMPILED.append((str(path), time.perf_counter() - began))
    return source_to_code


_external.SourceLoader.source_to_code = _timed_source_to_code(_external.SourceLoader.source_to_code)


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


def fake_snapshot_runtime() -> dict[str, list[tuple]]:
    """A ``snapshot_restore_py`` that keeps the hooks registered, for ``run_snapshot_hooks``."""
    hooks: dict[str, list[tuple]] = {"before": [], "after": []}

    def registrar(kind: str):  # type: ignore[no-untyped-def]
        def register(function, *args, **kwargs):  # type: ignore[no-untyped-def]
            hooks[kind].append((function, args, kwargs))
            return function
        return register

    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = registrar("before")  # type: ignore[attr-defined]
    module.register_after_restore = registrar("after")  # type: ignore[attr-defined]
    sys.modules["snapshot_restore_py"] = module
    return hooks


def run_snapshot_hooks(hooks: dict[str, list[tuple]]) -> int:
    for kind in ("before", "after"):
        for function, args, kwargs in hooks[kind]:
            function(*args, **kwargs)
    return sum(len(entries) for entries in hooks.values())


def record_aws() -> list[list[str]]:
    from botocore.handlers import BUILTIN_HANDLERS

    calls: list[list[str]] = []
    BUILTIN_HANDLERS.append(("before-send", lambda event_name, **_: calls.append(event_name.split(".", 2)[1:])))
    return calls


def top_level(path: str, roots: list[str]) -> str:
    """The top-level package (or module) of a source file, from the ``sys.path`` entry it was found in."""
    for root in roots:
        if path.startswith(root + os.sep):
            first = path[len(root) + 1:].split(os.sep, 1)[0]
            return first.removesuffix(".py")
    return "?"


def compile_summary() -> dict[str, object]:
    roots = sorted((os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)), key=len, reverse=True)
    return {"compiled": len(COMPILED), "compile_ms": sum(seconds for _, seconds in COMPILED) * 1000,
            "compiled_by_package": dict(Counter(top_level(path, roots) for path, _ in COMPILED))}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:0] = spec.get("path", [])
    hooks = fake_snapshot_runtime() if spec.get("snapstart") else None
    calls = record_aws() if spec.get("record_aws") else None
    before_import = time.perf_counter()
    module = __import__(spec["module"], fromlist=["_"])
    handler = getattr(module, spec["attr"])
    imported = time.perf_counter()
    snapshot_hooks = run_snapshot_hooks(hooks) if hooks is not None else 0
    restored = time.perf_counter()
    statuses, outputs, answered = [], [], []
    for event in spec["events"]:
        response = handler(event, Context())
        is_http = isinstance(response, dict) and "statusCode" in response
        statuses.append(response.get("statusCode") if is_http else None)
        outputs.append(None if is_http else response)
        answered.append(time.perf_counter())
    result = {
        "startup_ms": (before_import - STARTED) * 1000,
        "import_ms": (imported - before_import) * 1000,
        "snapshot_hooks": snapshot_hooks,
        "hooks_ms": (restored - imported) * 1000,
        "first_ms": (answered[0] - restored) * 1000 if answered else 0.0,
        "total_ms": ((answered[-1] if answered else restored) - STARTED) * 1000,
        "cpu_ms": time.process_time() * 1000,
        "statuses": statuses,
        "outputs": outputs,
        "loaded": [name for name in WATCHED if name in sys.modules],
        **compile_summary(),
    }
    if calls is not None:
        result["aws_calls"] = calls
    with open(spec["result"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=str)


if __name__ == "__main__":
    main()
    # A Lambda environment lives on after its first response: the interpreter's teardown (which grows
    # with the heap) is no part of a cold start, so the process ends here without it.
    sys.stdout.flush()
    os._exit(0)
