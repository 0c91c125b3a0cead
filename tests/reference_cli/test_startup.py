"""Start-up cost of the reference CLI.

The conformance suite runs it hundreds of times per run, so ``--help`` must not
import the network stack. That check is exact; how long start-up takes is the
benchmark's (``tox -e bench``), since a timed test on a shared machine is noise.
"""

from __future__ import annotations

import subprocess
import sys

from tests.reference_cli.conftest import ROOT, clean_env

HEAVY = ("ssl", "socket", "http.client", "json", "base64", "fcntl", "termios", "typing", "argparse")

PROBE = """
import runpy, sys
sys.argv = ["convox", "--help"]
try:
    runpy.run_module("reference_cli", run_name="__main__")
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


REQUEST_PROBE = """
import sys
from reference_cli import errors, transport
try:  # a request to a closed port: the whole path of a network command, up to connect
    transport.exchange("127.0.0.1:9", "k", "GET", "/auth", None, None, None, {})
except errors.TransportError:
    pass
print("LOADED:" + ",".join(m for m in ("http.client", "email") if m in sys.modules))
"""


def test_a_request_loads_neither_http_client_nor_email() -> None:
    # http.client's import loads the email package: a third of a command's CPU time.
    proc = subprocess.run([sys.executable, "-c", REQUEST_PROBE], env=clean_env(),
                          cwd=str(ROOT), capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "LOADED:", proc.stdout
