"""A reason that expected a file names the file the command changed instead."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from conformance.harness.handle import Convox
from conformance.running.invoke import FileChange


def harness(home: Path, changes: list[FileChange]) -> Convox:
    invocation = SimpleNamespace(operation="login", changes=changes)
    cli = SimpleNamespace(home=home, invocations=[invocation], profile=None, state=None)
    return Convox(world=None, cli=cli)  # type: ignore[arg-type]


def test_the_file_changed_instead_is_named(tmp_path: Path) -> None:
    convox = harness(tmp_path, [FileChange(".convox/current-host", None, object()),  # type: ignore[arg-type]
                                FileChange(".convox/auth", object(), object())])  # type: ignore[arg-type]
    assert convox.changed_instead(tmp_path / ".convox" / "auth") == (
        "; login changed .convox/current-host (added) instead")


def test_a_command_that_changed_nothing_says_so(tmp_path: Path) -> None:
    assert harness(tmp_path, []).changed_instead(tmp_path / ".convox" / "host") == (
        "; login changed no file")


def test_nothing_is_added_when_only_the_expected_file_changed(tmp_path: Path) -> None:
    convox = harness(tmp_path, [FileChange(".convox/host", None, object())])  # type: ignore[arg-type]
    assert convox.changed_instead(tmp_path / ".convox" / "host") == ""
