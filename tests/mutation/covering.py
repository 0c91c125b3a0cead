"""Run, for one mutant of the reference CLI, only the checks that execute the mutated code.

Why: cosmic-ray runs one test command per mutant, and a surviving mutant
under the whole suite costs a whole suite run (about a minute here), which
made a full mutation run take most of a day. A check that never executes the
mutated line cannot kill the mutant, so running only the checks that do gives
the same verdict for a fraction of the time. The map of which check executes
which line of ``reference_cli/`` comes from one run of the suite with the
reference CLI under coverage (``traced_cli``, ``check_marker``), made by
:func:`build_map` before the mutants run.

Used in two ways, both inside the mutation run's throwaway tree:

- ``build_map(tree)`` once, on the unmutated tree, writing ``coverage-map.json``;
- ``python covering.py`` as cosmic-ray's test command: it finds the mutated
  lines by comparing the tree with its pristine copy (``.pristine/``), maps each
  to its statement, and runs the checks that executed any of them (``-x``,
  quickest first, as timed in the map's run). No such check: the mutant
  survives without a run, and the output says that no check executes it.

The map is only as complete as that one run: property and stateful checks
draw their examples from a fixed seed, so a mutant in code only some draws
reach may run fewer checks than the whole suite would. The score says which
mode it used; ``score.py --all-checks`` runs the whole suite per mutant.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = Path("reference_cli")
MAP = "coverage-map.json"
PRISTINE = ".pristine"
#: Plugins the map's run and every mutant's run share: the suite's own order, and none
#: of the reports a mutant's run would only throw away.
PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-reports")
HELPERS = ("traced_cli.py", "check_marker.py", "covering.py")


def prepare(tree: Path) -> None:
    """Copy the helpers to the tree's root and keep a pristine copy of the package."""
    here = Path(__file__).resolve().parent
    for name in HELPERS:
        (tree / name).write_bytes((here / name).read_bytes())
    pristine = tree / PRISTINE / PACKAGE
    pristine.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tree / PACKAGE, pristine,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_map(tree: Path, timeout: float = 1800.0) -> dict[str, Any]:
    """Run the whole suite once with the traced CLI; which check executed which line.

    Returns (and writes to ``coverage-map.json``) ``{"checks": [check, ...],
    "order": [every check, in the suite's order], "seconds": {check: its time in
    that run}, "lines": {file: {line: [index into checks, ...]}}}``.
    """
    import coverage

    data_dir = tree / ".coverage-map"
    data_dir.mkdir(exist_ok=True)
    cli = f"{sys.executable} {tree / 'traced_cli.py'}"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.checks", *PYTEST_ARGS,
         "-p", "check_marker", "--cli", cli],
        cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError("the suite does not pass against the traced reference CLI:\n"
                           + done.stdout[-3000:] + done.stderr[-3000:])
    # combine() takes the files named after its own data file: lines.<suffix>
    combined = coverage.Coverage(data_file=str(data_dir / "lines"), config_file=False)
    combined.combine([str(data_dir)])
    data = combined.get_data()
    if not data.measured_files():
        raise RuntimeError(f"the traced CLI recorded no lines in {data_dir}")
    checks: list[str] = []
    index: dict[str, int] = {}
    lines: dict[str, dict[str, list[int]]] = {}
    for measured in sorted(data.measured_files()):
        relative = str(Path(measured).resolve().relative_to(tree))
        by_line = data.contexts_by_lineno(measured)
        entry = lines.setdefault(relative, {})
        for line, contexts in sorted(by_line.items()):
            for context in sorted(contexts):
                if context not in index:
                    index[context] = len(checks)
                    checks.append(context)
                entry.setdefault(str(line), []).append(index[context])
    timed = [line.split("\t") for line in
             (tree / ".check-order").read_text(encoding="utf-8").splitlines()]
    order = [name for name, _seconds in timed]
    seconds = {name: float(spent) for name, spent in timed}
    result = {"checks": checks, "order": order, "seconds": seconds, "lines": lines}
    (tree / MAP).write_text(json.dumps(result), encoding="utf-8")
    return result


def statement_starts(source: str) -> dict[int, int]:
    """Each line of a module -> the first line of the innermost statement holding it.

    Coverage records where statements start; a mutation inside a statement that
    spans several lines must be looked up there too.
    """
    starts: dict[int, tuple[int, int]] = {}  # line -> (span, first line) of innermost
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            span = node.end_lineno - node.lineno
            # A compound statement's own line is its header; its body's lines belong to
            # the statements inside, which are narrower and win.
            for line in range(node.lineno, node.end_lineno + 1):
                if line not in starts or span < starts[line][0]:
                    starts[line] = (span, node.lineno)
    return {line: first for line, (_span, first) in starts.items()}


def changed_lines(tree: Path) -> dict[str, set[int]]:
    """Lines (numbered as in the pristine copy) where the tree's package differs from it."""
    changed: dict[str, set[int]] = {}
    pristine_root = tree / PRISTINE
    for original in sorted((pristine_root / PACKAGE).rglob("*.py")):
        relative = original.relative_to(pristine_root)
        before = original.read_text(encoding="utf-8").splitlines()
        try:
            after = (tree / relative).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            after = []
        if before == after:
            continue
        lines: set[int] = set()
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            # 1-based; an insertion sits between lines i1 and i1 + 1
            lines.update(range(i1 + 1, i2 + 1) if i2 > i1 else {max(i1, 1), i1 + 1})
        starts = statement_starts("\n".join(before) + "\n")
        changed[str(relative)] = lines | {starts[n] for n in lines if n in starts}
    return changed


def covering_checks(coverage_map: dict[str, Any], changed: dict[str, set[int]]) -> list[str]:
    """The checks that executed any changed line, quickest first.

    ``-x`` stops at the first failing check, so a mutant killed by a quick check
    costs seconds, not the slow checks queued before it; equal times keep the
    suite's order.
    """
    chosen: set[int] = set()
    for relative, lines in changed.items():
        by_line = coverage_map["lines"].get(relative, {})
        for line in lines:
            chosen.update(by_line.get(str(line), ()))
    names = {coverage_map["checks"][n] for n in chosen}
    names.discard("<session>")
    ordered = [c for c in coverage_map["order"] if c in names]
    ordered += sorted(names - set(ordered))
    seconds = coverage_map.get("seconds", {})
    return sorted(ordered, key=lambda check: seconds.get(check, 0.0))


def main() -> int:
    """cosmic-ray's test command: 0 when the covering checks pass (mutant survives)."""
    tree = Path(__file__).resolve().parent
    changed = changed_lines(tree)
    coverage_map = json.loads((tree / MAP).read_text(encoding="utf-8"))
    if not changed:
        print("no line differs from the pristine copy: running the whole suite")
        checks = ["--pyargs", "conformance.checks"]
    else:
        checks = covering_checks(coverage_map, changed)
        if not checks:
            where = "; ".join(f"{f}:{','.join(map(str, sorted(n)))}"
                              for f, n in changed.items())
            print(f"no check executes the mutated lines ({where}): survives without a run")
            return 0
    done = subprocess.run([sys.executable, "-m", "pytest", "-x", *PYTEST_ARGS, *checks],
                          cwd=tree, check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
