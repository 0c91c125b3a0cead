"""The implementation matrix over several runs: markdown, links, scores."""

from __future__ import annotations

import pytest

from conformance.commands.main import main
from tests.report.conftest import OUTCOMES_MODULE, PASSING_MODULE, SYNTHETIC_RULE_COUNT


@pytest.fixture
def two_runs(run_checks):
    good = run_checks({"test_a": PASSING_MODULE}, report_dir="good")
    (good.run_dir.parent.parent / "test_a.py").unlink()
    mixed = run_checks({"test_b": OUTCOMES_MODULE}, report_dir="mixed")
    return good, mixed


def test_matrix_files_and_scores(two_runs, pytester, capsys):
    good, mixed = two_runs
    out = pytester.path / "matrix"
    code = main(["matrix", "--run", f"good={good.report_dir / 'latest'}",
                 "--run", f"mixed={mixed.run_dir}", "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "good                 MUST 2/2 (100%)" in printed
    assert "mixed                MUST 1/3 (33%)" in printed
    md = (out / "matrix.md").read_text("utf-8")
    assert "| rule | level | good | mixed |" in md
    assert "| **MUST score** | | **2/2 (100%)** | **1/3 (33%)** |" in md
    assert "| ALPHA-002 | MUST | pass | FAIL |" in md
    assert "| BETA-002 | MUST | — | ERROR |" in md
    assert "| GAMMA-001 | MUST | — | — |" in md
    html = (out / "matrix.html").read_text("utf-8")
    assert html.count('<tr class="mrow rule') == SYNTHETIC_RULE_COUNT
    link = f"../mixed/{mixed.run_dir.name}/report.html#rule-ALPHA-002"
    assert f'href="{link}"' in html, "cells link to that run's evidence for the rule"
    assert "Content-Security-Policy" in html


def test_matrix_usage_errors(tmp_path, capsys):
    assert main(["matrix", "--run", "no-equals-sign"]) == 2
    assert main(["matrix", "--run", f"x={tmp_path / 'missing'}"]) == 2
    assert main(["matrix"]) == 2
    assert main(["matrix", "--profile", "a", "--profile", "b", "--cli", "x"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err


def test_matrix_runs_profiles_first(two_runs, pytester, monkeypatch, capsys):
    """`--profile` (with `--cli` at the same position) runs the suite, then renders."""
    import shutil

    from conformance.commands import report as commands

    good, _ = two_runs
    calls: list[list[str]] = []

    def fake_call(cmd: list[str]) -> int:
        calls.append(cmd)
        root = pytester.path / cmd[cmd.index("--report-dir") + 1]
        root.mkdir(parents=True)
        shutil.copytree(good.run_dir, root / good.run_dir.name)
        (root / "latest").symlink_to(good.run_dir.name)
        return 0

    monkeypatch.setattr(commands.subprocess, "call", fake_call)
    out = pytester.path / "m"
    code = main(["matrix", "--profile", "reference", "--cli", "/bin/echo", "--profile",
                 "reference", "--cli", "/bin/true", "--output", str(out), "--", "-x"])
    assert code == 0, capsys.readouterr()
    assert [c[c.index("--cli") + 1] for c in calls] == ["/bin/echo", "/bin/true"]
    assert all(c[-2:] == ["--", "-x"] for c in calls)
    assert "| rule | level | reference | reference' |" in (out / "matrix.md").read_text()


def test_a_run_that_leaves_no_new_report_is_not_read_from_an_old_one(two_runs, pytester,
                                                                      monkeypatch, capsys):
    """A run that crashed before writing its report (exit 1, like a Python traceback) beside
    an earlier run's `latest`: the command stops, saying so, and renders nothing stale."""
    import shutil

    from conformance.commands import report as commands

    good, _ = two_runs
    root = pytester.path / "m" / "runs" / "reference"
    root.mkdir(parents=True)
    shutil.copytree(good.run_dir, root / good.run_dir.name)
    (root / "latest").symlink_to(good.run_dir.name)
    monkeypatch.setattr(commands.subprocess, "call", lambda cmd: 1)
    code = main(["matrix", "--profile", "reference", "--output", str(pytester.path / "m")])
    assert code == 3
    assert "the run of reference ended with exit code 1 and no report" in capsys.readouterr().err
    assert not (pytester.path / "m" / "matrix.md").exists()
