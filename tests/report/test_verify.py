"""--verify N: failing checks are rerun; differing outcomes make them flaky."""

from __future__ import annotations

import pytest

FLAKY_MODULE = '''
from pathlib import Path
import pytest

COUNTER = Path(__file__).with_name("attempts.txt")

@pytest.fixture
def counted():
    n = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(n + 1))
    return n

@pytest.mark.spec("ALPHA-001")
def test_flaky(counted):
    assert counted > 0, "fails only the first time"

@pytest.mark.spec("ALPHA-002")
def test_always_fails():
    assert False, "always"

@pytest.mark.spec("ALPHA-003")
def test_passes():
    pass
'''


def test_flaky_and_consistent_failures(run_checks, pytester):
    run = run_checks({"test_flaky": FLAKY_MODULE}, "--verify", "2")
    assert run.outcomes() == {"test_flaky": "flaky", "test_always_fails": "failed",
                              "test_passes": "passed"}
    flaky = run.check("test_flaky")
    assert [a["outcome"] for a in flaky["attempts"]] == ["passed", "passed"]
    assert flaky["raw_outcome"] == "failed"
    assert flaky["reason"].startswith("outcomes differ over 3 runs (failed, passed, passed)")
    always = run.check("test_always_fails")
    assert [a["outcome"] for a in always["attempts"]] == ["failed", "failed"]
    assert run.check("test_passes")["attempts"] == [], "passing checks are not rerun"
    assert (pytester.path / "attempts.txt").read_text() == "3"
    assert run.ret == 1, "the consistent failure still fails the run"
    assert "1 flaky check(s)" in run.text()


def test_flaky_alone_does_not_fail_the_run(run_checks):
    run = run_checks({"test_flaky": FLAKY_MODULE}, "--verify", "1",
                     "--deselect", "test_flaky.py::test_always_fails")
    assert run.ret == 0, run.text()
    assert run.outcomes()["test_flaky"] == "flaky"


def test_without_verify_a_flake_is_a_failure(run_checks):
    run = run_checks({"test_flaky": FLAKY_MODULE},
                     "--deselect", "test_flaky.py::test_always_fails")
    assert run.outcomes()["test_flaky"] == "failed"
    assert run.ret == 1


def test_verify_under_xdist(run_checks):
    pytest.importorskip("xdist")
    run = run_checks({"test_flaky": FLAKY_MODULE}, "--verify", "1", "-p", "xdist", "-n", "2",
                     subprocess=True)
    assert run.outcomes()["test_flaky"] == "flaky"
    assert run.outcomes()["test_always_fails"] == "failed"


def test_negative_verify_is_a_usage_error(run_checks):
    run = run_checks({"test_flaky": FLAKY_MODULE}, "--verify", "-1")
    assert run.ret == 4
