"""The suite proves its own power: the reference passes, every mutant is caught.

The reference CLI must pass every check with none not-applicable (in the
network sandbox, which the rules about host names need; a machine without one
leaves exactly those not checked, and CI must have one). Each mutant
in ``tests/mutants`` breaks one rule; running the checks of that rule against
it must fail at least one check that carries the rule's id. Every rule of the
catalogue must have such a mutant, so a new rule cannot land without proof
that its check can fail.

Each run goes through ``convox-conformance run`` in a process of its own and
reads the run's own ``results.json``, exactly as a user's CI would; the mutants'
runs are forked from a server that has the libraries imported already
(``tests/forked_runs.py``), since start-up is most of a short run's CPU. The kill matrix
(mutant x rules its failing checks carry) is printed and written to
``reports/kill-matrix.md`` and ``.json``. Each mutant runs only its target
rule's checks here; ``tests/test_precision.py`` runs the whole suite against
variants and proves they fail nothing else (every mutant: ``tox -e kill``).
"""

from __future__ import annotations

import json
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from tests.forked_runs import ForkServer
from tests.mutants import Mutant, killable
from tests.suite_support import best_network, require_sandbox, run_suite, sandbox_rules

REPO = Path(__file__).resolve().parents[1]
MATRIX_DIR = REPO / "reports"
WORKERS = 2

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_suite(tmp_path_factory.mktemp("reference"), *best_network())


@pytest.fixture(scope="module")
def kills(tmp_path_factory: pytest.TempPathFactory,
          fork_server: ForkServer) -> dict[str, dict[str, Any]]:
    """Every mutant run once (two at a time), keyed by mutant name."""
    mutants = killable()
    # Made before the workers start: two threads making pytest's base directory at
    # once each make one, and the loser's mktemp fails.
    places = {name: tmp_path_factory.mktemp(name) for name in mutants}

    def attack(mutant: Mutant) -> tuple[str, dict[str, Any]]:
        # The first failing check of the target rule proves the kill.
        started = time.monotonic()
        network = best_network() if mutant.rule in sandbox_rules() else ()
        data = run_suite(places[mutant.name], "--cli", mutant.command(),
                         "--profile", mutant.profile, "--rule", mutant.rule, *network,
                         pytest_args=("--stop-at-rule", mutant.rule), via=fork_server)
        failing = [c for c in data["checks"] if c["outcome"] in ("failed", "error")]
        run_dir = Path(data["run_dir"])
        unscripted = [c["id"] for c in data["checks"] if c["outcome"] in ("failed", "blocked")
                      and not (c.get("repro") and (run_dir / c["repro"]).is_file())]
        return mutant.name, {
            "unscripted": unscripted,
            "rule": mutant.rule,
            "description": mutant.description,
            "exit_code": data["exit_code"],
            "checks_run": len(data["checks"]),
            "failing_checks": [c["id"] for c in failing],
            # A multi-rule check kills only for the rules its failure blames.
            "rules_failed": sorted({r for c in failing
                                    for r in (c.get("failed_rules") or c["rules"])}),
            "errors": [c["id"] for c in failing if c["outcome"] == "error"],
            "not_checked": sorted({r for c in data["checks"] if c["outcome"] == "not-checked"
                                   for r in c["rules"]}),
            "seconds": round(time.monotonic() - started, 1),
        }

    with ThreadPoolExecutor(WORKERS) as pool:
        results = dict(pool.map(attack, mutants.values()))
    write_matrix(results)
    return results


def write_matrix(results: dict[str, dict[str, Any]]) -> None:
    MATRIX_DIR.mkdir(exist_ok=True)
    (MATRIX_DIR / "kill-matrix.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| mutant | target rule | killed | seconds | rules its failing checks carry |",
             "|---|---|---|---|---|"]
    for name, row in results.items():
        killed = "yes" if row["rule"] in row["rules_failed"] else "**NO**"
        lines.append(f"| {name} | {row['rule']} | {killed} | {row['seconds']} "
                     f"| {', '.join(row['rules_failed'])} |")
    text = "\n".join(lines) + "\n"
    (MATRIX_DIR / "kill-matrix.md").write_text(text)
    print("\n" + text)


