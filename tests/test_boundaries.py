"""Architecture rules that keep the library usable without the app."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


LIBRARY_FILES = [p for p in PACKAGE.rglob("*.py") if "ui" not in p.relative_to(PACKAGE).parts]


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_never_imports_streamlit(path):
    assert "streamlit" not in _imports(path)


def test_rule_sees_the_library():
    assert len(LIBRARY_FILES) > 10


def test_weights_are_never_unpickled():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "pickle" not in _imports(path), path
        assert "allow_pickle=True" not in text, path
        if "torch.load(" in text:
            assert "weights_only=True" in text, path
