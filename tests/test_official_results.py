"""docs/official-cli-results.md and its expectations file say what the emulation says.

The page publishes the suite's verdicts about the official v2 CLI; the
emulation of that CLI (tests/mutants/emulations.py) is what the precision
matrix runs. These tests hold the page, the expectations file and the
emulation's declared verdicts to one list, so none of them can drift.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from conformance.catalogue import load_catalogue
from tests.mutants import all_mutants

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "official-cli-results.md"
EXPECTATIONS = REPO / "docs" / "expectations" / "convox-rack-20260421192651.toml"
EMULATION = "convox-rack-20260421192651"
ROW = re.compile(r"^\| (?P<id>[A-Z]+-\d{3}) \| (?P<level>MUST|SHOULD) \| .*? \| "
                 r"(?P<verdict>\*\*fails\*\*|holds|not applicable|not checked|not yet observed) \|")


def page_verdicts() -> dict[str, str]:
    found = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            found[match["id"]] = match["verdict"].strip("*")
    return found


def test_the_page_lists_every_rule_once() -> None:
    verdicts = page_verdicts()
    assert set(verdicts) == set(load_catalogue().rules)


def test_the_page_gives_the_emulations_verdicts() -> None:
    emulation = all_mutants()[EMULATION]
    verdicts = page_verdicts()
    assert {r for r, v in verdicts.items() if v == "fails"} == set(emulation.breaks)
    assert {r for r, v in verdicts.items() if v == "not applicable"} == set(
        emulation.not_applicable
    )
    assert {r for r, v in verdicts.items() if v == "not checked"} == set(emulation.not_checked)


def test_the_expectations_file_lists_exactly_the_failing_rules() -> None:
    with EXPECTATIONS.open("rb") as handle:
        entries = tomllib.load(handle)["expected-failure"]
    emulation = all_mutants()[EMULATION]
    assert {entry["id"] for entry in entries} == {*emulation.breaks, *emulation.breaks_in_sandbox}
    assert all(entry["reason"].strip() for entry in entries)
