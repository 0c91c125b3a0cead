"""The network sandbox decided without namespaces: the causes and fixes, the choice, the pieces.

Why a sandbox cannot be made here is read from a fake root in ``tmp_path``; what
``--network`` makes of it, and the pieces the plugin wires into a sandboxed run
(a launcher never shown, profiles that resolve inside), need no namespace either.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.network import sandbox


def test_unshare_flags_for_root_and_for_others() -> None:
    assert sandbox.unshare_flags(0) == ["--net", "--mount", "--propagation", "private"]
    assert sandbox.unshare_flags(1000)[:2] == ["--user", "--map-root-user"]


def test_credential_dirs_are_those_that_exist(tmp_path: Path) -> None:
    (tmp_path / ".convox").mkdir()
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "convox2").write_text("a file counts too")
    assert sandbox.credential_dirs(tmp_path) == [tmp_path / ".convox",
                                                 tmp_path / ".config" / "convox2"]


def test_the_real_home_comes_from_the_password_database(monkeypatch, tmp_path: Path) -> None:
    class Entry:
        pw_dir = str(tmp_path / "stand-in")

    monkeypatch.setenv("HOME", "/somewhere/else")
    monkeypatch.setattr(sandbox.pwd, "getpwuid", lambda uid: Entry)
    assert sandbox.real_home() == tmp_path / "stand-in"


def test_no_sandbox_without_unshare(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    found = sandbox.why_not()
    assert found is not None and found.cause == "unshare (util-linux) is not on PATH"
    assert found.fix.startswith("install util-linux (apt-get, apk or dnf install util-linux)")


def test_no_sandbox_off_linux(monkeypatch) -> None:
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    found = sandbox.why_not()
    assert found is not None and found.cause == "network namespaces need Linux, this is darwin"
    assert "run the suite on Linux" in found.fix and "--network host" in found.fix


def test_no_sandbox_for_the_remote_backend() -> None:
    found = sandbox.why_not("remote")
    assert found is not None and "--backend remote" in found.cause
    assert found.fix.startswith("drop --backend remote")


# Each cause of a refused namespace, faked as the machine that has it: (euid, files under
# the fake root, the words the cause must hold, the words the fix must hold).
REFUSALS = {
    "apparmor": (1000, {"proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n"},
                 "AppArmor refuses user namespaces to unprivileged users",
                 "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
    "userns-clone": (1000, {"proc/sys/kernel/unprivileged_userns_clone": "0\n"},
                     "kernel.unprivileged_userns_clone=0",
                     "sudo sysctl -w kernel.unprivileged_userns_clone=1"),
    "max-namespaces": (1000, {"proc/sys/user/max_user_namespaces": "0\n"},
                       "user.max_user_namespaces=0", "sudo sysctl -w user.max_user_namespaces="),
    "docker": (0, {".dockerenv": "", "proc/self/status": "CapEff:\t00000000a80425fb\n"},
               "this is a container (Docker) without CAP_SYS_ADMIN",
               "--cap-add SYS_ADMIN --security-opt seccomp=unconfined"),
    "kubernetes": (0, {"proc/1/cgroup": "0::/kubepods/besteffort/pod1/abc\n",
                       "proc/self/status": "CapEff:\t00000000a80425fb\n"},
                   "this is a container (Kubernetes) without CAP_SYS_ADMIN",
                   "runner's privileged = true"),
    "docker-user": (1000, {".dockerenv": ""},
                    "this is a container (Docker), and its runtime refuses new namespaces",
                    "--security-opt seccomp=unconfined"),
    "other": (0, {"proc/self/status": "CapEff:\t000001ffffffffff\n"},
              "(namespaces are not allowed here)", "run the suite as root"),
}


@pytest.mark.parametrize("machine", sorted(REFUSALS))
def test_each_refusal_names_its_cause_and_fix(machine: str, tmp_path: Path) -> None:
    euid, files, cause, fix = REFUSALS[machine]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = sandbox.refused("unshare: unshare failed: Operation not permitted", euid, tmp_path)
    assert cause in found.cause and fix in found.fix, found
    assert "Operation not permitted" in found.cause  # what unshare said is kept
    assert "\n" not in found.cause + found.fix
    others = [c for name, (_, _, c, _) in REFUSALS.items() if name != machine]
    assert not [c for c in others if c in found.cause], found


def test_a_python_out_of_the_namespaces_reach_is_named(tmp_path: Path) -> None:
    """The probe's last step runs this Python inside: a private home stops it, not the kernel."""
    (tmp_path / ".dockerenv").write_text("")
    found = sandbox.refused(f"sh: 1: exec: {sys.executable}: Permission denied", 1000, tmp_path)
    assert found.cause.startswith(f"the namespaces were made, but this Python ({sys.executable})"
                                  " cannot run inside them")
    assert "not under a private home" in found.fix


