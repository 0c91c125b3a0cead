"""Unit tests of the reference CLI's file handling (no server).

The config directory, atomic writes, the lock, file modes, corrupt and
unreadable auth, and the login state kept in the files. They run the modules
in-process with CONVOX_CONFIG pointing into a temp dir. Why in-process: the
mutant zoo replaces single module attributes, so these tests also pin down that
every step is looked up at call time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reference_cli import errors, files, lock, login_state, main
from reference_cli.commands import login, logout
from tests.reference_cli.conftest import ROOT, clean_env
from tests.reference_cli.in_process import isolated_config


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_config(tmp_path, monkeypatch)


def test_config_dir_defaults_to_home_dot_convox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONVOX_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert files.config_dir() == str(tmp_path / ".convox")
    monkeypatch.setenv("CONVOX_CONFIG", str(tmp_path / "elsewhere"))
    assert files.config_path("auth") == str(tmp_path / "elsewhere" / "auth")


# ----------------------------------------------------------------- atomic write


def test_atomic_write_replaces_and_leaves_no_temp_files(config: Path) -> None:
    config.mkdir()
    target = config / "auth"
    target.write_bytes(b"old")
    files.atomic_write(str(target), b"new contents", 0o600)
    assert target.read_bytes() == b"new contents"
    assert sorted(os.listdir(config)) == ["auth"]
    assert target.stat().st_mode & 0o777 == 0o600


def test_atomic_write_failure_keeps_old_file_and_cleans_up(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.mkdir()
    target = config / "auth"
    target.write_bytes(b"precious")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(errors.CliError, match=r"cannot write .*auth"):
        files.atomic_write(str(target), b"new", 0o600)
    assert target.read_bytes() == b"precious"
    assert sorted(os.listdir(config)) == ["auth"]


def test_atomic_write_is_never_half_visible(config: Path) -> None:
    """A reader polling during many rewrites only ever sees a complete file."""
    config.mkdir()
    target = config / "auth"
    big_a, big_b = b"a" * 200_000, b"b" * 200_000
    target.write_bytes(big_a)
    seen: set[bytes] = set()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            seen.add(target.read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(40):
            files.atomic_write(str(target), big_b if i % 2 == 0 else big_a, 0o600)
    finally:
        done.set()
        thread.join()
    assert seen <= {big_a, big_b}


# ----------------------------------------------------------------- lock


def bump_concurrently(counter: Path, workers: int = 8) -> int:
    """``workers`` threads each read-increment-write ``counter`` under ``lock.locked()``."""
    barrier = threading.Barrier(workers)

    def bump() -> None:
        barrier.wait()
        with lock.locked():
            value = int(counter.read_text()) if counter.exists() else 0
            time.sleep(0.03)  # widen the window a missing lock would lose updates in
            files.atomic_write(str(counter), str(value + 1).encode(), 0o600)

    threads = [threading.Thread(target=bump) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return int(counter.read_text())


def test_lock_serialises_threads(config: Path) -> None:
    assert bump_concurrently(config / "counter") == 8


def test_without_the_lock_updates_are_lost(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control for the test above: it would catch a lock that does nothing."""
    import contextlib

    monkeypatch.setattr(lock, "locked", contextlib.nullcontext)
    config.mkdir()
    assert bump_concurrently(config / "counter") < 8


def test_concurrent_store_login_in_processes_loses_nothing(config: Path) -> None:
    """8 processes x 10 logins to distinct hosts: all 80 keys survive."""
    script = (
        "import sys\n"
        "from reference_cli.commands import login\n"
        "n = int(sys.argv[1])\n"
        "for j in range(10):\n"
        "    login.store_login(f'h{n}-{j}.convox.test', f'key-{n}-{j}', '')\n"
    )
    env = clean_env(CONVOX_CONFIG=str(config), HOME=str(config.parent))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(n)], env=env, cwd=str(ROOT))
        for n in range(8)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    auth = json.loads((config / "auth").read_text())
    assert auth == {f"h{n}-{j}.convox.test": f"key-{n}-{j}" for n in range(8) for j in range(10)}
    leftovers = [name for name in os.listdir(config) if name.endswith(".tmp")]
    assert leftovers == []


# ----------------------------------------------------------------- permissions


def test_fresh_files_get_private_modes_whatever_the_umask(config: Path) -> None:
    old = os.umask(0)
    try:
        login.store_login("h.convox.test", "k1", "user-1")
    finally:
        os.umask(old)
    assert config.stat().st_mode & 0o777 == 0o700
    assert (config / "auth").stat().st_mode & 0o777 == 0o600
    assert (config / "host").read_text() == "h.convox.test"
    assert (config / "id").read_text() == "user-1"


