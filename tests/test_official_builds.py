"""The official Convox CLI builds, run as a user runs them, give the verdicts we publish.

The builds (classic, v2, v3, built unmodified from their public source) are
not part of the project: ``.ci/run`` unpacks them and names their directory in
``CONVOX_REAL_CLIS``. Where it is unset, as in every user's clone, these tests
say "skipped: no official builds".

Each observed build runs the whole suite in the network sandbox with its
shipped profile and its expectations file under ``--strict-expectations``: the
run passes its gate only if exactly the listed rules fail. Beside that, nothing
may be blocked or end in a harness error, and a rule may be not applicable only
where the build truly lacks the operation.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.suite_support import require_sandbox, run_suite

REPO = Path(__file__).resolve().parents[1]
REAL_CLIS = "CONVOX_REAL_CLIS"


class Build:
    """An official build whose verdicts were observed and written down."""

    def __init__(self, binary: str, profile: str, not_applicable: dict[str, str]) -> None:
        self.binary = binary
        self.profile = profile
        self.expectations = REPO / "docs" / "expectations" / f"{binary}.toml"
        #: Rule -> the missing capability its not-applicable reason must name.
        self.not_applicable = not_applicable


#: The builds observed so far. v2 and v3 join when their pages are verified against them.
OBSERVED = (
    Build("convox-classic-20171228145523", "convox-classic",
          {"LOGOUT-010": "logout", "LOGOUT-011": "logout", "LOGIN-015": "session"}),
)


def build_path(build: Build) -> Path:
    where = os.environ.get(REAL_CLIS)
    if not where:
        pytest.skip(f"skipped: no official builds ({REAL_CLIS} is not set; .ci/run sets it)")
    path = Path(where) / build.binary
    if not path.is_file():
        pytest.fail(f"{REAL_CLIS}={where} has no {build.binary}")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("build", OBSERVED, ids=lambda b: b.binary)
def test_an_official_build_fails_exactly_its_published_rules(build: Build,
                                                            tmp_path: Path) -> None:
    path = build_path(build)
    require_sandbox()
    data = run_suite(tmp_path, "--network", "sandbox", "--cli", str(path),
                     "--profile", build.profile, "--expectations", str(build.expectations),
                     "--strict-expectations")
    checks: list[dict[str, Any]] = data["checks"]
    blocked = {c["id"]: c["reason"] for c in checks if c["outcome"] == "blocked"}
    assert not blocked, f"{build.binary}: blocked checks: {blocked}"
    errors = {c["id"]: c["reason"] for c in checks if c["outcome"] == "error"}
    assert not errors, f"{build.binary}: harness errors: {errors}"
    not_applicable = {rule: c["reason"] for c in checks if c["outcome"] == "not-applicable"
                      for rule in c["rules"]}
    assert set(not_applicable) == set(build.not_applicable), not_applicable
    for rule, need in build.not_applicable.items():
        assert f"needs {need}" in not_applicable[rule], not_applicable[rule]
    assert not [c["id"] for c in checks if c["outcome"] == "not-checked"]
    # The gate: every failure listed, every entry exercised (--strict-expectations).
    assert data["exit_code"] == 0, (data["verdict"]["reasons"], data["verdict"]["warnings"])
    with build.expectations.open("rb") as handle:
        listed = {entry["id"] for entry in tomllib.load(handle)["expected-failure"]}
    failing = {rule for c in checks if c["outcome"] == "expected-fail"
               for rule in (c.get("failed_rules") or c["rules"])}
    assert failing == listed, f"{build.binary}: failing {sorted(failing)}, listed {sorted(listed)}"
