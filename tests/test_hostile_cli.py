"""The harness against hostile CLIs: floods, leftover helpers, planted links and FIFOs.

Each CLI here is a small shell wrapper around the reference CLI that
misbehaves in one way; a one-rule run (``--rule PROXY-002``) must still give
the reference CLI's verdict, stay within fixed bounds of memory and report
size, and record what the CLI did, without anything from outside its home.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.report.writers.json_report import schema
from tests.suite_support import ROOT, environment

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss and /proc: Linux")

RULE = "PROXY-002"
#: Only the proxy check of the rule: the model check (also PROXY-002) runs hundreds of
#: invocations, which would make each run slow without making it more telling.
ONLY = "test_proxied_commands_show_the_selected_racks_answer"
#: Large enough that keeping it (let alone copying it into reports) breaks the bounds.
FLOOD_BYTES = 120 * 1024 * 1024
MAX_HARNESS_RSS_KIB = 300 * 1024
MAX_REPORT_BYTES = 20 * 1024 * 1024
MARKER = "MARKER-7f3a9c1e-this-lies-outside-the-home"

#: Runs the command and writes the harness's peak RSS in KiB. The harness runs in this
#: process, or in the network sandbox in a child of it: the larger of this process's
#: peak (VmHWM) and the largest child's. Not this process's ``ru_maxrss``: Linux carries
#: a parent's peak across fork and exec into it, so it would count the pytest worker
#: that started this (a worker past 300 MiB failed the bound with a 66 MiB harness).
DRIVER = """\
import resource, sys
from conformance.commands.main import main
code = main(sys.argv[2:])
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    out.write(str(max(own, children)))
sys.exit(code)
"""

REFERENCE = f"{sys.executable} -m reference_cli"

WRAPPERS = {
    # apps prints the reference CLI's answer, then FLOOD_BYTES of "y".
    "flood": f"""\
if [ "$1" = apps ]; then
  {REFERENCE} "$@"; code=$?
  head -c {FLOOD_BYTES} /dev/zero | tr '\\0' 'y'
  exit $code
