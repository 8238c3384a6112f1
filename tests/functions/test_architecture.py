"""The import structure of ``functions/``, read from the code (ARCHITECTURE.md draws it): no circle, imports
run one way through the wings, and the core reaches AWS only through what the composition root hands it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import REPO

ROOT = REPO / "functions"
#: Each wing may import its own modules and those of lower layers only (ARCHITECTURE.md, "Wings").
LAYERS = {
    "functions.settings": 0, "functions.errors": 0,
    "functions.registry": 1,
    "functions.core": 2,
    "functions.stores": 3, "functions.aws": 3, "functions.durable": 3,
    "functions.platform": 4,
    "functions.google": 5,
    "functions.http": 6,
    "functions.handlers": 7,
}
#: The one upward import, made at call time: a tool a plugin builds itself (``Tool(profile="PROD")``, the
#: seed's contract) has no platform handed to it, so it looks up the process's.
ALLOWED_UPWARD = {("functions.registry.base_tool", "functions.platform")}
AWS_LIBRARIES = ("boto3", "botocore", "pynamodb", "aws_xray_sdk")


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, module_level_only: bool) -> set[str]:
    """Absolute names imported by the file (``from x import y`` counts ``x`` and ``x.y``)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # module level includes try/if blocks, not function bodies
        stack, nodes = list(tree.body), []
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, (ast.Try, ast.If, ast.With)):
                stack.extend(ast.iter_child_nodes(node))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def wing(name: str) -> str | None:
    return next((w for w in sorted(LAYERS, key=len, reverse=True) if name == w or name.startswith(w + ".")), None)


def test_every_module_belongs_to_a_wing():
    assert [name for name in modules() if name != "functions" and wing(name) is None] == []


def test_no_import_circle_among_the_modules():
    known = modules()
    graph = {name: {i for i in imports(path, module_level_only=True) if i in known and i != name}
             for name, path in known.items()}
    # Tarjan's strongly connected components: a component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []


def test_imports_run_one_way_through_the_wings():
    known = modules()
    upward = []
    for name, path in known.items():
        if name == "functions" or wing(name) is None:
            continue
        for target in imports(path, module_level_only=False):
            if not target.startswith("functions.") or wing(target) is None:
                continue
            if LAYERS[wing(target)] > LAYERS[wing(name)] and (name, wing(target)) not in ALLOWED_UPWARD:
                upward.append(f"{name} imports {target}")
    assert upward == []


@pytest.mark.parametrize("library", AWS_LIBRARIES)
def test_the_core_never_imports_an_aws_library(library):
    """Not even lazily: the core reaches AWS only through the Protocols the composition root fills."""
    offenders = [name for name, path in modules().items() if wing(name) in ("functions.core", "functions.registry")
                 and any(i == library or i.startswith(library + ".") for i in imports(path, module_level_only=False))]
    assert offenders == []


def test_the_core_knows_no_store_and_no_aws_adapter():
    offenders = [f"{name}: {target}" for name, path in modules().items() if wing(name) == "functions.core"
                 for target in imports(path, module_level_only=False)
                 if wing(target) in ("functions.stores", "functions.aws", "functions.platform")]
    assert offenders == []


def test_the_durable_wing_reaches_records_through_the_core_only():
    """``functions.durable`` (the SDK's side of durable runs) writes run records through the core's
    ``RunStore`` the composition root hands it: no store, no AWS adapter, no platform."""
    offenders = [f"{name}: {target}" for name, path in modules().items() if wing(name) == "functions.durable"
                 for target in imports(path, module_level_only=False)
                 if wing(target) in ("functions.stores", "functions.aws", "functions.platform")]
    assert offenders == []


def test_only_the_durable_handler_and_wing_import_the_durable_sdk():
    """The api, worker and scheduler functions never import the durable SDK (nor boto3 through it)."""
    offenders = [name for name, path in modules().items()
                 if wing(name) != "functions.durable" and name != "functions.handlers.durable"
                 and any(i.startswith("aws_durable_execution_sdk_python") for i in imports(path, module_level_only=False))]
    assert offenders == []
