"""Reading a CLI's files never leaves its home: links, FIFOs, hard links, size caps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.harness.evidence import Redactor, change_data
from conformance.harness.handle import Convox
from conformance.running import home_files as confined
from conformance.running.cli_files import CliState, StateError
from conformance.running.home_files import MAX_READ_BYTES, read_capped, snapshot_tree
from conformance.running.invoke import CliSession, FileChange
from conformance.running.profiles import load_profile

SECRET = b"PRIVATE-KEY-CONTENT-outside-the-home"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "id_rsa"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / ".convox").mkdir(parents=True)
    return tmp_path / "home"


def test_a_symlink_is_recorded_with_its_target_and_not_followed(home: Path, outside: Path
                                                                ) -> None:
    (home / ".convox" / "auth").symlink_to(outside)
    (home / ".convox" / "dir").symlink_to(outside.parent, target_is_directory=True)
    tree = snapshot_tree(home)
    assert set(tree) == {".convox/auth", ".convox/dir"}
    for path in tree:
        assert tree[path].kind == "symlink" and tree[path].data == b""
    assert tree[".convox/auth"].target == str(outside)
    assert all(SECRET not in snap.observed for snap in tree.values())


def test_special_files_are_recorded_by_type_and_never_opened(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = home / ".convox" / "pipe"
    os.mkfifo(fifo)
    opened: list[str] = []
    real_open = os.open

    def spy(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(confined.os, "open", spy)
    tree = snapshot_tree(home)
    assert tree[".convox/pipe"].kind == "fifo"
    assert "pipe" not in opened


def test_a_hard_link_is_not_read(home: Path, outside: Path) -> None:
    try:
        os.link(outside, home / ".convox" / "auth")
    except OSError as exc:  # pragma: no cover - only where hard links are refused
        pytest.skip(f"cannot make a hard link here: {exc}")
    snap = snapshot_tree(home)[".convox/auth"]
    assert snap.kind == "hardlink" and snap.data == b""


def test_big_files_are_read_up_to_the_cap_and_their_size_recorded(home: Path) -> None:
    big = home / ".convox" / "big"
    big.write_bytes(b"b" * (MAX_READ_BYTES * 4))
    snap = snapshot_tree(home)[".convox/big"]
    assert len(snap.data) == MAX_READ_BYTES and snap.size == MAX_READ_BYTES * 4
    assert snap.truncated and "first" in snap.describe()


def test_the_whole_tree_is_read_within_a_byte_budget(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confined, "MAX_TREE_BYTES", 3 * MAX_READ_BYTES)
    for index in range(6):
        (home / f"f{index}").write_bytes(b"x" * MAX_READ_BYTES)
    tree = snapshot_tree(home)
    assert sum(len(snap.data) for snap in tree.values()) == 3 * MAX_READ_BYTES
    assert all(snap.size == MAX_READ_BYTES for name, snap in tree.items() if name[0] == "f")


def test_a_config_dir_that_is_a_link_out_is_the_whole_snapshot(home: Path, outside: Path
                                                               ) -> None:
    (home / ".convox").rmdir()
    (home / ".convox").symlink_to(outside.parent, target_is_directory=True)
    tree = snapshot_tree(home / ".convox", within=home)
    assert list(tree) == ["."] and tree["."].kind == "symlink"
    assert tree["."].target == str(outside.parent)


def test_reading_the_login_state_through_a_link_out_names_the_link_only(
    home: Path, outside: Path
) -> None:
    state = CliState(load_profile("reference").layout, home / ".convox", within=home)
    state.auth_path.symlink_to(outside)
    with pytest.raises(StateError) as caught:
        state.auth()
    assert f"symlink to {outside}" in str(caught.value)
    assert SECRET.decode() not in str(caught.value)
    with pytest.raises(StateError, match="symlink"):
        state.write_auth({"h:1": "k"})
    assert outside.read_bytes() == SECRET


def test_a_link_inside_the_home_is_followed_for_the_state(home: Path) -> None:
    state = CliState(load_profile("reference").layout, home / ".convox", within=home)
    (home / "real-auth").write_text('{"h:1": "k1"}')
    state.auth_path.symlink_to(home / "real-auth")
    assert state.auth() == {"h:1": "k1"}


def test_a_fifo_as_the_auth_file_is_an_error_not_a_hang(home: Path) -> None:
    state = CliState(load_profile("reference").layout, home / ".convox", within=home)
    os.mkfifo(state.auth_path)
    with pytest.raises(StateError, match="fifo"):
        state.auth()


def test_read_capped_refuses_big_files(home: Path) -> None:
    (home / "big").write_bytes(b"x" * 100)
    with pytest.raises(confined.NotConfined, match="over the 10 read limit"):
        read_capped(home / "big", home, limit=10)


def test_evidence_shows_links_and_clipped_files_without_their_content(
    home: Path, outside: Path
) -> None:
    (home / "leak").symlink_to(outside)
    (home / "big").write_bytes(b"k" * 10_000)
    tree = snapshot_tree(home)
    redact = Redactor([])
    leak = change_data(FileChange("leak", None, tree["leak"]), redact)["after"]
    assert leak["kind"] == "symlink" and leak["target"] == str(outside)
    assert SECRET.decode() not in str(leak)
    big = change_data(FileChange("big", None, tree["big"]), redact)["after"]
    assert big["size"] == 10_000 and len(big["content"]) < 5000


def test_the_harness_files_view_shows_a_link_as_a_link(tmp_path: Path, outside: Path) -> None:
    session = CliSession(load_profile("reference"), tmp_path / "run")
    session.config_dir.mkdir(parents=True)
    (session.config_dir / "auth").symlink_to(outside)
    os.mkfifo(session.config_dir / "pipe")
    (session.config_dir / "x.lock").write_text("")
    files = Convox(world=None, cli=session).files()  # type: ignore[arg-type]
    assert set(files) == {"auth", "pipe"}
    assert SECRET not in files["auth"] and str(outside).encode() in files["auth"]