def test_loose_modes_are_tightened(config: Path) -> None:
    config.mkdir(mode=0o755)
    config.chmod(0o755)
    (config / "auth").write_text('{"other": "k0"}')
    (config / "auth").chmod(0o644)
    login.store_login("h.convox.test", "k1", "")
    assert config.stat().st_mode & 0o777 == 0o700
    assert (config / "auth").stat().st_mode & 0o777 == 0o600
    assert json.loads((config / "auth").read_text()) == {"other": "k0", "h.convox.test": "k1"}


def test_auth_format_is_two_space_json(config: Path) -> None:
    login.store_login("a.convox.test", "k/+é", "")
    text = (config / "auth").read_text(encoding="utf-8")
    assert text == json.dumps({"a.convox.test": "k/+é"}, indent=2, ensure_ascii=False)


# ----------------------------------------------------------------- corrupt auth

CORRUPT = [
    b"{not json",
    b"[1, 2]",
    b'{"h.convox.test": 1}',
    b"\xff\xfe\x00garbage",
    b'"just a string"',
]


@pytest.mark.parametrize("content", CORRUPT)
def test_corrupt_auth_is_reported_and_never_overwritten(config: Path, content: bytes) -> None:
    config.mkdir(mode=0o700)
    auth = config / "auth"
    auth.write_bytes(content)
    auth.chmod(0o600)
    with pytest.raises(errors.CliError) as info:
        login.store_login("h.convox.test", "k1", "")
    assert str(auth) in str(info.value)
    assert auth.read_bytes() == content
    assert not (config / "host").exists()


@pytest.mark.parametrize("content", CORRUPT)
def test_corrupt_auth_through_main_is_one_line_naming_the_file(
    config: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    config.mkdir(mode=0o700)
    auth = config / "auth"
    auth.write_bytes(content)
    (config / "host").write_text("h.convox.test")
    for argv in (["apps"], ["logout"], ["login", "h.convox.test", "--password", "secret-k"]):
        assert main.main(argv) == 1
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR: ")
        assert str(auth) in lines[0]
        assert "secret-k" not in captured.err + captured.out
        assert auth.read_bytes() == content


def test_unreadable_auth_is_reported(config: Path) -> None:
    config.mkdir(mode=0o700)
    (config / "auth").mkdir()  # unreadable as a file, even for root
    with pytest.raises(errors.CliError, match=str(config / "auth")):
        files.read_auth()
    with pytest.raises(errors.CliError, match=str(config / "auth")):
        login.store_login("h.convox.test", "k", "")


def test_unreadable_auth_is_reported_and_kept(config: Path) -> None:
    """Mode 000 for an ordinary user; root reads that, so a self-loop symlink instead."""
    config.mkdir(mode=0o700)
    auth = config / "auth"
    if os.geteuid() == 0:
        auth.symlink_to("auth")  # ELOOP: unreadable for every user
    else:
        auth.write_text("{}")
        auth.chmod(0)
    with pytest.raises(errors.CliError, match="cannot read"):
        files.read_auth()
    with pytest.raises(errors.CliError, match="cannot read"):
        login.store_login("h.convox.test", "k", "")
    assert auth.is_symlink() if os.geteuid() == 0 else auth.stat().st_mode & 0o777 == 0


def test_missing_and_empty_auth_mean_no_keys(config: Path) -> None:
    assert files.read_auth() == {}
    config.mkdir()
    (config / "auth").write_text("  \n")
    assert files.read_auth() == {}


# ----------------------------------------------------------------- login / logout state


def test_store_login_keeps_other_hosts_and_clears_rack(config: Path) -> None:
    login.store_login("console.convox.com", "c1", "u1")
    files.write_rack("acme/prod")
    login.store_login("rack.convox.test", "r1", "")
    assert json.loads((config / "auth").read_text()) == {
        "console.convox.com": "c1",
        "rack.convox.test": "r1",
    }
    assert (config / "host").read_text() == "rack.convox.test"
    assert not (config / "rack").exists()
    assert (config / "id").read_text() == "u1"


def test_remove_login_keeps_other_hosts(config: Path) -> None:
    login.store_login("a.convox.test", "ka", "")
    login.store_login("b.convox.test", "kb", "")
    files.write_rack("acme/prod")
    logout.remove_login("b.convox.test")
    assert json.loads((config / "auth").read_text()) == {"a.convox.test": "ka"}
    assert not (config / "host").exists()
    assert not (config / "rack").exists()


def test_state_is_read_from_the_files_every_time(config: Path) -> None:
    login.store_login("a.convox.test", "ka", "")
    assert login_state.current_state().key == "ka"
    (config / "auth").write_text("{}")
    state = login_state.current_state()
    assert state.host == "a.convox.test" and state.key is None
    with pytest.raises(errors.NotLoggedIn):
        login_state.require_login(state)
