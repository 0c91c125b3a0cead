"""Every module of the product opens with a docstring saying its job.

A newcomer should know from a file's name and its first lines what it holds
and what they may touch there; a module without that docstring is the first
step back to a room with no door sign. Check modules count too: a check
author reads them first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(
    path for package in ("conformance", "fakes", "reference_cli", "benchmarks")
    for path in (REPO / package).rglob("*.py")
)


def test_the_product_has_modules_to_look_at() -> None:
    assert len(MODULES) > 50  # the glob found the packages, so the next test means something


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_module_opens_with_a_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and docstring.strip(), f"{path.relative_to(REPO)}: no module docstring"
