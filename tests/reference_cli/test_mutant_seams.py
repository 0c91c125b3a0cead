"""The seams the mutant zoo relies on, exercised in-process through ``main.main``.

A mutant replaces one module attribute and then calls ``main()``: the
replacement must take effect, a command that needs a login must send nothing
without one, and even an unexpected exception must end as one ERROR line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reference_cli import calls, files, main
from reference_cli.commands import login
from tests.reference_cli.in_process import isolated_config


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_config(tmp_path, monkeypatch)


def test_replacing_one_function_changes_main(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mutant zoo overrides one attribute and calls main(): it must take effect."""
    calls: list[tuple[str, str]] = []

    def fake_validate(host: str, key: str) -> str:
        calls.append((host, key))
        return "u-9"

    monkeypatch.setattr(login, "validate_login", fake_validate)
    assert main.main(["login", "h.convox.test", "--password", "kk"]) == 0
    assert calls == [("h.convox.test", "kk")]
    assert json.loads((config / "auth").read_text()) == {"h.convox.test": "kk"}
    assert capsys.readouterr().out == "Logged in successfully.\n"


def test_not_logged_in_sends_nothing_in_process(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[object] = []
    monkeypatch.setattr(calls, "send_request", lambda *a, **k: sent.append(a))
    for argv in (
        ["apps"],
        ["racks"],
        ["rack"],
        ["switch", "x"],
        ["rack", "params", "set", "Password=n"],
    ):
        assert main.main(argv) == 1
        assert "not logged in, try `convox login`" in capsys.readouterr().err
    assert sent == []


def test_unexpected_exception_is_one_line(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*args: object) -> object:
        raise RuntimeError("kaboom with key-xyz")

    monkeypatch.setattr(files, "read_host", explode)
    assert main.main(["apps"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ERROR: unexpected error: RuntimeError")
