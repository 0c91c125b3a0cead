"""The reports of a real run: the fakes, the reference CLI, the plugin's evidence.

Two checks drive the bundled reference CLI through the ``convox`` fixture,
one of them leaking a key into its failure message and output on purpose.
The run goes through pytest-xdist, so evidence and redaction are proven on
the path where only report data reaches the process writing the reports.
"""

from __future__ import annotations

import pytest

from tests.report.test_redaction import leaks

E2E_MODULE = '''
from pathlib import Path
import pytest

def keep(convox, name):
    Path(__file__).with_name(f"secrets-{name}.txt").write_text(
        "\\n".join([*convox.world.secrets(), *convox.cli.secrets]))

@pytest.mark.spec("ALPHA-001")
def test_login_then_leak(convox):
    convox.login_console("alice@example.com")
    key = convox.user_key("alice@example.com")
    keep(convox, "leak")
    print("the key is", key)
    assert convox.state.keys() == {}, f"auth holds {key}"

@pytest.mark.spec("ALPHA-002")
def test_rack_login(convox):
    convox.login_rack("acme/production")
    keep(convox, "rack")
'''


def test_real_run_has_evidence_and_no_keys(run_checks, pytester):
    pytest.importorskip("xdist")
    run = run_checks({"test_e2e": E2E_MODULE}, "-p", "xdist", "-n", "2", subprocess=True)
    assert run.outcomes() == {"test_login_then_leak": "failed", "test_rack_login": "passed"}, \
        run.text()
    keys = sorted({line for path in pytester.path.glob("secrets-*.txt")
                   for line in path.read_text().splitlines() if line})
    assert len(keys) >= 3
    assert leaks(pytester.path / "reports", keys) == []
    assert not [k for k in keys if k in run.text()]
    evidence = run.check("test_login_then_leak")["evidence"]
    login = evidence["invocations"][0]
    assert login["operation"] == "login" and login["exit_code"] == 0
    assert any(change["path"].endswith("auth") for change in login["files"])
    assert any(entry["key_identity"] == "user:alice@example.com#1"
               for entry in evidence["journal"])
    assert "<redacted>" in run.check("test_login_then_leak")["details"]
    rack = run.check("test_rack_login")["evidence"]
    assert any(str(entry["key_identity"]).startswith("rack:acme/production")
               for entry in rack["journal"])
