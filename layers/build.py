"""Build the shared Lambda layer and the functions' code, without Docker: ``python -m layers.build``.

Output (``build/`` by default, git-ignored)::

    build/layer/python/<dependencies>    third-party packages, for Python 3.13 on arm64 (Graviton)
    build/layer/python/plugins/          the user's plugins (scratch/ left out: never loaded)
    build/layer/wfp-manifest.json        the plugin manifest (/opt/wfp-manifest.json on Lambda)
    build/function/functions/            the platform's code, the functions' own asset (/var/task)
    build/durable-layer/python/          the durable function's second layer: the durable execution SDK
                                         (``DURABLE_ONLY``), with ``wfp build`` and every deployment

Why the platform's code is the functions' asset and not in the layer: it changes with every edit
while the dependencies rarely do, and the layer is versioned and heavy (tens of MB); a code change
then re-uploads a few hundred KB. The plugins ride in the layer with their manifest, which must
describe exactly the plugins deployed next to it.

Dependencies are ``[project.dependencies]`` of pyproject.toml, installed as wheels for the Lambda
platform (``pip --platform manylinux2014_aarch64 --implementation cp --python-version 3.13
--only-binary=:all:``), without the packages the Python runtime already has (boto3, botocore,
s3transfer), then pruned (tests, caches, dist-info extras, the Google API discovery documents the
tools do not use). Three caches make a rebuild cheap and offline (``$WFP_BUILD_CACHE``, default
``~/.cache/wfp/layer``): the resolution (pins), the downloaded wheels, and the installed, pruned
tree, each keyed by what it depends on. ``--refresh`` resolves again (newer versions).

Byte code: Lambda cannot write ``.pyc`` files (``/opt`` and ``/var/task`` are read-only), so whatever the
layer and the code do not ship compiled is compiled again by every cold start (about 1.25 s of the api
function's 2 s import here). The build compiles both with an interpreter of the target's version
(``.pyc`` files are specific to a minor version: 3.13's can only come from a 3.13), found as
``$WFP_BUILD_PYTHON``, ``python3.13`` on the PATH, pyenv's or uv's; as unchecked-hash ``.pyc`` (valid
whatever the files' times after zipping), with the paths they will have on Lambda. Without such an
interpreter the build says so and ships sources only, as before (``Bytecode`` in the result).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """The interpreter the layer is for: wheels are chosen for it, not for the build machine."""

    platform: str = "manylinux2014_aarch64"
    python_version: str = "3.13"
    implementation: str = "cp"

    @classmethod
    def host(cls) -> "Target":
        """This machine's interpreter (tests run the built layer here to prove it is complete)."""
        machine = platform.machine()
        return cls(f"manylinux2014_{machine}", f"{sys.version_info.major}.{sys.version_info.minor}")

    @property
    def pip_flags(self) -> list[str]:
        return ["--platform", self.platform, "--implementation", self.implementation,
                "--python-version", self.python_version, "--only-binary=:all:"]


LAMBDA = Target()

#: In the Lambda Python runtime already (and botocore alone is 26 MB unzipped).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
#: Runtime dependencies only the durable function imports (``functions.handlers.durable``): not in the
#: shared layer the api, worker and scheduler functions load (they never import it, and the layer keeps
#: its budget); the durable function gets them in a layer of its own (``durable_requirements``,
#: ``out/durable-layer``, built by ``build(durable=True)``: ``wfp build`` and every deployment).
DURABLE_ONLY = {"aws-durable-execution-sdk-python"}
#: google-api-python-client ships ~600 API descriptions (~110 MB); the tools use these.
KEEP_DISCOVERY_DOCUMENTS = {"calendar.v3.json", "drive.v3.json", "sheets.v4.json"}
#: What a dist-info folder keeps: the version (importlib.metadata) and entry points (opentelemetry
#: finds its context implementation through them).
KEEP_DIST_INFO = {"METADATA", "entry_points.txt", "top_level.txt"}
PRUNED_DIRS = {"__pycache__", "tests", "test"}
#: Byte code (Lambda compiles on import), type stubs, protobuf and C sources: never read at run time.
PRUNED_SUFFIXES = (".pyc", ".pyo", ".pyi", ".proto", ".c")
#: Files and folders of specific packages the platform never uses:
#: - Powertools' own Swagger UI bundle (1.7 MB): /docs serves fastapi-offline's (functions/http/api_docs);
#: - fastapi-offline's ReDoc script (1.1 MB): the platform serves no /redoc;
#: - pydantic's ``pydantic.v1`` (0.5 MB), the Pydantic 1 API: FastAPI refuses v1 models and imports it only
#:   to recognise one (``fastapi._compat.shared``, an ImportError meaning "not a v1 model"), which cost a
#:   cold start ~25 ms with the first route built; nothing else in the layer imports it.
PRUNED_PATHS = ("aws_lambda_powertools/event_handler/openapi/swagger_ui", "fastapi_offline/static/redoc.standalone.js",
                "pydantic/v1")
