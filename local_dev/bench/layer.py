"""Layer size: the shared Lambda layer as ``layers.build`` builds it, beside a naive install.

The layer is built into the work folder with its caches (``~/.cache/wfp/layer``: a rebuild takes a
second or two; the first downloads the wheels from PyPI). The naive install is what one gets without
the build's care: ``pip install --target`` of every ``[project.dependencies]`` for the same platform
(arm64, CPython 3.13), boto3 and botocore included, nothing pruned. It is measured once and its size
kept in the same cache (``naive-<key>.json``, keyed by the requirements): delete the file, or pass
``--refresh`` to ``wfp bench``, to install it again.

With ``--quick`` (a check of the machinery, offline) the layer is built without its dependencies,
the naive size is shown only if cached, and the figure is informational.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
import zipfile
from pathlib import Path

from .context import Bench, log
from .report import Figure, value


def project_requirements(repo: Path) -> list[str]:
    return list(tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])


def naive_bytes(cache: Path, requirements: list[str], refresh: bool = False, install: bool = True) -> int | None:
    """Unzipped size of a plain ``pip install --target`` of ``requirements`` for the Lambda platform
    (None when not cached and ``install`` is False)."""
    from layers.build import LAMBDA, _check, _key, _pip, tree_size

    record = cache / f"naive-{_key(requirements, LAMBDA)}.json"
    if record.is_file() and not refresh:
        return int(json.loads(record.read_text())["bytes"])
    if not install:
        return None
    log(f"layer: naive install of {len(requirements)} requirements (pip install --target, once; cached)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wfp-naive-") as tmp:
        target = Path(tmp) / "python"
        _check(_pip(["install", "--target", str(target), *LAMBDA.pip_flags, "--find-links", str(cache / "wheels"),
                     *requirements]), "the naive install")
        size = tree_size(target)
    record.write_text(json.dumps({"requirements": requirements, "bytes": size}))
    return size


def zipped_bytes(folder: Path, work: Path) -> int:
    archive = work / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(folder))
    size = archive.stat().st_size
    archive.unlink()
    return size


def run(bench: Bench) -> list[Figure]:
    from layers.build import REPO, TARGET_MB, build, default_cache

    cache = default_cache()
    result = build(bench.workdir / "build", with_deps=not bench.quick)
    naive = naive_bytes(cache, project_requirements(REPO), refresh=bench.refresh, install=not bench.quick)
    figure = Figure("layer size", "layer unzipped, sources (dependencies, plugins, manifest)", result.sources_mb,
                    "MB", "naive pip install --target", naive / 1e6 if naive is not None else None,
                    None if bench.quick else value("<", TARGET_MB))
    if bench.quick:
        figure.note = "--quick: built without its dependencies (offline check of the machinery)"
    figure.details = [f"{len(result.pins)} packages{' (from the cache)' if result.cached else ''}; dependencies "
                      f"{result.dependencies_bytes / 1e6:.1f} MB, plugins {result.plugins_bytes / 1e3:.0f} KB; "
                      f"the functions' own code asset {result.function_bytes / 1e3:.0f} KB"]
    figures = [figure]
    if result.compiler:
        figures.append(Figure("layer size", f"layer unzipped with its byte code ({result.compiler.describe()})",
                              result.layer_mb, "MB", "sources only", result.sources_mb))
    else:
        figure.details.append(f"no byte code: no Python {result.target.python_version} on this machine")
    if not bench.quick:
        figure.details.append(f"zipped (deflate): {zipped_bytes(result.layer_dir, bench.workdir) / 1e6:.1f} MB")
    shutil.rmtree(bench.workdir / "build", ignore_errors=True)
    return figures
