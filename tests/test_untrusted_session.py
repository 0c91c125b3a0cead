"""One CLI session against a misbehaving CLI: floods, leftovers, escapes, closed pipes.

The CLI here is a small Python script written by the test; each command
misbehaves in one way the runner must survive truthfully: the CLI's own exit
code stands, what it left running is named and killed, its output is kept
within bounds with the start and end intact.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from conformance.running.capture import RETAINED_OUTPUT
from conformance.running.invoke import CliSession, CliTimeout
from conformance.running.profiles import load_profile

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc names leftovers")

HOSTILE_CLI = textwrap.dedent(
    """\
    #!{python}
    import getpass, os, sys, time
    cmd = sys.argv[1]
    def flood(n, key):
        out = sys.stdout.buffer
        out.write(b"FIRST LINE\\n")
        line = b"x" * 99 + b"\\n"
        for i in range(n // 100):
            if i == n // 200:
                out.write(key.encode() + b"\\n")
            out.write(line)
        out.write(b"LAST LINE\\n")
        out.flush()
    if cmd == "flood":
        flood(int(sys.argv[2]), sys.argv[3])
        sys.stderr.write("e" * int(sys.argv[2]))
    elif cmd == "escape":
        # A helper that leaves the process group but keeps stdout open.
        if os.fork() == 0:
            os.setsid()
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)",
                                       "escaped-helper"])
        print("done")
    elif cmd == "daemon":
        # A helper in the CLI's group with no pipe of ours: still left running.
        if os.fork() == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)",
                                       "quiet-helper"])
        print("done")
    elif cmd == "exit3":
        if os.fork() == 0:
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)",
                                       "noisy-helper"])
        sys.exit(3)
    elif cmd == "closeout":
        os.close(1)
        os.close(2)
        time.sleep(300)
    elif cmd == "promptflood":
        key = getpass.getpass("Password: ")
        flood(int(sys.argv[2]), key)
    """
)

PROFILE = """
name = "hostile"
command = ["{cli}"]
host_form = "127.0.0.1:{{port}}"
[layout]
config_dir = ".convox"
target_file = "host"
auth_file = "auth"
selection = "rack"
[operations]
# "host" carries the flood size here: the runner only fills placeholders.
login = ["flood", "{{host}}", "{{key}}"]
login_prompt = {{ argv = ["promptflood", "{{host}}"], prompt = "Password: " }}
switch = ["exit3", "{{rack}}"]
current_rack = ["exit3"]
racks = ["exit3"]
apps = ["exit3"]
rack_info = ["exit3"]
"""

LIMIT = 64 * 1024
KEY = "k3y-0123456789abcdef-hidden-in-the-middle"


def make_session(tmp_path: Path, timeout: float = 20) -> CliSession:
    cli = tmp_path / "hostile"
    cli.write_text(HOSTILE_CLI.format(python=sys.executable))
    cli.chmod(0o755)
    profile_path = tmp_path / "hostile.toml"
    profile_path.write_text(PROFILE.format(cli=cli))
    return CliSession(load_profile(profile_path), tmp_path / "run", timeout=timeout,
                      max_output=LIMIT)


def test_a_flood_keeps_head_and_tail_and_counts_the_rest(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    size = 5_000_000
    result = session.run("login", host=str(size), key=KEY)
    assert result.exit_code == 0
    assert result.stdout.startswith("FIRST LINE\n")
    assert result.stdout.endswith("LAST LINE\n")
    assert len(result.stdout.encode()) <= LIMIT + 200
    assert result.stdout_dropped >= size - LIMIT
    assert result.stderr_dropped >= size - LIMIT
    assert "stdout was truncated" in result.describe()
    assert "stderr was truncated" in result.describe()


def test_a_key_printed_only_in_the_dropped_middle_is_still_seen(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    result = session.run("login", host="5000000", key=KEY)
    # The key is in the marker: checks that look for a printed key find it, and
    # reports redact it like any other.
    assert KEY in result.stdout
    marker_line = next(line for line in result.stdout.splitlines() if "dropped" in line)
    assert KEY in marker_line


def test_a_small_output_is_kept_whole(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    result = session.run("login", host="2000", key=KEY)
    assert result.stdout_dropped == 0 and "dropped" not in result.stdout
    assert KEY in result.stdout and "truncated" not in result.describe()


def test_a_helper_that_left_the_group_but_holds_stdout_is_found_and_killed(
    tmp_path: Path,
) -> None:
    session = make_session(tmp_path)
    result = session.run_args(["escape"])
    assert (result.exit_code, result.timed_out) == (0, False)
    assert result.stdout.strip() == "done"
    assert any("escaped-helper" in line for line in result.leftovers), result.leftovers
    assert "escaped-helper" in result.describe()


def test_a_quiet_helper_in_the_group_is_recorded_too(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    result = session.run_args(["daemon"])
    assert (result.exit_code, result.timed_out) == (0, False)
    assert any("quiet-helper" in line for line in result.leftovers), result.leftovers


def test_the_clis_own_failing_exit_code_stands(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    result = session.run_args(["exit3"])
    assert (result.exit_code, result.timed_out) == (3, False)
    assert any("noisy-helper" in line for line in result.leftovers), result.leftovers


def test_a_cli_that_closes_its_output_and_hangs_has_timed_out(tmp_path: Path) -> None:
    session = make_session(tmp_path, timeout=1.5)
    with pytest.raises(CliTimeout):
        session.run_args(["closeout"])
    assert session.invocations[-1].timed_out
    assert session.invocations[-1].exit_code is None


def test_a_prompt_login_that_floods_is_bounded_too(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    result = session.run("login_prompt", host="3000000", key=KEY)
    assert result.exit_code == 0 and result.echo_off is True
    assert result.stdout_dropped >= 3_000_000 - LIMIT
    assert "LAST LINE" in result.stdout


def test_without_proc_the_group_is_still_killed_and_said_to_be_unnamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.running import stray_processes as leftovers

    monkeypatch.setattr(leftovers, "PROC", tmp_path / "no-proc")
    session = make_session(tmp_path)
    result = session.run_args(["exit3"])
    assert (result.exit_code, result.timed_out) == (3, False)
    assert result.leftovers == [
        f"process group {result.leftovers[0].split()[2]} still had members "
        "(no /proc to name them)"]
    assert not living("noisy-helper"), "the helper survived"


def living(token: str) -> list[int]:
    """Pids whose command line holds ``token`` and that are not (yet unreaped) zombies."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if token.encode() not in (proc / "cmdline").read_bytes():
                continue
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] not in "ZX":
            found.append(int(proc.name))
    return found


def test_the_session_keeps_a_small_copy_that_still_names_hidden_keys(tmp_path: Path) -> None:
    world_key = "world-rack-key-0123456789"
    session = make_session(tmp_path)
    session.max_output = 1 << 20
    session.watch = lambda: [world_key]
    # Raw arguments: the session never learns the key; only the watch knows it.
    result = session.run_args(["flood", "1000000", world_key])
    kept = session.invocations[-1]
    assert world_key not in session.secrets
    assert len(result.stdout.encode()) > 512 * 1024  # the check saw its whole capture
    assert len(kept.stdout.encode()) <= RETAINED_OUTPUT + 200
    assert kept.stdout_dropped >= 1_000_000 - RETAINED_OUTPUT
    assert kept.stdout.startswith("FIRST LINE") and kept.stdout.endswith("LAST LINE\n")
    assert world_key in kept.stdout and "truncated" in kept.describe()
