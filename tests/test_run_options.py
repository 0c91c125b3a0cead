"""The run's options are declared once (conformance.run_options) for argparse and pytest.

``convox-conformance run`` parses them, passes them on, and the plugins parse
them again: whatever ``run`` was given must reach the checks unchanged, and a
default must be the same on both sides.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from _pytest.config.argparsing import Parser

from conformance.commands.main import build_parser
from conformance.run_options import (
    HARNESS,
    OPTIONS,
    REPORTS,
    RUN_OPTIONS,
    add_pytest_options,
    pytest_arguments,
    value_problems,
)


def pytest_parse(argv: list[str]) -> argparse.Namespace:
    """The options as the two plugins declare them, parsed as pytest would."""
    parser = Parser(_ispytest=True)
    add_pytest_options(parser, HARNESS)
    add_pytest_options(parser, REPORTS)
    parser.addoption("--color")  # pytest's own, which --no-color also sets
    return parser.parse(argv)


def run_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


PASSED_ON = [option for option in RUN_OPTIONS if option.in_pytest]


def test_every_option_is_declared_once() -> None:
    flags = [option.flag for option in OPTIONS]
    assert len(flags) == len(set(flags))
    assert {option.group for option in OPTIONS} == {HARNESS, REPORTS}


def test_defaults_are_the_same_on_both_sides() -> None:
    given = run_args()
    parsed = pytest_parse([])
    for option in PASSED_ON:
        assert getattr(given, option.dest) == getattr(parsed, option.dest), option.flag


@pytest.mark.parametrize("argv", [
    [],
    ["--cli", "/bin/convox", "--profile", "convox-v3", "--cli-timeout", "7.5",
     "--max-output", "2K", "--backend", "remote", "--serve", "http://a", "--serve", "http://b",
     "--rule", "LOGIN-001", "--rule", "SWITCH-003", "--check", "test_login.py::test_x"],
    ["--report-dir", "out", "--keep-runs", "0", "--no-reports", "--expectations", "e.toml",
     "--baseline", "old", "--new-checks", "pending", "--fail-on", "must",
     "--strict-expectations", "--verify", "3", "--no-color"],
])
def test_what_run_is_given_reaches_pytest_unchanged(argv: list[str]) -> None:
    given = run_args(*argv)
    parsed = pytest_parse(pytest_arguments(given))
    for option in PASSED_ON:
        assert getattr(parsed, option.dest) == getattr(given, option.dest), option.flag


def test_no_color_also_turns_off_pytest_colours() -> None:
    assert pytest_arguments(run_args("--no-color"))[-2:] == ["--no-color", "--color=no"]
    assert "--color=no" not in pytest_arguments(run_args())


def test_options_run_settles_itself_are_not_passed_on() -> None:
    passed = pytest_arguments(run_args("--network", "host", "--workers", "2"))
    assert "--network" not in passed and "--workers" not in passed


def test_a_refused_value_is_the_same_line_on_both_sides() -> None:
    values: dict[str, Any] = {"verify": -1}
    assert value_problems(values.get, RUN_OPTIONS) == ["--verify: must be 0 or more"]
    assert value_problems({"verify": 0}.get, RUN_OPTIONS) == []


def test_shared_options_of_other_subcommands_keep_their_own_defaults() -> None:
    replay = build_parser().parse_args(["replay", "script.sh"])
    assert (replay.cli, replay.profile, replay.cli_timeout) == (None, None, None)
    assert build_parser().parse_args(["repro", "LOGIN-001"]).network == "host"
    smoke = build_parser().parse_args(["smoke"])
    run = run_args()
    assert (smoke.profile, smoke.backend, smoke.cli_timeout) == (
        run.profile, run.backend, run.cli_timeout)
