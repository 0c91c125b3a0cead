"""The official Convox CLI builds, run as a user runs them, give the verdicts we publish.

The builds (classic, v2, v3, built unmodified from their public source) are
not part of the project: ``.ci/run`` unpacks them and names their directory in
``CONVOX_REAL_CLIS``. Where it is unset, as in every user's clone, these tests
say "skipped: no official builds".

Each build runs the whole suite in the network sandbox with its shipped profile
and its expectations file under ``--strict-expectations``: the run passes its
gate only if exactly the listed rules fail. Beside that:

- every rule's verdict is the one the build's page publishes
  (``docs/official-cli-results/``), and ``convox-conformance publish`` renders
  the same verdicts from the run;
- a check may be blocked only by a rule whose failure is a capability the build
  truly lacks (``lacks`` in the builds file), never by anything else;
- nothing ends in a harness error, and a rule is not applicable only where the
  build has no such operation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.report.writers.publish import Build, page_verdicts
from tests.official import BUILDS_FILE, builds, differences, published, run_verdicts
from tests.suite_support import require_sandbox, run_suite

REAL_CLIS = "CONVOX_REAL_CLIS"
#: Rule -> the operation each build lacks that makes it not applicable.
NOT_APPLICABLE = {"LOGOUT-010": "logout", "LOGOUT-011": "logout"}
CLASSIC_NOT_APPLICABLE = {**NOT_APPLICABLE, "LOGIN-015": "session"}
MISSING = {
    "convox-classic-20171228145523": CLASSIC_NOT_APPLICABLE,
    "convox-rack-20260421192651": NOT_APPLICABLE,
    "convox-v3-3.24.9": NOT_APPLICABLE,
}


def build_path(build: Build) -> Path:
    where = os.environ.get(REAL_CLIS)
    if not where:
        pytest.skip(f"skipped: no official builds ({REAL_CLIS} is not set; .ci/run sets it)")
    path = Path(where) / build.name
    if not path.is_file():
        pytest.fail(f"{REAL_CLIS}={where} has no {build.name}")
    return path


def test_every_published_build_is_checked_here() -> None:
    assert set(MISSING) == set(builds())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(builds()))
def test_an_official_build_gets_exactly_its_published_verdicts(name: str,
                                                             tmp_path: Path) -> None:
    build = builds()[name]
    path = build_path(build)
    require_sandbox()
    assert build.expectations is not None
    data = run_suite(tmp_path, "--network", "sandbox", "--cli", str(path),
                     "--profile", build.profile, "--expectations", str(build.expectations),
                     "--strict-expectations")
    checks: list[dict[str, Any]] = data["checks"]
    errors = {c["id"]: c["reason"] for c in checks if c["outcome"] == "error"}
    assert not errors, f"{name}: harness errors: {errors}"
    strays = {c["id"]: c.get("blocked_by") for c in checks
              if c["outcome"] == "blocked" and c.get("blocked_by") not in build.lacks}
    assert not strays, f"{name}: blocked by what the build does not lack: {strays}"
    not_applicable = {rule: c["reason"] for c in checks if c["outcome"] == "not-applicable"
                      for rule in c["rules"]}
    assert set(not_applicable) == set(MISSING[name]), not_applicable
    for rule, need in MISSING[name].items():
        assert f"needs {need}" in not_applicable[rule], not_applicable[rule]
    # The gate: every failure listed, every entry exercised (--strict-expectations).
    assert data["exit_code"] == 0, (data["verdict"]["reasons"], data["verdict"]["warnings"])
    unlike = differences(published(name), run_verdicts(data))
    assert not unlike, (f"{name} no longer gets its published verdicts (publish the pages "
                        "again, see builds.toml): " + "; ".join(unlike))
    # The page a publish renders from this very run says the same.
    out = tmp_path / "pages"
    run_dir = tmp_path / "latest"
    # Every build needs a run; the others borrow this one (only this page is read).
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "publish", "--builds", str(BUILDS_FILE),
         *[f"--run={each}={run_dir}" for each in builds()], "--output", str(out)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rendered = page_verdicts((out / build.page).read_text(encoding="utf-8"))
    assert not differences(published(name), rendered)


#: What smoke may rightly warn about a build (the rest must be "ok").
SMOKE_WARNINGS = {
    # `--version` prints "client: TAG", then asks the rack and fails without a login.
    "convox-classic-20171228145523": ("start",),
}


@pytest.mark.parametrize("name", sorted(builds()))
def test_smoke_says_each_shipped_profile_is_wired_right_for_its_build(name: str) -> None:
    build = builds()[name]
    path = build_path(build)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "smoke", "--cli", str(path),
         "--profile", build.profile],
        capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [line.split()[:2] for line in done.stdout.splitlines()
             if line.split()[:1] in (["ok"], ["warn"], ["FAIL"], ["fail"])]
    assert [step for word, step in steps if word == "ok"], done.stdout
    warned = tuple(step for word, step in steps if word != "ok")
    assert warned == SMOKE_WARNINGS.get(name, ()), done.stdout
    assert "the profile is wired right" in done.stdout
