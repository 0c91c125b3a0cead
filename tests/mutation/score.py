"""Automatic mutation score of the reference CLI against the conformance suite.

``tox -e mutation`` runs this. It uses cosmic-ray (mutmut 3 records coverage
in-process and cannot see code run in a CLI subprocess, which is all our
suite does; cosmic-ray runs any test command against a mutated file on
disk). Because that file is rewritten on disk, everything happens in a
throwaway copy of the tree: an interrupted run can never leave a mutated
reference CLI in the checkout.

By default each mutant runs only the checks that execute its mutated lines
(``covering.py``: a map made by one traced run of the suite first), and the
mutants are shared among ``--workers`` copies of the tree run side by side;
``--all-checks`` runs the whole suite per mutant instead.

Mutations inside type annotations are equivalent by construction (the
modules use ``from __future__ import annotations``, so annotations are never
evaluated) and are skipped with that reason. So are mutants on a line that
says why they cannot be told apart or no rule is about them, with a trailing
``# mutation: <reason>`` (counted and listed in the report, so every such
claim stays in view). The rest are sampled with a fixed
seed (``--sample N``, ``--sample 0`` for all) because every surviving mutant
costs a full suite run. Writes ``reports/mutation/score.json`` and
``score.md`` listing every survivor with its diff, for a human to kill with a
new check or explain as equivalent.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import covering  # beside this script, which tox runs as a file

REPO = Path(__file__).resolve().parents[2]
TARGET = "reference_cli"  # a package: cosmic-ray mutates every module in it
CONFIG = """\
[cosmic-ray]
module-path = "{target}"
timeout = {timeout}
excluded-modules = []
test-command = "{test_command}"

