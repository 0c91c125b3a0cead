"""Start-up cost of the reference CLI.

The conformance suite runs it hundreds of times per run, so ``--help`` must not
import the network stack.  The import check is exact; the timing check compares
with a bare interpreter so a busy machine does not make it flaky.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from tests.reference_cli.conftest import ROOT, clean_env

HEAVY = ("ssl", "socket", "http.client", "json", "base64", "fcntl", "termios", "typing", "argparse")

PROBE = """
import runpy, sys
sys.argv = ["convox", "--help"]
try:
    runpy.run_module("fakes.reference_cli", run_name="__main__")
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("LOADED:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_help_imports_no_heavy_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        env=clean_env(),
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: convox" in proc.stdout
    loaded = proc.stdout.strip().splitlines()[-1]
    assert loaded == "LOADED:", f"--help imported {loaded}"


def median_ms(argv: list[str], runs: int = 20) -> float:
    env = clean_env()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def test_help_starts_fast() -> None:
    cli = median_ms([sys.executable, "-m", "fakes.reference_cli", "--help"])
    bare = median_ms([sys.executable, "-c", "pass"])
    print(f"--help median {cli:.1f} ms (bare interpreter {bare:.1f} ms)")
    assert cli - bare < 40, (cli, bare)
