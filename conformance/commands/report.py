"""The report subcommands of ``convox-conformance``: ``expectations update``,
``matrix`` and ``publish`` (and ``smoke``, from conformance.commands.smoke).

Kept here so ``conformance/commands/main.py`` only wires them in; ``run``'s
options, the report options among them, are in conformance.run_options.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from conformance.commands.exit_codes import EXIT_HARNESS, EXIT_OK, EXIT_USAGE
from conformance.commands.smoke import add_command as add_smoke
from conformance.report.writers.run_dirs import LATEST
from conformance.run_options import DEFAULT_REPORT_DIR


def add_commands(sub: argparse._SubParsersAction) -> None:
    expectations = sub.add_parser("expectations", help="manage an expectations file")
    actions = expectations.add_subparsers(dest="action", required=True)
    update = actions.add_parser("update", help="write the expectations a run implies")
    latest = f"{DEFAULT_REPORT_DIR}/{LATEST}"
    update.add_argument("--from", dest="source", default=latest,
                        help=f"a run directory or results.json (default: {latest})")
    update.add_argument("--output", default="expectations.toml",
                        help="file to write; existing entries that still fail are kept as "
                             "written (default: expectations.toml; '-' for stdout)")
    update.add_argument("--merge", action="store_true",
                        help="from a partial run (--rule, -k): update only what that run "
                             "decided and keep every other entry as it is")
    update.set_defaults(func=cmd_expectations_update)

    matrix = sub.add_parser("matrix", help="render matrix.html + matrix.md over several runs")
    matrix.add_argument("--run", action="append", default=[], metavar="NAME=PATH",
                        help="an implementation and its run directory (repeatable)")
    matrix.add_argument("--profile", action="append", default=[],
                        help="run the suite for this profile first (repeatable)")
    matrix.add_argument("--cli", action="append", default=[],
                        help="the CLI for the --profile at the same position (repeatable)")
    matrix_dir = f"{DEFAULT_REPORT_DIR}/matrix"
    matrix.add_argument("--output", default=matrix_dir,
                        help=f"directory for matrix.html and matrix.md (default: {matrix_dir})")
    matrix.add_argument("pytest_args", nargs=argparse.REMAINDER,
                        help="after --: extra arguments for each run")
    matrix.set_defaults(func=cmd_matrix)

    publish = sub.add_parser(
        "publish", help="render a results page per CLI build and a comparison page")
    publish.add_argument("--builds", required=True,
                         help="the builds file (TOML: one [[build]] per published build)")
    publish.add_argument("--clis", metavar="DIR",
                         help="run each build found in DIR first (in the network sandbox, "
                              "with its profile and expectations)")
    publish.add_argument("--run", action="append", default=[], metavar="NAME=PATH",
                         help="use this run directory for the build NAME (repeatable)")
    publish.add_argument("--output",
                         help="directory for the pages (default: the builds file's)")
    publish.add_argument("pytest_args", nargs=argparse.REMAINDER,
                         help="after --: extra arguments for each run")
    publish.set_defaults(func=cmd_publish)

    add_smoke(sub)


def cmd_expectations_update(args: argparse.Namespace) -> int:
    from conformance.report.gate import expectations as exp
    from conformance.report.gate.baseline import BaselineError
    from conformance.report.gate.baseline import load as load_results

    try:
        result = load_results(args.source)
    except BaselineError as exc:
        print(f"convox-conformance: {str(exc).replace('baseline ', '--from ', 1)}",
              file=sys.stderr)
        return EXIT_USAGE
    existing: list[exp.Expectation] = []
    if args.output != "-" and Path(args.output).exists():
        try:
            existing = exp.load(args.output)
        except exp.ExpectationsError as exc:
            print(f"convox-conformance: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if result.scope.partial and not args.merge:
        why = "; ".join(result.scope.why) or "some checks did not run"
        print(f"convox-conformance: expectations update: {args.source} is a partial run ({why});"
              " it cannot say which entries are still needed. Run the whole suite, or pass"
              " --merge to update only the rules that run decided", file=sys.stderr)
        return EXIT_USAGE
    entries = exp.from_run(result, existing, merge=args.merge)
    header = (f"Known failures of {result.run.profile.get('name')} "
              f"({result.run.cli_version or 'version unknown'}).\n"
              "Give each entry a real reason and, ideally, a link and an expiry date.")
    text = exp.render(entries, header)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        dropped = sorted({e.id for e in existing} - {e.id for e in entries})
        print(f"wrote {len(entries)} expectation(s) to {args.output}"
              + (f"; dropped (now passing or gone): {', '.join(dropped)}" if dropped else ""))
    return EXIT_OK


def run_first(command: str, name: str, options: list[str], run_root: Path,
              extra: list[str]) -> int | None:
    """Run the suite (``run`` with ``options``) into ``run_root`` for ``command``; None
    when it left a report, else the exit code to end ``command`` with, having said why."""
    cmd = [sys.executable, "-m", "conformance", "run", *options,
           "--report-dir", str(run_root), "--no-color"]
    if extra:
        cmd += ["--", *extra]
    latest = run_root / "latest"
    # A report left by an earlier run is not this run's: only a new one counts.
    before = latest.resolve() if latest.exists() else None
    print(f"{command}: running {name}: {' '.join(cmd)}", flush=True)
    code = subprocess.call(cmd)
    if (code in (EXIT_USAGE, EXIT_HARNESS) or not latest.exists()
            or latest.resolve() == before):
        print(f"convox-conformance: {command}: the run of {name} ended with exit code {code}"
              " and no report", file=sys.stderr)
        return EXIT_HARNESS if code != EXIT_USAGE else EXIT_USAGE
    return None


def cmd_matrix(args: argparse.Namespace) -> int:
    from conformance.report.writers import matrix

    out_dir = Path(args.output)
    runs = []
    try:
        runs = [matrix.parse_run(spec) for spec in args.run]
    except matrix.MatrixError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.cli and len(args.cli) != len(args.profile):
        print("convox-conformance: matrix: give one --cli per --profile (or none)",
              file=sys.stderr)
        return EXIT_USAGE
    extra = [a for a in args.pytest_args if a != "--"][:]
    names = {name for name, _ in runs}
    for index, profile in enumerate(args.profile):
        name = Path(profile).stem if profile.endswith(".toml") else profile
        while name in names:
            name += "'"
        names.add(name)
        run_root = out_dir / "runs" / name.replace("'", "_")
        options = ["--profile", profile, *(["--cli", args.cli[index]] if args.cli else [])]
        failed = run_first("matrix", name, options, run_root, extra)
        if failed is not None:
            return failed
        runs.append((name, run_root / "latest"))
    if not runs:
        print("convox-conformance: matrix: give --run NAME=PATH or --profile", file=sys.stderr)
        return EXIT_USAGE
    try:
        columns = [matrix.load_column(name, path) for name, path in runs]
    except matrix.MatrixError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    paths = matrix.write(columns, out_dir)
    rules = matrix.all_rules(columns)
    for column in columns:
        print(f"{column.name:20} MUST {matrix.score_text(column.score(rules))}")
    print(f"wrote {paths['matrix.html']} and {paths['matrix.md']}")
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    from conformance.report.writers import matrix, publish

    builds_file = Path(args.builds)
    try:
        builds = publish.load_builds(builds_file)
        given = dict(matrix.parse_run(spec) for spec in args.run)
    except (publish.PublishError, matrix.MatrixError) as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    by_name = {build.name: build for build in builds}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        print(f"convox-conformance: publish: --run names no build of {builds_file}: "
              f"{', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    out_dir = Path(args.output) if args.output else builds_file.parent
    extra = [a for a in args.pytest_args if a != "--"]
    runs: dict[str, Path] = dict(given)
    for build in builds:
        if build.name in runs or not args.clis:
            continue
        binary = Path(args.clis) / build.name
        if not binary.is_file():
            print(f"convox-conformance: publish: {args.clis} has no {build.name}",
                  file=sys.stderr)
            return EXIT_USAGE
        run_root = Path(DEFAULT_REPORT_DIR) / "publish" / build.name
        options = ["--cli", str(binary), "--profile", build.profile, "--network", "sandbox"]
        if build.expectations is not None:
            options += ["--expectations", str(build.expectations)]
        failed = run_first("publish", build.name, options, run_root, extra)
        if failed is not None:
            return failed
        runs[build.name] = run_root / "latest"
    missing = [build.name for build in builds if build.name not in runs]
    if missing:
        print(f"convox-conformance: publish: no run for {', '.join(missing)} "
              "(give --run NAME=PATH or --clis DIR)", file=sys.stderr)
        return EXIT_USAGE
    try:
        pairs = [(build, matrix.load_column(build.name, runs[build.name]).result)
                 for build in builds]
    except matrix.MatrixError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in publish.write(pairs, out_dir):
        print(f"wrote {path}")
    return EXIT_OK
