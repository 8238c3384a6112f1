"""The shared layer build: requirements, pruning, caching, manifest, and the real layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from layers import build as layer_build
from layers.build import (
    KEEP_DISCOVERY_DOCUMENTS,
    LAMBDA,
    Target,
    _key,
    build,
    prune,
    runtime_requirements,
)

REPO = Path(__file__).resolve().parents[2]
#: The tag of byte code and extension modules for Lambda's Python (python3.13).
TAG = "cpython-313"


# ----- requirements ------------------------------------------------------------------------------------
def test_runtime_requirements_leave_out_what_lambda_provides(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''
        [project]
        name = "x"
        dependencies = ["fastapi>=0.110", "boto3>=1.34", "botocore", "S3Transfer", "python-dateutil>=2.8,<3",
                        "aws-lambda-powertools[tracer]>=3.0"]
    '''))
    assert runtime_requirements(tmp_path / "pyproject.toml") == [
        "fastapi>=0.110", "python-dateutil>=2.8,<3", "aws-lambda-powertools[tracer]>=3.0"]


def test_the_repos_requirements_pin_dateutil_below_3_and_ship_the_tracer():
    requirements = runtime_requirements()
    assert "python-dateutil>=2.8,<3" in requirements
    assert any(r.startswith("aws-lambda-powertools[tracer]") for r in requirements)
    assert not [r for r in requirements if r.startswith(("boto3", "botocore"))]


# ----- pruning -----------------------------------------------------------------------------------------
def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_prune_removes_what_lambda_never_reads_and_keeps_the_rest(tmp_path):
    site = tmp_path / "site"
    keep = [write(site / "pkg" / "__init__.py"), write(site / "pkg" / "core.py"),
            write(site / "pkg" / "data" / "cacert.pem"),
            write(site / "pkg-1.0.dist-info" / "METADATA", "Name: pkg\nVersion: 1.0\n"),
            write(site / "pkg-1.0.dist-info" / "entry_points.txt")]
    keep += [write(site / "googleapiclient" / "discovery_cache" / "documents" / name, "{}")
             for name in KEEP_DISCOVERY_DOCUMENTS]
    gone = [write(site / "pkg" / "tests" / "test_core.py"), write(site / "pkg" / "sub" / "test" / "t.py"),
            write(site / "pkg" / "__pycache__" / f"core.{TAG}.pyc"), write(site / "pkg" / "core.pyi"),
            write(site / "pkg" / "api.proto"), write(site / "pkg" / "_speedups.c"),
            write(site / "pkg-1.0.dist-info" / "RECORD"), write(site / "pkg-1.0.dist-info" / "LICENSE"),
            write(site / "pkg-1.0.dist-info" / "licenses" / "NOTICE"),
            write(site / "googleapiclient" / "discovery_cache" / "documents" / "youtube.v3.json", "{}" * 50),
            write(site / "botocore" / "__init__.py"), write(site / "boto3-1.0.dist-info" / "METADATA"),
            write(site / "bin" / "dotenv"), write(site / "tests" / "conftest.py"),
            write(site / "aws_lambda_powertools" / "event_handler" / "openapi" / "swagger_ui" / "bundle.js"),
            write(site / "fastapi_offline" / "static" / "redoc.standalone.js"),
            write(site / "pydantic" / "v1" / "__init__.py")]
    keep += [write(site / "fastapi_offline" / "static" / "swagger-ui-bundle.js"),
             write(site / "pydantic" / "main.py")]
    report = prune(site)
    assert [p for p in keep if not p.exists()] == []
    assert [p for p in gone if p.exists()] == []
    assert report.files == len(gone)
    assert report.bytes == sum(len("x") for _ in gone) - 1 + 100  # youtube.v3.json is 100 bytes, not 1


# ----- build (dependencies faked: offline) ---------------------------------------------------------------
def fake_installer(calls: list[list[str]]):
    def install(pins: list[str], folder: Path, wheels: Path, target: Target) -> None:
        calls.append(pins)
        write(folder / "fakepkg" / "__init__.py", "VALUE = 1\n")
        write(folder / "fakepkg" / "tests" / "test_it.py")
        write(folder / "fakepkg-1.0.dist-info" / "METADATA", "Name: fakepkg\nVersion: 1.0\n")
        write(folder / "fakepkg-1.0.dist-info" / "RECORD")
    return install


@pytest.fixture
def seeded_cache(tmp_path):
    """A cache whose resolution is already known, so the build never calls pip."""
    cache = tmp_path / "cache"
    cache.mkdir()
    key = _key(runtime_requirements(), LAMBDA)
    (cache / f"resolved-{key}.json").write_text(json.dumps({"pins": ["fakepkg==1.0"]}))
    return cache


def test_build_assembles_layer_manifest_and_code_and_caches_dependencies(tmp_path, seeded_cache):
    calls: list[list[str]] = []
    result = build(tmp_path / "out", cache=seeded_cache, installer=fake_installer(calls))
    assert calls == [["fakepkg==1.0"]] and result.cached is False
    site = result.layer_dir / "python"
    assert (site / "fakepkg" / "__init__.py").is_file()
    assert not (site / "fakepkg" / "tests").exists() and not (site / "fakepkg-1.0.dist-info" / "RECORD").exists()
    assert (site / "plugins" / "workflows" / "daily_digest" / "config.json").is_file()
    assert not (site / "plugins" / "scratch").exists()
    assert (result.function_dir / "functions" / "handlers" / "api.py").is_file()
    compiled = result.function_dir / "functions" / "http" / "dashboard" / "compiled_templates"
    assert len(list(compiled.glob("tmpl_*.py"))) == len(list((REPO / "functions/http/dashboard/templates").glob("*.html")))
    # no byte code of this machine's interpreter (the working tree's __pycache__, the manifest's imports):
    # only the target's, when a Python 3.13 compiled it
    for folder in (result.layer_dir, result.function_dir):
        assert [p for p in folder.rglob("*.pyc") if f".{TAG}." not in p.name] == []

    manifest = json.loads((result.layer_dir / "wfp-manifest.json").read_text())
    workflows = {p["name"]: p for p in manifest["plugins"] if p["kind"] == "workflow"}
    assert workflows["daily_digest"]["config"]["schedule"] == "0 9 * * 1-5"
    interfaces = [p for p in manifest["plugins"] if p["kind"] == "interface"]
    assert interfaces and interfaces[0]["meta"]["route"] == "/mon-interface"  # imported once, at build time

    again = build(tmp_path / "out", cache=seeded_cache, installer=fake_installer(calls))
    assert again.cached is True and len(calls) == 1  # the installed tree came from the cache
    assert "fakepkg==1.0" in (seeded_cache.glob("deps-*/.complete").__next__()).read_text()
    sources_only = [tree for tree in seeded_cache.glob("deps-*") if "-bytecode-" not in tree.name]
    assert sources_only and not [p for tree in sources_only for p in tree.rglob("*.pyc")]  # compiled apart
    assert "1 packages (cached)" in again.summary()


def test_a_broken_plugin_is_built_as_broken_and_reported(tmp_path, seeded_cache, plugin_dir):
    plugin_dir.workflow("good", {"name": "Good"})
    plugin_dir.workflow("bad", {"name": "Bad"}, "def execute(data, tools):\n    return (\n")
    result = build(tmp_path / "out", cache=seeded_cache, with_deps=False, plugins_dir=plugin_dir.root)
    assert len(result.plugin_errors) == 1 and "workflow bad" in result.plugin_errors[0]
    from functions.registry.manifest import registry_from_manifest

    registry = registry_from_manifest(result.manifest, result.layer_dir / "python" / "plugins")
    assert registry.get("workflow", "bad").error.startswith("SyntaxError")
    assert registry.get("workflow", "good").error is None
    assert "warning: broken plugin" in result.summary()


def test_pip_failures_are_reported_with_pips_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(layer_build, "_pip", lambda args, quiet=True: subprocess.CompletedProcess(
        args, 1, "", "ERROR: No matching distribution found for nothing-like-this==9"))
    with pytest.raises(layer_build.BuildError, match="No matching distribution"):
        layer_build.resolve(["nothing-like-this==9"], tmp_path)


# ----- the real layer ------------------------------------------------------------------------------------
def test_the_lambda_layer_is_under_40_mb_and_holds_what_lambda_needs(lambda_layer):
    site = lambda_layer.layer_dir / "python"
    print("\n" + lambda_layer.summary())
    assert lambda_layer.sources_mb < 40
    top = {p.name for p in site.iterdir()}
    assert {"fastapi", "mangum", "pydantic", "pynamodb", "aws_lambda_powertools", "aws_xray_sdk", "croniter",
            "googleapiclient", "google_auth_oauthlib", "plugins", "tzdata"} <= top
    assert not top & {"boto3", "botocore", "s3transfer"}
    documents = site / "googleapiclient" / "discovery_cache" / "documents"
    assert {p.name for p in documents.iterdir()} == KEEP_DISCOVERY_DOCUMENTS
    assert [p for p in site.rglob("*") if p.name == "tests"] == []
    assert [p for p in site.rglob("*.pyc") if p.parent.name != "__pycache__" or f".{TAG}." not in p.name] == []
    compiled = [p.name for p in site.rglob("*.so")]
    assert compiled and all("aarch64" in name or "abi3" in name for name in compiled)
    assert any(f"{TAG}-aarch64" in name for name in compiled)
    # /docs' Swagger UI files (functions/http/api_docs), and not what nothing reads
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"} <= {
        p.name for p in (site / "fastapi_offline" / "static").iterdir()}
    assert not (site / "fastapi_offline" / "static" / "redoc.standalone.js").exists()
    assert not (site / "pydantic" / "v1").exists()
    dateutil = next(site.glob("python_dateutil-*.dist-info"))
    assert dateutil.name.split("-")[1].startswith("2.")
    assert (lambda_layer.layer_dir / "wfp-manifest.json").is_file()


def python_sources(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts]


def test_the_lambda_layer_ships_byte_code_for_lambdas_python_or_says_it_has_none(lambda_layer):
    """Every module of the layer and of the functions' code compiled by a Python 3.13 (the runtime's: a
    .pyc is specific to a minor version), hash-based and unchecked (zipping changes the files' times),
    beside its source; on a machine without a 3.13 the build ships sources and says why."""
    from layers.build import find_compiler

    compiler = find_compiler(LAMBDA)
    sources = python_sources(lambda_layer.layer_dir, lambda_layer.function_dir)
    pycs = [p for root in (lambda_layer.layer_dir, lambda_layer.function_dir) for p in root.rglob("*.pyc")]
    if compiler is None:
        assert pycs == [] and lambda_layer.compiler is None
        assert "no byte code: no Python 3.13 found (set WFP_BUILD_PYTHON" in lambda_layer.summary()
        return
    assert lambda_layer.compiler == compiler and compiler.version.startswith("3.13.")
    magic = subprocess.run([str(compiler.python), "-c", "import importlib.util, sys; "
                            "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    missing = []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{TAG}.pyc"
        if not pyc.is_file():
            missing.append(source)
            continue
        header = pyc.read_bytes()[:8]
        assert header[:4].hex() == magic and int.from_bytes(header[4:8], "little") == 0b01, pyc  # unchecked hash
    assert len(missing) <= len(lambda_layer.uncompiled) and len(sources) > 1500, missing[:5]
    assert lambda_layer.layer_bytecode_bytes > 5e6 and lambda_layer.function_bytecode_bytes > 1e5
    print("\n" + lambda_layer.summary())


def test_without_byte_code_the_build_ships_sources_only(tmp_path, seeded_cache):
    result = build(tmp_path / "out", cache=seeded_cache, installer=fake_installer([]), bytecode=False)
    assert list((tmp_path / "out").rglob("*.pyc")) == [] and result.compiler is None
    assert "no byte code (--no-bytecode)" in result.summary()


def test_a_python_of_another_version_is_refused_as_the_byte_code_compiler():
    from layers.build import BuildError, find_compiler

    with pytest.raises(BuildError, match=r"WFP_BUILD_PYTHON=.* is 3\.11\.\d+: the layer's byte code needs Python 3\.13"):
        find_compiler(LAMBDA, environ={"WFP_BUILD_PYTHON": sys.executable})
    assert find_compiler(Target.host(), environ={"WFP_BUILD_PYTHON": sys.executable}).python == Path(sys.executable)


def test_a_second_build_reuses_the_installed_dependencies(lambda_layer, tmp_path):
    again = build(tmp_path)
    assert again.cached is True
    assert again.pins == lambda_layer.pins
    assert abs(again.layer_bytes - lambda_layer.layer_bytes) < 1000


def test_the_layer_alone_runs_the_handlers(host_layer, tmp_path):
    """The layer built for this interpreter, with nothing else but what the Lambda runtime provides
    (boto3, botocore, s3transfer), serves an API Gateway event and a scheduled event."""
    from moto.server import ThreadedMotoServer

    runtime = tmp_path / "var-runtime"
    runtime.mkdir()
    import boto3
    import botocore
    import s3transfer

    for module in (boto3, botocore, s3transfer):
        (runtime / module.__name__).symlink_to(Path(module.__file__).parent)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "x",
               "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1", "WFP_STAGE": "test",
               "WFP_MANIFEST": str(host_layer.manifest), "WFP_PLUGINS_DIR": str(host_layer.layer_dir / "python" / "plugins"),
               "MON_OUTIL_DEMO_API_KEY": "demo", "AWS_LAMBDA_FUNCTION_NAME": "wfp-test-api",
               "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
        script = textwrap.dedent(f'''
            import importlib.machinery, json, sys
            compiled = []  # what this cold start compiles: nothing of the layer or the code (their .pyc)
            original = importlib.machinery.SourceFileLoader.source_to_code
            def counting(self, data, path, *args, **kwargs):
                compiled.append(path)
                return original(self, data, path, *args, **kwargs)
            importlib.machinery.SourceFileLoader.source_to_code = counting
            sys.path[:0] = [{str(host_layer.function_dir)!r}, {str(host_layer.layer_dir / "python")!r}, {str(runtime)!r}]
            from functions.settings import Settings
            from functions.stores import create_tables
            create_tables(Settings())
            from functions.handlers import api, scheduler
            class Context:
                function_name = "wfp-test-api"; memory_limit_in_mb = 1024; aws_request_id = "r-1"
                invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:wfp-test-api"
            event = json.load(open({str(REPO / "tests" / "events" / "apigw-rest-post-execute.json")!r}))
            response = api.handler(event, Context())
            scheduled = scheduler.handler({{"workflow": "daily_digest", "time": "2026-11-25T09:00:00Z", "id": "e"}}, Context())
            docs = {{}}
            for path in ("/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-init.js"):
                get = dict(event, httpMethod="GET", path=path, body=None, isBase64Encoded=False)
                docs[path] = api.handler(get, Context())["statusCode"]
            outside = sorted(m.__file__ for m in list(sys.modules.values())
                             if getattr(m, "__file__", None) and "site-packages" in m.__file__)
            print("RESULT " + json.dumps({{"status": response["statusCode"], "body": json.loads(response["body"]),
                                           "scheduled": scheduled, "docs": docs, "outside": outside,
                                           "compiled": compiled}}))
        ''')
        out = subprocess.run([sys.executable, "-S", "-I", "-c", script], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stderr[-3000:]
    result = json.loads(lines[0][len("RESULT "):])
    assert result["status"] == 200 and result["body"]["status"] == "success", result
    assert result["body"]["message"] == "Bonjour, Ada!"
    assert result["scheduled"]["status"] == "success", result["scheduled"]
    assert set(result["docs"].values()) == {200}, result["docs"]  # the docs' files are in the layer and the code
    assert result["outside"] == []  # nothing came from this machine's site-packages
    built = (str(host_layer.layer_dir), str(host_layer.function_dir))
    assert host_layer.compiler is not None  # this interpreter compiles for itself
    assert [path for path in result["compiled"] if path.startswith(built)] == []  # all from the byte code


def test_the_durable_sdk_stays_out_of_the_shared_layer():
    """Only the durable function imports it (tests/functions/test_architecture.py); it gets a layer of its own."""
    shared = [layer_build.requirement_name(r) for r in layer_build.runtime_requirements()]
    durable = [layer_build.requirement_name(r) for r in layer_build.durable_requirements()]
    assert durable == ["aws-durable-execution-sdk-python"] and "aws-durable-execution-sdk-python" not in shared
    assert "fastapi" in shared


def test_the_durable_layer_holds_what_the_shared_one_does_not(tmp_path, seeded_cache):
    """``build(durable=True)``: ``out/durable-layer/python`` gets the durable requirements resolved with the
    shared ones, less every package the shared layer holds (the durable function loads both)."""
    joint = _key(runtime_requirements() + layer_build.durable_requirements(), LAMBDA)
    (seeded_cache / f"resolved-{joint}.json").write_text(json.dumps({"pins": ["fakepkg==1.0", "fakesdk==3.0"]}))
    installed: list[list[str]] = []

    def install(pins: list[str], folder: Path, wheels: Path, target: Target) -> None:
        installed.append(pins)
        for pin in pins:
            name = pin.split("==")[0]
            write(folder / name / "__init__.py", "VALUE = 1\n")
            write(folder / f"{name}-{pin.split('==')[1]}.dist-info" / "METADATA", f"Name: {name}\n")

    result = build(tmp_path / "out", cache=seeded_cache, installer=install, durable=True)
    assert installed == [["fakepkg==1.0"], ["fakesdk==3.0"]] and result.durable_pins == ["fakesdk==3.0"]
    durable_site = result.durable_layer_dir / "python"
    assert (durable_site / "fakesdk" / "__init__.py").is_file() and not (durable_site / "fakepkg").exists()
    assert not (result.layer_dir / "python" / "fakesdk").exists()
    assert "fakesdk==3.0 (the durable function's layer" in result.summary()
    plain = build(tmp_path / "plain", cache=seeded_cache, installer=install)  # durable=False: an empty layer
    assert list((plain.durable_layer_dir / "python").iterdir()) == [] and plain.durable_pins == []