#: Bump when the pruning rules change, so cached dependency trees are rebuilt.
PRUNE_VERSION = 3

MANIFEST_NAME = "wfp-manifest.json"
#: The durable function's own layer, beside ``layer`` in the output folder.
DURABLE_LAYER = "durable-layer"
#: Where the layer's content lands on Lambda (a layer is unzipped in /opt), and the functions' code.
LAMBDA_LAYER_ROOT = "/opt"
LAMBDA_TASK_ROOT = "/var/task"
#: The budget of the layer's sources (dependencies, plugins, manifest); byte code is counted apart.
TARGET_MB = 40
#: The interpreter that compiles the byte code, when it is not found by itself (``find_compiler``).
BUILD_PYTHON_VARIABLE = "WFP_BUILD_PYTHON"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"cannot read a package name in requirement {requirement!r}")
    return canonical(match.group(1))


def runtime_requirements(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The platform's runtime dependencies, less those the Lambda runtime provides and those only the
    durable function needs (``DURABLE_ONLY``)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [r for r in data["project"]["dependencies"]
            if requirement_name(r) not in RUNTIME_PROVIDED | DURABLE_ONLY]


def durable_requirements(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """What the durable function's own layer holds besides the shared one: the durable execution SDK."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [r for r in data["project"]["dependencies"] if requirement_name(r) in DURABLE_ONLY]


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def default_cache() -> Path:
    configured = os.environ.get("WFP_BUILD_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wfp" / "layer"


# ----- dependencies --------------------------------------------------------------------------------------
def _pip(args: list[str], quiet: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    if quiet:
        command.append("--quiet")
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        errors = "\n".join(line for line in (result.stderr or result.stdout).splitlines()
                           if "is ignored: it is neither a file nor a directory" not in line)
        raise BuildError(f"{what} failed (pip exit {result.returncode}):\n{errors[-3000:]}")


class BuildError(RuntimeError):
    """The layer could not be built; the message has pip's own explanation."""


def resolve(requirements: list[str], cache: Path, refresh: bool = False, target: Target = LAMBDA) -> list[str]:
    """Exact pins (``name==version``) for the Lambda platform, runtime-provided packages left out.

    ``pip install --dry-run --report`` resolves with the wheels' metadata only (PyPI serves it on its
    own), so botocore is never downloaded just to be thrown away. The result is cached per
    requirement list: rebuilds are reproducible until ``--refresh``.
    """
    path = cache / f"resolved-{_key(requirements, target)}.json"
    if path.is_file() and not refresh:
        return list(json.loads(path.read_text())["pins"])
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wfp-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        result = _pip(["install", "--dry-run", "--ignore-installed", "--target", str(Path(tmp) / "t"),
                       "--report", str(report), *target.pip_flags, *requirements])
        _check(result, "resolving the layer's dependencies")
        installs = json.loads(report.read_text())["install"]
    pins = sorted(f"{item['metadata']['name']}=={item['metadata']['version']}" for item in installs
                  if canonical(item["metadata"]["name"]) not in RUNTIME_PROVIDED)
    tmp_path = path.with_suffix(".tmp")
    tmp_path.write_text(json.dumps({"requirements": requirements, "pins": pins}, indent=1))
    os.replace(tmp_path, path)
    return pins


def install(pins: list[str], folder: Path, wheels: Path, target: Target = LAMBDA) -> None:
    """Install exactly ``pins`` into ``folder``: from the local wheel cache, downloading what it lacks."""
    wheels.mkdir(parents=True, exist_ok=True)
    flags = ["--no-deps", "--no-compile", "--target", str(folder), *target.pip_flags]
    offline = _pip(["install", "--no-index", "--find-links", str(wheels), *flags, *pins])
    if offline.returncode == 0:
        return
    shutil.rmtree(folder, ignore_errors=True)
    _check(_pip(["download", "--no-deps", "--dest", str(wheels), *target.pip_flags, *pins]),
           "downloading the layer's wheels")
    _check(_pip(["install", "--no-index", "--find-links", str(wheels), *flags, *pins]),
           "installing the layer's wheels")


@dataclass
class PruneReport:
    files: int = 0
    bytes: int = 0

    def remove(self, path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            for item in path.rglob("*"):
                if item.is_file():
                    self.files += 1
                    self.bytes += item.stat().st_size
            shutil.rmtree(path)
        elif path.exists():
            self.files += 1
            self.bytes += path.stat().st_size
            path.unlink()


def prune(site: Path) -> PruneReport:
    """Delete what a Lambda never reads from an installed tree; returns what went."""
    report = PruneReport()
    for name in RUNTIME_PROVIDED:  # in case a dependency pulled one in anyway
        for path in site.glob(f"{name}"):
            report.remove(path)
        for path in site.glob(f"{name}-*.dist-info"):
            report.remove(path)
    for junk in ("tests", "test"):  # a few wheels ship their test suite as a top-level package
        report.remove(site / junk)
    report.remove(site / "bin")  # console scripts, with the build machine's interpreter in their shebang
    for dist_info in site.glob("*.dist-info"):
        for item in list(dist_info.iterdir()):
            if item.name not in KEEP_DIST_INFO:
                report.remove(item)
    for relative in PRUNED_PATHS:
        report.remove(site / relative)
    documents = site / "googleapiclient" / "discovery_cache" / "documents"
    if documents.is_dir():
        for document in documents.iterdir():
            if document.name not in KEEP_DISCOVERY_DOCUMENTS:
                report.remove(document)
    for top in [p for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")]:
        for path in sorted(top.rglob("*"), key=lambda p: len(p.parts)):
            if not path.exists():
                continue
            if path.is_dir() and path.name in PRUNED_DIRS:
                report.remove(path)
            elif path.is_file() and path.name.endswith(PRUNED_SUFFIXES):
                report.remove(path)
    return report


Installer = Callable[[list[str], Path, Path, Target], None]


def dependencies(requirements: list[str], cache: Path, refresh: bool = False, target: Target = LAMBDA,
                 installer: Installer = install) -> tuple[Path, list[str], bool]:
    """The installed, pruned dependency tree for ``requirements`` (cached); also the pins and whether
    it came from the cache."""
    pins = resolve(requirements, cache, refresh, target)
    tree, cached = installed_tree(pins, cache, target, installer)
    return tree, pins, cached


def durable_dependencies(shared: list[str], durable: list[str], shared_pins: list[str], cache: Path,
                         refresh: bool = False, target: Target = LAMBDA,
                         installer: Installer = install) -> tuple[Path, list[str], bool]:
    """The durable function's own dependency tree: ``durable`` resolved together with the shared
    requirements (so that a package both need has the shared layer's version), less every package the
    shared layer already holds (the durable function loads both layers). Cached like ``dependencies``."""
    joint = resolve(shared + durable, cache, refresh, target)
    held = {canonical(pin.split("==", 1)[0]) for pin in shared_pins}
    pins = [pin for pin in joint if canonical(pin.split("==", 1)[0]) not in held]
    tree, cached = installed_tree(pins, cache, target, installer)
    return tree, pins, cached


def installed_tree(pins: list[str], cache: Path, target: Target = LAMBDA,
                   installer: Installer = install) -> tuple[Path, bool]:
    """``pins`` installed and pruned, in the cache (made once per pin list); whether it was there already."""
    tree = cache / f"deps-{_key(pins, target, PRUNE_VERSION)}"
    if (tree / ".complete").is_file():
        return tree, True
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="deps-", dir=cache))
    try:
        installer(pins, work, cache / "wheels", target)
        prune(work)
        (work / ".complete").write_text("\n".join(pins) + "\n")
        shutil.rmtree(tree, ignore_errors=True)
        os.replace(work, tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tree, False


# ----- byte code -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compiler:
    """An interpreter of the target's minor version: the only one whose ``.pyc`` files the target loads."""

    python: Path
    version: str

    def describe(self) -> str:
        return f"Python {self.version} ({self.python})"


def _version_of(python: Path) -> str | None:
    try:
        done = subprocess.run([str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _candidates(version: str) -> Iterable[Path]:
    found = shutil.which(f"python{version}")
    if found:
        yield Path(found)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        yield Path(sys.executable)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    yield from sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    uv = shutil.which("uv")
    if uv:
        done = subprocess.run([uv, "python", "find", "--no-python-downloads", version], capture_output=True,
                              text=True, timeout=30, check=False)
        if done.returncode == 0 and done.stdout.strip():
            yield Path(done.stdout.strip())


def find_compiler(target: Target, environ: dict[str, str] | None = None) -> Compiler | None:
    """An interpreter of ``target``'s version on this machine (None: there is none). ``$WFP_BUILD_PYTHON``
    wins, and must be of that version (a wrong one is an error, not a silent layer without byte code)."""
    environ = dict(os.environ) if environ is None else environ
    chosen = environ.get(BUILD_PYTHON_VARIABLE, "").strip()
    if chosen:
        version = _version_of(Path(chosen))
        if version is None or not version.startswith(f"{target.python_version}."):
            raise BuildError(f"{BUILD_PYTHON_VARIABLE}={chosen} is {'not a Python' if version is None else version}: "
                             f"the layer's byte code needs Python {target.python_version}")
        return Compiler(Path(chosen), version)
    for python in _candidates(target.python_version):
        version = _version_of(python)
        if version and version.startswith(f"{target.python_version}."):
            return Compiler(python, version)
    return None


def compile_tree(compiler: Compiler, root: Path, deployed_as: str) -> list[str]:
    """Compile every ``.py`` under ``root`` into ``__pycache__`` as it will be deployed (``deployed_as``: the
    folder ``root`` becomes on Lambda, the path tracebacks name). Returns the files that did not compile
    (a module Python 3 cannot parse, never imported: it stays source only)."""
    done = subprocess.run(
        [str(compiler.python), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-d", deployed_as, str(root)], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return []
    failed = [line.split("***", 1)[1].strip() for line in done.stdout.splitlines() if line.startswith("***")]
    if not failed:
        raise BuildError(f"compiling {root} with {compiler.describe()} failed:\n{(done.stderr or done.stdout)[-2000:]}")
    return failed


def bytecode_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.pyc") if p.is_file())


def compiled_dependencies(tree: Path, compiler: Compiler) -> tuple[Path, list[str]]:
    """The cached dependency tree with its byte code: a sibling of ``tree`` per interpreter version (files
    hard-linked, ``.pyc`` added), made once; ``tree`` itself stays sources only for the builds without.
    Also the files that did not compile."""
    compiled = tree.with_name(f"{tree.name}-bytecode-{compiler.version}")
    done = compiled / ".compiled"  # lists the files that did not compile
    if done.is_file():
        return compiled, [line for line in done.read_text().splitlines() if line]
    work = Path(tempfile.mkdtemp(prefix="bytecode-", dir=tree.parent))
    try:
        shutil.copytree(tree, work, dirs_exist_ok=True, copy_function=_link_or_copy)
        failed = compile_tree(compiler, work, f"{LAMBDA_LAYER_ROOT}/python")
        (work / ".compiled").write_text("".join(f"{path}\n" for path in failed))
        shutil.rmtree(compiled, ignore_errors=True)
        os.replace(work, compiled)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return compiled, failed


# ----- plugins, manifest, code ---------------------------------------------------------------------------
def _ignore(*extra: str) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in ("__pycache__", *extra) or n.endswith(PRUNED_SUFFIXES)
                or n.startswith(".")}
    return ignore


def copy_plugins(source: Path, target: Path) -> None:
    """The plugins the platform loads: ``scratch/`` (the seed's temp/) is for trying things locally."""
    shutil.copytree(source, target, ignore=_ignore("scratch"))


def write_plugin_manifest(plugins_dir: Path, path: Path) -> list[str]:
    """Discover and import every plugin once, here, and write what was found; returns the errors."""
    from functions.registry.discovery import Registry, purge_plugin_modules
    from functions.registry.manifest import write_manifest

    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ inside the layer
    try:
        registry = Registry.discover(plugins_dir).check_all()
        write_manifest(registry, path)
    finally:
        purge_plugin_modules(plugins_dir)
        sys.dont_write_bytecode = previous
    return [f"{p.kind} {p.name}: {p.error} ({p.error_file})" for p in registry.errors()]


def compile_dashboard_templates(code: Path) -> None:
    """The dashboard's templates as Python modules beside them in the built code (loaded by
    ``functions.http.dashboard.render``; compiled to byte code with the rest of the code)."""
    from functions.http.dashboard.render import COMPILED, compile_templates

    compile_templates(code / COMPILED.relative_to(REPO / "functions"))


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass
class BuildResult:
    layer_dir: Path
    function_dir: Path
    manifest: Path
    layer_bytes: int
    dependencies_bytes: int
    plugins_bytes: int
    function_bytes: int
    pins: list[str] = field(default_factory=list)
    plugin_errors: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0
    #: The interpreter that compiled the byte code (None: sources only); the ``.pyc`` bytes of the layer
    #: (counted in ``layer_bytes`` too) and of the function's code; files left uncompiled.
    compiler: Compiler | None = None
    layer_bytecode_bytes: int = 0
    function_bytecode_bytes: int = 0
    uncompiled: list[str] = field(default_factory=list)
    target: Target = LAMBDA
    bytecode_disabled: bool = False
    #: The durable function's own layer (``DURABLE_ONLY``: the durable execution SDK), loaded after the
    #: shared one; its ``python/`` is empty when it was not built (``durable=False``, ``--no-deps``).
    durable_layer_dir: Path | None = None
    durable_pins: list[str] = field(default_factory=list)
    durable_layer_bytes: int = 0

    @property
    def layer_mb(self) -> float:
        return self.layer_bytes / 1e6

    @property
    def sources_mb(self) -> float:
        """The layer without its byte code: what the ``TARGET_MB`` budget is about."""
        return (self.layer_bytes - self.layer_bytecode_bytes) / 1e6

    def summary(self) -> str:
        deps = (f"dependencies {self.dependencies_bytes / 1e6:.1f} MB in {len(self.pins)} packages"
                f"{' (cached)' if self.cached else ''}" if self.pins else "no dependencies (--no-deps)")
        verdict = "" if not self.pins else (
            f", under the {TARGET_MB} MB target" if self.sources_mb < TARGET_MB else f", OVER the {TARGET_MB} MB target")
        if self.compiler:
            code = (f"byte code {self.layer_bytecode_bytes / 1e6:.1f} MB in the layer, "
                    f"{self.function_bytecode_bytes / 1e3:.0f} KB in the function, by {self.compiler.describe()}")
        elif self.bytecode_disabled:
            code = "no byte code (--no-bytecode): every cold start compiles what it imports"
        else:
            code = (f"no byte code: no Python {self.target.python_version} found (set {BUILD_PYTHON_VARIABLE}, or "
                    f"install python{self.target.python_version}); every cold start compiles what it imports")
        lines = [
            f"layer     {self.layer_dir}: {self.layer_mb:.1f} MB unzipped, sources {self.sources_mb:.1f} MB{verdict}",
            f"          {deps}, plugins {self.plugins_bytes / 1e3:.0f} KB, manifest {self.manifest.name}",
            *([f"durable   {self.durable_layer_dir}: {self.durable_layer_bytes / 1e3:.0f} KB unzipped, "
               f"{', '.join(self.durable_pins)} (the durable function's layer, beside the shared one)"]
              if self.durable_pins else []),
            f"function  {self.function_dir}: {self.function_bytes / 1e3:.0f} KB (functions/)",
            f"          {code}",
            f"built in {self.seconds:.1f} s",
        ]
        lines += [f"warning: not compiled, left as source: {e}" for e in self.uncompiled]
        lines += [f"warning: broken plugin, deployed as broken: {e}" for e in self.plugin_errors]
        return "\n".join(lines)


def build(out: Path = REPO / "build", *, repo: Path = REPO, with_deps: bool = True, cache: Path | None = None,
          refresh: bool = False, plugins_dir: Path | None = None, target: Target = LAMBDA,
          installer: Installer = install, bytecode: bool = True, durable: bool = False) -> BuildResult:
    """Build ``out/layer`` and ``out/function`` from scratch (the caches keep this fast), with byte code
    when ``bytecode`` and an interpreter of the target's version is found (``find_compiler``); with
    ``durable`` (what a deployment builds) also ``out/durable-layer``, the durable function's own layer
    (always made, empty without it: the stack's asset)."""
    started = time.perf_counter()
    cache = cache or default_cache()
    compiler = find_compiler(target) if bytecode else None
    uncompiled: list[str] = []
    layer, function, durable_layer = out / "layer", out / "function", out / DURABLE_LAYER
    for folder in (layer, function, durable_layer):
        shutil.rmtree(folder, ignore_errors=True)
    (durable_layer / "python").mkdir(parents=True)
    durable_pins: list[str] = []
    site = layer / "python"
    site.mkdir(parents=True)
    pins: list[str] = []
    cached = False
    if with_deps:
        tree, pins, cached = dependencies(runtime_requirements(repo / "pyproject.toml"), cache, refresh, target,
                                          installer)
        if compiler:
            tree, failed = compiled_dependencies(tree, compiler)
            uncompiled += failed
        shutil.copytree(tree, site, dirs_exist_ok=True, copy_function=_link_or_copy,
                        ignore=lambda d, names: {".complete", ".compiled"} & set(names))
        if durable:
            durable_tree, durable_pins, _ = durable_dependencies(
                runtime_requirements(repo / "pyproject.toml"), durable_requirements(repo / "pyproject.toml"),
                pins, cache, refresh, target, installer)
            if compiler:
                durable_tree, failed = compiled_dependencies(durable_tree, compiler)
                uncompiled += failed
            shutil.copytree(durable_tree, durable_layer / "python", dirs_exist_ok=True, copy_function=_link_or_copy,
                            ignore=lambda d, names: {".complete", ".compiled"} & set(names))
    deps_bytes = tree_size(site) - bytecode_size(site)  # sources: the byte code is counted apart
    copy_plugins(plugins_dir or repo / "plugins", site / "plugins")
    manifest = layer / MANIFEST_NAME
    errors = write_plugin_manifest(site / "plugins", manifest)
    shutil.copytree(repo / "functions", function / "functions", ignore=_ignore())
    compile_dashboard_templates(function / "functions")
    if compiler:
        uncompiled += compile_tree(compiler, site / "plugins", f"{LAMBDA_LAYER_ROOT}/python/plugins")
        uncompiled += compile_tree(compiler, function, LAMBDA_TASK_ROOT)
    return BuildResult(layer_dir=layer, function_dir=function, manifest=manifest, layer_bytes=tree_size(layer),
                       dependencies_bytes=deps_bytes, plugins_bytes=tree_size(site / "plugins"),
                       function_bytes=tree_size(function), pins=pins, plugin_errors=errors, cached=cached,
                       seconds=time.perf_counter() - started, compiler=compiler,
                       layer_bytecode_bytes=bytecode_size(layer), function_bytecode_bytes=bytecode_size(function),
                       uncompiled=uncompiled, target=target, bytecode_disabled=not bytecode,
                       durable_layer_dir=durable_layer, durable_pins=durable_pins,
                       durable_layer_bytes=tree_size(durable_layer))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build", help="output folder (default: build/)")
    parser.add_argument("--no-deps", action="store_true",
                        help="plugins and manifest only (a quick synth check; not deployable)")
    parser.add_argument("--refresh", action="store_true", help="resolve the dependencies again (newer versions)")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: $WFP_BUILD_CACHE or "
                                                                 "~/.cache/wfp/layer)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help=f"ship sources only, even when a Python {LAMBDA.python_version} is found")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        result = build(args.out, with_deps=not args.no_deps, cache=args.cache, refresh=args.refresh,
                       bytecode=not args.no_bytecode, durable=True)
    except BuildError as exc:
        _log(f"error: {exc}")
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
