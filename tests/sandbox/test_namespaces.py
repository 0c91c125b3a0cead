"""Inside real network namespaces: what a CLI sees there, and what reaches the fakes.

The tests make real namespaces (CI runs as root, where they always can);
elsewhere they are skipped with the reason, except under ``CI=true``, where a
sandbox that cannot be made is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.network import sandbox
from tests.sandbox.support import env


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
        from pathlib import Path
        from fakes.sandbox.addresses import SandboxedBackend
        with SandboxedBackend() as backend, backend.new_world("standard") as world:
            ca = str(backend.ca_bundle())
            key = world.user_key("alice@example.com")
            def curl(*args):
                done = subprocess.run([*world.launcher(Path.cwd()), "curl", "-sS", "-m", "10",
                                       *args],
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


@pytest.mark.parametrize("keep", [True, False], ids=["kept-namespace", "per-invocation"])
def test_each_invocation_resolves_in_its_world_where_it_was_started_and_keeps_no_mount(
    can_sandbox, tmp_path: Path, keep: bool
) -> None:
    """Two worlds at once: a command started through each world's launcher sees that
    world's resolver and its own working directory; a mount it makes dies with it; and
    once the network stops, no mount, file or process of its slots is left."""
    seen = inside(tmp_path, f"""
        import json, os, shutil, subprocess, tempfile
        from pathlib import Path
        from fakes.sandbox.addresses import SandboxedBackend
        from fakes.sandbox.resolv_mounts import nsenter_moves_inside

        # A temporary directory of this test's own: other runs may make theirs meanwhile.
        tempfile.tempdir = str(Path("tmp").resolve())
        os.mkdir(tempfile.tempdir)

        def ours():
            return sorted(p for p in os.listdir(tempfile.gettempdir())
                          if p.startswith("convox-conformance-net-"))

        def mounts():
            return [line for line in open("/proc/self/mountinfo")
                    if "convox-conformance-net-" in line]

        def holders():
            # This process's own: other runs on the machine may hold theirs (no pid namespace).
            found = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    argv = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
                    status = open(f"/proc/{{pid}}/status").read()
                except OSError:
                    continue
                if (b"convox-sandbox-resolver" in argv
                        and f"\\nPPid:\\t{{os.getpid()}}\\n" in status):
                    found.append(pid)
            return found

        before = ours()
        work = Path.cwd() / "a work dir"
        work.mkdir()
        (work / "own.conf").write_text("nameserver 192.0.2.1\\n")
        out = {{}}
        with SandboxedBackend(keep_namespaces={keep!r}) as backend:
            with backend.new_world("standard") as one, backend.new_world("standard") as two:
                def run(world, script):
                    argv = [*world.launcher(work), "sh", "-c", script]
                    done = subprocess.run(argv, capture_output=True, text=True, cwd="/")
                    return [done.returncode, done.stdout, done.stderr, argv[0]]
                out["one"] = run(one, "pwd; cat /etc/resolv.conf")
                out["two"] = run(two, "pwd; cat /etc/resolv.conf")
                out["own_mount"] = run(one, "mount --bind own.conf /etc/resolv.conf && "
                                            "cat /etc/resolv.conf")
                out["after_own_mount"] = run(one, "cat /etc/resolv.conf")
                out["guards"] = [one.guard_address, two.guard_address]
                running = holders()
                out["holders_while_running"] = len(running)
        out["left_dirs"] = [d for d in ours() if d not in before]
        out["left_mounts"] = mounts()
        out["left_holders"] = [pid for pid in running if os.path.exists(f"/proc/{{pid}}")]
        out["can_keep"] = bool(shutil.which("nsenter")) and nsenter_moves_inside(
            shutil.which("nsenter"))
        print(json.dumps(out))
    """)
    work = str(tmp_path / "a work dir")
    guard_one, guard_two = seen["guards"]
    assert guard_one != guard_two
    for name, guard in (("one", guard_one), ("two", guard_two)):
        code, stdout, stderr, _ = seen[name]
        assert code == 0, stderr
        assert stdout.splitlines()[0] == work  # started where the session said, not in /
        assert f"nameserver {guard}" in stdout, stdout
    code, stdout, stderr, _ = seen["own_mount"]
    assert code == 0 and "192.0.2.1" in stdout, stderr
    assert f"nameserver {guard_one}" in seen["after_own_mount"][1]  # the mount died with it
    kept = keep and seen["can_keep"]
    assert seen["one"][3].endswith("nsenter") == kept
    assert seen["holders_while_running"] == (2 if kept else 0)  # one per slot
    assert seen["left_dirs"] == [] and seen["left_mounts"] == [] and seen["left_holders"] == []


def test_a_kept_namespace_ends_with_the_process_that_kept_it(can_sandbox, tmp_path: Path) -> None:
    """A worker killed outright leaves no holder behind: its pipe closes, the holder ends."""
    seen = inside(tmp_path, """
        import json, os, signal, subprocess, sys, time
        from pathlib import Path
        resolv = Path("resolv.conf")
        resolv.write_text("nameserver 127.0.0.2\\n")
        worker = subprocess.Popen([sys.executable, "-c", (
            "import sys, time\\n"
            "from pathlib import Path\\n"
            "from fakes.sandbox.resolv_mounts import ResolvMounts\\n"
            "kept = ResolvMounts().keep(Path(sys.argv[1]))\\n"
            "print(kept.path if kept else 'none', flush=True)\\n"
            "time.sleep(60)\\n"), str(resolv.resolve())], stdout=subprocess.PIPE, text=True)
        path = worker.stdout.readline().strip()
        holder = path.split("/")[2] if path != "none" else None
        alive_before = holder is not None and os.path.exists(f"/proc/{holder}")
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 10
        while holder and os.path.exists(f"/proc/{holder}") and time.monotonic() < deadline:
            time.sleep(0.05)
        print(json.dumps({"path": path, "alive_before": alive_before,
                          "alive_after": bool(holder) and os.path.exists(f"/proc/{holder}")}))
    """)
    if seen["path"] == "none":
        pytest.skip("this nsenter cannot keep a namespace (util-linux before 2.38)")
    assert seen["alive_before"] and not seen["alive_after"]


def test_a_slot_whose_holder_is_gone_goes_back_to_a_namespace_per_invocation(
    can_sandbox, tmp_path: Path
) -> None:
    """Something kills the holder mid-run: the slot's CLIs still get its resolver."""
    seen = inside(tmp_path, """
        import json, os, signal, subprocess, time
        from pathlib import Path
        from fakes.sandbox.resolv_mounts import ResolvMounts
        resolv = Path("resolv.conf").resolve()
        resolv.write_text("nameserver 127.0.0.2\\n")
        mounts = ResolvMounts()
        kept = mounts.keep(resolv)
        out = {"kept": kept is not None}
        if kept is not None:
            os.kill(int(kept.path.split("/")[2]), signal.SIGKILL)
            deadline = time.monotonic() + 10
            while kept.alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            argv = [*mounts.prefix(resolv, kept, Path.cwd()), "head", "-1", "/etc/resolv.conf"]
            done = subprocess.run(argv, capture_output=True, text=True, cwd="/")
            out.update(launcher=os.path.basename(argv[0]), code=done.returncode,
                       stdout=done.stdout, stderr=done.stderr)
            kept.release()
        print(json.dumps(out))
    """)
    if not seen["kept"]:
        pytest.skip("this nsenter cannot keep a namespace (util-linux before 2.38)")
    assert seen["launcher"] == "unshare"
    assert seen["code"] == 0 and seen["stdout"] == "nameserver 127.0.0.2\n", seen["stderr"]


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
