"""What a cold start of the api function pays for, and the SnapStart hooks (``functions.handlers.snapstart``).

Fresh interpreters import the handler as the Lambda runtime does; the figures themselves (milliseconds
against baselines) are the benchmark's (``wfp bench``), these tests pin the behaviour behind them.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LAMBDA_ENV = {"LAMBDA_TASK_ROOT": str(REPO), "AWS_LAMBDA_FUNCTION_NAME": "wfp-test-api",
              "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}


def fresh_python(code: str, **env: str) -> dict:
    """Run ``code`` in a new interpreter (a Lambda-like environment); it prints one JSON document."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WFP_", "AWS_", "LAMBDA_", "POWERTOOLS_"))}
    clean.update({"PYTHONPATH": str(REPO), "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                  "AWS_SECRET_ACCESS_KEY": "testing", **env})
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


LOADED = ("import json, sys\n"
          "def loaded():\n"
          "    return sorted(m for m in ('boto3', 'botocore.client', 'pynamodb', 'aws_xray_sdk', 'croniter', 'jinja2',"
          " 'googleapiclient', 'wrapt') if m in sys.modules)\n")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The examples with their build-time manifest, as the layer carries them (WFP_MANIFEST)."""
    from support import copy_examples

    from layers.build import write_plugin_manifest

    root = tmp_path_factory.mktemp("layer")
    plugins = copy_examples(root / "plugins").root
    write_plugin_manifest(plugins, root / "wfp-manifest.json")
    return {"WFP_PLUGINS_DIR": str(plugins), "WFP_MANIFEST": str(root / "wfp-manifest.json")}


def test_the_api_handler_imports_nothing_aws_until_a_request_needs_it(manifest):
    code = LOADED + ("import functions.handlers.api as api\n"
                     "after_import = loaded()\n"
                     "import mimetypes\n"
                     "types_read = mimetypes.inited\n"
                     "from functions.platform import get_platform\n"
                     "get_platform().runs\n"
                     "print(json.dumps({'import': after_import, 'store': loaded(), 'mime_types': types_read}))")
    result = fresh_python(code, **LAMBDA_ENV, **manifest)
    # not even croniter (the manifest's schedules were checked at build time), nor wrapt (tracing waits for
    # botocore with a finder of its own)
    assert result["import"] == []
    assert result["mime_types"] is False  # the host's MIME tables are read with the first static file
    # the run store brings pynamodb and botocore, and with them (tracing on) the X-Ray SDK
    assert {"pynamodb", "botocore.client", "aws_xray_sdk"} <= set(result["store"])


def test_a_cold_start_imports_the_route_modules_its_request_needs_only(manifest):
    code = ("import json, sys\n"
            "from local_dev.bench.events import rest_event\n"
            "import functions.handlers.api as api\n"
            "class Context:\n"
            "    function_name, memory_limit_in_mb, aws_request_id = 'wfp-test-api', 1024, 'req-1'\n"
            "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:wfp-test-api'\n"
            "def routes():\n"
            "    return sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('functions.http.routes.')"
            " and m != 'functions.http.routes.groups')\n"
            "seen = {'import': routes()}\n"
            "auth = {'Authorization': 'Bearer t0ken'}\n"
            "for path in ('/docs', '/api/workflows'):\n"
            "    status = api.handler(rest_event('GET', path, headers=auth), Context())['statusCode']\n"
            "    seen[path] = [status, routes()]\n"
            "print(json.dumps(seen))")
    seen = fresh_python(code, WFP_ADMIN_TOKEN="t0ken", **LAMBDA_ENV, **manifest)
    assert seen == {"import": [], "/docs": [200, []], "/api/workflows": [200, ["workflows"]]}


def test_tracing_patches_botocore_when_it_is_first_imported():
    code = ("import json, sys\n"
            "import functions.handlers.api\n"
            "before = 'aws_xray_sdk' in sys.modules\n"
            "import boto3\n"
            "client = boto3.client('dynamodb')\n"
            "import botocore.client\n"
            "from functions.handlers import observability\n"
            "print(json.dumps({'before': before, 'patched': hasattr(botocore.client, '_xray_enabled'),"
            " 'tracer': observability._tracer is not None}))")
    assert fresh_python(code, **LAMBDA_ENV) == {"before": False, "patched": True, "tracer": True}
    # outside Lambda tracing is off: nothing is registered, nothing patched
    assert fresh_python(code) == {"before": False, "patched": False, "tracer": False}


def test_the_heap_is_frozen_after_the_import_on_lambda_only():
    code = "import gc, json\nimport functions.handlers.api\nprint(json.dumps({'frozen': gc.get_freeze_count(), 'on': gc.isenabled()}))"
    on_lambda = fresh_python(code, **LAMBDA_ENV)
    assert on_lambda["frozen"] > 10_000 and on_lambda["on"]
    assert fresh_python(code) == {"frozen": 0, "on": True}


# ----- SnapStart -----------------------------------------------------------------------------------------
@pytest.fixture
def snapstart_runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """A stand-in for the ``snapshot_restore_py`` module the Lambda runtime provides."""
    hooks: dict[str, list] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda func, *args: hooks["before"].append((func, args))  # type: ignore[attr-defined]
    module.register_after_restore = lambda func, *args: hooks["after"].append((func, args))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def test_hooks_are_registered_where_the_runtime_offers_them(snapstart_runtime, monkeypatch):
    from functions.handlers import snapstart

    app = object()
    assert snapstart.register(app) is True
    assert snapstart_runtime["before"] == [(snapstart.prime, (app,))]
    assert snapstart_runtime["after"] == [(snapstart.restore, ())]
    monkeypatch.delitem(sys.modules, "snapshot_restore_py")
    monkeypatch.setattr("builtins.__import__", _refusing("snapshot_restore_py"))
    assert snapstart.register(app) is False  # not on Lambda: nothing to register, no error


def _refusing(name: str):
    real = __import__

    def importer(module: str, *args, **kwargs):
        if module == name:
            raise ImportError(module)
        return real(module, *args, **kwargs)
    return importer


def test_priming_prepares_the_app_without_calling_aws(make_platform, aws_calls):
    import gc

    from support import put_secret

    from functions.handlers import snapstart

    put_secret("wfp-test/admin-token", "s3cret-token-value")
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/admin-token")  # as deployed
    aws_calls.clear()
    app = platform.app
    assert app.openapi_schema is None
    try:
        snapstart.prime(app)
    finally:
        gc.unfreeze()
    assert app.openapi_schema is not None  # /openapi.json is ready
    from functions.http.routes.groups import RouteGroup

    assert not [r for r in app.router.routes if isinstance(r, RouteGroup)]  # every route module imported
    registry = platform.engine.registry
    assert all(p.module is not None for p in registry.plugins.values() if not p.error)  # plugins imported
    assert "functions.stores.runs" in sys.modules
    from functions.http.dashboard.render import environment

    assert environment().cache  # templates compiled
    assert aws_calls == []  # no request before the snapshot: nothing stale in it


def test_the_priming_request_goes_through_the_app_and_is_answered(make_platform, aws_calls):
    """The request sent before the snapshot warms routing and the endpoint for real: it is answered 200
    (it once failed inside FastAPI, sent below the middleware that opens the request's exit stack, and
    Mangum turned that into a 500 nobody saw), still without an AWS call."""
    from support import put_secret

    from functions.handlers import snapstart

    put_secret("wfp-test/admin-token", "s3cret-token-value")
    platform = make_platform(WFP_ADMIN_TOKEN_SECRET="wfp-test/admin-token")
    aws_calls.clear()
    response = snapstart._request(platform.app)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["status"] == "ok"
    assert aws_calls == []


def test_restore_reseeds_random_and_drops_aws_clients(platform):
    from functions.platform import get_platform

    queue = get_platform().queue
    from functions import stores as tables
    from functions.handlers import snapstart
    from functions.stores.runs import RunModel

    platform.run("hello_world", {"name": "Ada"})  # the runs table's connection now exists
    assert RunModel._connection is not None
    random.seed(42)
    snapshot_draw = random.random()  # what every environment restored from one snapshot would draw
    random.seed(42)
    snapstart.restore()
    assert random.random() != snapshot_draw  # reseeded from the OS
    assert RunModel._connection is None and queue.clients._clients == {}
    assert tables.all_models()  # the store works again afterwards, with a new client
    assert platform.run("hello_world", {"name": "Bob"}).status == "success"


def test_the_background_functions_register_their_priming(manifest):
    """The worker and the scheduler are deployed with SnapStart too: importing either registers the
    background priming and the restore hook with the runtime (a stand-in for its module here)."""
    for module in ("functions.handlers.worker", "functions.handlers.scheduler"):
        code = ("import json, sys, types\n"
                "hooks = {'before': [], 'after': []}\n"
                "runtime = types.ModuleType('snapshot_restore_py')\n"
                "runtime.register_before_snapshot = lambda f, *a: hooks['before'].append(f.__name__)\n"
                "runtime.register_after_restore = lambda f, *a: hooks['after'].append(f.__name__)\n"
                "sys.modules['snapshot_restore_py'] = runtime\n"
                f"import {module}\n"
                "print(json.dumps(hooks))")
        assert fresh_python(code, **LAMBDA_ENV, **manifest) == {"before": ["prime_background"], "after": ["restore"]}


def test_background_priming_prepares_a_run_without_calling_aws(manifest):
    """Before the worker's or the scheduler's snapshot, in a fresh interpreter as on Lambda: plugins
    imported, the parts a run goes through built, pynamodb imported and the service models parsed into the
    shared loader; no request sent and no client made (its credentials would be stale after a restore)."""
    code = LOADED + (
        "import gc, botocore.session, botocore.client\n"
        "made = []\n"
        "original = botocore.client.ClientCreator.create_client\n"
        "botocore.client.ClientCreator.create_client = lambda self, *a, **k: made.append(a[0]) or original(self, *a, **k)\n"
        "from functions.handlers import snapstart\n"
        "from functions.platform import get_platform\n"
        "snapstart.prime_background()\n"
        "platform = get_platform()\n"
        "loader = botocore.session.get_session().get_component('data_loader')\n"
        "models = sorted({k[1] for k in loader._cache if k[0] == 'load_service_model'})\n"
        "plugins = [p.name for p in platform.registry.of_kind('workflow') if p.module is None and not p.error]\n"
        "print(json.dumps({'built': sorted(set(platform.__dict__) & {'runs', 'queued', 'schedules', 'failures'}),\n"
        "                  'models': models, 'clients': made, 'not_imported': plugins, 'loaded': loaded(),\n"
        "                  'frozen': gc.get_freeze_count() > 0}))")
    found = fresh_python(code, **LAMBDA_ENV, **manifest)
    assert found["built"] == ["failures", "queued", "runs", "schedules"]
    assert {"dynamodb", "sqs", "s3"} <= set(found["models"])
    assert found["clients"] == [] and found["not_imported"] == []
    assert "pynamodb" in found["loaded"] and found["frozen"]


def test_the_api_answers_without_loading_the_durable_sdk(manifest):
    """Durable workflows cost the api function nothing at cold start: its import and a first listing
    (durable examples included) load neither the durable SDK nor its testing library."""
    code = ("import json, sys\n"
            "import functions.handlers.api as api\n"
            "event = {'version': '2.0', 'routeKey': '$default', 'rawPath': '/api/workflows', 'rawQueryString': '',\n"
            "         'headers': {'host': 'x'}, 'isBase64Encoded': False, 'requestContext': {'http': {'method': 'GET',\n"
            "         'path': '/api/workflows', 'protocol': 'HTTP/1.1', 'sourceIp': '1.2.3.4', 'userAgent': 't'},\n"
            "         'stage': '$default', 'requestId': 'r', 'routeKey': '$default'}}\n"
            "class C:\n"
            "    function_name = 'f'; memory_limit_in_mb = 1024; aws_request_id = 'r'; function_version = '1'\n"
            "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:f'\n"
            "response = api.handler(event, C())\n"
            "names = [w['name'] for w in json.loads(response['body'])]\n"
            "print(json.dumps({'status': response['statusCode'], 'durable_listed': 'approval_request' in names,\n"
            "                  'sdk': sorted(m for m in sys.modules if m.startswith('aws_durable_execution_sdk'))}))")
    found = fresh_python(code, **LAMBDA_ENV, **manifest)
    assert found == {"status": 200, "durable_listed": True, "sdk": []}
