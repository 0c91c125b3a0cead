"""The network sandbox: deciding on it, making it, what a CLI sees inside, leaving nothing.

The end-to-end tests make real namespaces (CI runs as root, where they
always can); elsewhere they are skipped with the reason, except under
``CI=true``, where a sandbox that cannot be made is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.network import sandbox
from tests.mutants import all_mutants
from tests.suite_support import require_sandbox

REPO = Path(__file__).resolve().parents[1]
REAL_FILES = ("/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(sandbox.ENV_MODE)}
    return {**base, "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def can_sandbox() -> None:
    require_sandbox()


@pytest.fixture
def untouched() -> Iterator[None]:
    """The real name files and this process's mounts, compared after the test."""
    before = {path: Path(path).read_bytes() for path in REAL_FILES if Path(path).exists()}
    mounts = Path("/proc/self/mountinfo").read_text()
    yield
    after = {path: Path(path).read_bytes() for path in REAL_FILES if Path(path).exists()}
    assert after == before, "a real name file changed"
    assert Path("/proc/self/mountinfo").read_text() == mounts, "a mount was left behind"


def profile_without_seam(tmp_path: Path) -> Path:
    """The reference profile with its resolve seam switched off."""
    text = (REPO / "conformance" / "profiles" / "reference.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("resolve_env")]
    path = tmp_path / "no-seam.toml"
    path.write_text("\n".join(lines).replace('name = "reference"', 'name = "no-seam"') + "\n")
    return path


def run_suite(tmp_path: Path, *args: str, **extra_env: str) -> tuple[subprocess.CompletedProcess,
                                                                      dict]:
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--no-color", "--report-dir", str(reports),
         *args],
        capture_output=True, text=True, cwd=tmp_path, env=env(**extra_env), check=False,
        timeout=600,
    )
    results_file = reports / "latest" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return done, results


def outcomes(results: dict) -> dict[str, tuple[str, str]]:
    return {rule: (check["outcome"], check.get("reason") or "")
            for check in results.get("checks", []) for rule in check["rules"]}


# -- deciding (no namespaces) --------------------------------------------------


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


# -- inside real namespaces ----------------------------------------------------


