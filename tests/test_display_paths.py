"""An installed suite names its check modules from the checks package down, never site-packages.

The suite is copied into a ``.../lib/python3.11/site-packages`` directory under
``tmp_path`` (as tox installs it) and ``convox-conformance run`` is started
from ``tmp_path`` with its output piped, as in a CI log. pytest alone would
print ``venv/lib/python3.11/site-packages/conformance/checks/test_login.py``
on every progress line and the absolute install path in its header.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def install_copy(site: Path) -> None:
    """The suite as a wheel lays it out: the three packages, specs/ as conformance/_specs."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "conformance", site / "conformance", ignore=ignore)
    shutil.copytree(REPO / "fakes", site / "fakes", ignore=ignore)
    shutil.copytree(REPO / "reference_cli", site / "reference_cli", ignore=ignore)
    shutil.copytree(REPO / "specs", site / "conformance" / "_specs", ignore=ignore)


def test_a_piped_run_of_the_installed_suite_names_check_modules_relative(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    install_copy(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import conformance.checks as c; print(c.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, check=True, env=env,
    )
    assert where.stdout.startswith(str(site)), where.stdout  # the copy runs, not the checkout
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--rule", "LOGIN-001",
         "--report-dir", str(tmp_path / "reports"),
         "--", "-p", "no:xdist", "-k", "test_login_records_the_target_host"],
        capture_output=True, text=True, cwd=tmp_path, check=False, env=env,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "site-packages" not in output, output
    assert str(site) not in output, output
    lines = output.splitlines()
    assert any(line.startswith("test_login.py .") for line in lines), output
    assert "rootdir: conformance/checks" in lines, output
