"""The reference CLI's layout keeps the promises the mutant zoo relies on.

A mutant replaces an attribute of the module that defines it; that only reaches
every caller if the package's modules import each other as modules and call
``module.function(...)``. A ``from reference_cli.files import read_auth``
would bind the original early and quietly make a mutant harmless.
"""

from __future__ import annotations

import ast

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
