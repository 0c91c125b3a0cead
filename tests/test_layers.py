"""The structure, measured from the code itself: layers, cycles, module sizes.

Every import counts, including one inside a function: a cycle hidden by a local
import is still a cycle. The layers and cycles are the product's (conformance,
fakes, reference_cli, benchmarks); the size limit holds for the tests too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("conformance", "fakes", "reference_cli", "benchmarks")
MAX_LINES = 450

#: Rooms from the top down; a room imports only rooms further down the list.
#: docs/architecture.md draws the same order.
LAYERS = (
    ("benchmarks",),
    ("conformance.__main__",),
    ("conformance.commands",),
    ("conformance.checks",),
    ("conformance.harness",),
    ("conformance.report",),
    ("conformance.replay", "conformance.run_options"),
    ("conformance.running", "conformance.catalogue", "conformance.network"),
    ("conformance.toml_file", "conformance.redaction", "conformance"),
    ("fakes.sandbox", "fakes.backends.serve"),
    ("fakes.backends",),
    ("fakes.servers",),
    ("fakes.http",),
    ("fakes.model", "fakes"),
)
#: The bundled CLI is a separate product: the suite runs it only as a process.
APART = "reference_cli"


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(path: Path, known: dict[str, Path]) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known
                     else node.module for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                yield name


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(path, known)) - {name} for name, path in known.items()}


def room(module: str) -> str:
    rooms = [r for layer in LAYERS for r in layer] + [APART]
    return max((r for r in rooms if module == r or module.startswith(r + ".")), key=len)


def rank(module: str) -> int:
    place = room(module)
    return next(i for i, layer in enumerate(LAYERS) if place in layer)


def test_no_import_cycle() -> None:
    edges = graph()
    done: set[str] = set()
    path: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        if node in path:
            cycles.append(" -> ".join([*path[path.index(node):], node]))
            return
        if node in done:
            return
        path.append(node)
        for target in sorted(edges[node]):
            # A package's __init__ re-exporting its own modules is not a cycle of modules.
            if not node.startswith(target + "."):
                visit(target)
        path.pop()
        done.add(node)

    for node in sorted(edges):
        visit(node)
    assert cycles == []


def test_rooms_import_only_downward() -> None:
    upward = []
    for source, targets in graph().items():
        for target in targets:
            if APART in (room(source), room(target)):
                if room(source) != room(target):
                    upward.append(f"{source} -> {target} (reference_cli stands apart)")
            elif room(source) != room(target) and rank(source) >= rank(target):
                upward.append(f"{source} -> {target}")
    assert sorted(upward) == []


def every_module() -> list[Path]:
    """The product's modules and the project's own tests: the size limit holds for both."""
    return sorted({*modules().values(), *(REPO / "tests").rglob("*.py")})


@pytest.mark.parametrize("path", every_module(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_over_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)}: {lines} lines"
