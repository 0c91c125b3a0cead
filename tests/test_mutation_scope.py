"""The mutation score's filters: what it calls equivalent or out of scope must be true."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "mutation"))

import score  # noqa: E402

PACKAGE = REPO / score.TARGET


def function_names() -> list[str]:
    """Every function defined in the reference CLI's modules (duplicates kept)."""
    return [
        node.name
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
    ]


def test_scope_names_only_functions_that_exist() -> None:
    names = set(function_names())
    scope = score.out_of_scope()
    assert scope and set(scope) <= names
    assert all(reason.strip() for reason in scope.values())


def test_scope_names_are_unambiguous_across_the_package() -> None:
    """scope.toml names bare functions, so none of them may be defined in two modules."""
    names = function_names()
    assert [name for name in score.out_of_scope() if names.count(name) != 1] == []


def test_operator_inside_an_annotation_is_recognised() -> None:
    source = "def f(a: str | None, b: int = 1 | 2) -> dict[str, int] | None:\n    return a | b\n"
    spans = score.annotation_spans(source)
    assert score.in_annotation((1, 13), spans)  # the | in "str | None"
    assert score.in_annotation((1, 56), spans)  # the | in the return annotation
    assert not score.in_annotation((1, 34), spans)  # the | in the default value
    assert not score.in_annotation((2, 13), spans)  # the | in the body


def test_function_at_finds_the_innermost_function() -> None:
    source = "def outer():\n    def inner():\n        return 1\n    return inner\n"
    spans = score.function_spans(source)
    assert score.function_at(3, spans) == "inner"
    assert score.function_at(4, spans) == "outer"
    assert score.function_at(9, spans) == "<module>"


def test_a_marked_line_gives_its_reason() -> None:
    assert score.line_reason("X = 4096  # mutation: equivalent (reads a line whole)") == (
        "equivalent (reads a line whole)")
    assert score.line_reason("X = 4096  # a plain comment") is None
    assert score.line_reason("X = 1  # mutation:   ") is None  # a marker must say why


def test_every_marked_line_in_the_reference_cli_says_why() -> None:
    marked = [
        (path.name, number, line)
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if score.MARKER in line
    ]
    assert marked, "the reference CLI has no marked line: drop the marker support"
    for name, number, line in marked:
        reason = score.line_reason(line)
        assert reason is not None and len(reason) > 20, f"{name}:{number} gives no reason"


def test_each_copy_of_the_tree_runs_its_own_covering_script(tmp_path: Path) -> None:
    """cosmic-ray runs each tree's own test command: a copy that ran the first tree's
    ``covering.py`` would pick its checks from the other copy's mutant."""
    first, second = tmp_path / "tree", tmp_path / "tree-1"
    for tree in (first, second):
        tree.mkdir()
        score.write_config(tree, 60.0, all_checks=False)
    text = (second / "cosmic-ray.toml").read_text()
    assert str(second / "covering.py") in text
    assert str(first / "covering.py") not in text
