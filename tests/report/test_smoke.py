"""`convox-conformance smoke`: profile wiring problems explained in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.profiles import load_profile
from conformance.report.smoke import explain_switch, explain_version
from conformance.runner import Invocation

REFERENCE = Path(__file__).resolve().parents[2] / "conformance" / "profiles" / "reference.toml"


def variant(tmp_path: Path, old: str, new: str) -> str:
    text = REFERENCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def test_reference_profile_is_wired_right(capsys):
    assert main(["smoke"]) == 0
    out = capsys.readouterr().out
    assert "ok    start   the CLI starts:" in out
    assert "ok    auth    the key landed in ~/.convox/auth under 127.0.0.1:" in out
    assert "ok    switch  the selection acme/production is in ~/.convox/rack" in out


def test_auth_in_another_directory_names_config_dir(tmp_path, capsys):
    profile = variant(tmp_path, 'CONVOX_CONFIG = "{config_dir}"',
                      'CONVOX_CONFIG = "{home}/.elsewhere"')
    assert main(["smoke", "--profile", profile]) == 1
    out = capsys.readouterr().out
    assert "login exited 0 but no auth file appeared in ~/.convox: check layout.config_dir" in out
    assert "try config_dir = '.elsewhere'" in out


def test_wrong_host_form_is_explained(tmp_path, capsys):
    profile = variant(tmp_path, 'host_form = "127.0.0.1:{port}"',
                      'host_form = "127.0.0.2:{port}"')
    assert main(["smoke", "--profile", profile, "--cli-timeout", "10"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  login" in out and "check host_form" in out


def test_missing_cli_is_a_usage_error(capsys):
    assert main(["smoke", "--cli", "/nonexistent/convox"]) == 2
    assert "CLI not found" in capsys.readouterr().err


def _invocation(code: int | None, out: str = "", err: str = "", timed_out: bool = False
                ) -> Invocation:
    return Invocation("version", ["convox", "--version"], code, out, err, 0.1, timed_out)


@pytest.mark.parametrize(("invocation", "words"), [
    (_invocation(0, "convox 3.1\n"), "the CLI starts: convox 3.1"),
    (_invocation(2, err="unknown flag --version\n"), 'exited 2 for its version operation: '
                                                      '"unknown flag --version"'),
    (_invocation(None, timed_out=True), "did not finish in time"),
])
def test_version_explanations(invocation, words):
    finding = explain_version(load_profile("reference"), invocation)
    assert words in finding.message
    assert finding.ok is (invocation.exit_code == 0)


def test_switch_explanation_names_the_selection_format(tmp_path):
    from conformance.runner import CliSession

    profile = load_profile("reference")
    session = CliSession(profile, tmp_path)
    session.config_dir.mkdir(parents=True)
    (session.config_dir / profile.layout.selection).write_text("acme/staging\n")
    finding = explain_switch(session, _invocation(0))
    assert not finding.ok
    assert "gives 'acme/staging', expected 'acme/production': check layout.selection" in \
        finding.message
