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

# main(), not the entry points: they end the process without returning (main.exit_now).
PROBE = """
import sys
from reference_cli import main
assert main.main(["--help"]) == 0
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
    transport.exchange("127.0.0.1:9", "k", "GET", "/auth", None, None, None, {{}})
except errors.TransportError:
    pass
print("LOADED:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""
#: What a request does without: http.client loads the email package (a third of a
#: command's CPU); ssl and socket turn hundreds of constants into enums (a fifth).
REQUEST_HEAVY = ("http.client", "email", "ssl", "socket", "selectors", "ipaddress", "base64")


def test_a_request_loads_no_heavy_module() -> None:
    proc = subprocess.run([sys.executable, "-c", REQUEST_PROBE.format(heavy=REQUEST_HEAVY)],
                          env=clean_env(), cwd=str(ROOT), capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip().splitlines()[-1] == "LOADED:", proc.stdout


def test_the_entry_point_flushes_its_output_and_keeps_the_status() -> None:
    # The entry point ends the process without the interpreter's teardown: what was
    # printed must still arrive whole, and a failing command keep its status.
    command = [sys.executable, "-m", "reference_cli"]
    shown = subprocess.run([*command, "--help"], env=clean_env(), cwd=str(ROOT),
                           capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.rstrip().endswith(")"), shown
    assert shown.stdout.count("usage: convox") == 1
    failed = subprocess.run([*command, "no-such-command"], env=clean_env(), cwd=str(ROOT),
                            capture_output=True, text=True)
    assert failed.returncode == 1
    assert failed.stderr.startswith("ERROR: unknown command"), failed.stderr


def test_output_left_for_a_reader_gone_ends_with_the_interpreters_status() -> None:
    # Python exits 120 when it cannot flush stdout at exit; the fast exit says the same,
    # without the interpreter's "Exception ignored" lines. Buffered, as under the suite.
    env = {k: v for k, v in clean_env().items() if k != "PYTHONUNBUFFERED"}
    probe = "import sys\nfrom reference_cli import main\nsys.stdout.write('x')\nmain.exit_now(0)"
    process = subprocess.Popen([sys.executable, "-c", probe], env=env, cwd=str(ROOT),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    error = process.stderr.read()
    assert process.wait(timeout=60) == 120
    assert error == b""
