"""What a run's report says about the run: the CLI, its version, the options, the network.

The report header (harness plugin) and ``run`` in results.json (report
session) both show what the CLI's version operation printed, so
:func:`cli_version` lives here, below both.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.network.sandbox import Network, from_environment
from conformance.report.model.results import RunInfo
from conformance.report.model.runinfo import (
    now_iso,
    platform_info,
    seed_info,
    suite_digest,
    suite_version,
    version_text,
)
from conformance.report.pytest_wiring.stash_keys import PROFILE_KEY
from conformance.report.writers.run_dirs import new_run_id
from conformance.running.invoke import CliNotRunnable, CliSession

if TYPE_CHECKING:
    from conformance.running.profiles import Profile


def cli_version(profile: Profile) -> str | None:
    """What the CLI's version operation printed, run in a throwaway isolated home."""
    if not profile.has("version"):
        return None
    with tempfile.TemporaryDirectory(prefix="convox-version-") as root:
        session = CliSession(profile, Path(root), timeout=10)
        try:
            result = session.run("version")
        except AssertionError:  # CliTimeout: what it printed before it was killed still counts
            if not session.invocations:
                return "(version timed out)"
            result = session.invocations[-1]
        except (CliNotRunnable, OSError) as exc:
            return f"(version failed: {exc})"
    return version_text(result.stdout, result.stderr, result.exit_code, result.timed_out)


def run_info(config: pytest.Config, started: str, clock: float) -> RunInfo:
    """The run's facts for results.json: ``started`` (ISO) and ``clock`` (monotonic) are
    when the session began."""
    profile = config.stash.get(PROFILE_KEY, None)
    name = profile.name if profile is not None else "unknown"
    command = profile.command_argv() if profile is not None else []
    version = cli_version(profile) if profile is not None else None
    try:
        digest_info = suite_digest()
    except Exception as exc:  # a digest is informative, never worth losing a run over
        digest_info = {"algorithm": "sha256", "specs": "", "checks": "", "combined": "",
                       "error": str(exc)}
    options = {
        "rules": list(config.getoption("rule", None) or []),
        "checks": list(config.getoption("check", None) or []),
        "expectations": config.getoption("expectations"),
        "baseline": config.getoption("baseline"),
        "new_checks": config.getoption("new_checks"),
        "fail_on": config.getoption("fail_on"),
        "strict_expectations": config.getoption("strict_expectations"),
        "verify": config.getoption("verify"),
        "backend": config.getoption("backend", None),
        "cli_timeout": config.getoption("cli_timeout", None),
        "workers": getattr(config.option, "numprocesses", None),
        "network": network_info(from_environment()),
    }
    return RunInfo(
        run_id=new_run_id(name),
        suite_version=suite_version(),
        digest=digest_info,
        cli_command=command,
        profile={"name": name, "source": profile.source if profile is not None else ""},
        cli_version=version,
        platform=platform_info(),
        started=started,
        finished=now_iso(),
        duration=round(time.monotonic() - clock, 3),
        seed=seed_info(config),
        options=options,
    )


def network_info(network: Network) -> dict[str, Any]:
    """The run's network for ``run.options``: where the CLI's traffic could go, and why."""
    return {"mode": network.mode, "why": network.why, "fix": network.fix,
            "chosen": network.chosen}
