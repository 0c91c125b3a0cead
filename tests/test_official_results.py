"""The published pages of the official builds agree with their expectations files,
their emulations and the catalogue, in every clone (no builds needed).

The pages themselves are generated from real runs (``convox-conformance
publish``); test_official_builds holds them to the real builds where those are
present, and test_precision holds each emulation's run to its page.
"""

from __future__ import annotations

import tomllib

import pytest

from conformance.catalogue import load_catalogue
from conformance.report.writers.publish import VERDICTS, page_verdicts
from tests.mutants import all_mutants
from tests.official import RESULTS, builds, published

NAMES = sorted(builds())


def test_there_is_a_page_per_build_and_a_comparison_page() -> None:
    pages = {path.name for path in RESULTS.glob("*.md")}
    assert pages == {f"{name}.md" for name in NAMES} | {"README.md"}


@pytest.mark.parametrize("name", NAMES)
def test_a_page_lists_every_rule_once(name: str) -> None:
    text = (RESULTS / builds()[name].page).read_text(encoding="utf-8")
    table = text.split("## Every rule", 1)[1]
    ids = [line.split(" | ")[0][2:] for line in table.splitlines()
           if line.startswith("| ") and "-" in line.split(" | ")[0]]
    assert sorted(ids) == sorted(load_catalogue().rules)
    verdicts = page_verdicts(text)
    assert set(verdicts) == set(load_catalogue().rules)
    assert set(verdicts.values()) <= set(VERDICTS)


@pytest.mark.parametrize("name", NAMES)
def test_the_expectations_file_lists_exactly_the_failing_rules(name: str) -> None:
    build = builds()[name]
    assert build.expectations is not None and build.expectations.is_file(), build.expectations
    with build.expectations.open("rb") as handle:
        entries = tomllib.load(handle)["expected-failure"]
    failing = {rule for rule, verdict in published(name).items() if verdict == "fails"}
    assert {entry["id"] for entry in entries} == failing
    assert all(entry["reason"].strip() for entry in entries)


@pytest.mark.parametrize("name", NAMES)
def test_every_failing_rule_has_its_evidence_on_the_page(name: str) -> None:
    text = (RESULTS / builds()[name].page).read_text(encoding="utf-8")
    evidence = text.split("## Failing rules", 1)[1].split("\n## ", 1)[0]
    for rule, verdict in published(name).items():
        if verdict == "fails":
            row = next((line for line in evidence.splitlines()
                        if line.startswith(f"| {rule} |")), "")
            assert row.split(" | ")[2].strip(), f"{name}: {rule} fails with no evidence"


@pytest.mark.parametrize("name", NAMES)
def test_each_build_has_an_emulation_driven_by_its_profile(name: str) -> None:
    emulations = [m for m in all_mutants().values() if m.build == name]
    assert len(emulations) == 1, f"{name}: emulations {emulations}"
    assert emulations[0].kind == "emulation"
    assert emulations[0].profile == builds()[name].profile


def test_a_rule_every_official_build_fails_says_where_its_demand_comes_from() -> None:
    rules = load_catalogue().rules
    unmet = [rule for rule in rules
             if all(published(name).get(rule) == "fails" for name in NAMES)]
    unstated = [rule for rule in unmet if not rules[rule].demand]
    assert not unstated, f"every official build fails these; say demand = ...: {unstated}"
    assert all(rules[r].level == "SHOULD" for r in unmet if rules[r].demand == "suite")


@pytest.mark.parametrize("name", NAMES)
def test_a_build_leaves_undecided_only_what_it_lacks_explains(name: str) -> None:
    """A build without direct rack commands (it lacks PROXY-006) is judged on every rule
    but those whose route is direct; every other undecided rule is blocked by a rule the
    build lacks (v2: CONTEXT-009, behind CONTEXT-001)."""
    rules = load_catalogue().rules
    build = builds()[name]
    page = (RESULTS / build.page).read_text(encoding="utf-8")
    undecided = sorted(r for r, v in published(name).items() if v == "undecided")
    if "PROXY-006" in build.lacks:
        others = [r for r in undecided if rules[r].route != "direct"]
        assert not others, f"{name} lacks direct commands only, yet leaves {others} undecided"
    notes = {line.split(" | ")[0].strip("| "): line.rsplit(" | ", 1)[1].strip(" |")
             for line in page.splitlines() if line.startswith("| ") and " | undecided | " in line}
    unexplained = [r for r in undecided
                   if not any(f"blocked by {lacked}" in notes.get(r, "") for lacked in build.lacks)]
    assert not unexplained, f"{name}: undecided, blocked by nothing the build lacks: {unexplained}"
