"""Terminal output: plain when asked or not a TTY, rich progress and table otherwise."""

from __future__ import annotations

import io
import re

from conformance.report.model.results import CheckResult, RunInfo, RunResult, Verdict
from conformance.report.writers.terminal import Progress, plain_summary, rich_summary, wants_rich
from tests.report.conftest import OUTCOMES_MODULE

ANSI = re.compile(r"\x1b\[")


def test_plain_output_has_table_failing_rules_and_no_escape_codes(run_checks):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE}, "--no-color", "--color=yes")
    text = run.text()
    assert not ANSI.search(text)
    assert re.search(r"^area\s+passed\s+failed\s+N/A\s+error$", text, re.M)
    assert re.search(r"^ALPHA\s+1\s+1\s+1\s+0$", text, re.M)
    assert re.search(r"^total\s+1\s+2\s+1\s+3$", text, re.M)
    assert "  ALPHA-002  failed: expected success: $ convox login" in text
    assert "verdict: HARNESS ERROR (exit code 3, --fail-on should)" in text
    assert "report: " in text and "report.html" in text


def test_rich_output_on_a_colour_terminal(run_checks):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE}, "--color=yes")
    text = run.text()
    assert ANSI.search(text)
    assert "Conformance by area" in text
    assert "failing rules" in text
    assert "test_outcomes.py .F" not in text, "the progress bar replaces pytest's letters"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wants_rich(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_rich(_Tty(), False, "auto", 0)
    assert not wants_rich(io.StringIO(), False, "auto", 0), "not a TTY"
    assert not wants_rich(_Tty(), True, "auto", 0), "--no-color"
    assert not wants_rich(_Tty(), False, "no", 0), "--color=no"
    assert not wants_rich(_Tty(), False, "auto", 1), "-v keeps pytest's lines"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_rich(_Tty(), False, "auto", 0)


def _result() -> RunResult:
    checks = [CheckResult(id="t.py::a", nodeid="t.py::a", rules=["A-001"], outcome="passed",
                          raw_outcome="passed", area="A", level="MUST"),
              CheckResult(id="t.py::b", nodeid="t.py::b", rules=["A-002"], outcome="failed",
                          raw_outcome="failed", area="A", level="MUST", reason="it broke")]
    info = RunInfo("r", "0", {}, [], {"name": "p", "source": ""}, None, {}, "", "", 0.0, {}, {})
    return RunResult(info, [], checks, Verdict(1, "failures", ["x"]))


def test_progress_shows_done_total_and_area():
    stream = _Tty()
    progress = Progress(stream)
    progress.set_total(4)
    progress.area("LOGIN")
    progress.advance("LOGIN", failed=True)
    progress.advance("SWITCH", failed=False)
    output = stream.getvalue()
    progress.stop()
    assert "2/4" in output
    assert "SWITCH" in output and "1 failing" in output


def test_plain_and_rich_summaries_agree():
    lines: list[str] = []
    plain_summary(_result(), lines.append, None)
    assert "  A-002  failed: it broke  [t.py::b]" in lines
    stream = io.StringIO()
    rich_summary(_result(), stream, None, width=100)
    assert "A-002  failed: it broke" in stream.getvalue()
    assert "verdict: NOT CONFORMANT (exit code 1, --fail-on should)" in stream.getvalue()
