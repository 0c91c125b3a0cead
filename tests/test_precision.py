"""The precision matrix: each variant of the reference CLI fails only the rules it breaks.

The kill test proves power: every mutant fails a check of its own rule. This
proves the other half of a verdict people gate releases on: running the
*whole* suite against a variant turns red only the rules that variant really
breaks. Every other check passes, or is blocked with one of those rules as
its root cause. The variants are:

- mutants (``tests/mutants/zoo_*.py``), each allowed to fail the rules it
  declares it breaks;
- probes, variants that satisfy every rule in a way other than the
  reference's (refusing a rack locally without asking Console, ignoring the
  body of a 200 from ``/auth``), which must fail nothing;
- emulations of the official builds (``tests/mutants/emulations.py``), which
  must get, rule by rule, the verdicts their build's published page gives
  (``docs/official-cli-results/``, rendered from runs of the real build). When
  a change to the suite turns one of those, the suite has changed its mind
  about a real CLI: this test fails and says so, and the pages are published
  again from the real builds.

The default run covers the probes and the emulations, each against the whole
suite. ``PRECISION=full`` (CI sets it; ``tox -e kill``) adds every mutant: those
marked ``precision`` (one per class of past precision bugs) against the whole
suite, every other against the checks its change can reach: one run of the reference with every
mutant in shadow (``tests/mutants/shadow.py``) finds, per mutant, the checks in
which some call of a function it replaces would have been answered otherwise.
A check no such call reaches runs, against the mutant, exactly as against the
reference, and passes. ``PRECISION_AUDIT=N`` mutants (4 by default, chosen by a
hash of the name among those whose reach is at most the median) run against the
whole suite instead, and every check they fail or block must lie in their
reach: the proof that the reach misses nothing, on each run.
The matrix is written to ``reports/precision-matrix.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from tests.forked_runs import ForkServer
from tests.mutants import RUNNER, Mutant, all_mutants, killable, shadow
from tests.official import builds, differences, expected, run_verdicts
from tests.suite_support import best_network, run_suite, sandbox_rules

REPO = Path(__file__).resolve().parents[1]
MATRIX = REPO / "reports" / "precision-matrix.md"
FULL = os.environ.get("PRECISION") == "full"
#: Mutants run against the whole suite besides their reach, to prove the reach sound.
AUDIT = int(os.environ.get("PRECISION_AUDIT", "4"))
WORKERS = 2
FAILING = ("failed", "error", "expected-fail")
pytestmark = pytest.mark.slow


def verdicts(data: dict[str, Any]) -> dict[str, Any]:
    """What one whole run says, rule by rule: failed, blocked by, not applicable."""
    checks = data["checks"]
    failed: dict[str, list[str]] = {}
    for check in checks:
        if check["outcome"] in FAILING:
            for rule in check.get("failed_rules") or check["rules"]:
                failed.setdefault(rule, []).append(check["id"])
    blocked = {c["id"]: c.get("blocked_by") for c in checks if c["outcome"] == "blocked"}
    by_rule: dict[str, list[str]] = {}
    for check in checks:
        for rule in check["rules"]:
            by_rule.setdefault(rule, []).append(check["outcome"])
    not_applicable = sorted(r for r, outs in by_rule.items()
                            if all(o == "not-applicable" for o in outs))
    not_checked = sorted(r for r, outs in by_rule.items() if "not-checked" in outs)
    return {
        "failed": {rule: sorted(ids) for rule, ids in sorted(failed.items())},
        "blocked": blocked,
        "not_applicable": not_applicable,
        "not_checked": not_checked,
        "network": data["run"]["options"]["network"]["mode"],
        "errors": [c["id"] for c in checks if c["outcome"] == "error"],
        "verdicts": run_verdicts(data),
        "checks": len(checks),
        # Every check that did not pass: what a mutant's reach must contain.
        "not_passed": sorted(c["id"] for c in checks
                             if c["outcome"] not in ("passed", "not-applicable", "not-checked")),
        "exit_code": data["exit_code"],
    }


def variants() -> list[Mutant]:
    # The default run is the one a developer waits for (`tox`): the probes and the
    # emulations prove most; CI runs the rest on every change.
    chosen = [m for m in all_mutants().values() if FULL or m.kind != "mutant"]
    return sorted(chosen, key=lambda m: (m.kind != "emulation", m.kind != "probe", m.name))


def run_args(variant: Mutant) -> list[str]:
    """``convox-conformance run`` options for a variant's run (one worker unless added).

    An emulation runs with the expectations file a fork of its build starts from: the
    run must then pass the gate (exit 0) while the matrix still sees every failure. It
    runs where its build was observed, the sandbox, wherever that can be made; so does
    a mutant of a rule only the sandbox checks.
    """
    build = builds()[variant.build] if variant.build else None
    gate = ["--expectations", str(build.expectations)] if build and build.expectations else []
    network = best_network() if build or variant.rule in sandbox_rules() else ()
    return ["--cli", variant.command(), "--profile", variant.profile, *gate, *network]


def audited(reach: dict[str, frozenset[str] | None]) -> set[str]:
    """The mutants a full run also runs whole, to audit their reach: among those whose
    reach is at most the median (where a check missed would hide most), the first by a
    hash of the name, so the choice is the same on every run of the same zoo."""
    sizes = {name: len(checks) for name, checks in reach.items()
             if checks is not None and not all_mutants()[name].precision}
    if not sizes:
        return set()
    median = sorted(sizes.values())[len(sizes) // 2]

    def rank(name: str) -> str:
        return hashlib.sha256(name.encode()).hexdigest()

    return set(sorted((name for name, size in sizes.items() if size <= median), key=rank)[:AUDIT])


def whole(variant: Mutant) -> bool:
    """Whether a variant runs against the whole suite whatever its reach."""
    return not FULL or variant.kind != "mutant" or variant.precision


def shadow_reach(place: Path) -> dict[str, frozenset[str] | None]:
    """The checks each mutant's change reaches (None: every check), from one run of the
    reference CLI with every mutant in shadow, on one worker."""
    log = place / "shadow.jsonl"
    command = shlex.join([sys.executable, RUNNER, "--shadow", str(log)])
    # Each shadowed CLI process judges every mutant of each function it calls: the run
    # takes several times a plain one, more on a busy machine.
    data = run_suite(place / "run", "--cli", command, *best_network(), timeout=3600)
    failed = {c["id"]: c["reason"] for c in data["checks"]
              if c["outcome"] not in ("passed", "not-checked")}
    assert data["exit_code"] == 0 and not failed, (
        f"the reference CLI with every mutant in shadow did not pass: {failed}")
    return shadow.reach(data, log.read_text(), sorted(killable()))


def reach_args(variant: Mutant, reach: dict[str, frozenset[str] | None]) -> list[str]:
    """The options that limit a mutant's run to its reach (and its own rule's checks);
    none for a variant that runs whole, and for an audited mutant."""
    checks = reach.get(variant.name)
    if whole(variant) or checks is None or variant.name in audited(reach):
        return []
    return ["--rule", variant.rule,
            *(arg for check in sorted(checks) for arg in ("--check", check))]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory,
           fork_server: ForkServer) -> dict[str, dict[str, Any]]:
    """Every chosen variant against the whole suite or its reach, two at a time.

    With PRECISION=full the shadowed reference run goes first, beside the variants
    that run whole; the others wait for its reach.
    """
    chosen = sorted(variants(), key=lambda variant: not whole(variant))
    # Made here, not in the workers: pytest creates its base directory on first use, and
    # two threads asking at once each make one, failing the loser's mktemp.
    places = {variant.name: tmp_path_factory.mktemp(variant.name) for variant in chosen}
    shadow_place = tmp_path_factory.mktemp("shadow")

    with ThreadPoolExecutor(WORKERS) as pool:
        reach = pool.submit(shadow_reach, shadow_place) if FULL else None

        def attack(variant: Mutant) -> tuple[str, dict[str, Any]]:
            limit = reach_args(variant, reach.result()) if reach and not whole(variant) else []
            started = time.monotonic()
            data = run_suite(places[variant.name], *run_args(variant), *limit, via=fork_server)
            row = verdicts(data)
            row["seconds"] = round(time.monotonic() - started, 1)
            row["scope"] = "reach" if limit else "whole"
            row["own"] = [c["id"] for c in data["checks"] if variant.rule in c["rules"]]
            if reach and variant.kind == "mutant":
                checks = reach.result().get(variant.name)
                row["reach"] = None if checks is None else sorted(checks)
            return variant.name, row

        rows = dict(pool.map(attack, chosen))
    write_matrix(rows)
    return rows


def problems_of(variant: Mutant, row: dict[str, Any]) -> list[str]:
    """Why a variant's verdicts are not exactly what it breaks ([] when precise)."""
    allowed = set(variant.breaks)
    problems = []
    wrong = {rule: ids for rule, ids in row["failed"].items() if rule not in allowed}
    if wrong:
        problems.append(f"fails rules it does not break: {wrong}")
    strays = {cid: rule for cid, rule in row["blocked"].items() if rule not in allowed}
    if strays:
        problems.append(f"checks blocked by rules it does not break: {strays}")
    if row["errors"]:
        problems.append(f"harness errors: {row['errors']}")
    if row.get("scope") == "whole" and row.get("reach") is not None:
        missed = sorted(set(row["not_passed"]) - set(row["reach"]) - set(row["own"]))
        if missed:
            problems.append(f"its reach misses checks it fails or blocks: {missed}")
    if not variant.direct_commands and row.get("scope") != "reach":
        left = direct_only_undecided(row["verdicts"])
        if left:
            problems.append("without direct commands it leaves undecided rules that other "
                            f"routes decide: {left}")
    if variant.kind == "emulation":
        if row["exit_code"] != 0:
            problems.append(f"exit {row['exit_code']} with its expectations file (expected 0)")
        unlike = differences(expected(variant.build, row["network"]), row["verdicts"])
        if unlike:
            problems.append("unlike its build's published page: " + "; ".join(unlike))
    elif variant.kind == "mutant" and variant.rule not in row["failed"]:
        if row["network"] == "host" and variant.rule in row["not_checked"]:
            pass  # no sandbox on this machine: require_sandbox's tests say so, CI fails
        else:
            problems.append(f"not killed: no check of {variant.rule} failed")
    return problems


