"""Running a shadowing driver in a fresh Python, for the tests of tests/mutants/shadow.py.

``shadow.install()`` changes its process for good (an audit hook, ``gc.freeze``,
dispatchers in the reference CLI's modules), so each case runs a small driver in a
fresh Python: it declares ad-hoc mutants, installs them, calls reference CLI
functions through their module attributes, and prints, as its last line, what
the shadow recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

PRELUDE = """\
import json
import os
import sys

from reference_cli import errors, files, hosts, output, transport
from tests.mutants import Mutant, shadow

HOME = os.environ["HOME"]
RESULTS = {}


def mutant(name, apply):
    return Mutant(name=name, rule="LOGIN-001", description=f"test mutant {name}", apply=apply)


def install(*mutants):
    shadow.install({m.name: m for m in mutants})


def reached():
    return dict(shadow.STATE.reached)
"""

EPILOGUE = """
print(json.dumps({"reached": shadow.STATE.reached,
                  "unshadowable": shadow.STATE.unshadowable,
                  "results": RESULTS}))
"""


class Run:
    """What one driver printed: its own lines, and the shadow's verdicts."""

    def __init__(self, lines: list[str], last: dict[str, Any], stderr: str) -> None:
        self.lines = lines
        self.reached: dict[str, str] = last["reached"]
        self.unshadowable: dict[str, str] = last["unshadowable"]
        self.results: dict[str, Any] = last["results"]
        self.stderr = stderr


def drive(tmp_path: Path, body: str) -> Run:
    """Run ``body`` (Python, indented as written) after PRELUDE in a fresh process, HOME in
    ``tmp_path``; what it printed and what the shadow recorded."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CONVOX_") and k not in ("XDG_CONFIG_HOME", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    code = PRELUDE + textwrap.dedent(body) + EPILOGUE
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    return Run(lines[:-1], json.loads(lines[-1]), proc.stderr)
