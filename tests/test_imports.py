"""The package stays in a shape a newcomer can read: no module imports in a cycle, and
none is longer than it needs to be.

A cycle works until someone imports its modules in another order (then a half-initialized
module raises ImportError), and an import tucked into a function to dodge one hides a design
knot: the registry imported the RBM, whose trainer imported the training loop, which
imported the registry.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    """Every module of ``explorer``, by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted((ROOT / "explorer").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (at module level,
    under ``TYPE_CHECKING`` or inside a function), with the packages each import initializes
    on the way that do not already contain ``name`` (importing ``a.b.c`` runs ``a.b`` first)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[:len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from a import b`` imports the module a.b when there is one, else a name of a.
            targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    edges = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            step = ".".join(parts[:i])
            if step in modules and step != name and not name.startswith(step + "."):
                edges.add(step)
    return edges


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_is_acyclic():
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    assert "explorer.models.rbm" in graph["explorer.models.registry"]  # the check sees imports
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# The static check above covers import order; this one that every module imports at all
# (no name an import expects is missing), in a fresh interpreter, not this test session's.
IMPORT_ALL = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"


def test_every_module_imports_in_a_fresh_interpreter():
    names = [name for name in _modules() if not name.endswith("__main__")]  # that one runs the CLI
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, *names], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


# scikit-learn takes ~1.3 s to import on a 2-core machine, and a raw or cached map needs none
# of it: the Explore page's imports must leave it to the first projection that is fit.
NO_SKLEARN = "import sys, explorer.ui.explore\nsys.exit('sklearn' in sys.modules)\n"


def test_the_explore_page_imports_no_scikit_learn():
    done = subprocess.run([sys.executable, "-c", NO_SKLEARN], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, "importing explorer.ui.explore imported scikit-learn " + done.stderr[-2000:]


MAX_MODULE_LINES = 400


def test_no_module_is_longer_than_a_reader_holds_in_mind_without_saying_why():
    """A module past ~400 lines usually does two jobs; one that does not says why in its
    docstring, with the words "long because"."""
    too_long = []
    for name, path in _modules().items():
        text = path.read_text()
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_MODULE_LINES and "long because" not in docstring:
            too_long.append(f"{name} ({text.count(chr(10))} lines)")
    assert not too_long, f"split these or say in the docstring why they are long: {too_long}"
