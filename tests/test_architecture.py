"""The shape of the house: imports run one way, with no cycles (function-level imports included).

files -> io -> AnnData -> pp/tl -> get/pl/report; engine and reference at the ground; the CLI,
``run`` and the workflow on top. See ../shared/STYLE.md and the README's Layout section.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mtncrna"

#: Ground-floor modules at the top of the package: anyone may import them; they import only each
#: other.
GROUND = {
    "_errors",
    "_constants",
    "_lazy",
    "_logging",
    "_settings",
    "_version",
    "_provenance",
    "_text",
    "_uns",
}

#: What each subpackage may import (besides the ground floor and itself).
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "reference": set(),
    "io": {"reference"},
    "quant": {"io", "reference"},
    "pp": {"engine", "reference"},
    "tl": {"engine", "reference"},
    "get": {"reference"},
    "pl": {"engine", "get", "io", "reference"},
    "report": {"engine", "get", "pl", "io", "reference"},
    "datasets": {"engine", "io", "reference"},
}
#: Modules on top (they may import everything).
TOP = {"__init__", "cli", "_run", "steps", "demo", "__main__"}


def _unit(path: Path, src: Path = SRC) -> str:
    """The architectural unit of a source file: its subpackage, or its module name at the top."""
    rel = path.relative_to(src)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["mtncrna", *parts])


def _imports(path: Path, src: Path = SRC) -> set[str]:
    """Every mtncrna module imported anywhere in the file (inside functions too)."""
    pkg = _module(path, src).split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("mtncrna"):
                continue
            out.add(target)
            if node.module is None or node.level:  # "from . import tl" names modules too
                for alias in node.names:
                    out.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("mtncrna"))
    return out


def _unit_of_module(name: str, src: Path = SRC) -> str | None:
    parts = name.split(".")
    if len(parts) < 2:
        return None
    head = parts[1]
    if (src / head).is_dir() or (src / f"{head}.py").exists():
        return head
    return None


def _edges(src: Path = SRC) -> dict[str, set[tuple[str, str]]]:
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in src.rglob("*.py"):
        me = _unit(f, src)
        for target in _imports(f, src):
            unit = _unit_of_module(target, src)
            if unit is not None and unit != me:
                edges[me].add((unit, f"{f.relative_to(src)} imports {target}"))
    return edges


def _violations(src: Path = SRC) -> list[str]:
    bad = []
    for me, targets in _edges(src).items():
        if me in TOP:
            continue
        allowed = GROUND if me in GROUND else GROUND | ALLOWED.get(me, set())
        for unit, where in targets:
            if unit not in allowed:
                bad.append(f"{me} -> {unit}: {where}")
    return bad


def test_imports_run_one_way():
    bad = _violations()
    assert not bad, "imports against the house:\n" + "\n".join(sorted(bad))


def test_every_unit_is_placed():
    units = {_unit(f) for f in SRC.rglob("*.py")}
    unplaced = units - GROUND - set(ALLOWED) - TOP
    assert not unplaced, f"place these in tests/test_architecture.py: {sorted(unplaced)}"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_package_cycles():
    graph = {me: {u for u, _ in targets} for me, targets in _edges().items()}
    assert _find_cycle(graph) is None, f"package cycle: {' -> '.join(_find_cycle(graph) or [])}"


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_no_module_cycles_inside(unit: str):
    """Inside a subpackage, private modules do not import each other in a loop."""
    graph: dict[str, set[str]] = defaultdict(set)
    for f in (SRC / unit).rglob("*.py"):
        if f.name == "__init__.py":
            continue
        me = _module(f)
        for target in _imports(f):
            if target.startswith(f"mtncrna.{unit}.") and target != me:
                graph[me].add(target)
    assert _find_cycle(graph) is None, f"module cycle: {' -> '.join(_find_cycle(graph) or [])}"


def test_the_checker_catches_backward_imports(tmp_path):
    """The checker itself can fail: a reader importing tl inside a function is caught."""
    pkg = tmp_path / "mtncrna"
    for sub in ("io", "tl"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "io" / "_read.py").write_text("def f():\n    from ..tl import annotate\n")
    (pkg / "tl" / "_a.py").write_text("from .. import io\n")
    bad = _violations(pkg)
    assert any(b.startswith("io -> tl") for b in bad), bad
    graph = {me: {u for u, _ in t} for me, t in _edges(pkg).items()}
    assert _find_cycle(graph) is not None


# ------------------------------------------------------------------ dependencies tell the truth

#: Import name of each distribution whose import name differs from its project name.
_IMPORT_NAME = {"pyyaml": "yaml"}


def _declared() -> dict[str, str]:
    """Project dependencies from pyproject.toml: import name -> requirement."""
    import re
    import tomllib

    project = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text())["project"]
    out = {}
    for req in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        out[_IMPORT_NAME.get(name, name.replace("-", "_"))] = req
    return out


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level names of every non-standard-library absolute import in src (any depth)."""
    import sys

    found: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "mtncrna" and top not in sys.stdlib_module_names:
                    found[top].add(str(path.relative_to(SRC)))
    return found


def test_every_import_is_declared_and_every_dependency_imported():
    declared, imported = _declared(), _third_party_imports()
    undeclared = {m: sorted(f) for m, f in imported.items() if m not in declared}
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"
    unused = sorted(set(declared) - set(imported))
    assert not unused, f"declared dependencies that src never imports: {unused}"
