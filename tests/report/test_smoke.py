"""`convox-conformance smoke`: profile wiring problems explained in plain words."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conformance.commands.main import main
from conformance.commands.smoke import explain_switch, explain_version
from conformance.running.invoke import Invocation
from conformance.running.profiles import load_profile

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
    from conformance.running.invoke import CliSession

    profile = load_profile("reference")
    session = CliSession(profile, tmp_path)
    session.config_dir.mkdir(parents=True)
    (session.config_dir / profile.layout.selection).write_text("acme/staging\n")
    finding = explain_switch(session, _invocation(0))
    assert not finding.ok
    assert "gives 'acme/staging', expected 'acme/production': check layout.selection" in \
        finding.message


# ------------------------------------------- issue 16, finding 7: the real cause

def test_7_a_ca_env_the_cli_ignores_is_a_trust_problem_not_host_form(tmp_path, capsys):
    profile = variant(tmp_path, 'ca_env = "SSL_CERT_FILE"', 'ca_env = "MY_CLI_CA_BUNDLE"')
    assert main(["smoke", "--profile", profile, "--cli-timeout", "10"]) == 1
    out = capsys.readouterr().out
    assert "but refused its certificate: check [trust] ca_env: the CLI does not seem to read " \
        "MY_CLI_CA_BUNDLE" in out
    assert "host_form" not in out


def test_7_the_whole_stderr_is_shown_not_only_its_first_line(tmp_path, capsys):
    text = variant(tmp_path, 'ca_env = "SSL_CERT_FILE"', 'ca_env = "MY_CLI_CA_BUNDLE"')
    wrapped = Path(text).read_text(encoding="utf-8").replace(
        'command = ["{python}", "-c", "from reference_cli.main import run; run()"]',
        'command = ["sh", "-c", "echo \'warning: this runtime is deprecated\' >&2; '
        'exec \\"$0\\" -m reference_cli \\"$@\\"", "{python}"]')
    Path(text).write_text(wrapped, encoding="utf-8")
    assert main(["smoke", "--profile", text, "--cli-timeout", "10"]) == 1
    out = capsys.readouterr().out
    assert "| warning: this runtime is deprecated" in out
    assert "refused its certificate" in out, "the real error after the warning is read too"
    assert re.search(r"\| .*certificate", out), "and shown"


def test_7_a_selection_in_another_file_names_where_it_landed(tmp_path, capsys):
    profile = variant(tmp_path, 'selection = "rack"', 'selection = "current"')
    assert main(["smoke", "--profile", profile]) == 1
    out = capsys.readouterr().out
    assert ("switch exited 0 but left no selection in ~/.convox/current; the switch wrote "
            "~/.convox/rack: check layout.selection ('current')") in out
    assert "gives None" not in out


def test_7_a_key_changed_on_the_way_is_the_keys_encoding(tmp_path, capsys):
    profile = variant(tmp_path, 'login = ["login", "{host}", "--password", "{key}"]',
                      'login = ["login", "{host}", "--password", "x{key}"]')
    assert main(["smoke", "--profile", profile]) == 1
    out = capsys.readouterr().out
    assert "the fake Console got a key, but not the one the profile passed" in out
    assert "expected user:alice@example.com" in out
    assert "host_form" not in out


def test_7_no_connection_at_all_names_host_form_and_resolve(tmp_path, capsys):
    profile = variant(tmp_path, 'host_form = "127.0.0.1:{port}"',
                      'host_form = "127.0.0.2:{port}"')
    assert main(["smoke", "--profile", profile, "--cli-timeout", "10"]) == 1
    out = capsys.readouterr().out
    assert "no request from the CLI reached the fake Console" in out
    assert "check host_form ('127.0.0.2:{port}'), [trust] resolve_env" in out


# ----------------------------------- issue 10 (f): a version command that needs a login

def test_a_version_command_that_needs_a_login_is_not_a_cli_that_does_not_start():
    needs_login = _invocation(1, err="ERROR: no racks found, try `convox login`\n")
    finding = explain_version(load_profile("convox-rack"), needs_login)
    assert finding.ok and finding.warn
    assert finding.message.startswith("the CLI starts, but its version operation needs a login")
    assert '["--version"]' in finding.message
    dead = explain_version(load_profile("reference"), _invocation(127))
    assert not dead.ok and dead.message.startswith("the CLI does not start")


def test_smoke_warns_but_passes_for_a_version_command_that_needs_a_login(tmp_path, capsys):
    profile = variant(tmp_path, 'version = ["--version"]', 'version = ["needs-login"]')
    shim = tmp_path / "cli.sh"
    shim.write_text('#!/bin/sh\nif [ "$1" = needs-login ]; then\n'
                    '  echo "ERROR: no racks found, try \\`convox login\\`" >&2; exit 1\nfi\n'
                    f'exec {sys.executable} -m reference_cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    assert main(["smoke", "--profile", profile, "--cli", str(shim)]) == 0
    out = capsys.readouterr().out
    assert "warn  start   the CLI starts, but its version operation needs a login" in out
    assert "| ERROR: no racks found" in out


def test_shipped_profiles_ask_for_a_version_without_a_login():
    """v2 (and the stdcli-based v3) answer `version` with an error before a login."""
    for name in ("convox-rack", "convox-v3", "convox-classic"):
        assert load_profile(name).operations["version"].argv == ("--version",), name
