"""Unit tests of the reference CLI's file handling and pure helpers (no server).

They run the module in-process with CONVOX_CONFIG pointing into a temp dir.
Why in-process: the mutant zoo replaces single module attributes, so these
tests also pin down that every step is looked up at call time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_cli import calls, errors, files, hosts, lock, login_state, main, transport
from reference_cli.commands import login, logout, rack, switch
from tests.reference_cli.conftest import ROOT, basic, clean_env


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("CONVOX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    path = home / ".convox"
    monkeypatch.setenv("CONVOX_CONFIG", str(path))
    yield path


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


# ----------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    "key",
    ["plain", "a+b/c=", "user@host:pass", "100%25 sure", " spaced key ", "ключ-ñ-🔑", ":", ""],
)
def test_basic_auth_header_is_byte_exact(key: str) -> None:
    assert transport.basic_auth_header(key) == basic(key)


def test_request_headers_carry_version_agent_and_rack() -> None:
    headers = transport.request_headers("k", "acme/prod")
    assert headers["Authorization"] == basic("k")
    assert headers["Version"] == transport.VERSION
    assert headers["User-Agent"].startswith("convox-reference/")
    assert headers["Rack"] == "acme/prod"
    assert "Rack" not in transport.request_headers("k", None)


REFS = ["acme/prod", "acme/staging", "beta/prod", "beta/dev"]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("acme/prod", "acme/prod"), ("staging", "acme/staging"), ("dev", "beta/dev")],
)
def test_match_rack_finds(wanted: str, expected: str) -> None:
    assert switch.match_rack(REFS, wanted) == expected


def test_match_rack_errors() -> None:
    with pytest.raises(
        errors.CliError, match=r"ambiguous rack name: prod \(matches acme/prod, beta/prod\)"
    ):
        switch.match_rack(REFS, "prod")
    with pytest.raises(errors.CliError, match="rack not found: nope"):
        switch.match_rack(REFS, "nope")
    with pytest.raises(errors.CliError, match="rack not found: acme/dev"):
        switch.match_rack(REFS, "acme/dev")
    with pytest.raises(errors.CliError, match="rack not found: acme"):
        switch.match_rack(REFS, "acme")


def test_rack_refs_from_console_listing() -> None:
    racks: list[dict[str, object]] = [
        {"name": "prod", "organization": {"name": "acme"}, "status": "running"},
        {"name": "solo"},
        {"name": "prod", "organization": {"name": "acme"}},
    ]
    assert switch.rack_refs(racks) == ["acme/prod", "solo"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("console.convox.com", ("console.convox.com", 443)),
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
    ],
)
def test_split_host(raw: str, expected: tuple[str, int]) -> None:
    assert hosts.split_host(raw) == expected


@pytest.mark.parametrize("raw", ["", "host:", ":443", "host:x", "host:1:2", "a/b", "-p"])
def test_normalize_host_rejects(raw: str) -> None:
    with pytest.raises(errors.CliError):
        hosts.normalize_host(raw)


def test_normalize_host_strips_scheme_and_slash() -> None:
    assert hosts.normalize_host("https://Rack.Example.com:8443/") == "Rack.Example.com:8443"
    assert hosts.normalize_host("http://x.convox.test") == "x.convox.test"


def test_resolve_map(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = "console.convox.com:443=127.0.0.1:40001; *=127.0.0.1:40009"
    monkeypatch.setenv(hosts.RESOLVE_ENV, resolve)
    assert hosts.resolve_address("console.convox.com", 443) == ("127.0.0.1", 40001)
    assert hosts.resolve_address("CONSOLE.convox.com", 443) == ("127.0.0.1", 40001)
    assert hosts.resolve_address("console.convox.com", 8443) == ("127.0.0.1", 40009)
    assert hosts.resolve_address("telemetry.example", 443) == ("127.0.0.1", 40009)
    # addresses and localhost need no resolving: the wildcard leaves them alone
    assert hosts.resolve_address("127.0.0.1", 40001) is None
    assert hosts.resolve_address("::1", 40001) is None
    assert hosts.resolve_address("localhost", 40001) is None
    monkeypatch.setenv(hosts.RESOLVE_ENV, "127.0.0.1:5=127.0.0.1:6;*=127.0.0.1:9")
    assert hosts.resolve_address("127.0.0.1", 5) == ("127.0.0.1", 6)
    monkeypatch.setenv(hosts.RESOLVE_ENV, "console.convox.com=127.0.0.1:1")
    assert hosts.resolve_address("console.convox.com", 443) == ("127.0.0.1", 1)
    assert hosts.resolve_address("other", 443) is None
    monkeypatch.setenv(hosts.RESOLVE_ENV, "garbage")
    with pytest.raises(errors.CliError, match="CONVOX_REFERENCE_RESOLVE"):
        hosts.resolve_address("other", 443)
    monkeypatch.delenv(hosts.RESOLVE_ENV)
    assert hosts.resolve_address("console.convox.com", 443) is None


def test_parse_login_args() -> None:
    assert login.parse_login_args([]) == (None, None)
    assert login.parse_login_args(["h", "--password", "-k-"]) == ("h", "-k-")
    assert login.parse_login_args(["-p", "k", "h"]) == ("h", "k")
    assert login.parse_login_args(["h", "-p", "--password"]) == ("h", "--password")
    for bad in (["--password"], ["--bogus"], ["--password=k"], ["a", "b"]):
        with pytest.raises(errors.CliError):
            login.parse_login_args(bad)


def test_encode_params_matches_the_wire_form() -> None:
    from urllib.parse import parse_qs, parse_qsl

    assert rack.encode_params([("Password", "abc")]) == b"parameters=Password%3Dabc"
    odd = "a+b/c&d=e %é"
    body = rack.encode_params([("Password", odd)]).decode()
    inner = parse_qs(body)["parameters"][0]
    assert dict(parse_qsl(inner)) == {"Password": odd}


@pytest.mark.parametrize(
    ("timeout", "ok"), [("", True), ("2.5", True), ("0", False), ("-1", False), ("x", False)]
)
def test_request_timeout(monkeypatch: pytest.MonkeyPatch, timeout: str, ok: bool) -> None:
    monkeypatch.setenv(transport.TIMEOUT_ENV, timeout)
    if ok:
        expected = float(timeout) if timeout else transport.DEFAULT_TIMEOUT
        assert transport.request_timeout() == expected
    else:
        with pytest.raises(errors.CliError):
            transport.request_timeout()


def test_redact_hides_remembered_keys() -> None:
    errors._SECRETS.clear()
    errors.remember_secret("s3cr3t-key")
    assert errors.redact("boom s3cr3t-key boom") == "boom ******** boom"
    errors._SECRETS.clear()


# ----------------------------------------------------------------- mutant seams


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


def test_take_rack_flag_removes_the_flag_and_its_value() -> None:
    from reference_cli import login_state

    assert login_state.take_rack_flag(["x", "--rack", " acme/a ", "y"]) == ["x", "y"]
    assert login_state.flag_rack() == "acme/a"
    assert login_state.take_rack_flag(["--rack", "a/b", "--rack", "c/d"]) == ["--rack", "c/d"]
    for bad in (["--rack"], ["--rack", " "]):
        with pytest.raises(errors.CliError, match="--rack needs a rack"):
            login_state.take_rack_flag(bad)


def test_command_of_takes_the_longest_command_words() -> None:
    from reference_cli import main

    assert main.command_of(["rack", "params", "set", "A=1"]) == ("rack params set", ["A=1"])
    assert main.command_of(["rack", "params"]) == ("rack params", [])
    assert main.command_of(["rack", "--rack", "a/b"]) == ("rack", ["--rack", "a/b"])
    with pytest.raises(errors.CliError, match="unknown command: deploy"):
        main.command_of(["deploy"])