fi
exec {REFERENCE} "$@"
""",
    # A helper that outlives every invocation and holds its stdout and stderr.
    "leftover": f"""\
{sys.executable} -c "import time; time.sleep(300)" leftover-helper &
exec {REFERENCE} "$@"
""",
    # After logging in, links a file outside the home into the config directory.
    "symlink": f"""\
{REFERENCE} "$@"; code=$?
if [ "$1" = login ] && [ $code = 0 ]; then ln -s "$MARKER_FILE" "$CONVOX_CONFIG/leak"; fi
exit $code
""",
    # After logging in, leaves a FIFO in the config directory: opening it would block.
    "fifo": f"""\
{REFERENCE} "$@"; code=$?
if [ "$1" = login ] && [ $code = 0 ]; then mkfifo "$CONVOX_CONFIG/pipe"; fi
exit $code
""",
}


def hostile_run(tmp_path: Path, kind: str, *options: str) -> tuple[dict[str, Any], Path, int]:
    """A one-rule run against the ``kind`` wrapper: (results.json, report dir, peak RSS KiB)."""
    marker = tmp_path / "outside" / "marker.txt"
    marker.parent.mkdir()
    marker.write_text(MARKER + "\n")
    cli = tmp_path / f"{kind}.sh"
    # The marker's path is baked in: the harness passes no MARKER_FILE through.
    cli.write_text("#!/bin/sh\n" + WRAPPERS[kind].replace("$MARKER_FILE", str(marker)))
    cli.chmod(0o755)
    report_dir = tmp_path / "reports"
    rss_file = tmp_path / "rss"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(rss_file), "run", "--cli", str(cli), "--rule", RULE,
         "--report-dir", str(report_dir), "--no-color", *options,
         "--", "-p", "no:randomly", "-k", ONLY],
        capture_output=True, text=True, cwd=ROOT, env=environment(), timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((report_dir / "latest" / "results.json").read_text())
    jsonschema.Draft202012Validator(schema()).validate(results)
    return results, report_dir, int(rss_file.read_text())


def invocations(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [inv for check in results["checks"] for inv in check["evidence"]["invocations"]]


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a killed process may linger as a zombie until reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def report_files(report_dir: Path) -> list[Path]:
    return [Path(d, name) for d, _, names in os.walk(report_dir) for name in names
            if not Path(d, name).is_symlink()]


def test_a_flood_keeps_memory_and_reports_bounded(tmp_path: Path) -> None:
    results, report_dir, rss_kib = hostile_run(tmp_path, "flood")
    assert [c["outcome"] for c in results["checks"]] == ["passed"]
    apps = [inv for inv in invocations(results) if inv["operation"] == "apps"]
    assert apps and all(inv["stdout_dropped"] > FLOOD_BYTES - 2 * 1024 * 1024 for inv in apps)
    assert "bytes of output dropped" in apps[0]["stdout"]
    assert rss_kib < MAX_HARNESS_RSS_KIB, f"harness peak RSS {rss_kib} KiB"
    size = sum(path.stat().st_size for path in report_files(report_dir))
    assert size < MAX_REPORT_BYTES, f"reports take {size} bytes"


def test_a_leftover_helper_neither_fails_the_check_nor_survives(tmp_path: Path) -> None:
    results, _, _ = hostile_run(tmp_path, "leftover")
    assert [c["outcome"] for c in results["checks"]] == ["passed"]
    seen = invocations(results)
    assert seen and not any(inv["timed_out"] for inv in seen)
    assert all(inv["exit_code"] == 0 for inv in seen)
    for inv in seen:
        helpers = [line for line in inv["leftovers"] if "leftover-helper" in line]
        assert helpers, f"{inv['operation']}: leftovers not recorded: {inv['leftovers']}"
        assert not running(int(helpers[0].split()[1].rstrip(":"))), helpers[0]


def test_a_planted_symlink_is_recorded_and_never_followed(tmp_path: Path) -> None:
    results, report_dir, _ = hostile_run(tmp_path, "symlink")
    assert [c["outcome"] for c in results["checks"]] == ["passed"]
    added = [change for inv in invocations(results) for change in inv["files"]
             if change["path"].endswith("leak")]
    assert added and added[0]["after"]["kind"] == "symlink"
    assert added[0]["after"]["target"] == str(tmp_path / "outside" / "marker.txt")
    files = report_files(report_dir)
    assert {p.name for p in files} >= {"results.json", "junit.xml", "report.html", "summary.md"}
    for path in files:
        assert MARKER.encode() not in path.read_bytes(), f"{path.name} holds the marker"


def test_a_fifo_in_the_config_dir_is_recorded_and_not_opened(tmp_path: Path) -> None:
    results, _, _ = hostile_run(tmp_path, "fifo")
    assert [c["outcome"] for c in results["checks"]] == ["passed"]
    kinds = [change["after"]["kind"] for inv in invocations(results) for change in inv["files"]
             if change["path"].endswith("pipe") and change["after"]]
    assert kinds == ["fifo"]


def test_max_output_is_passed_to_the_checks(tmp_path: Path) -> None:
    results, _, _ = hostile_run(tmp_path, "flood", "--max-output", "4K")
    apps = [inv for inv in invocations(results) if inv["operation"] == "apps"]
    # 4 KiB kept of the flood: every other byte of it was dropped.
    assert apps and apps[0]["stdout_dropped"] > FLOOD_BYTES - 4096
    assert [c["outcome"] for c in results["checks"]] == ["passed"]


def test_a_bad_max_output_is_a_one_line_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--max-output", "lots"],
        capture_output=True, text=True, cwd=ROOT, env=environment(), timeout=60, check=False,
    )
    assert done.returncode == 2
    assert "--max-output" in done.stderr and "not a size" in done.stderr
    assert "Traceback" not in done.stderr
