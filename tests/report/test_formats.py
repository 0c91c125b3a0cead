"""Each report file against its schema or format: JSON Schema, JUnit, Markdown, HTML."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from conformance.report import SCHEMA_VERSION
from conformance.report.writers.json_report import schema
from tests.report.conftest import OUTCOMES_MODULE, SYNTHETIC_RULE_COUNT


@pytest.fixture
def outcomes_run(run_checks):
    return run_checks({"test_outcomes": OUTCOMES_MODULE})


def test_every_file_is_written(outcomes_run):
    names = sorted(p.name for p in outcomes_run.run_dir.iterdir())
    assert names == ["junit.xml", "report.html", "results.json", "summary.md"]


def test_schema_is_valid_and_versioned():
    document = schema()
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert f"v{SCHEMA_VERSION}" in document["$id"]


def test_results_json_validates_against_the_schema(outcomes_run):
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(outcomes_run.data)]
    assert errors == []
    assert outcomes_run.data["schema_version"] == SCHEMA_VERSION


def test_schema_rejects_an_unknown_outcome(outcomes_run):
    data = outcomes_run.data
    data["checks"][0]["outcome"] = "sort-of-passed"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema())


def test_junit_parses_with_rule_ids_and_evidence(outcomes_run):
    xml = JUnitXml.fromfile(str(outcomes_run.run_dir / "junit.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    assert {suite.name for suite in xml} == {"conformance.ALPHA", "conformance.BETA"}
    assert "ALPHA-001 test_outcomes.py::test_pass" in cases
    assert all(name.split()[0].split("-")[0] in ("ALPHA", "BETA") for name in cases)
    failed = cases["ALPHA-002 test_outcomes.py::test_fail"]
    assert isinstance(failed.result[0], Failure)
    assert failed.result[0].message.startswith("expected success")
    assert isinstance(cases["BETA-002 test_outcomes.py::test_harness_error"].result[0], Error)
    skipped = cases["ALPHA-003 test_outcomes.py::test_not_applicable"].result[0]
    assert isinstance(skipped, Skipped) and "not applicable" in skipped.message
    assert cases["ALPHA-001 test_outcomes.py::test_pass"].is_passed
    out = cases["ALPHA-001 test_outcomes.py::test_pass"].system_out
    assert "$ convox login 127.0.0.1:1 --password <user:alice@example.com#1>" in out
    assert "GET /auth key=user:alice@example.com#1" in out
    assert "file added: .convox/host" in out
    totals = {suite.name: (suite.tests, suite.failures, suite.errors, suite.skipped)
              for suite in xml}
    assert totals["conformance.BETA"] == (4, 1, 3, 0)


def test_summary_md_is_a_short_table(outcomes_run):
    """report.html's order: the verdict, the rule table failures first, then the rest."""
    text = (outcomes_run.run_dir / "summary.md").read_text("utf-8")
    assert text.startswith("## Convox conformance: ⚠️ HARNESS ERROR")
    assert text.splitlines()[2].startswith("`verdict: HARNESS ERROR (exit code 3")
    failing = ("| `ALPHA-002` Login stores the key | MUST | **fails** | expected success: "
               "$ convox login 127.0.0.1:1 -> exit 1 |  |")
    order = ["| rule | level | verdict | evidence | repro |", failing, "**error**",
             "| not applicable |", "Not listed: 1 holds, 1 not run", "| area (rules) |",
             "CLI `"]
    assert [text.index(part) for part in order] == sorted(text.index(p) for p in order)
    assert "| area (rules) | hold | fail | not applicable | other |" in text
    assert "| ALPHA | 1 | 1 | 1 |  |" in text
    assert "| BETA | 0 | 1 | 0 | 2 undecided |" in text
    assert len(text.splitlines()) < 40


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        classes = (found.get("class") or "").split()
        if tag == "tr" and "rule" in classes:
            self.rows.append({k: v or "" for k, v in found.items()})
        if tag in ("script", "img", "iframe", "link") and found.get("src"):
            self.external.append(f"{tag} src={found['src']}")
        if tag == "link" and (found.get("href") or "").startswith(("http", "//")):
            self.external.append(f"link href={found['href']}")


def test_html_is_self_contained_with_one_row_per_rule(outcomes_run):
    text = (outcomes_run.run_dir / "report.html").read_text("utf-8")
    parser = _Collect()
    parser.feed(text)
    assert len(parser.rows) == SYNTHETIC_RULE_COUNT
    assert parser.external == []
    assert "<style>" in text and "<script>" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    outcomes = {row["id"]: row["data-outcome"] for row in parser.rows}
    assert outcomes["rule-ALPHA-002"] == "failed"
    assert outcomes["rule-GAMMA-001"] == "not-run"
    assert "“Login stores the host.”" in text, "the quoted FAQ sentence"
    assert text.count('<td class="ev"><details>') == SYNTHETIC_RULE_COUNT, "one per rule"
    assert len(re.findall(r'<div class="check [^"]*" id="check-[^"]+"><details>', text)) == 7, \
        "one folded evidence block per check"
    assert text.count("<details>") == SYNTHETIC_RULE_COUNT + 7
    assert "<details open" not in text
    assert 'id="failures-only"' in text


def test_results_json_round_trips_through_the_model(outcomes_run):
    from conformance.report.model.results import RunResult

    data = outcomes_run.data
    again = RunResult.from_dict(data).to_dict()
    assert json.loads(json.dumps(again)) == data


def test_the_model_is_copied_for_scrubbing_only_when_it_holds_a_secret(outcomes_run):
    from conformance.report.model.results import RunResult
    from conformance.report.writers.all_reports import scrubbed
    from conformance.report.writers.redact import PLACEHOLDER, Scrubber

    result = RunResult.from_dict(outcomes_run.data)
    assert scrubbed(result, Scrubber(secrets=["nowhere-in-this-run"])) is result
    word = result.checks[0].nodeid
    clean = scrubbed(result, Scrubber(secrets=[word]))
    assert clean is not result
    assert word not in json.dumps(clean.to_dict()) and PLACEHOLDER in clean.checks[0].nodeid
    assert result.checks[0].nodeid == word  # the model it was given is unchanged


def test_other_schema_versions_are_refused(outcomes_run):
    from conformance.report.model.results import RunResult

    data = outcomes_run.data
    data["schema_version"] = 99
    with pytest.raises(ValueError, match="schema_version 99"):
        RunResult.from_dict(data)
