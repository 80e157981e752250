"""The package's shape (docs/architecture.md): one folder per stage, imports only point down.

The import graph is read from the source (ast), not by importing. Module-level imports must form
no cycle; nor may imports inside functions (the lazy ones), apart from the package root whose
`__getattr__` loads the API on first use. No import at all (module-level, inside a function, or
for type checking only) may point the wrong way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tagger"
MAX_LINES = 400

# (importer prefix, imported prefix, why): an importer under the first may not import the second.
FORBIDDEN = [
    ("tagger.models", "tagger.run", "the model layer knows nothing of runs"),
    ("tagger.models", "tagger.cli", "the model layer knows nothing of the CLI"),
    ("tagger.config.schema", "tagger.evaluate", "schemas sit below evaluation"),
    ("tagger.config", "tagger.evaluate", "configuration sits below evaluation"),
    ("tagger.evaluate", "tagger.digest", "evaluation does not depend on the digest"),
    ("tagger.embedded", "tagger.models", "embedded backends are not gateways"),
]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    top_level: bool  # runs at import time (not inside a function or TYPE_CHECKING)
    typing_only: bool  # under `if TYPE_CHECKING:`: never runs


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


Found = tuple[ast.Import | ast.ImportFrom, bool, bool]  # (import, top level, typing only)


def _imports(tree: ast.AST, top_level: bool, typing_only: bool = False) -> Iterator[Found]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, top_level and not typing_only, typing_only
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(node, False, typing_only)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), False, True)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), top_level)
        else:
            yield from _imports(node, top_level, typing_only)


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that `name` (a module or module.attribute) names."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def edges(known: dict[str, Path]) -> list[Edge]:
    found: list[Edge] = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node, top, typing_only in _imports(tree, True):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.split(".")
                    parent = parent[: len(parent) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` mod
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                resolved = _resolve(target, known)
                if resolved is not None and resolved != source:
                    found.append(Edge(source, resolved, node.lineno, top, typing_only))
    return found


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that returns to its start; None if acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


KNOWN = modules()
EDGES = edges(KNOWN)


def test_the_graph_is_read() -> None:
    """A sanity check of the walker itself, so an empty graph cannot pass everything."""
    assert "tagger.run.job" in KNOWN and "tagger.models.base" in KNOWN
    assert any(e.source == "tagger.run.job" and e.target == "tagger.models.base" for e in EDGES)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for edge in EDGES:
        if edge.top_level:
            graph.setdefault(edge.source, set()).add(edge.target)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_even_inside_functions() -> None:
    """Lazy imports hide a cycle from Python, not from the design: none either. The package
    root is left out: `import tagger` loads nothing, `tagger.Tagger` loads the API."""
    graph: dict[str, set[str]] = {}
    for edge in EDGES:
        if not edge.typing_only and "tagger" not in (edge.source, edge.target):
            graph.setdefault(edge.source, set()).add(edge.target)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle (counting imports inside functions): " + " -> ".join(
        cycle or []
    )


@pytest.mark.parametrize(("importer", "imported", "why"), FORBIDDEN)
def test_no_import_points_the_wrong_way(importer: str, imported: str, why: str) -> None:
    wrong = [
        f"{e.source} (line {e.line}) imports {e.target}"
        for e in EDGES
        if _under(e.source, importer) and _under(e.target, imported)
    ]
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


def test_only_the_cli_imports_the_cli() -> None:
    wrong = [
        f"{e.source} (line {e.line}) imports {e.target}"
        for e in EDGES
        if _under(e.target, "tagger.cli") and not _under(e.source, "tagger.cli")
    ]
    assert not wrong, "nothing below tagger.cli imports it:\n" + "\n".join(wrong)


def test_no_module_is_too_long() -> None:
    long = {
        name: n
        for name, path in KNOWN.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