def direct_only_undecided(verdicts: dict[str, str]) -> list[str]:
    """The undecided rules a CLI without direct rack commands could still be judged on:
    all but those whose route is direct (specs/README.md, "Routes")."""
    rules = load_catalogue().rules
    return sorted(rule for rule, verdict in verdicts.items()
                  if verdict == "undecided" and rules[rule].route != "direct")


def write_matrix(rows: dict[str, dict[str, Any]]) -> None:
    mutants = all_mutants()
    lines = [
        "# Precision matrix",
        "",
        "Each variant of the reference CLI against the whole suite: the rules it fails, the "
        "rules that blocked checks, and whether that is exactly what it breaks.",
        "",
        "| variant | kind | breaks | rules failed | blocked by | precise | checks run | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        variant = mutants[name]
        blockers = sorted({r for r in row["blocked"].values() if r})
        precise = "yes" if not problems_of(variant, row) else "**NO**"
        lines.append(
            f"| {name} | {variant.kind} | {', '.join(variant.breaks) or '(none)'} "
            f"| {', '.join(row['failed']) or '(none)'} | {', '.join(blockers) or '-'} "
            f"| {precise} | {row['checks']} ({row.get('scope', 'whole')}) | {row['seconds']} |"
        )
    MATRIX.parent.mkdir(exist_ok=True)
    MATRIX.write_text("\n".join(lines) + "\n")
    (MATRIX.with_suffix(".json")).write_text(json.dumps(rows, indent=2) + "\n")
    print("\n" + "\n".join(lines))


def test_every_variant_fails_exactly_the_rules_it_breaks(
    matrix: dict[str, dict[str, Any]],
) -> None:
    mutants = all_mutants()
    found = {name: problems_of(mutants[name], row) for name, row in matrix.items()}
    imprecise = {name: problems for name, problems in found.items() if problems}
    assert not imprecise, "imprecise verdicts:\n" + "\n".join(
        f"  {name}: " + "; ".join(problems) for name, problems in imprecise.items()
    )


#: The emulation with the most failing rules (15, one blocked): with two workers, as a
#: run's default is on this machine, it must be decided as one worker did in the matrix.
PARALLEL_PROOF = ("convox-rack-20260421192651",)


def test_runs_side_by_side_decide_as_one_worker_does(
    matrix: dict[str, dict[str, Any]], tmp_path: Path,
) -> None:
    mutants = all_mutants()
    for name in PARALLEL_PROOF:
        data = run_suite(tmp_path / name, *run_args(mutants[name]), "--workers", "2")
        parallel, sequential = verdicts(data), matrix[name]
        for part in ("verdicts", "failed", "blocked", "not_applicable", "exit_code"):
            assert parallel[part] == sequential[part], (
                f"{name} with 2 workers: {part} differ from the one-worker run:\n"
                f"  2 workers: {parallel[part]}\n  1 worker:  {sequential[part]}")


def test_variants_name_only_catalogue_rules() -> None:
    rules = set(load_catalogue().rules)
    unknown = {m.name: sorted(set(m.breaks) - rules) for m in all_mutants().values()
               if set(m.breaks) - rules}
    assert not unknown, f"variants breaking unknown rules: {unknown}"


def test_a_cli_that_does_nothing_has_at_most_two_root_causes(tmp_path: Path) -> None:
    """``/bin/false`` fails the login rules; everything built on a login is blocked."""
    data = run_suite(tmp_path, "--cli", "/bin/false", "--profile", "convox-rack")
    row = verdicts(data)
    assert data["exit_code"] == 1
    roots = set(row["failed"]) | {r for r in row["blocked"].values() if r}
    assert 1 <= len(roots) <= 2, f"root causes: {sorted(roots)}; failed: {row['failed']}"
    assert not row["errors"], row["errors"]