[cosmic-ray.distributor]
name = "local"
"""


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation, where mutations are equivalent."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
            every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                     node.args.vararg, node.args.kwarg]
            annotations.extend(arg.annotation for arg in every if arg is not None)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None and annotation.end_lineno is not None:
                spans.append(((annotation.lineno, annotation.col_offset),
                              (annotation.end_lineno, annotation.end_col_offset or 0)))
    return spans


def in_annotation(position: tuple[int, int], spans: list[tuple[tuple[int, int], tuple[int, int]]]
                  ) -> bool:
    return any(start <= position < end for start, end in spans)


MARKER = "# mutation:"


def line_reason(line: str) -> str | None:
    """The reason a line gives for leaving its mutants out (``# mutation: why``), or None."""
    _code, found, reason = line.partition(MARKER)
    return reason.strip() or None if found else None


def out_of_scope() -> dict[str, str]:
    """Function name -> why no rule governs it (tests/mutation/scope.toml)."""
    with (Path(__file__).with_name("scope.toml")).open("rb") as handle:
        return dict(tomllib.load(handle)["out_of_scope"])


def function_spans(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function, innermost found last."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            spans.append((node.lineno, node.end_lineno, node.name))
    return sorted(spans)


def function_at(line: int, spans: list[tuple[int, int, str]]) -> str:
    inside = [name for first, last, name in spans if first <= line <= last]
    return inside[-1] if inside else "<module>"


Spans = tuple[list[tuple[tuple[int, int], tuple[int, int]]], list[tuple[int, int, str]]]


class Sources:
    """Each mutated module's (annotation spans, function spans) and lines, read once."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.cache: dict[str, Spans] = {}
        self.lines: dict[str, list[str]] = {}

    def line(self, module_path: object, number: int) -> str:
        key = str(module_path)
        if key not in self.lines:
            self.lines[key] = (self.work / key).read_text().splitlines()
        lines = self.lines[key]
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def spans(self, module_path: object) -> Spans:
        key = str(module_path)
        if key not in self.cache:
            source = (self.work / key).read_text()
            self.cache[key] = (annotation_spans(source), function_spans(source))
        return self.cache[key]


def sqlite_rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return list(conn.execute(query))


def choose(work: Path, db: Path, sample: int, seed: int
           ) -> tuple[int, int, list[str], int]:
    """Skip annotation mutants, marked lines, out-of-scope code and the unsampled rest;
    returns the counts and one ``module:line: reason`` per marked mutant."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    sources = Sources(work)
    scope = out_of_scope()
    equivalent = excluded = 0
    marked: list[str] = []
    with use_db(str(db), WorkDB.Mode.open) as work_db:
        candidates = []
        for item in work_db.pending_work_items:
            mutation = item.mutations[0]
            spans, functions = sources.spans(mutation.module_path)
            if in_annotation(tuple(mutation.start_pos), spans):
                work_db.set_result(item.job_id, WorkResult(
                    output="equivalent: inside a type annotation (never evaluated)",
                    worker_outcome=WorkerOutcome.SKIPPED))
                equivalent += 1
            elif reason := line_reason(sources.line(mutation.module_path,
                                                    mutation.start_pos[0])):
                work_db.set_result(item.job_id, WorkResult(
                    output=f"marked on its line: {reason}",
                    worker_outcome=WorkerOutcome.SKIPPED))
                marked.append(f"{mutation.module_path}:{mutation.start_pos[0]}: {reason}")
            elif (name := function_at(mutation.start_pos[0], functions)) in scope:
                work_db.set_result(item.job_id, WorkResult(
                    output=f"out of scope: {name}: {scope[name]}",
                    worker_outcome=WorkerOutcome.SKIPPED))
                excluded += 1
            else:
                candidates.append(item.job_id)
        keep = set(candidates)
        if sample and sample < len(candidates):
            keep = set(random.Random(seed).sample(candidates, sample))
        for job_id in candidates:
            if job_id not in keep:
                work_db.set_result(job_id, WorkResult(
                    output="not in this run's sample", worker_outcome=WorkerOutcome.SKIPPED))
    return equivalent, excluded, marked, len(keep)


def summarise(db: Path, work: Path) -> dict[str, Any]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    sources = Sources(work)
    scope = out_of_scope()
    killed, survivors, incompetent, excluded = 0, [], 0, 0
    with use_db(str(db), WorkDB.Mode.open) as work_db:
        for item, result in work_db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            _spans, functions = sources.spans(item.mutations[0].module_path)
            function = function_at(item.mutations[0].start_pos[0], functions)
            if function in scope:  # a session sampled before the scope file named it
                excluded += 1
                continue
            if result.test_outcome == TestOutcome.KILLED:
                killed += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                mutation = item.mutations[0]
                survivors.append({
                    "job": item.job_id,
                    "module": str(mutation.module_path),
                    "function": function,
                    "operator": mutation.operator_name,
                    "line": mutation.start_pos[0],
                    "diff": result.diff or "",
                    "unexecuted": "survives without a run" in (result.output or ""),
                })
            else:
                incompetent += 1
    tested = killed + len(survivors)
    return {
        "killed": killed,
        "survived": len(survivors),
        "incompetent": incompetent,
        "out_of_scope_run": excluded,
        "score": round(killed / tested, 4) if tested else None,
        "survivors": sorted(survivors, key=lambda s: (s["module"], s["line"])),
    }


def test_command(tree: Path, all_checks: bool) -> str:
    """What cosmic-ray runs per mutant in ``tree``: always that tree's own files, as
    ``covering.py`` reads the mutated lines from the tree it lives in."""
    if all_checks:
        return (f"{sys.executable} -m pytest --pyargs conformance.checks -x -q "
                "-p no:cacheprovider --no-reports")
    return f"{sys.executable} {tree / 'covering.py'}"


def write_config(tree: Path, timeout: float, all_checks: bool) -> Path:
    """``tree``'s cosmic-ray config; each copy of the tree needs its own, or its
    mutants would be judged by the checks another copy's mutant chose."""
    config = tree / "cosmic-ray.toml"
    config.write_text(CONFIG.format(target=TARGET, timeout=timeout,
                                    test_command=test_command(tree, all_checks)))
    return config


def share_out(work: Path, db: Path, workers: int) -> list[Path]:
    """Copies of the tree, each with its own database holding a share of the pending
    mutants: cosmic-ray mutates files in place, so parallel runs need trees of their own."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(db), WorkDB.Mode.open) as work_db:
        pending = [item.job_id for item in work_db.pending_work_items]
    trees = [work] + [work.with_name(f"{work.name}-{n}") for n in range(1, workers)]
    for tree in trees[1:]:
        shutil.copytree(work, tree, symlinks=True)
    for n, tree in enumerate(trees):
        others = [job for i, job in enumerate(pending) if i % workers != n]
        with use_db(str(tree / db.name), WorkDB.Mode.open) as work_db:
            for job in others:
                work_db.set_result(job, WorkResult(output="another worker's share",
                                                   worker_outcome=WorkerOutcome.SKIPPED))
    return trees


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from the workers' summaries."""
    killed = sum(p["killed"] for p in parts)
    survivors = sorted((s for p in parts for s in p["survivors"]),
                       key=lambda s: (s["module"], s["line"]))
    tested = killed + len(survivors)
    return {
        "killed": killed,
        "survived": len(survivors),
        "incompetent": sum(p["incompetent"] for p in parts),
        "out_of_scope_run": sum(p["out_of_scope_run"] for p in parts),
        "score": round(killed / tested, 4) if tested else None,
        "survivors": survivors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=120,
                        help="mutants to run, chosen with --seed (0: all)")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--output", default=str(REPO / "reports" / "mutation"))
    parser.add_argument("--all-checks", action="store_true",
                        help="run the whole suite per mutant, not only the checks that "
                             "execute the mutated lines")
    parser.add_argument("--workers", type=int, default=2,
                        help="copies of the tree mutated and tested side by side")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        work = Path(tmp) / "tree"
        for part in ("conformance", "fakes", "reference_cli", "specs"):
            shutil.copytree(REPO / part, work / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        config = work / "cosmic-ray.toml"
        if not args.all_checks:
            covering.prepare(work)
            started = time.monotonic()
            coverage_map = covering.build_map(work)
            print(f"coverage map: {len(coverage_map['order'])} checks, made in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
        write_config(work, args.timeout, args.all_checks)
        db = work / "session.sqlite"
        env = {**os.environ, "PYTHONPATH": str(work)}
        subprocess.run([sys.executable, "-m", "cosmic_ray.cli", "init", str(config), str(db)],
                       cwd=work, env=env, check=True)
        total = sqlite_rows(db, "select count(*) from work_items")[0][0]
        equivalent, excluded, marked, chosen = choose(work, db, args.sample, args.seed)
        print(f"{total} mutants; {equivalent} in annotations (equivalent); {len(marked)} on "
              f"marked lines; {excluded} in out-of-scope functions; running {chosen} on "
              f"{args.workers} worker(s)", flush=True)
        started = time.monotonic()
        trees = share_out(work, db, args.workers)
        for tree in trees[1:]:
            write_config(tree, args.timeout, args.all_checks)
        running = [subprocess.Popen(
            [sys.executable, "-m", "cosmic_ray.cli", "exec", str(tree / config.name),
             str(tree / db.name)],
            cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        ) for tree in trees]
        failed = [tree for tree, proc in zip(trees, running, strict=True) if proc.wait()]
        if failed:
            print(f"cosmic-ray exec failed in {', '.join(map(str, failed))}", file=sys.stderr)
            return 1
        summary = merge([summarise(tree / db.name, tree) for tree in trees])
    summary.update(total=total, equivalent_annotations=equivalent, out_of_scope=excluded,
                   marked_lines=marked,
                   sampled=chosen, seed=args.seed, target=TARGET,
                   mode="whole suite per mutant" if args.all_checks
                   else "checks that execute the mutated lines",
                   workers=args.workers, seconds=round(time.monotonic() - started))

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Mutation score of the reference CLI",
        "",
        f"{summary['total']} mutants of the modules of `{TARGET}`; {equivalent} inside type "
        f"annotations (equivalent, skipped); {len(marked)} on lines marked "
        f"`{MARKER} <reason>` (listed below); {excluded} in functions no rule governs "
        f"(tests/mutation/scope.toml); {chosen} sampled with seed {args.seed}. Each ran "
        f"{summary['mode']}, on {args.workers} worker(s), in {summary['seconds']} s.",
        "",
        f"**Killed {summary['killed']} / {summary['killed'] + summary['survived']} "
        f"= {summary['score']}** ({summary['incompetent']} incompetent: did not run)",
        "",
        "## Survivors",
        "",
    ]
    unexecuted = sum(1 for s in summary["survivors"] if s["unexecuted"])
    lines[-2:-2] = [f"{unexecuted} of the survivors are in code no check executes; the "
                    "others ran their checks and passed.", ""]
    for survivor in summary["survivors"]:
        why = "no check executes it" if survivor["unexecuted"] else "its checks pass"
        lines += [f"### {survivor['module']}:{survivor['line']} {survivor['function']}: "
                  f"{survivor['operator']} ({why})",
                  "",
                  "```diff", survivor["diff"].strip(), "```", ""]
    lines += ["## Mutants left out on marked lines", ""]
    lines += [f"- {entry}" for entry in sorted(set(marked))] or ["(none)"]
    lines.append("")
    (out / "score.md").write_text("\n".join(lines))
    print("\n".join(lines[:7]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
