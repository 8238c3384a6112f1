"""Build the shared Lambda layer and the functions' code, without Docker: ``python -m layers.build``.

Output (``build/`` by default, git-ignored)::

    build/layer/python/<dependencies>    third-party packages, for Python 3.12 on arm64 (Graviton)
    build/layer/python/plugins/          the user's plugins (scratch/ left out: never loaded)
    build/layer/wfp-manifest.json        the plugin manifest (/opt/wfp-manifest.json on Lambda)
    build/function/functions/            the platform's code, the functions' own asset (/var/task)

Why the platform's code is the functions' asset and not in the layer: it changes with every edit
while the dependencies rarely do, and the layer is versioned and heavy (tens of MB); a code change
then re-uploads a few hundred KB. The plugins ride in the layer with their manifest, which must
describe exactly the plugins deployed next to it.

Dependencies are ``[project.dependencies]`` of pyproject.toml, installed as wheels for the Lambda
platform (``pip --platform manylinux2014_aarch64 --implementation cp --python-version 3.12
--only-binary=:all:``), without the packages the Python runtime already has (boto3, botocore,
s3transfer), then pruned (tests, caches, dist-info extras, the Google API discovery documents the
tools do not use). Three caches make a rebuild cheap and offline (``$WFP_BUILD_CACHE``, default
``~/.cache/wfp/layer``): the resolution (pins), the downloaded wheels, and the installed, pruned
tree, each keyed by what it depends on. ``--refresh`` resolves again (newer versions).
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
    python_version: str = "3.12"
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
#: Where the layer's content lands on Lambda (a layer is unzipped in /opt).
LAMBDA_LAYER_ROOT = "/opt"
TARGET_MB = 40


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
    """The platform's runtime dependencies, less those the Lambda runtime provides."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [r for r in data["project"]["dependencies"] if requirement_name(r) not in RUNTIME_PROVIDED]


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
    tree = cache / f"deps-{_key(pins, target, PRUNE_VERSION)}"
    if (tree / ".complete").is_file():
        return tree, pins, True
    work = Path(tempfile.mkdtemp(prefix="deps-", dir=cache))
    try:
        installer(pins, work, cache / "wheels", target)
        prune(work)
        (work / ".complete").write_text("\n".join(pins) + "\n")
        shutil.rmtree(tree, ignore_errors=True)
        os.replace(work, tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tree, pins, False


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

    @property
    def layer_mb(self) -> float:
        return self.layer_bytes / 1e6

    def summary(self) -> str:
        deps = (f"dependencies {self.dependencies_bytes / 1e6:.1f} MB in {len(self.pins)} packages"
                f"{' (cached)' if self.cached else ''}" if self.pins else "no dependencies (--no-deps)")
        verdict = "" if not self.pins else (
            f", under the {TARGET_MB} MB target" if self.layer_mb < TARGET_MB else f", OVER the {TARGET_MB} MB target")
        lines = [
            f"layer     {self.layer_dir}: {self.layer_mb:.1f} MB unzipped{verdict}",
            f"          {deps}, plugins {self.plugins_bytes / 1e3:.0f} KB, manifest {self.manifest.name}",
            f"function  {self.function_dir}: {self.function_bytes / 1e3:.0f} KB (functions/)",
            f"built in {self.seconds:.1f} s",
        ]
        lines += [f"warning: broken plugin, deployed as broken: {e}" for e in self.plugin_errors]
        return "\n".join(lines)


def build(out: Path = REPO / "build", *, repo: Path = REPO, with_deps: bool = True, cache: Path | None = None,
          refresh: bool = False, plugins_dir: Path | None = None, target: Target = LAMBDA,
          installer: Installer = install) -> BuildResult:
    """Build ``out/layer`` and ``out/function`` from scratch (the caches keep this fast)."""
    started = time.perf_counter()
    cache = cache or default_cache()
    layer, function = out / "layer", out / "function"
    for folder in (layer, function):
        shutil.rmtree(folder, ignore_errors=True)
    site = layer / "python"
    site.mkdir(parents=True)
    pins: list[str] = []
    cached = False
    if with_deps:
        tree, pins, cached = dependencies(runtime_requirements(repo / "pyproject.toml"), cache, refresh, target,
                                          installer)
        shutil.copytree(tree, site, dirs_exist_ok=True, copy_function=_link_or_copy,
                        ignore=lambda d, names: {".complete"} & set(names))
    deps_bytes = tree_size(site)
    copy_plugins(plugins_dir or repo / "plugins", site / "plugins")
    manifest = layer / MANIFEST_NAME
    errors = write_plugin_manifest(site / "plugins", manifest)
    shutil.copytree(repo / "functions", function / "functions", ignore=_ignore())
    return BuildResult(layer_dir=layer, function_dir=function, manifest=manifest, layer_bytes=tree_size(layer),
                       dependencies_bytes=deps_bytes, plugins_bytes=tree_size(site / "plugins"),
                       function_bytes=tree_size(function), pins=pins, plugin_errors=errors, cached=cached,
                       seconds=time.perf_counter() - started)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build", help="output folder (default: build/)")
    parser.add_argument("--no-deps", action="store_true",
                        help="plugins and manifest only (a quick synth check; not deployable)")
    parser.add_argument("--refresh", action="store_true", help="resolve the dependencies again (newer versions)")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: $WFP_BUILD_CACHE or "
                                                                 "~/.cache/wfp/layer)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        result = build(args.out, with_deps=not args.no_deps, cache=args.cache, refresh=args.refresh)
    except BuildError as exc:
        _log(f"error: {exc}")
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
