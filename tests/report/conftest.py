"""Fixtures for the report tests: pytester runs of tiny synthetic check modules.

The synthetic checks use ``@pytest.mark.spec`` and ``pytest.skip("not
applicable: ...")`` like the real ones, so every outcome can be produced in a
fraction of a second without the fakes; a generated conftest hands the
report plugin a small rule table (``RULES_KEY``) instead of the real
catalogue, so these tests do not move when the catalogue grows.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.report.writers.run_dirs import resolve_run_dir


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load pytester for these tests only.

    ``pytest_plugins = ["pytester"]`` is refused in a conftest below the
    top level when the whole suite runs (``pytest tests``), so the plugin is
    registered here instead; its two options get their defaults first, since
    options can no longer be parsed once this conftest is found.
    """
    if config.pluginmanager.has_plugin("pytester"):
        return
    for name, default in (("runpytest", "inprocess"), ("lsof", False)):
        if not hasattr(config.option, name):
            setattr(config.option, name, default)
    config.pluginmanager.import_plugin("pytester")

SYNTHETIC_CONFTEST = '''
import pytest
from conformance.report.model.results import Citation, RuleInfo
from conformance.report.pytest_wiring.stash_keys import RULES_KEY

def _rule(ident, level, area, title, quote):
    return RuleInfo(ident, title, level, area, (Citation("faq", quote),
                    Citation("docs", "A documented fact.", "DOCS-x-1", "https://example.invalid/")))

RULES = [
    _rule("ALPHA-001", "MUST", "ALPHA", "Login records the host", "Login stores the host."),
    _rule("ALPHA-002", "MUST", "ALPHA", "Login stores the key", "Login stores the key."),
    _rule("ALPHA-003", "SHOULD", "ALPHA", "Logout exists", "You can log out."),
    _rule("BETA-001", "MUST", "BETA", "Switch is quick", "Switching is instant."),
    _rule("BETA-002", "MUST", "BETA", "Switch records", "Switch stores the rack."),
    _rule("BETA-003", "MUST", "BETA", "Switch survives", "Switch keeps keys."),
    _rule("GAMMA-001", "MUST", "GAMMA", "Never checked", "Nobody checks this."),
]

def pytest_configure(config):
    config.stash[RULES_KEY] = (RULES, {"ALPHA": "Alpha things", "BETA": "Beta things",
                                        "GAMMA": "Gamma things"})
'''
SYNTHETIC_RULE_COUNT = 7

EVIDENCE = {
    "invocations": [{
        "operation": "login", "argv": ["convox", "login", "127.0.0.1:1", "--password",
                                       "<user:alice@example.com#1>"],
        "exit_code": 0, "timed_out": False, "duration": 0.1, "stdout": "Authenticating: OK\n",
        "stderr": "", "echo_off": None,
        "files": [{"path": ".convox/host", "change": "added", "before": None,
                   "after": {"mode": "0o600", "content": "127.0.0.1:1\n"}}],
    }],
    "journal": [{"seq": 1, "request_id": "r1", "server": "console", "address": "127.0.0.1:1",
                 "host_header": "127.0.0.1:1", "hop": "cli", "method": "GET", "path": "/auth",
                 "query": "", "key_identity": "user:alice@example.com#1", "rack_header": None,
                 "status": 200}],
}

#: One check per raw outcome (expectations, baselines and --verify make the rest).
OUTCOMES_MODULE = f'''
import pytest
from conformance.running.invoke import CliTimeout

EVIDENCE = {EVIDENCE!r}

@pytest.fixture
def evidence(request):
    yield
    request.node.user_properties.append(("conformance.evidence", EVIDENCE))

@pytest.fixture
def broken_fakes():
    raise RuntimeError("the fakes failed to start")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("world did not close")

@pytest.mark.spec("ALPHA-001")
def test_pass(evidence):
    pass

@pytest.mark.spec("ALPHA-002")
def test_fail(evidence):
    assert 1 == 2, "expected success:\\n$ convox login 127.0.0.1:1 -> exit 1"

@pytest.mark.spec("ALPHA-003")
def test_not_applicable():
    pytest.skip("not applicable: profile plain has no logout")

@pytest.mark.spec("BETA-001")
def test_hang():
    raise CliTimeout("CLI timed out after 1s and was killed: convox racks")

@pytest.mark.spec("BETA-002")
def test_harness_error():
    raise KeyError("no such world file")

@pytest.mark.spec("BETA-003")
def test_setup_error(broken_fakes):
    pass

@pytest.mark.spec("BETA-003")
def test_teardown_error(broken_teardown):
    pass
'''

PASSING_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_one():
    pass

@pytest.mark.spec("ALPHA-002")
def test_two():
    pass

@pytest.mark.spec("ALPHA-003")
def test_three():
    pytest.skip("not applicable: no logout")
'''


def module(text: str) -> str:
    return textwrap.dedent(text)


@dataclass
class Run:
    """One pytester run and the reports it wrote."""

    outcome: Any  # pytest.RunResult
    report_dir: Path

    @property
    def ret(self) -> int:
        return int(self.outcome.ret)

    @property
    def run_dir(self) -> Path:
        return resolve_run_dir(self.report_dir / "latest")

    @property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.run_dir / "results.json").read_text("utf-8"))
        return loaded

    def check(self, name: str) -> dict[str, Any]:
        for check in self.data["checks"]:
            if check["id"].split("::")[-1] == name:
                found: dict[str, Any] = check
                return found
        raise KeyError(name)

    def outcomes(self) -> dict[str, str]:
        return {c["id"].split("::")[-1]: c["outcome"] for c in self.data["checks"]}

    def text(self) -> str:
        return "\n".join(self.outcome.outlines + self.outcome.errlines)


@pytest.fixture
def run_checks(pytester: pytest.Pytester):
    """Write modules (name -> source) and run pytest on them with the report plugin."""
    pytester.makeconftest(SYNTHETIC_CONFTEST)
    counter = {"n": 0}

    def run(modules: dict[str, str], *args: str, subprocess: bool = False,
            synthetic_rules: bool = True, report_dir: str = "reports") -> Run:
        if not synthetic_rules:
            (pytester.path / "conftest.py").write_text("", encoding="utf-8")
        for name, source in modules.items():
            pytester.makepyfile(**{name: module(source)})
        counter["n"] += 1
        argv = ["-p", "no:cacheprovider", "--report-dir", report_dir, *args]
        runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest
        outcome = runner(*argv)
        return Run(outcome, pytester.path / report_dir)

    return run


def require_chromium() -> str:
    """Debian's chromium; missing is a skip, except under CI=true where it must run."""
    from tests.report.browser import find_chromium

    found = find_chromium()
    if found is None:
        reason = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}: the browser tests must run in CI")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """One headless Chromium per test module (tests.report.browser.Browser)."""
    from tests.report.browser import Browser

    with Browser(chromium) as opened:
        yield opened


@pytest.fixture
def matrix_dir(run_checks: Any, pytester: pytest.Pytester) -> Path:
    """``convox-conformance matrix`` of a passing run and a run of every outcome."""
    from conformance.commands.main import main

    good = run_checks({"test_a": PASSING_MODULE}, report_dir="good")
    (pytester.path / "test_a.py").unlink()
    mixed = run_checks({"test_b": OUTCOMES_MODULE}, report_dir="mixed")
    out = pytester.path / "matrix"
    assert main(["matrix", "--run", f"good={good.run_dir}", "--run", f"mixed={mixed.run_dir}",
                 "--output", str(out)]) == 0
    return out
