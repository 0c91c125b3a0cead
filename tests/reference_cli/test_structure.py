"""The reference CLI's layout keeps the promises the mutant zoo relies on.

A mutant replaces an attribute of the module that defines it; that only reaches
every caller if the package's modules import each other as modules and call
``module.function(...)``. A ``from reference_cli.files import read_auth``
would bind the original early and quietly make a mutant harmless.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.reference_cli.conftest import ROOT

PACKAGE = ROOT / "reference_cli"
MODULES = sorted(PACKAGE.rglob("*.py"))


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_modules_import_siblings_only_as_modules() -> None:
    early = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reference_cli"):
                early += [
                    f"{path.relative_to(ROOT)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if not is_module(f"{node.module}.{alias.name}")
                ]
    assert early == [], "import the module and call module.name(...) instead"


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for path in MODULES
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []


def sibling_imports(path: Path) -> set[str]:
    """The package modules ``path`` imports, at the top or inside a function alike:
    an import deferred for start-up time is still an arrow between two modules."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reference_cli"):
            assert node.module is not None
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                found.add(dotted if is_module(dotted) else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reference_cli"))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycle() -> None:
    """Each module leans only on modules below it, so it can be read (and mutated) alone."""
    graph = {module_name(path): sibling_imports(path) for path in MODULES}
    cycles: list[str] = []

    def visit(name: str, trail: list[str], done: set[str]) -> None:
        if name in trail:
            cycles.append(" -> ".join([*trail[trail.index(name):], name]))
            return
        if name in done:
            return
        for target in sorted(graph.get(name, ())):
            if target != "reference_cli":  # the package's docstring-only __init__
                visit(target, [*trail, name], done)
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [], done)
    assert cycles == []
