"""One replay script per failed or blocked check: ``<run>/repro/<check>.sh``.

A CLI author who reads "LOGOUT-006 failed" should be able to watch it happen
with one command, under their own debugger, with their own build. Each
script holds its check's trail (what the check did, keys as identities:
conformance.replay.trail) and runs ``convox-conformance replay`` on it, which starts
serve, takes fresh keys from it and repeats the check's steps (see
conformance.replay.player). The scripts are derived from what each check did, so
every check, present or future, gets one without writing anything.

A script needs only the suite and the CLI installed: it can be copied, with
or without the rest of the run directory, to another machine.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.replay.tokens import in_words
from conformance.report.model.outcomes import BLOCKED_OUTCOME, EXPECTED_FAIL, FAILED, NEW_FAILURE
from conformance.report.model.results import CheckResult, RunResult

#: The outcomes worth replaying: what failed (known or not) and what was blocked.
REPLAYED = frozenset({FAILED, NEW_FAILURE, EXPECTED_FAIL, BLOCKED_OUTCOME})
DIRECTORY = "repro"
#: The heredoc's end line; JSON on one line can never be it.
END = "CONVOX_CONFORMANCE_TRAIL"


def script_name(check: CheckResult) -> str:
    """``LOGOUT-006--test_logged_out_cli_sends_no_empty_or_wrong_key.sh``."""
    function = check.id.rpartition("::")[2] or check.id
    # A check of several rules that failed for some is named for the first it failed.
    blamed = check.failed_rules or check.rules
    rule = blamed[0] if blamed else "CHECK"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{rule}--{function}")[:150] + ".sh"


def document(check: CheckResult, trail: dict[str, Any], result: RunResult) -> dict[str, Any]:
    """What a replay needs besides the trail: the check, its outcome, the CLI and profile."""
    profile = result.run.profile or {}
    # The profile as a file that works from any directory, and its text besides: a script
    # copied to another machine, or run after the profile moved, still has it.
    source = profile.get("source") or ""
    file = Path(source).resolve() if source and Path(source).is_file() else None
    return {
        "check": check.id,
        "nodeid": check.nodeid,
        "rules": list(check.rules),
        "outcome": check.outcome,
        "reason": check.reason,
        "run_id": result.run.run_id,
        "cli_command": shlex.join(result.run.cli_command) if result.run.cli_command else None,
        "profile": profile.get("name"),
        "profile_path": str(file) if file else None,
        "profile_toml": file.read_text(encoding="utf-8") if file else None,
        "trail": trail,
    }


#: Steps listed in a script's header; the rest are counted.
MAX_LISTED_STEPS = 40


def _one_line(value: object, width: int = 100) -> str:
    text = " ".join(in_words(str(value)).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def describe_steps(trail: dict[str, Any] | None, program: str = "convox") -> list[str]:
    """The trail's steps as a reader would type or see them, one line each."""
    steps = (trail or {}).get("steps") or []
    several = (trail or {}).get("homes", 1) > 1
    lines = []
    for number, step in enumerate(steps[:MAX_LISTED_STEPS], 1):
        where = f"home {step.get('home')}: " if several and step.get("home") else ""
        if step["kind"] == "run":
            env = " ".join(f"{name}={_one_line(value, 40)}"
                           for name, value in (step.get("env") or {}).items())
            args = " ".join(shlex.quote(in_words(str(a))) for a in step.get("args") or [])
            exit_code = (step.get("outcome") or {}).get("exit")
            line = f"{where}{env + ' ' if env else ''}{program} {args}"
            lines.append(f"{number}. {_one_line(line, 140)}"
                         + (f"  (exit {exit_code})" if exit_code is not None else ""))
        elif step["kind"] == "world":
            call = step.get("call", "")
            args = ", ".join(_one_line(a, 60) for a in step.get("args") or [])
            label = "fault injected" if call == "inject" else "world"
            lines.append(f"{number}. {label}: {call}({args})")
        else:
            lines.append(f"{number}. {where}{step.get('action', step['kind'])} by hand: "
                         f"{step.get('path', '')}")
    if len(steps) > MAX_LISTED_STEPS:
        lines.append(f"... and {len(steps) - MAX_LISTED_STEPS} more steps")
    return lines


def render(doc: dict[str, Any]) -> str:
    """The script: a few lines of bash around the document."""
    reason = (doc.get("reason") or "").splitlines()[0][:200] if doc.get("reason") else ""
    steps = describe_steps(doc.get("trail"))
    header = [
        "#!/usr/bin/env bash",
        f"# Replays {doc['check']} ({', '.join(doc['rules'])}), {doc['outcome']} in run "
        f"{doc['run_id']}:",
        f"#   {reason}" if reason else "#",
        "#",
        *(["# Steps (what the run did, with the exit each command gave):"]
          + [f"#   {line}" for line in steps] + ["#"] if steps else []),
        "# Usage: bash THIS_SCRIPT [--cli PATH] [--profile NAME|FILE] [--cli-timeout SECONDS]",
        "# It starts `convox-conformance serve` with the check's world, takes keys from it,",
        "# repeats the check's steps in fresh homes and says what happened. Exit 1: the",
        "# failure recurred; 0: it did not; 2: the script could not run (no convox-conformance,",
        "# no CLI, a bad profile). It holds no key. Run it from any directory.",
        "set -u",
        "if command -v convox-conformance >/dev/null 2>&1; then",
        "  runner=(convox-conformance)",
        "elif python3 -c 'import conformance' >/dev/null 2>&1; then",
        "  runner=(python3 -m conformance)",
        "else",
        '  echo "repro: cannot run: convox-conformance is not installed'
        ' (pip install convox-conformance, or activate its environment)" >&2',
        "  exit 2",
        "fi",
        f'"${{runner[@]}}" replay - "$@" <<\'{END}\'',
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        END,
        "code=$?",
        'case "$code" in',
        '  0) echo "repro: not reproduced (exit 0)" ;;',
        '  1) echo "repro: reproduced (exit 1)" ;;',
        '  *) echo "repro: could not run (replay exit $code; exit 2)" >&2; code=2 ;;',
        "esac",
        'exit "$code"',
    ]
    return "\n".join(header) + "\n"


def write(result: RunResult, trails: Mapping[str, dict[str, Any]], run_dir: Path
          ) -> dict[str, str]:
    """Write the scripts; check id -> path relative to the run directory.

    Sets each replayed check's ``repro`` so every report can link to it.
    """
    written: dict[str, str] = {}
    for check in result.checks:
        trail = trails.get(check.nodeid)
        if check.outcome not in REPLAYED or not trail or not trail.get("steps"):
            continue
        directory = run_dir / DIRECTORY
        directory.mkdir(exist_ok=True)
        name = script_name(check)
        path = directory / name
        path.write_text(render(document(check, trail, result)), encoding="utf-8")
        path.chmod(0o755)
        check.repro = f"{DIRECTORY}/{name}"
        written[check.id] = check.repro
    return written


__all__ = ["REPLAYED", "document", "render", "script_name", "write"]
