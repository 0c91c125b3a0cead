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
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from conformance.commands.report import add_commands, add_run_options, preflight, run_option_args

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3
#: Every one-line error of the command starts with this.
PREFIX = "convox-conformance: "

EXIT_CODES_HELP = """exit codes:
  0  conformant (every applicable check passed, or no regression)
  1  conformance failures
  2  usage or configuration error (bad profile, missing CLI, nothing selected)
  3  harness error (fakes failed to start, run interrupted)"""


def _plugin_args() -> list[str]:
    """``-p conformance.harness.plugin`` unless the installed entry point loads it."""
    from importlib.metadata import entry_points

    plugin = "conformance.harness.plugin"
    registered = any(ep.value == plugin for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", "conformance.harness.plugin"]


def pytest_exit_to_ours(code: int) -> int:
    """Map pytest's exit codes onto the documented ones."""
    return {0: EXIT_OK, 1: EXIT_FAILURES, 4: EXIT_USAGE, 5: EXIT_USAGE}.get(code, EXIT_HARNESS)


def wants_workers(pytest_args: Sequence[str]) -> bool:
    """Whether extra pytest arguments ask for xdist workers (``-n 2``, ``-n2``, ``-nauto``)."""
    return any(a.startswith(("-n", "--numprocesses")) for a in pytest_args)


def has_xdist() -> bool:
    from importlib.util import find_spec

    return find_spec("xdist") is not None


#: ``--workers auto`` uses at most this many: past it, the longest check (the model
#: check) bounds the run and more workers only add their start-up.
MAX_AUTO_WORKERS = 8


def _workers(text: str) -> str:
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


def worker_count(workers: str, rules: Sequence[str], checks: Sequence[str]) -> int:
    """How many pytest-xdist workers a run uses: ``--workers N``, or for ``auto`` the
    processors this process may use (one for a run of a few rules or checks, given with
    ``--rule`` or ``--check``, which takes less time than starting workers)."""
    import os

    if workers != "auto":
        return int(workers)
    if rules or checks:
        return 1
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, MAX_AUTO_WORKERS))


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
            "-p", "no:cacheprovider",
            "--profile", args.profile, "--cli-timeout", str(args.cli_timeout),
            "--backend", args.backend]
    if args.cli:
        argv += ["--cli", args.cli]
    if args.max_output is not None:
        argv += ["--max-output", str(args.max_output)]
    for url in args.serve:
        argv += ["--serve", url]
    for rule in args.rule:
        argv += ["--rule", rule]
    for check in args.check:
        argv += ["--check", check]
    argv += run_option_args(args)
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
    from conformance.catalogue import CatalogueError, check_links, format_rules, load_catalogue

    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        problems = check_links(catalogue)
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


def _max_output(text: str) -> int:
    from conformance.running.capture import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _replay_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cli", help="path or command of the CLI (default: the run's)")
    parser.add_argument("--profile", help="profile name or .toml path (default: the run's)")
    parser.add_argument("--cli-timeout", type=float, default=None,
                        help="seconds per invocation")


def cmd_replay(args: argparse.Namespace) -> int:
    from conformance.replay.player import main as replay_main

    return replay_main(args)


def cmd_repro(args: argparse.Namespace) -> int:
    from conformance.replay.player import repro_main

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
    run.add_argument("--cli", help="path or command of the CLI (default: the profile's)")
    run.add_argument("--profile", default="reference", help="profile name or .toml path")
    run.add_argument("--cli-timeout", type=float, default=20.0, help="seconds per invocation")
    run.add_argument("--max-output", type=_max_output, default=None, metavar="BYTES",
                     help="keep at most this much of each invocation's stdout and of its "
                          "stderr, start and end (K/M suffixes; default 1M)")
    run.add_argument("--backend", default="inprocess", help="fakes backend")
    run.add_argument("--serve", action="append", default=[], metavar="URL",
                     help="admin URL of a `convox-conformance serve` (with --backend remote)")
    run.add_argument("--rule", action="append", default=[], help="only this rule id")
    run.add_argument("--check", action="append", default=[], metavar="ID",
                     help="only this check id (as in results.json)")
    run.add_argument("--network", choices=["auto", "sandbox", "host"], default="auto",
                     help="sandbox: a private network where every host name leads to the "
                          "fakes (Linux); host: the machine's; auto (default): the sandbox "
                          "where it can be made")
    run.add_argument("--workers", type=_workers, default="auto", metavar="N|auto",
                     help="checks run side by side in N processes; auto (default): one per "
                          "processor, up to 8, and 1 with --rule or --check; 1 runs them one "
                          "by one. Verdicts are the same either way")
    add_run_options(run)
    run.add_argument("pytest_args", nargs=argparse.REMAINDER,
                     help="after --: extra pytest arguments (e.g. -k NAME)")
    run.set_defaults(func=cmd_run)

    profiles = sub.add_parser("profiles", help="list the shipped CLI profiles")
    profiles.set_defaults(func=cmd_profiles)

    rules = sub.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--area", help="only this area (e.g. LOGIN)")
    rules.add_argument("--level", choices=["MUST", "SHOULD"], help="only this level")
    rules.add_argument("--check", action="store_true",
                       help="fail unless every rule has a check and every check a known rule")
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
    repro.add_argument("--network", choices=["auto", "sandbox", "host"], default="host",
                       help="the run's network (default: host, as the replay's; the rules "
                            "that need the sandbox are only checked with sandbox)")
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
