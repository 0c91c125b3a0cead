"""The runner's guarantees: isolation, a scrubbed environment, timeouts, prompts."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conformance.running.invoke import CliNotRunnable, CliSession, CliTimeout, check_runnable
from conformance.running.profiles import load_profile

FAKE_CLI = textwrap.dedent(
    """\
    #!{python}
    import getpass, json, os, subprocess, sys, time
    cmd = sys.argv[1]
    if cmd == "env":
        print(json.dumps(dict(os.environ)))
    elif cmd == "login":
        home = os.path.expanduser("~/.convox")
        os.makedirs(home, exist_ok=True)
        with open(os.path.join(home, "auth"), "w") as f:
            json.dump({{sys.argv[2]: sys.argv[3]}}, f)
        with open(os.path.join(home, "host"), "w") as f:
            f.write(sys.argv[2])
    elif cmd == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(sys.argv[2], "w") as f:
            f.write(str(child.pid))
        time.sleep(600)
    elif cmd == "cwd":
        print(os.getcwd())
    elif cmd == "stdin":
        print(repr(sys.stdin.read()))
    elif cmd == "prompt":
        key = getpass.getpass(sys.argv[3] if len(sys.argv) > 3 else "Password: ")
        print("got", hashlib_sha := __import__("hashlib").sha256(key.encode()).hexdigest())
    elif cmd == "echoprompt":
        sys.stdout.write("Password: "); sys.stdout.flush()
        print("got", __import__("hashlib").sha256(input().encode()).hexdigest())
    """
)

PROFILE = """
name = "fake"
command = ["{cli}"]
host_form = "127.0.0.1:{{port}}"
[layout]
config_dir = ".convox"
target_file = "host"
auth_file = "auth"
selection = "rack"
[layout.env]
CONVOX_CONFIG = "{{config_dir}}"
[operations]
version = ["env"]
login = ["login", "{{host}}", "{{key}}"]
login_prompt = {{ argv = ["{prompt_cmd}", "{{host}}"], prompt = "Password: " }}
switch = ["switch", "{{rack}}"]
current_rack = ["stdin"]
racks = ["racks"]
apps = ["apps"]
rack_info = ["rack"]
logout = ["hang", "{pidfile}"]
"""


def make_profile(tmp_path: Path, prompt_cmd: str = "prompt"):
    cli = tmp_path / "fakecli"
    cli.write_text(FAKE_CLI.format(python=sys.executable))
    cli.chmod(0o755)
    path = tmp_path / "fake.toml"
    path.write_text(PROFILE.format(cli=cli, pidfile=tmp_path / "child.pid", prompt_cmd=prompt_cmd))
    return load_profile(path)


@pytest.fixture
def session(tmp_path: Path) -> CliSession:
    return CliSession(make_profile(tmp_path), tmp_path / "run", timeout=5)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_real_home_is_never_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = tmp_path / "canary-home"
    (canary / ".config").mkdir(parents=True)
    (canary / "precious.txt").write_text("do not touch")
    monkeypatch.setenv("HOME", str(canary))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(canary / ".config"))
    before = tree_digest(canary)
    session = CliSession(make_profile(tmp_path), tmp_path / "run", timeout=5)
    result = session.run("login", host="127.0.0.1:1", key="k1")
    assert result.exit_code == 0, result.describe()
    assert tree_digest(canary) == before
    assert not (canary / ".convox").exists()
    assert session.state.keys() == {"127.0.0.1:1": "k1"}
    assert [c.path for c in result.changes] == [".convox/auth", ".convox/host"]


def test_caller_secrets_and_proxies_do_not_reach_the_cli(
    session: CliSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaks = {
        "CONVOX_PASSWORD": "leak1", "CONVOX_HOST": "leak2", "CONVOX_RACK": "leak3",
        "RACK_URL": "https://leak4", "HTTPS_PROXY": "http://leak5", "https_proxy": "leak6",
        "ALL_PROXY": "leak7", "SSL_CERT_FILE": "/leak8", "REQUESTS_CA_BUNDLE": "/leak9",
        "AWS_SECRET_ACCESS_KEY": "leak10",
    }
    for name, value in leaks.items():
        monkeypatch.setenv(name, value)
    env = json.loads(session.run("version").stdout)
    assert not set(leaks) & set(env)
    assert not any(value in json.dumps(env) for value in leaks.values())
    assert env["HOME"] == str(session.home)
    assert env["XDG_CONFIG_HOME"] == str(session.xdg_config_home)
    assert env["CONVOX_CONFIG"] == str(session.config_dir)
    assert Path(env["HOME"]).is_relative_to(session.root)


def test_profile_and_test_env_are_the_only_additions(tmp_path: Path) -> None:
    session = CliSession(make_profile(tmp_path), tmp_path / "run",
                         extra_env={"SSL_CERT_FILE": "/ca.pem"})
    env = json.loads(session.run("version").stdout)
    assert env["SSL_CERT_FILE"] == "/ca.pem"


def test_a_project_directory_inside_the_home_is_a_working_directory(
    session: CliSession, tmp_path: Path
) -> None:
    project = session.workdir / "project-1"
    project.mkdir()
    assert session.run_args(["cwd"]).stdout.strip() == str(session.workdir.resolve())
    with session.working_directory(project):
        assert session.run_args(["cwd"]).stdout.strip() == str(project.resolve())
    assert session.run_args(["cwd"]).stdout.strip() == str(session.workdir.resolve())
    for outside in (tmp_path, session.workdir / "absent"):
        with pytest.raises(ValueError, match="inside the isolated home"), \
                session.working_directory(outside):
            pass


def test_stdin_is_closed(session: CliSession) -> None:
    assert session.run("current_rack").stdout.strip() == "''"


def test_a_hanging_cli_is_killed_with_its_children(tmp_path: Path) -> None:
    session = CliSession(make_profile(tmp_path), tmp_path / "run", timeout=1.5)
    # Its own deadline ended it (the message names it); a hang would meet pytest-timeout.
    with pytest.raises(CliTimeout, match=r"timed out after 1.5s and was killed: .*fakecli hang"):
        session.run("logout")
    assert session.invocations[-1].timed_out
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"child process {child} survived the timeout")


def test_keys_are_redacted_from_argv(session: CliSession) -> None:
    result = session.run("login", host="h:1", key="s3cret-key")
    assert "s3cret-key" not in " ".join(result.argv)
    assert "<redacted>" in result.argv


def test_prompt_login_types_the_key_with_echo_off(tmp_path: Path) -> None:
    session = CliSession(make_profile(tmp_path), tmp_path / "run", timeout=10)
    result = session.run("login_prompt", host="h:1", key="typed-key")
    assert result.exit_code == 0, result.describe()
    assert result.echo_off is True
    assert "typed-key" not in result.stdout
    assert hashlib.sha256(b"typed-key").hexdigest() in result.stdout


def test_prompt_that_echoes_is_reported(tmp_path: Path) -> None:
    session = CliSession(make_profile(tmp_path, "echoprompt"), tmp_path / "run", timeout=10)
    result = session.run("login_prompt", host="h:1", key="typed-key")
    assert result.echo_off is False
    assert "typed-key" in result.stdout


def test_missing_or_non_executable_cli_is_one_clear_line(tmp_path: Path) -> None:
    profile = load_profile("reference")
    with pytest.raises(CliNotRunnable, match="CLI not found: /nonexistent/convox"):
        check_runnable(profile.with_command("/nonexistent/convox"))
    plain = tmp_path / "convox"
    plain.write_text("")
    with pytest.raises(CliNotRunnable, match="not an executable file"):
        check_runnable(profile.with_command(str(plain)))
    with pytest.raises(CliNotRunnable, match="not on PATH"):
        check_runnable(profile.with_command("no-such-convox-binary"))
    check_runnable(profile)


def test_commands_run_from_several_threads_share_the_sessions_keys_safely(tmp_path: Path) -> None:
    """Checks run commands from threads (concurrent logins): each run remembers its key
    while others start watching their output for every key known. Once, that raced
    (``Set changed size during iteration``) and a sound CLI's run was a harness error.
    Many known keys make each capture's look at them long, so the race shows at once."""
    import threading

    profile = load_profile("reference").with_command("/bin/true")
    session = CliSession(profile, tmp_path / "run", timeout=30)
    for index in range(50_000):
        session.remember(f"known-key-{index:06d}")
    errors: list[BaseException] = []

    def logins(worker: int) -> None:
        try:
            for index in range(15):
                session.run("login", host="127.0.0.1:9", key=f"key-{worker}-{index:04d}")
        except BaseException as exc:  # any escape is the finding
            errors.append(exc)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=logins, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert not errors, errors
    assert {f"key-{w}-{i:04d}" for w in range(4) for i in range(15)} <= set(session.secrets)
