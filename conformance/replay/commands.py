"""`replay` and `repro`: the command bodies, and reading a repro document.

A repro script (``reports/<run>/repro/<check>.sh``, conformance.report.writers.repro_scripts)
holds one check's trail (conformance.replay.trail) and hands it to
``convox-conformance replay``. The replay starts ``convox-conformance serve``
with the check's world, takes keys from its admin API *now* (the script holds
none), makes fresh homes, and repeats the steps in order
(conformance.replay.player). ``repro CHECK`` runs one check alone first, then
replays what failed.

Exit codes: 1 when every step did what it did in the failing run (the
failure reproduced), 0 when a step did something else (the first difference is
shown; a CLI that was fixed ends here), 2 for a bad trail or bad options, 3
when serve could not be started.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from conformance.replay.errors import ReplayError
from conformance.replay.player import Replay
from conformance.replay.serve_process import serve
from conformance.replay.trail import TRAIL_VERSION

EXIT_SAME, EXIT_DIFFERENT, EXIT_USAGE, EXIT_HARNESS = 1, 0, 2, 3


def load(text: str) -> dict[str, Any]:
    """A repro document (check info plus trail) from the script's JSON."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReplayError(f"not a repro document: {exc}") from None
    trail = data.get("trail") if isinstance(data, dict) else None
    if not isinstance(trail, dict) or trail.get("version") != TRAIL_VERSION:
        raise ReplayError(f"not a repro document of version {TRAIL_VERSION}")
    return data


def replay(doc: dict[str, Any], *, cli: str | None = None, profile: str | None = None,
           timeout: float | None = None, out: TextIO = sys.stdout) -> int:
    """Replay one repro document; the exit code as documented above."""
    root = Path(tempfile.mkdtemp(prefix="convox-conformance-replay-"))
    try:
        return _replay_in(root, doc, cli, profile, timeout, out)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _profile_of(doc: dict[str, Any], root: Path) -> str:
    """The recorded profile: its file where it still is, else its recorded text, else the
    shipped profile of that name."""
    path = doc.get("profile_path")
    if path and Path(path).is_file():
        return str(path)
    text = doc.get("profile_toml")
    if isinstance(text, str) and text.strip():
        copy = root / Path(path or "profile.toml").name
        copy.write_text(text, encoding="utf-8")
        return str(copy)
    return str(doc["trail"]["profile"])


def _replay_in(root: Path, doc: dict[str, Any], cli: str | None, profile: str | None,
               timeout: float | None, out: TextIO) -> int:
    from conformance.running.invoke import DEFAULT_TIMEOUT, CliNotRunnable, check_runnable
    from conformance.running.profiles import ProfileError, load_profile
    from fakes.backends.remote import RemoteBackend

    try:
        chosen = load_profile(profile or _profile_of(doc, root))
    except (ProfileError, OSError) as exc:
        raise ReplayError(f"profile: {exc}") from None
    command = cli or doc.get("cli_command")
    if command:
        chosen = chosen.with_command(command)
    try:
        check_runnable(chosen)
    except CliNotRunnable as exc:
        raise ReplayError(f"{exc} (give --cli PATH)") from None
    with serve(doc["trail"]["world"]) as url:
        backend = RemoteBackend(url)
        try:
            world = backend.new_world(doc["trail"]["world"], chosen.rack_api)
            reproduced = Replay(doc, world, backend, chosen, root, out,
                                timeout or doc.get("cli_timeout") or DEFAULT_TIMEOUT).run()
            return EXIT_SAME if reproduced else EXIT_DIFFERENT
        finally:
            backend.stop()


def main(args: Any) -> int:
    """``convox-conformance replay FILE|-``: the exit code as documented above."""
    prefix = "convox-conformance replay: "
    try:
        source = args.trail
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        doc = load(_json_of(text))
        return replay(doc, cli=args.cli, profile=args.profile, timeout=args.cli_timeout)
    except OSError as exc:
        print(f"{prefix}cannot read {args.trail}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ReplayError as exc:
        code = EXIT_HARNESS if str(exc).startswith("serve did not start") else EXIT_USAGE
        print(f"{prefix}{exc}", file=sys.stderr)
        return code


def repro_main(args: Any) -> int:
    """``convox-conformance repro CHECK``: run that check alone, then replay what failed."""
    prefix = "convox-conformance repro: "
    check = args.check.strip()
    select = (["--rule", check] if re.fullmatch(r"[A-Z]+-\d{3}", check)
              else ["--", "-k", check.rpartition("::")[2] or check])
    with tempfile.TemporaryDirectory(prefix="convox-conformance-repro-") as reports:
        command = [sys.executable, "-m", "conformance", "run", "--report-dir", reports,
                   "--network", args.network, "--no-color"]
        if args.cli:
            command += ["--cli", args.cli]
        if args.profile:
            command += ["--profile", args.profile]
        if args.cli_timeout:
            command += ["--cli-timeout", str(args.cli_timeout)]
        done = subprocess.run([*command, *select], check=False)
        results = Path(reports) / "latest" / "results.json"
        if done.returncode in (2, 3) or not results.exists():
            print(f"{prefix}the run of {check} ended with exit {done.returncode}; "
                  "nothing to replay", file=sys.stderr)
            return done.returncode if done.returncode in (2, 3) else EXIT_HARNESS
        checks = json.loads(results.read_text(encoding="utf-8"))["checks"]
        scripts = [c["repro"] for c in checks if c.get("repro")]
        if not checks:
            print(f"{prefix}no check matches {check}", file=sys.stderr)
            return EXIT_USAGE
        unchecked = [c for c in checks if c["outcome"] == "not-checked"]
        if unchecked and not scripts:
            print(f"{prefix}{check} was not checked: {unchecked[0].get('reason') or ''}; "
                  "run it with --network sandbox", file=sys.stderr)
            return EXIT_USAGE
        if not scripts:
            print(f"\n{check}: every check passed or was not applicable; nothing to replay")
            return EXIT_DIFFERENT
        code = EXIT_DIFFERENT
        for script in scripts:
            print()
            doc = load(_json_of((Path(reports) / "latest" / script).read_text("utf-8")))
            try:
                got = replay(doc, cli=args.cli, profile=args.profile, timeout=args.cli_timeout)
            except ReplayError as exc:
                print(f"{prefix}{exc}", file=sys.stderr)
                return EXIT_USAGE
            code = EXIT_SAME if got == EXIT_SAME else code
        return code


def _json_of(text: str) -> str:
    """The JSON document of a repro script (or the text itself, if it is JSON)."""
    for line in text.splitlines():
        if line.startswith("{"):
            return line
    return text



__all__ = ["EXIT_DIFFERENT", "EXIT_HARNESS", "EXIT_SAME", "EXIT_USAGE", "load", "main",
           "replay", "repro_main"]
