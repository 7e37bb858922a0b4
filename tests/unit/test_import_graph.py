"""babelir's modules import only downward: the graph of imports between babelir modules has no cycle.

Every ``import``/``from ... import`` of a babelir module counts, at module level and inside
functions alike: a function-level import of a module that imports you back is still a circle (it
only moves the failure from import time to call time, and it ties the two modules together).
The graph is read from the source with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import babelir

ROOT = Path(babelir.__file__).parent

# Cycles that remain, each (as a set of modules) with the reason it is still allowed. Keep this
# empty where possible; an entry here is a debt, not a design.
ALLOWED: dict[frozenset[str], str] = {
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the babelir modules it imports (a ``from pkg import name`` counts as importing
    ``pkg.name`` when that is a module, else ``pkg``)."""
    modules = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target not in modules:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in modules else target)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[frozenset[str], list[str]]]:
    """Per strongly connected component of more than one module: the component and one cycle in it
    (a path a -> ... -> a, a being the component's first module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm (Tarjan 1972, SIAM J. Comput. 1(2))
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        start = min(component)
        # a shortest path start -> ... -> v with an edge v -> start, found breadth first
        previous: dict[str, str | None] = {start: None}
        queue = [start]
        while queue:
            v = queue.pop(0)
            if start in graph[v]:
                path = [v]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                found.append((frozenset(component), path[::-1] + [start]))
                break
            for w in sorted(graph[v] & component):
                if w not in previous:
                    previous[w] = v
                    queue.append(w)
    return found


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    # babelir.io.qrels imports babelir.io.textfile at module level; analyzer imports segment in a method
    assert "babelir.io.textfile" in graph["babelir.io.qrels"]
    assert "babelir.text.segment" in graph["babelir.text.analyzer"]


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [(frozenset("abc"), ["a", "b", "c", "a"])]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_babelir_modules_import_only_downward():
    found = [(modules, path) for modules, path in cycles(import_graph()) if modules not in ALLOWED]
    assert not found, "import cycles: " + "; ".join(
        " -> ".join(path) + (f" (and {', '.join(sorted(modules - set(path)))} in the same circle)"
                             if modules - set(path) else "")
        for modules, path in found)


def test_the_allowed_cycles_still_exist():
    """An allowed cycle that was removed leaves the list, so the list cannot hide a new one."""
    present = {modules for modules, _ in cycles(import_graph())}
    assert not set(ALLOWED) - present


def test_the_encoder_registry_imports_implementations_only_when_asked():
    code = ("import sys, babelir.encode.base as b; print(sorted(m for m in sys.modules if m.startswith('babelir.encode')));"
            "b.get_encoder('static:/nonexistent', cache=False)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split("\n")[0] == "['babelir.encode', 'babelir.encode.base']"
    assert "not a static encoder directory" in out.stderr  # the static encoder module was imported and used


def test_a_registered_encoder_is_found_by_its_prefix(monkeypatch):
    from babelir.encode import base
    from babelir.errors import BabelirError

    monkeypatch.setattr(base, "_FACTORIES", dict(base._FACTORIES))
    made = []
    base.register_encoder("toy:", lambda spec: made.append(spec) or spec, cacheable=False)
    assert base.get_encoder("toy:a/b") == "toy:a/b" and made == ["toy:a/b"]
    with pytest.raises(BabelirError, match="unknown encoder 'toy'"):
        base.get_encoder("toy")
