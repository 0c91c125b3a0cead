"""The options of a conformance run, declared once for argparse and for pytest.

``convox-conformance run`` parses its options with argparse and passes most of
them on to pytest, where the harness plugin and the report plugin declare them
again as pytest options. Both sides are generated from :data:`OPTIONS`, so a
name, a default, a converter or a help text is written here and nowhere else:

* :func:`add_arguments` adds options to an argparse parser (``run``, ``smoke``,
  and ``replay``/``repro`` with their own defaults);
* :func:`add_pytest_options` adds one group's options to pytest's parser;
* :func:`pytest_arguments` turns ``run``'s parsed options into the pytest
  arguments that carry them on;
* :func:`value_problems` names the values a converter accepts but a run refuses;
* :func:`chosen_profile` and :func:`chosen_backend` turn the options that name
  things into those things, or into the one-line problem every command shows.

This module sits below the commands and both pytest plugins; it imports only
the places that own the defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.network.sandbox import MODES
from conformance.running import DEFAULT_TIMEOUT
from conformance.running.capture import DEFAULT_MAX_OUTPUT, parse_size
from fakes.backends import DEFAULT_BACKEND

if TYPE_CHECKING:
    from conformance.running.profiles import Profile
    from fakes.backends.in_process import Backend

#: pytest option groups: the harness plugin's and the report plugin's.
HARNESS, REPORTS = "convox-conformance", "convox-conformance reports"

DEFAULT_PROFILE = "reference"
DEFAULT_REPORT_DIR = "reports"
#: Run directories kept in the report directory (``--keep``; 0 keeps all).
DEFAULT_KEEP = 20
DEFAULT_NETWORK = "auto"
DEFAULT_WORKERS = "auto"
#: ``--workers auto`` uses at most this many: past it, the longest check (the model
#: check) bounds the run and more workers only add their start-up.
MAX_AUTO_WORKERS = 8
#: Each shrinking step reruns real CLI processes; a failing CLI's verdict should cost
#: about what a passing one's does, and a short budget still gives a readable example.
DEFAULT_SHRINK_SECONDS = 3.0


def max_output_type(text: str) -> int:
    """``--max-output``'s value, or a one-line usage error."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def workers_type(text: str) -> str:
    """``--workers``' value (a number of workers, 1 or more, or auto), or a usage error."""
    if text == "auto":
        return text
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of workers (1 or more) or auto, "
                                         f"got {text!r}")
    return str(number)


def _not_negative(flag: str, value: int) -> str | None:
    return f"{flag}: must be 0 or more" if value < 0 else None