def inside(tmp_path: Path, script: str, *masks: Path) -> dict:
    """Run `script` (Python) in a fresh sandbox; it prints one JSON object."""
    path = tmp_path / "probe.py"
    path.write_text(textwrap.dedent(script))
    mask_args = [arg for mask in masks for arg in ("--mask", str(mask))]
    done = subprocess.run(
        ["unshare", *sandbox.unshare_flags(), "--", sys.executable, "-m",
         "conformance.network.sandbox",
         *mask_args, "--", sys.executable, str(path)],
        capture_output=True, text=True, env=env(), cwd=tmp_path, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_inside_only_loopback_generated_names_and_masked_credentials(
    can_sandbox, untouched, tmp_path: Path
) -> None:
    home = tmp_path / "stand-in-home"
    (home / ".convox").mkdir(parents=True)
    (home / ".convox" / "auth").write_text('{"console.convox.com": "real-key"}')
    (home / ".config" / "convox2").mkdir(parents=True)
    (home / ".config" / "convox2" / "auth").write_text('{"h": "real-key-2"}')
    seen = inside(tmp_path, f"""
        import json, os, socket, urllib.request
        home = {str(home)!r}
        out = {{
            "interfaces": [name for _, name in socket.if_nameindex()],
            "hosts": open("/etc/hosts").read(),
            "resolv": open("/etc/resolv.conf").read(),
            "convox": os.listdir(home + "/.convox"),
            "convox2": os.listdir(home + "/.config/convox2"),
        }}
        try:
            socket.create_connection(("1.1.1.1", 443), timeout=2)
            out["outside"] = "reached"
        except OSError as exc:
            out["outside"] = type(exc).__name__
        print(json.dumps(out))
    """, *sandbox.credential_dirs(home))
    assert seen["interfaces"] == ["lo"]
    assert seen["hosts"].startswith("127.0.0.1\tlocalhost")
    assert "console.convox.com" not in seen["hosts"]
    assert seen["resolv"].startswith("nameserver 127.0.0.1")
    assert seen["convox"] == [] and seen["convox2"] == []
    assert seen["outside"] != "reached"
    # Outside, the stand-in credentials are where they were.
    assert (home / ".convox" / "auth").read_text() == '{"console.convox.com": "real-key"}'


def test_curl_and_names_reach_the_fakes_and_are_journalled(
    can_sandbox, untouched, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have curl (.ci/run installs it)")
        pytest.skip("curl is not installed (.ci/run installs it)")
    seen = inside(tmp_path, """
        import json, subprocess
        from fakes.sandbox.addresses import SandboxedBackend
        with SandboxedBackend() as backend, backend.new_world("standard") as world:
            ca = str(backend.ca_bundle())
            key = world.user_key("alice@example.com")
            def curl(*args):
                done = subprocess.run([*world.launcher(), "curl", "-sS", "-m", "10", *args],
                                      capture_output=True, text=True)
                return [done.returncode, done.stdout, done.stderr]
            out = {
                "console": curl("--cacert", ca, "-u", "convox:" + key,
                                "https://console.convox.com/auth"),
                "plain": curl("-X", "POST", "-d", "event=login",
                              "http://api.segment.io/v1/track"),
                "tls": curl("--cacert", ca, "https://telemetry.example.com/ping"),
                "console_address": world.console_address,
                "guard_address": world.guard_address,
                "journal": [[e.server, e.method, e.host_header, e.address, e.path, e.body,
                             e.key_identity] for e in world.journal.entries()],
            }
        print(json.dumps(out))
    """)
    journal = seen["journal"]
    code, body, _ = seen["console"]
    assert code == 0 and json.loads(body)["id"]
    assert ["dns", "DNS", "console.convox.com", f"{seen['guard_address']}:53", "A", "",
            "empty"] in journal
    assert ["console", "GET", "console.convox.com", seen["console_address"], "/auth", "",
            "user:alice@example.com#1"] in journal
    plain = [e for e in journal if e[0] == "guard" and e[1] == "POST"]
    assert plain and plain[0][2] == "api.segment.io" and plain[0][4] == "/v1/track"
    assert plain[0][3] == f"{seen['guard_address']}:80"
    assert plain[0][5].startswith("POST /v1/track HTTP/1.1") and "event=login" in plain[0][5]
    assert seen["tls"][0] != 0  # the guard's certificate does not name the host
    assert ["guard", "TLS", "telemetry.example.com", f"{seen['guard_address']}:443", "", "",
            "empty"] in journal
    looked_up = {e[2] for e in journal if e[1] == "DNS"}
    assert {"console.convox.com", "api.segment.io", "telemetry.example.com"} <= looked_up


def test_the_suite_in_the_sandbox_with_two_workers(can_sandbox, untouched, tmp_path: Path) -> None:
    """No resolve seam: LOGIN-007, LOGIN-012 (with its unknown name), SECURITY-003 and
    SECURITY-008 apply and pass, under -n 2."""
    profile = profile_without_seam(tmp_path)
    names = ("LOGIN-007", "LOGIN-012", "SECURITY-003", "SECURITY-008")
    rules = [arg for rule in names for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, "--profile", str(profile), *rules, "--", "-n", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "network: sandbox" in done.stdout
    got = outcomes(results)
    assert {rule: got[rule][0] for rule in names} == dict.fromkeys(names, "passed")
    evidence = [e for check in results["checks"] for e in check["evidence"]["journal"]]
    assert any(e["server"] == "dns" and e["host_header"] == "console.convox.com"
               and e["invocation"] is not None for e in evidence)
    # LOGIN-012's name under .invalid was looked up, and got no address.
    login_012 = next(c for c in results["checks"] if "LOGIN-012" in c["rules"])
    unknown = [i for i in login_012["evidence"]["invocations"]
               if any("no-such-console.invalid" in arg for arg in i["argv"])]
    assert unknown and unknown[0]["exit_code"] == 1, login_012["evidence"]["invocations"]
    assert "no-such-console.invalid" in unknown[0]["stderr"]


def test_the_sandbox_alone_catches_a_cli_phoning_home(can_sandbox, tmp_path: Path) -> None:
    profile = profile_without_seam(tmp_path)
    mutant = all_mutants()["security-phones-home"]
    done, results = run_suite(tmp_path, "--profile", str(profile), "--cli", mutant.command(),
                              "--rule", "SECURITY-003")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    outcome, reason = outcomes(results)["SECURITY-003"]
    assert outcome == "failed"
    # Invocations 1 and 2 are version and a refused login (no report: it stores nothing);
    # the first accepted login phones home.
    assert "login (invocation 3) looked up api.segment.io and connected to it on 443" in (
        reason + done.stdout), reason


SANDBOX_RULES = ("LOGIN-007", "SECURITY-003", "SECURITY-008")


def test_without_a_sandbox_the_reference_is_not_conformant(untouched, tmp_path: Path) -> None:
    """PATH without unshare: the reference CLI, which passes everything else, is NOT CHECKED
    (exit 1), naming the three rules and the fix; its resolve seam does not stand in."""
    empty = tmp_path / "bin"
    empty.mkdir()
    rules = [arg for rule in ("LOGIN-001", *SANDBOX_RULES) for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, *rules, "--", "-k", "not test_model and not properties",
                              PATH=str(empty))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cause = "unshare (util-linux) is not on PATH"
    fix = "fix: install util-linux (apt-get, apk or dnf install util-linux)"
    line = (f"convox-conformance: network: host, no sandbox ({cause}); the rules that need the "
            f"sandbox are not checked; {fix}")
    assert done.stderr.count("convox-conformance: network: host, no sandbox") == 1, done.stderr
    assert line in done.stderr.splitlines()[0], done.stderr
    got = outcomes(results)
    assert got["LOGIN-001"][0] == "passed"
    assert {rule: got[rule][0] for rule in SANDBOX_RULES} == dict.fromkeys(SANDBOX_RULES,
                                                                           "not-checked")
    assert all(cause in got[rule][1] and fix in got[rule][1] for rule in SANDBOX_RULES)
    assert results["verdict"]["status"] == "not-checked"
    assert results["verdict"]["not_checked"] == list(SANDBOX_RULES)
    assert "CONFORMANT" not in done.stdout.replace("NOT CONFORMANT", "")
    verdict = next(x for x in done.stdout.splitlines() if x.startswith("verdict: "))
    assert verdict.startswith("verdict: NOT CHECKED, PARTIAL RUN (exit code 1")
    assert "3 not checked (LOGIN-007, SECURITY-003, SECURITY-008)" in verdict
    assert f"LOGIN-007, SECURITY-003, SECURITY-008 not checked: no network sandbox: {cause}; " \
        f"{fix}" in done.stdout
    must = results["summary"]["must"]
    assert [r["id"] for r in must["not_checked"]] == ["SECURITY-003", "SECURITY-008"]
    assert must["applicable"] == must["decided"] + 2

    asked, _ = run_suite(tmp_path, "--network", "sandbox", "--rule", "LOGIN-001",
                         PATH=str(empty))
    assert asked.returncode == 2
    assert asked.stderr.strip().splitlines() == [
        f"convox-conformance: --network sandbox: cannot make a sandbox here: {cause}; {fix}, "
        "or accept the loss with --network host"]


def test_the_host_network_on_request_gives_up_the_rules_and_says_so(tmp_path: Path) -> None:
    """--network host chosen: the gate passes (exit 0), as GATE PASSED, never CONFORMANT."""
    rules = [arg for rule in ("LOGIN-001", "SECURITY-003") for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, "--network", "host", *rules, "--", "-k",
                              "not test_model and not properties")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results["verdict"]["status"] == "gate-passed"
    assert results["verdict"]["not_checked"] == ["SECURITY-003"]
    assert "SECURITY-003 not checked: --network host was given" in done.stdout
    assert results["run"]["options"]["network"] == {
        "mode": "host", "why": "--network host was given", "fix": "", "chosen": True}


def test_real_credentials_are_masked_for_the_cli(can_sandbox, tmp_path: Path) -> None:
    """A CLI reading the (stand-in) real home finds nothing in the sandbox, and finds it without."""
    home = tmp_path / "stand-in-home"
    (home / ".convox").mkdir(parents=True)
    (home / ".convox" / "auth").write_text('{"console.convox.com": "MARKER-real-key"}')
    nosy = tmp_path / "nosy-cli"
    nosy.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys
        path = {str(home / ".convox" / "auth")!r}
        if os.path.exists(path):
            sys.exit("found the user's real credentials: " + open(path).read())
        sys.path.insert(0, {str(REPO)!r})
        from reference_cli.main import main
        sys.exit(main(sys.argv[1:]))
    """))
    nosy.chmod(0o755)
    args = ["run", "--no-color", "--no-reports", "--rule", "SECURITY-006", "--cli", str(nosy)]
    outside = subprocess.run([sys.executable, "-m", "conformance", *args, "--network", "host"],
                             capture_output=True, text=True, env=env(), cwd=tmp_path,
                             check=False, timeout=600)
    # The control: without the sandbox the nosy CLI does find them (and every login fails).
    assert "found the user's real credentials" in outside.stdout, outside.stdout[-3000:]
    assert " 1 passed" not in outside.stdout
    code = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from conformance.network import sandbox; "
         "sys.exit(sandbox.reexec(sys.argv[2:], home=Path(sys.argv[1])))",
         str(home), *args],
        capture_output=True, text=True, env=env(), cwd=tmp_path, check=False, timeout=600,
    )
    assert code.returncode == 0, code.stdout[-3000:] + code.stderr[-3000:]
    assert " 1 passed" in code.stdout and "found the user's real credentials" not in code.stdout


# -- the pieces the plugin wires together --------------------------------------


def test_a_launcher_runs_before_the_cli_but_is_never_shown(tmp_path: Path) -> None:
    from conformance.running.invoke import CliSession
    from conformance.running.profiles import load_profile

    session = CliSession(load_profile("reference"), tmp_path / "run",
                         launcher=["/usr/bin/env", "SSL_CERT_FILE=/nonexistent/launched.pem"])
    shown = session.run("version")
    assert shown.exit_code == 0, shown.describe()
    assert shown.argv[0] == sys.executable and "/usr/bin/env" not in shown.argv
    broken = session.run("login", host="127.0.0.1:9", key="k" * 32)
    assert broken.exit_code != 0 and "launched.pem" in broken.output  # the launcher ran


def test_every_profile_can_resolve_in_the_sandbox() -> None:
    from conformance.running.profiles import load_profile

    rack = load_profile("convox-rack")
    assert rack.missing(["login", "resolve"]) == ["resolve"]
    assert load_profile("reference").missing(["resolve"]) == ["resolve"]  # its seam is no sandbox
    assert rack.in_sandbox().missing(["login", "resolve"]) == []
    assert rack.in_sandbox().missing(["trust"]) == ["trust"]  # the CA is another matter


def test_an_ordinary_user_gets_the_sandbox_through_a_user_namespace(can_sandbox) -> None:
    """Run as nobody (when we are root and may switch): --user --map-root-user, same result."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become an ordinary user")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A checkout (or interpreter) in a private directory, as under a 0700 home, is out of
    # nobody's reach: that says nothing about the sandbox, so it is a skip, not a failure.
    reach = subprocess.run([*as_nobody, sys.executable, "-c", "import conformance.network.sandbox"],
                           capture_output=True, text=True, env=env(), cwd="/", check=False,
                           timeout=60)
    if reach.returncode != 0:
        pytest.skip("nobody cannot run this checkout's Python here (a private directory?): "
                    + (reach.stderr.strip().splitlines() or ["?"])[-1])
    probe = "import socket; print([n for _, n in socket.if_nameindex()], open('/etc/hosts').read())"
    done = subprocess.run(
        [*as_nobody, sys.executable, "-c",
         "import subprocess, sys; from conformance.network import sandbox; "
         "flags = sandbox.unshare_flags(); assert flags[:2] == ['--user', '--map-root-user']; "
         "reason = sandbox.why_not(); "
         "reason and sys.exit('NO SANDBOX: ' + str(reason)); "
         "sys.exit(subprocess.call(['unshare', *flags, '--', sys.executable, '-m', "
         f"'conformance.network.sandbox', '--', sys.executable, '-c', {probe!r}]))"],
        capture_output=True, text=True, env=env(), cwd="/", check=False, timeout=120,
    )
    if "NO SANDBOX: " in done.stderr or "Permission denied" in done.stderr:
        # e.g. this Python lives in root's home, which nobody may not enter: then the probe
        # itself must have said so, rather than a run failing later.
        pytest.skip(f"nobody cannot have the sandbox here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("['lo'] 127.0.0.1\tlocalhost")
