"""The ``convox-conformance`` command: parse argv, then hand each subcommand its job.

``run`` builds the pytest argv for the shipped checks (their own ini, the plugin,
the run options) so a user never needs to know pytest to run the suite;
``rules`` and ``profiles`` read the catalogue and the profiles; ``serve`` and
the report commands live with their code.

Exit codes (the contract CI pipelines rely on):

  0  conformant (every applicable check passed, or no regression)
  1  conformance failures
  2  usage or configuration error (bad profile, missing CLI, empty selection)
  3  harness error (fakes failed to start, the run was interrupted)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from conformance.commands.exit_codes import (
    EXIT_CODES_HELP,
    EXIT_FAILURES,
    EXIT_HARNESS,
    EXIT_OK,
    EXIT_USAGE,
    PREFIX,
)
from conformance.commands.report import add_commands
from conformance.run_options import (
    MAX_AUTO_WORKERS,
    RUN_OPTIONS,
    OptionError,
    add_arguments,
    chosen_backend,
    chosen_profile,
    pytest_arguments,
    unknown_rules_problem,
    value_problems,
)

#: The pytest plugins a run loads, and no others. A plugin that is merely installed
#: where the suite runs would otherwise load too and could change what a run decides:
#: pytest-randomly reseeds and reorders, pytest-rerunfailures retries a failed check.
#: A user who wants one says so: ``-- -p NAME``.
SUITE_PLUGINS = ("conformance.harness.plugin", "_hypothesis_pytestplugin")


def _plugin_args() -> list[str]:
    """Turn off pytest's entry-point plugin loading; load the suite's own plugins."""
    plugins = [*SUITE_PLUGINS, *(["xdist.plugin"] if has_xdist() else [])]
    return ["--disable-plugin-autoload", *(arg for name in plugins for arg in ("-p", name))]


def pytest_exit_to_ours(code: int) -> int:
    """Map pytest's exit codes onto the documented ones."""
    return {0: EXIT_OK, 1: EXIT_FAILURES, 4: EXIT_USAGE, 5: EXIT_USAGE}.get(code, EXIT_HARNESS)


def wants_workers(pytest_args: Sequence[str]) -> bool:
    """Whether extra pytest arguments ask for xdist workers (``-n 2``, ``-n2``, ``-nauto``)."""
    return any(a.startswith(("-n", "--numprocesses")) for a in pytest_args)


def has_xdist() -> bool:
    from importlib.util import find_spec

    return find_spec("xdist") is not None


def worker_count(workers: str, rules: Sequence[str], checks: Sequence[str]) -> int:
    """How many pytest-xdist workers a run uses: ``--workers N``, or for ``auto`` the
    processors this process may use (one for a run of a few rules or checks, given with
    ``--rule`` or ``--check``, which takes less time than starting workers)."""
    if workers != "auto":
        return int(workers)
    if rules or checks:
        return 1
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, MAX_AUTO_WORKERS))


#: How many examples the model check and the properties try (conformance/checks/conftest.py).
EXAMPLES_ENV = "CONFORMANCE_EXAMPLES"