def test_reference_passes_every_check_and_none_is_not_applicable(
    reference: dict[str, Any],
) -> None:
    outcomes = {c["id"]: c["outcome"] for c in reference["checks"]}
    assert outcomes, "the suite ran no check"
    unchecked = {rule for c in reference["checks"] if c["outcome"] == "not-checked"
                 for rule in c["rules"]}
    if unchecked:
        # Only a machine without the sandbox leaves rules unchecked, and only its rules.
        assert reference["run"]["options"]["network"]["mode"] == "host"
        assert unchecked <= sandbox_rules(), unchecked
    bad = {cid: outcome for cid, outcome in outcomes.items()
           if outcome not in ("passed", "not-checked")}
    assert not bad, f"reference CLI: {bad}"
    assert reference["exit_code"] == 0
    if unchecked:
        require_sandbox()
    # Nothing failed, so no replay script was written.
    assert not [c["id"] for c in reference["checks"] if c.get("repro")]
    assert not (Path(reference["run_dir"]) / "repro").exists()


def test_every_rule_is_checked_on_the_reference(reference: dict[str, Any]) -> None:
    checked = {rule for check in reference["checks"] for rule in check["rules"]}
    missing = set(load_catalogue().rules) - checked
    assert not missing, f"rules with no check in the run: {sorted(missing)}"


def unkillable() -> dict[str, str]:
    """Rules no CLI mutant can break, with the reason (tests/mutants/unkillable.toml)."""
    with (REPO / "tests" / "mutants" / "unkillable.toml").open("rb") as handle:
        return {rule: entry["why"] for rule, entry in tomllib.load(handle).items()}


def test_every_rule_has_a_mutant() -> None:
    targeted = {m.rule for m in killable().values()}
    rules = set(load_catalogue().rules)
    exempt = unkillable()
    assert not (targeted - rules), f"mutants target unknown rules: {sorted(targeted - rules)}"
    assert not (set(exempt) - rules), f"unkillable.toml names unknown rules: {set(exempt) - rules}"
    assert not (set(exempt) & targeted), (
        f"unkillable.toml lists rules that have mutants: {sorted(set(exempt) & targeted)}"
    )
    assert all(why.strip() for why in exempt.values()), "every unkillable rule needs a reason"
    missing = sorted(rules - targeted - set(exempt))
    assert not missing, f"rules without a mutant proving their checks can fail: {missing}"


def test_every_mutant_is_killed_by_a_check_of_its_own_rule(
    kills: dict[str, dict[str, Any]],
) -> None:
    unsandboxed = {name for name, row in kills.items() if row["rule"] in row["not_checked"]}
    survivors = {
        name: f"{row['rule']}: failing checks {row['failing_checks'] or 'none'}"
        for name, row in kills.items()
        if row["rule"] not in row["rules_failed"] and name not in unsandboxed
    }
    assert not survivors, f"mutants the suite did not catch: {survivors}"
    harness_errors = {name: row["errors"] for name, row in kills.items() if row["errors"]}
    assert not harness_errors, f"mutants caused harness errors, not failures: {harness_errors}"
    assert all(row["exit_code"] == 1 for name, row in kills.items() if name not in unsandboxed)
    if unsandboxed:
        # Their rules are checked only in the sandbox: say so here, and fail in CI.
        require_sandbox()


def test_every_mutants_failing_checks_get_a_replay_script(
    kills: dict[str, dict[str, Any]],
) -> None:
    """Its run writes repro/<check>.sh for every failed or blocked check (tests/test_repro.py
    runs a sample of them)."""
    missing = {name: row["unscripted"] for name, row in kills.items() if row["unscripted"]}
    assert not missing, f"failed or blocked checks without a replay script: {missing}"