def test_apparmor_restriction_does_not_bind_root(tmp_path: Path) -> None:
    """Root needs no user namespace: the AppArmor setting is not its cause."""
    path = tmp_path / "proc/sys/kernel/apparmor_restrict_unprivileged_userns"
    path.parent.mkdir(parents=True)
    path.write_text("1\n")
    assert "AppArmor" not in sandbox.refused("Operation not permitted", 0, tmp_path).cause


def test_sys_admin_is_read_from_the_effective_capabilities(tmp_path: Path) -> None:
    status = tmp_path / "proc/self/status"
    status.parent.mkdir(parents=True)
    status.write_text("CapInh:\t0000000000000000\nCapEff:\t0000000000200000\n")
    assert sandbox.has_sys_admin(tmp_path)
    status.write_text("CapEff:\t00000000001fffff\n")
    assert not sandbox.has_sys_admin(tmp_path)
    assert not sandbox.has_sys_admin(tmp_path / "missing")


IMPOSSIBLE = sandbox.Obstacle("user namespaces are disabled", "enable them")


def test_sandbox_asked_for_but_impossible_is_one_usage_line(monkeypatch, capsys) -> None:
    monkeypatch.delenv(sandbox.ENV_MODE, raising=False)
    monkeypatch.setattr(sandbox, "why_not", lambda backend: IMPOSSIBLE)
    assert sandbox.prepare("sandbox", "inprocess", ["run"]) == 2
    err = capsys.readouterr().err
    assert err == ("convox-conformance: --network sandbox: cannot make a sandbox here: "
                   "user namespaces are disabled; fix: enable them\n")


def test_auto_without_a_sandbox_says_why_once_and_goes_on(monkeypatch, capsys) -> None:
    for name in (sandbox.ENV_MODE, sandbox.ENV_REASON, sandbox.ENV_FIX, sandbox.ENV_CHOSEN):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sandbox, "why_not", lambda backend: IMPOSSIBLE)
    assert sandbox.prepare("auto", "inprocess", ["run"]) is None
    assert capsys.readouterr().err == (
        "convox-conformance: network: host, no sandbox (user namespaces are disabled); "
        "the rules that need the sandbox are not checked; fix: enable them\n")
    network = sandbox.from_environment()
    assert network == sandbox.Network("host", "user namespaces are disabled", "enable them",
                                      chosen=False)
    assert network.explain() == "no network sandbox: user namespaces are disabled; fix: enable them"


def test_host_network_on_request(monkeypatch) -> None:
    monkeypatch.delenv(sandbox.ENV_MODE, raising=False)
    assert sandbox.prepare("host", "inprocess", ["run"]) is None
    network = sandbox.from_environment()
    assert (network.mode, network.chosen) == ("host", True)
    assert network.explain() == "--network host was given"


def test_plain_pytest_is_the_host_network_by_choice(monkeypatch) -> None:
    for name in (sandbox.ENV_MODE, sandbox.ENV_REASON, sandbox.ENV_FIX, sandbox.ENV_CHOSEN):
        monkeypatch.delenv(name, raising=False)
    assert sandbox.from_environment() == sandbox.Network("host", sandbox.NOT_STARTED,
                                                         chosen=True)


def test_listeners_bind_loopback_only() -> None:
    import ssl

    from fakes.http.listener import Listener

    with pytest.raises(ValueError, match="loopback only"):
        Listener(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), host="10.1.2.3")


# -- the pieces the plugin wires together --------------------------------------


def test_a_launcher_runs_before_the_cli_but_is_never_shown(tmp_path: Path) -> None:
    from conformance.running.invoke import CliSession
    from conformance.running.profiles import load_profile

    asked: list[Path] = []

    def launcher(cwd: Path) -> list[str]:
        asked.append(cwd)
        return ["/usr/bin/env", "SSL_CERT_FILE=/nonexistent/launched.pem"]

    session = CliSession(load_profile("reference"), tmp_path / "run", launcher=launcher)
    shown = session.run("version")
    assert shown.exit_code == 0, shown.describe()
    assert shown.argv[0] == sys.executable and "/usr/bin/env" not in shown.argv
    broken = session.run("login", host="127.0.0.1:9", key="k" * 32)
    assert broken.exit_code != 0 and "launched.pem" in broken.output  # the launcher ran
    # It is asked each time, for the directory the CLI starts in.
    project = session.home / "project"
    project.mkdir()
    with session.working_directory(project):
        session.run("version")
    assert asked == [session.workdir, session.workdir, project.resolve()]


def test_every_profile_can_resolve_in_the_sandbox() -> None:
    from conformance.running.profiles import load_profile

    rack = load_profile("convox-rack")
    assert rack.missing(["login", "resolve"]) == ["resolve"]
    assert load_profile("reference").missing(["resolve"]) == ["resolve"]  # its seam is no sandbox
    assert rack.in_sandbox().missing(["login", "resolve"]) == []
    assert rack.in_sandbox().missing(["trust"]) == ["trust"]  # the CA is another matter
