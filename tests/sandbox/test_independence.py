"""The sandbox is an independent implementation of Pendo's contract (DESIGN.md, CONTRIBUTING.md):
no module of ``pendo_nb.sandbox`` imports the client side, or tests of the client against the
sandbox would prove nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pendo_nb.sandbox

# Every layer of the client side (CONTRIBUTING.md, "The layers").
FORBIDDEN = (
    "pendo_nb.widgets",
    "pendo_nb.dask",
    "pendo_nb.pipeline",
    "pendo_nb.api",
    "pendo_nb.pulls",
    "pendo_nb.http",
    "pendo_nb.frames",
    "pendo_nb.errors",
    "pendo_nb._checks",
)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "pendo_nb":  # from pendo_nb import api
                names.update(f"pendo_nb.{alias.name}" for alias in node.names)
    return names


def test_sandbox_modules_never_import_the_client_side():
    root = Path(pendo_nb.sandbox.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(root)): sorted(
            name for name in _imported_modules(path) if name.startswith(FORBIDDEN)
        )
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}