@dataclass(frozen=True)
class Option:
    """One option of a run, as both parsers declare it."""

    flag: str
    help: str
    #: The pytest group it belongs to (HARNESS or REPORTS).
    group: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    #: Given once per value (``--rule A --rule B``); the default is an empty list.
    repeatable: bool = False
    #: A flag without a value (store_true).
    switch: bool = False
    #: An option of ``convox-conformance run``.
    in_run: bool = True
    #: A pytest option (``run`` passes it on when it is one of ``run``'s too).
    in_pytest: bool = True
    #: Further pytest arguments ``run`` passes with a switch that is on.
    also: tuple[str, ...] = ()
    #: A value the converter accepts but a run refuses: the one-line problem, else None.
    problem: Callable[[str, Any], str | None] | None = None

    @property
    def dest(self) -> str:
        """The attribute argparse and pytest store the value under."""
        return self.flag.removeprefix("--").replace("-", "_")

    def declaration(self, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments of ``add_argument``/``addoption`` (the same for both)."""
        if self.switch:
            kwargs: dict[str, Any] = {"action": "store_true", "default": False}
        else:
            kwargs = {"default": [] if self.repeatable else self.default}
            if self.repeatable:
                kwargs["action"] = "append"
            if self.type is not None:
                kwargs["type"] = self.type
            if self.metavar is not None:
                kwargs["metavar"] = self.metavar
            if self.choices is not None:
                kwargs["choices"] = self.choices
        kwargs["help"] = self.help
        kwargs.update(overrides)
        return kwargs

    def passed_on(self, value: Any) -> list[str]:
        """The pytest arguments that carry ``run``'s value of this option."""
        if self.switch:
            return [self.flag, *self.also] if value else []
        if self.repeatable:
            return [part for item in value for part in (self.flag, str(item))]
        return [] if value is None else [self.flag, str(value)]


OPTIONS: tuple[Option, ...] = (
    Option("--cli", "CLI to test: a path or a command line (default: the profile's command)",
           HARNESS),
    Option("--profile", "profile name or path to a profile .toml "
           f"(default: {DEFAULT_PROFILE})", HARNESS, default=DEFAULT_PROFILE),
    Option("--cli-timeout", "seconds before one CLI invocation is killed "
           f"(default {DEFAULT_TIMEOUT:g})", HARNESS, default=DEFAULT_TIMEOUT, type=float),
    Option("--max-output", "keep at most this much of each invocation's stdout and of its "
           "stderr: the start and the end, with a marker saying how much was dropped "
           "(K/M suffixes; default 1M)", HARNESS, default=DEFAULT_MAX_OUTPUT,
           type=max_output_type, metavar="BYTES"),
    Option("--backend", "fakes backend (entry point group convox_conformance.backends)",
           HARNESS, default=DEFAULT_BACKEND),
    Option("--serve", "admin URL of a `convox-conformance serve` for --backend remote "
           "(repeatable; default: $CONVOX_CONFORMANCE_SERVE)", HARNESS, metavar="URL",
           repeatable=True),
    Option("--rule", "run only the checks of this rule id (repeatable)", HARNESS,
           repeatable=True),
    Option("--check", "run only this check, by its id in results.json, e.g. "
           "test_login.py::test_login_stores_the_key_under_the_host (repeatable; with --rule, "
           "the checks of either)", HARNESS, metavar="ID", repeatable=True),
    # Settled by `run` itself before pytest starts: the sandbox is entered, the workers chosen.
    Option("--network", "sandbox: a private network where every host name leads to the fakes "
           "(Linux); host: the machine's; auto (default): the sandbox where it can be made",
           HARNESS, default=DEFAULT_NETWORK, choices=MODES, in_pytest=False),
    Option("--workers", "checks run side by side in N processes; auto (default): one per "
           f"processor, up to {MAX_AUTO_WORKERS}, and 1 with --rule or --check; 1 runs them one "
           "by one. Verdicts are the same either way", HARNESS, default=DEFAULT_WORKERS,
           type=workers_type, metavar="N|auto", in_pytest=False),
    # pytest's only: `run` reaches them after `--`.
    Option("--shrink-seconds", "seconds the property and model checks may spend shrinking a "
           f"failing example (default {DEFAULT_SHRINK_SECONDS:g}; 0 skips shrinking)", HARNESS,
           default=DEFAULT_SHRINK_SECONDS, type=float, in_run=False),
    Option("--stop-at-rule", "stop the run after the first check that fails for this rule "
           "(unlike --maxfail, a failure blamed on another rule goes on)", HARNESS,
           metavar="RULE", in_run=False),
    Option("--report-dir", "where each run writes <run-id>/ and the 'latest' link "
           f"(default: {DEFAULT_REPORT_DIR})", REPORTS, default=DEFAULT_REPORT_DIR),
    Option("--keep-runs", "keep the N newest run directories in --report-dir, delete older "
           f"ones (default {DEFAULT_KEEP}; 0 keeps all)", REPORTS, default=DEFAULT_KEEP,
           type=int, metavar="N"),
    Option("--no-reports", "write no report files (the terminal summary and exit code remain)",
           REPORTS, switch=True),
    Option("--expectations", "TOML file of known failures (rule or check ids, reason, link, "
           "expires; see README, 'CI gating')", REPORTS, metavar="FILE"),
    Option("--baseline", "results.json (or run directory) of an earlier run: fail only on "
           "regressions against it", REPORTS, metavar="RESULTS"),
    Option("--new-checks", "with --baseline: whether failing checks the baseline lacks fail "
           "the run (default) or only warn (pending)", REPORTS, default="fail",
           choices=("fail", "pending")),
    Option("--fail-on", "the gate: fail the run on failing MUST rules only (must) or on any "
           "failing rule (should, the default)", REPORTS, default="should",
           choices=("must", "should")),
    Option("--strict-expectations", "with --expectations: fail the run when an expectations "
           "entry was never exercised", REPORTS, switch=True),
    Option("--verify", "rerun each failing check N times; label it flaky when outcomes differ",
           REPORTS, default=0, type=int, metavar="N", problem=_not_negative),
    Option("--no-color", "plain terminal output: no progress bar, no colours", REPORTS,
           switch=True, also=("--color=no",)),
)

BY_DEST: Mapping[str, Option] = {option.dest: option for option in OPTIONS}
#: ``convox-conformance run``'s options, in the order its help lists them.
RUN_OPTIONS = tuple(option for option in OPTIONS if option.in_run)


def add_arguments(parser: argparse.ArgumentParser, dests: Iterable[str] | None = None,
                  overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Add options to an argparse parser: ``run``'s (all of them) or the named ones, with
    ``overrides`` (dest -> keyword arguments) for a subcommand that means them differently."""
    chosen = RUN_OPTIONS if dests is None else tuple(BY_DEST[dest] for dest in dests)
    for option in chosen:
        parser.add_argument(option.flag,
                            **option.declaration(**(overrides or {}).get(option.dest, {})))


def group_options(group: str) -> tuple[Option, ...]:
    """One pytest group's options, in the order its help lists them."""
    return tuple(option for option in OPTIONS if option.in_pytest and option.group == group)


def add_pytest_options(parser: Any, group: str) -> None:
    """Add one group's options to pytest's parser (``pytest_addoption``)."""
    adder = parser.getgroup(group)
    for option in group_options(group):
        adder.addoption(option.flag, **option.declaration())


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest arguments that carry ``run``'s options on to the plugins."""
    return [part for option in RUN_OPTIONS if option.in_pytest
            for part in option.passed_on(getattr(args, option.dest))]


def value_problems(value_of: Callable[[str], Any], options: Iterable[Option]) -> list[str]:
    """One line for each value a run refuses, of ``options`` (``value_of``: dest -> value)."""
    problems = []
    for option in options:
        if option.problem is not None:
            problem = option.problem(option.flag, value_of(option.dest))
            if problem:
                problems.append(problem)
    return problems


def unknown_rules_problem(rules: Sequence[str]) -> str | None:
    """``--rule``'s one-line problem when it names rules the catalogue lacks (raises
    CatalogueError when the catalogue cannot be read)."""
    from conformance.catalogue import load_catalogue

    unknown = sorted(set(rules) - set(load_catalogue().rules))
    if not unknown:
        return None
    return f"--rule: unknown rule id {', '.join(unknown)} (see `convox-conformance rules`)"


class OptionError(Exception):
    """An option names something that cannot be used; the message is the one-line problem."""


def chosen_profile(profile: str, cli: str | None = None) -> Profile:
    """The profile ``--profile`` names, running ``--cli`` when given, checked runnable."""
    # Imported here, like the backends: listing rules or profiles' help needs neither.
    from conformance.running.invoke import CliNotRunnable, check_runnable
    from conformance.running.profiles import ProfileError, load_profile

    try:
        chosen = load_profile(profile)
        if cli:
            chosen = chosen.with_command(cli)
        check_runnable(chosen)
    except (ProfileError, CliNotRunnable) as exc:
        raise OptionError(str(exc)) from None
    return chosen


def chosen_backend(name: str, serve: Sequence[str] = ()) -> Backend:
    """The fakes backend ``--backend`` names (made, not started), given ``--serve``'s URLs."""
    # Imported here: the backends load the fakes and their certificates, which
    # commands that only list or check things never need.
    from fakes.backends.in_process import get_backend

    try:
        return get_backend(name, **({"urls": serve} if serve else {}))
    except (LookupError, ValueError) as exc:
        raise OptionError(str(exc)) from None
    except TypeError as exc:  # --serve given to a backend that takes no URLs
        raise OptionError(f"backend {name!r} does not take --serve ({exc})") from None