def preflight(args: argparse.Namespace) -> list[str]:
    """Every mistake in ``run``'s own settings, checked before pytest starts.

    pytest would report the first of them as ``ERROR: ...``; here each one is
    a line with the suite's prefix, all of them at once.
    """
    from conformance.catalogue import CatalogueError
    from conformance.report.gate import expectations as exp
    from conformance.report.gate.baseline import BaselineError
    from conformance.report.gate.baseline import load as load_baseline

    problems: list[str] = []
    try:
        chosen_profile(args.profile, args.cli)
    except OptionError as exc:
        problems.append(str(exc))
    if args.expectations:
        try:
            exp.load(args.expectations)
        except exp.ExpectationsError as exc:
            problems.append(str(exc))
    if args.baseline:
        try:
            load_baseline(args.baseline)
        except BaselineError as exc:
            problems.append(str(exc))
    problems += value_problems(lambda dest: getattr(args, dest), RUN_OPTIONS)
    examples = os.environ.get(EXAMPLES_ENV)
    if examples is not None and not (examples.strip().isdigit() and int(examples) > 0):
        problems.append(f"{EXAMPLES_ENV}: expected how many examples the model check and the "
                        f"properties try (1 or more), got {examples!r}")
    if args.rule:
        try:
            unknown = unknown_rules_problem(args.rule)
        except CatalogueError as exc:
            problems.append(str(exc))
        else:
            if unknown:
                problems.append(unknown)
    try:
        chosen_backend(args.backend, args.serve)
    except OptionError as exc:
        problems.append(str(exc))
    return problems


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.network.sandbox import prepare

    # Mistakes in the run's own settings are found here, before any sandbox starts.
    problems = preflight(args)
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if wants_workers(extra) and not has_xdist():
        problems.append("-n needs pytest-xdist, a dependency of this suite that is missing "
                        "here: pip install pytest-xdist")
    if wants_workers(extra) and args.workers != "auto":
        problems.append("--workers and pytest's -n both choose the workers: give one")
    for problem in problems:
        print(f"{PREFIX}{problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    # Before pytest is imported: a run that moves into the sandbox needs nothing of it here.
    done = prepare(args.network, args.backend, getattr(args, "raw_argv", ["run"]))
    if done is not None:  # the run happened inside the sandbox, or cannot happen
        return done

    from importlib import resources

    import pytest

    # Pin the checks' own ini: with --pyargs pytest would otherwise take the
    # configuration of whatever directory the user runs from.
    ini = resources.files("conformance.checks") / "pytest.ini"
    argv = ["--pyargs", "conformance.checks", "-c", str(ini), *_plugin_args(),
            "-p", "no:cacheprovider", *pytest_arguments(args)]
    workers = worker_count(args.workers, args.rule, args.check)
    if workers > 1 and not wants_workers(extra) and has_xdist():
        argv += ["-n", str(workers)]
    code = int(pytest.main(argv + extra))
    if code == 5:
        print("convox-conformance: no conformance checks were selected; nothing was verified",
              file=sys.stderr)
    return pytest_exit_to_ours(code)


def cmd_profiles(args: argparse.Namespace) -> int:
    from conformance.running.profiles import ProfileError, load_profile, shipped_profiles

    for name, path in shipped_profiles().items():
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            print(f"{name:16} INVALID: {exc}")
            continue
        print(f"{name:16} {profile.description}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from conformance.catalogue import (
        CatalogueError,
        check_links,
        describe_where,
        format_rules,
        load_catalogue,
        request_problems,
    )

    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.where is not None:
        try:
            print(describe_where(catalogue, args.where))
        except (LookupError, CatalogueError) as exc:
            print(f"convox-conformance: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    if args.check:
        problems = check_links(catalogue) + request_problems()
        for problem in problems:
            print(problem)
        if problems:
            return EXIT_FAILURES
        print(f"{len(catalogue.rules)} rules, every one linked to a check")
        return EXIT_OK
    try:
        print(format_rules(catalogue, area=args.area, level=args.level))
    except ValueError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in the command's one-line form (and the same exit code 2)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("convox-conformance").strip()
        self.exit(EXIT_USAGE, f"{PREFIX}{command + ': ' if command else ''}{message} "
                              f"(see {self.prog} --help)\n")


#: ``replay`` and ``repro`` take these of ``run``'s options, unset by default: a replay
#: uses what the recorded run used.
REPLAY_OPTIONS = {
    "cli": {"default": None, "help": "path or command of the CLI (default: the run's)"},
    "profile": {"default": None, "help": "profile name or .toml path (default: the run's)"},
    "cli_timeout": {"default": None, "help": "seconds before one CLI invocation is killed "
                    "(default: the run's)"},
}


def _replay_options(parser: argparse.ArgumentParser) -> None:
    add_arguments(parser, REPLAY_OPTIONS, overrides=REPLAY_OPTIONS)


def cmd_replay(args: argparse.Namespace) -> int:
    from conformance.replay.commands import main as replay_main

    return replay_main(args)


def cmd_repro(args: argparse.Namespace) -> int:
    from conformance.replay.commands import repro_main

    return repro_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="convox-conformance",
        description="Conformance suite for Convox command-line clients.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the conformance checks against a CLI",
                         epilog=EXIT_CODES_HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(run)
    run.add_argument("pytest_args", nargs=argparse.REMAINDER,
                     help="after --: extra pytest arguments (e.g. -k NAME)")
    run.set_defaults(func=cmd_run)

    profiles = sub.add_parser("profiles", help="list the shipped CLI profiles")
    profiles.set_defaults(func=cmd_profiles)

    rules = sub.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--area", help="only this area (e.g. LOGIN)")
    rules.add_argument("--level", choices=["MUST", "SHOULD"], help="only this level")
    what = rules.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true",
                      help="fail unless every rule has a check and every check a known rule")
    what.add_argument("--where", metavar="RULE",
                      help="where RULE is: its checks and the fake code answering their "
                           "requests, as file:line")
    rules.set_defaults(func=cmd_rules)

    sub.add_parser("serve", help="run the fake Console and racks standalone "
                   "(see convox-conformance serve --help)")

    replay = sub.add_parser(
        "replay", help="replay a failed check's repro script or document",
        description="Replay a check from its repro script (reports/<run>/repro/*.sh) or "
                    "'-' for standard input: start serve, repeat the check's steps with "
                    "fresh keys, and say whether the failure recurred.",
        epilog="exit codes:\n  0  not reproduced (a step did something else)\n"
               "  1  reproduced\n  2  bad script or options\n  3  serve did not start",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.add_argument("trail", metavar="SCRIPT", help="a repro script, its JSON, or -")
    _replay_options(replay)
    replay.set_defaults(func=cmd_replay)

    repro = sub.add_parser(
        "repro", help="run one check alone, then replay it if it failed or was blocked",
        epilog="exit codes:\n  0  the check passed, or the replay did not reproduce it\n"
               "  1  reproduced\n  2  bad options or no such check\n  3  harness error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    repro.add_argument("check", metavar="CHECK-ID",
                       help="a check id (test_logout.py::test_...), its function name, or a "
                            "rule id")
    _replay_options(repro)
    add_arguments(repro, ["network"], overrides={"network": {
        "default": "host", "help": "the run's network (default: host, as the replay's; the "
                                   "rules that need the sandbox are only checked with sandbox)"}})
    repro.set_defaults(func=cmd_repro)

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        # serve owns its options; argparse's REMAINDER would swallow "--world" wrongly.
        from fakes.backends.serve import main as serve_main

        return serve_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.raw_argv = argv  # the sandbox re-runs exactly this command inside itself
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("convox-conformance: interrupted", file=sys.stderr)
        return EXIT_HARNESS


if __name__ == "__main__":
    sys.exit(main())
