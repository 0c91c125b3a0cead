"""The mutation run's check selection: a mutant runs every check that executes its lines.

Selecting too few checks would turn killed mutants into survivors and lower the
score for no fault of the suite; these tests pin the pieces that decide it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "mutation"))

import covering  # noqa: E402

SOURCE = '''\
def login(host, key):
    if not key:
        raise ValueError(
            "no key for "
            + host
        )
    return host
'''


def tree_with(tmp_path: Path, mutated: str, source: str = SOURCE) -> Path:
    package = tmp_path / covering.PACKAGE
    package.mkdir(parents=True)
    (package / "login.py").write_text(source)
    (package / "other.py").write_text("X = 1\n")
    pristine = tmp_path / covering.PRISTINE / covering.PACKAGE
    pristine.mkdir(parents=True)
    (pristine / "login.py").write_text(source)
    (pristine / "other.py").write_text("X = 1\n")
    (package / "login.py").write_text(mutated)
    return tmp_path


def test_a_line_inside_a_long_statement_maps_to_where_the_statement_starts() -> None:
    starts = covering.statement_starts(SOURCE)
    assert starts[5] == 3  # "+ host" belongs to the raise on line 3
    assert starts[2] == 2  # an if's own line is its header
    assert starts[7] == 7


def test_changed_lines_are_numbered_as_in_the_pristine_copy(tmp_path: Path) -> None:
    tree = tree_with(tmp_path, SOURCE.replace("+ host", "- host"))
    assert covering.changed_lines(tree) == {"reference_cli/login.py": {5, 3}}
    assert covering.changed_lines(tree_with(tmp_path / "same", SOURCE)) == {}


def test_a_deleted_or_inserted_line_counts_its_neighbours(tmp_path: Path) -> None:
    deleted = SOURCE.replace("    return host\n", "")
    assert 7 in covering.changed_lines(tree_with(tmp_path / "d", deleted))[
        "reference_cli/login.py"]
    inserted = SOURCE.replace("    return host\n", "    pass\n    return host\n")
    assert covering.changed_lines(tree_with(tmp_path / "i", inserted))[
        "reference_cli/login.py"] & {6, 7}


def test_covering_checks_come_in_suite_order_without_the_session() -> None:
    coverage_map = {
        "checks": ["<session>", "b.py::t", "a.py::t", "c.py::t"],
        "order": ["a.py::t", "b.py::t", "c.py::t"],
        "lines": {"reference_cli/login.py": {"3": [0, 1], "5": [2], "7": [3]}},
    }
    chosen = covering.covering_checks(coverage_map, {"reference_cli/login.py": {3, 5}})
    assert chosen == ["a.py::t", "b.py::t"]
    assert covering.covering_checks(coverage_map, {"reference_cli/x.py": {1}}) == []


def test_covering_checks_run_quickest_first_when_the_map_has_times() -> None:
    coverage_map = {
        "checks": ["a.py::t", "b.py::t", "c.py::t"],
        "order": ["a.py::t", "b.py::t", "c.py::t"],
        "seconds": {"a.py::t": 9.5, "b.py::t": 0.2, "c.py::t": 0.2},
        "lines": {"reference_cli/login.py": {"3": [0, 1, 2]}},
    }
    chosen = covering.covering_checks(coverage_map, {"reference_cli/login.py": {3}})
    assert chosen == ["b.py::t", "c.py::t", "a.py::t"]


def test_a_mutant_no_check_executes_survives_without_a_run(tmp_path: Path) -> None:
    tree = tree_with(tmp_path, SOURCE.replace("return host", "return None"))
    (tree / "covering.py").write_bytes((REPO / "tests" / "mutation" / "covering.py").read_bytes())
    (tree / covering.MAP).write_text(json.dumps({"checks": [], "order": [], "lines": {}}))
    done = subprocess.run([sys.executable, str(tree / "covering.py")], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "no check executes the mutated lines (reference_cli/login.py:7)" in done.stdout
