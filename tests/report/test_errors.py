"""Issue 16, finding 8: every mistake in a profile, and one prefix for every one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.commands.main import main
from conformance.running.profiles import ProfileError, load_profile

REFERENCE = Path(__file__).resolve().parents[2] / "conformance" / "profiles" / "reference.toml"
PREFIX = "convox-conformance: "


def broken_profile(tmp_path: Path) -> Path:
    """The reference profile with four mistakes in three tables."""
    text = REFERENCE.read_text(encoding="utf-8")
    for old, new in (('host_form = "127.0.0.1:{port}"', 'host_form = "127.0.0.1"'),
                     ('selection = "rack"', 'selection = "rack"\nconfig = "x"'),
                     ('login = ["login", "{host}", "--password", "{key}"]',
                      'login = ["login", "{host}"]'),
                     ('logout = ["logout"]', 'logout = ["logout", "{rack}"]')):
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_mistake_in_a_profile_is_reported(tmp_path):
    path = broken_profile(tmp_path)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"profile {path}: ")
    for part in ("host_form: must contain {port}",
                 "layout.config: unknown field",
                 "operations.login: never uses {key}",
                 "operations.logout[1]: unknown placeholder {rack}"):
        assert part in message, part


def test_missing_required_fields_are_all_named(tmp_path):
    path = tmp_path / "thin.toml"
    path.write_text('name = "thin"\ncommand = ["x"]\nhost_form = "h:{port}"\n'
                    '[layout]\nconfig_dir = ".x"\n[operations]\nlogin = ["l", "{host}", "{key}"]\n',
                    encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    for field in ("layout.target_file", "layout.auth_file", "layout.selection",
                  "operations.switch", "operations.racks"):
        assert f"{field}: required field is missing" in message, field


@pytest.mark.parametrize("command", [["run", "--no-color"], ["smoke"]])
def test_a_bad_profile_has_the_same_prefix_for_run_and_smoke(tmp_path, capsys, command):
    path = broken_profile(tmp_path)
    assert main([*command, "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{PREFIX}profile {path}: ")
    assert "ERROR" not in err


def test_run_reports_each_mistake_of_its_options_with_the_prefix(capsys):
    assert main(["run", "--no-reports", "--rule", "NOPE-001", "--verify", "-1",
                 "--expectations", "/nonexistent/expectations.toml"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"{PREFIX}expectations /nonexistent/expectations.toml: file not found",
        f"{PREFIX}--verify: must be 0 or more",
        f"{PREFIX}--rule: unknown rule id NOPE-001 (see `convox-conformance rules`)",
    ]


def test_argument_errors_are_one_line_with_the_prefix(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", "--fail-on", "may"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{PREFIX}run: argument --fail-on: invalid choice: 'may'")
