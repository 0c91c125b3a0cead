"""The documented exit codes: 0 conformant, 1 failures, 2 usage, 3 harness error."""

from __future__ import annotations

import pytest

from conformance.commands.main import EXIT_CODES_HELP, build_parser, main, pytest_exit_to_ours
from tests.report.conftest import OUTCOMES_MODULE, PASSING_MODULE

FAILING_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_fails():
    assert False, "nope"
'''
ERROR_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_fails():
    assert False, "nope"

@pytest.mark.spec("ALPHA-002")
def test_breaks():
    raise OSError("fakes gone")
'''
ALL_NA_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_na():
    pytest.skip("not applicable: nothing to check")
'''


@pytest.mark.parametrize(("source", "pytest_code", "ours"), [
    (PASSING_MODULE, 0, 0),
    (ALL_NA_MODULE, 0, 0),
    (FAILING_MODULE, 1, 1),
    (ERROR_MODULE, 3, 3),
    (OUTCOMES_MODULE, 3, 3),
])
def test_run_exit_codes(run_checks, source, pytest_code, ours):
    run = run_checks({"test_codes": source})
    assert run.ret == pytest_code
    assert pytest_exit_to_ours(run.ret) == ours
    assert run.data["verdict"]["exit_code"] == ours


def test_interrupted_and_usage_codes_map_as_documented():
    assert pytest_exit_to_ours(int(pytest.ExitCode.INTERRUPTED)) == 3
    assert pytest_exit_to_ours(int(pytest.ExitCode.USAGE_ERROR)) == 2
    assert pytest_exit_to_ours(int(pytest.ExitCode.NO_TESTS_COLLECTED)) == 2


@pytest.mark.parametrize("args", [
    ["--expectations", "/nonexistent/expectations.toml"],
    ["--baseline", "/nonexistent/results.json"],
    ["--verify", "-1"],
])
def test_run_command_usage_errors(args, capsys):
    assert main(["run", "--no-color", "--no-reports", *args]) == 2


def test_exit_codes_are_in_help():
    text = build_parser().format_help()
    assert EXIT_CODES_HELP in text
    import contextlib
    import io

    run_help = io.StringIO()
    with contextlib.redirect_stdout(run_help), contextlib.suppress(SystemExit):
        build_parser().parse_args(["run", "--help"])
    run_help = run_help.getvalue()  # type: ignore[assignment]
    for option in ("--report-dir", "--expectations", "--baseline", "--new-checks", "--verify",
                   "--no-color"):
        assert option in run_help


def test_6_parallel_runs_work_on_a_plain_install():
    """`-- -n 2` (README) needs pytest-xdist in the runtime dependencies, not an extra."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                            .read_text("utf-8"))["project"]
    assert any(d.startswith("pytest-xdist") for d in project["dependencies"])


def test_6_without_xdist_minus_n_is_one_line_that_says_what_to_install(monkeypatch, capsys):
    from conformance.commands import main as cli

    monkeypatch.setattr(cli, "has_xdist", lambda: False)
    assert main(["run", "--no-reports", "--", "-n", "2"]) == 2
    err = capsys.readouterr().err
    assert err == ("convox-conformance: -n needs pytest-xdist, a dependency of this suite that "
                   "is missing here: pip install pytest-xdist\n")
    assert cli.wants_workers(["-n2"]) and cli.wants_workers(["--numprocesses=2"])
    assert not cli.wants_workers(["-x", "--no-header"])
