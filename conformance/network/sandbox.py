"""The network sandbox: a whole run inside a private network and mount namespace.

Why: a CLI can only be caught phoning home, or sending a key to a host it
was not given, if every name it resolves leads to the fakes. Inside
``unshare --net --mount`` only loopback exists, so nothing can leave the
machine, and private bind mounts of generated ``/etc/hosts``,
``/etc/resolv.conf`` and ``/etc/nsswitch.conf`` make every lookup a question
to the run's own DNS server (``fakes/sandbox/dns.py``), which sends console.convox.com
to the fake Console and every other name to the egress guard. The real files
are never written: a bind mount in a private namespace changes only what the
processes inside see.

``convox-conformance run --network sandbox|host|auto`` decides here
(:func:`prepare`): ``auto`` uses the sandbox where it can be made and
otherwise runs on the host network, saying in one line why (the cause, read
from the machine: no ``unshare``, AppArmor's user-namespace restriction, a
container without ``CAP_SYS_ADMIN``, not Linux) and how to fix it;
``sandbox`` that cannot be made is a usage error. Off the sandbox, the rules
that need it are *not checked* (a fact about the machine, not the CLI), and
only an explicit ``--network host`` lets such a run pass its gate. The run
then re-executes itself as ``unshare ... python -m conformance.network.sandbox
--mask DIR ... -- python -m conformance run ...``; :func:`main` sets the
namespace up (loopback up, name files, the user's real credential
directories masked by empty ones) and runs the inner command. The plugin
learns the network from ``CONVOX_CONFORMANCE_NETWORK*`` (:func:`from_environment`),
which only the harness sees: the runner scrubs ``CONVOX_*`` from every CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fakes.backends import DEFAULT_BACKEND

MODES = ("auto", "sandbox", "host")
ENV_MODE = "CONVOX_CONFORMANCE_NETWORK"
ENV_REASON = "CONVOX_CONFORMANCE_NETWORK_REASON"
ENV_FIX = "CONVOX_CONFORMANCE_NETWORK_FIX"
#: Set when the host network was asked for, not forced on the run by the machine.
ENV_CHOSEN = "CONVOX_CONFORMANCE_NETWORK_CHOSEN"
SANDBOX, HOST = "sandbox", "host"
NOT_STARTED = "the run was not started by `convox-conformance run` (plain pytest)"
HOST_GIVEN = "--network host was given"
#: What a run gives up without the sandbox, said wherever the host network is explained.
GIVES_UP = "the rules that need the sandbox are not checked"

#: Relative to the suite user's real home: where Convox CLIs keep credentials.
CREDENTIAL_DIRS = (".convox", ".config/convox", ".config/convox2")
NAME_FILES = ("hosts", "resolv.conf", "nsswitch.conf")
PROBE_TIMEOUT = 10.0

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sh22x"


def unshare_flags(euid: int | None = None) -> list[str]:
    """Root gets a network and mount namespace; anyone else a user namespace too."""
    euid = os.geteuid() if euid is None else euid
    flags = ["--net", "--mount", "--propagation", "private"]
    return flags if euid == 0 else ["--user", "--map-root-user", *flags]


@dataclass(frozen=True)
class Obstacle:
    """Why no sandbox can be made here, and what would make one: each a short phrase."""

    cause: str
    fix: str

    def __str__(self) -> str:
        return self.cause


HOST_FALLBACK = "or accept the loss with --network host"
ROOTLESS_FIX = "run the suite as root (sudo), which needs no user namespace"
TOOLS = {"unshare": "util-linux", "mount": "util-linux", "sh": "a POSIX shell"}


def why_not(backend: str = DEFAULT_BACKEND) -> Obstacle | None:
    """Why no sandbox can be made here, with the fix, or None when it can."""
    if not sys.platform.startswith("linux"):
        return Obstacle(f"network namespaces need Linux, this is {sys.platform}",
                        f"run the suite on Linux (a VM, a Linux CI runner), {HOST_FALLBACK}")
    if backend != DEFAULT_BACKEND:
        return Obstacle(f"the sandbox runs the in-process fakes only, not --backend {backend}",
                        f"drop --backend {backend}, {HOST_FALLBACK}")
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            install = f"install {package}"
            if package == "util-linux":
                install += " (apt-get, apk or dnf install util-linux)"
            return Obstacle(f"{tool} ({package}) is not on PATH", f"{install}, {HOST_FALLBACK}")
    for name in ("hosts", "resolv.conf"):
        if not Path("/etc", name).exists():
            return Obstacle(
                f"/etc/{name} does not exist, so it cannot be replaced by a private mount",
                f"create /etc/{name} (an empty file will do), {HOST_FALLBACK}")
    flags = unshare_flags()
    # The probe does what the run will: a bind mount, then this Python, inside the namespaces
    # (in a user namespace an interpreter under another user's home may not be reachable).
    probe = 'mount --bind /etc/hosts /etc/hosts && exec "$0" -c ""'
    try:
        done = subprocess.run(
            ["unshare", *flags, "--", "sh", "-c", probe, sys.executable],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Obstacle(f"unshare {' '.join(flags)} could not run: {exc}",
                        f"check that unshare works here, {HOST_FALLBACK}")
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return refused(detail, os.geteuid())
    return None


def refused(detail: str, euid: int, root: Path = Path("/")) -> Obstacle:
    """Why the kernel or the runtime refused the namespaces, read from the machine.

    ``root`` is where ``/proc`` and the container markers are read, so the
    tests can fake each machine. The first cause that holds wins: the
    settings a distribution sets on purpose, then a container, then the
    bare detail ``unshare`` printed.
    """
    flags = " ".join(unshare_flags(euid))
    said = f"unshare {flags}: {detail}"
    if sys.executable in detail:
        # The namespaces were made; the probe's last step, this Python, could not start.
        return Obstacle(
            f"the namespaces were made, but this Python ({sys.executable}) cannot run inside "
            f"them ({detail})",
            "install the suite and its Python where every user may read them (not under a "
            f"private home), or {ROOTLESS_FIX}")
    if euid != 0:
        if _sysctl(root, "kernel/apparmor_restrict_unprivileged_userns") == "1":
            return Obstacle(
                f"AppArmor refuses user namespaces to unprivileged users "
                f"(kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 23.10 and later; "
                f"{said})",
                "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 before the run "
                f"(see the README's CI section), or {ROOTLESS_FIX}")
        if _sysctl(root, "kernel/unprivileged_userns_clone") == "0":
            return Obstacle(
                f"the kernel refuses user namespaces to unprivileged users "
                f"(kernel.unprivileged_userns_clone=0; {said})",
                f"sudo sysctl -w kernel.unprivileged_userns_clone=1, or {ROOTLESS_FIX}")
        if _sysctl(root, "user/max_user_namespaces") == "0":
            return Obstacle(
                f"user namespaces are switched off (user.max_user_namespaces=0; {said})",
                f"sudo sysctl -w user.max_user_namespaces=15000, or {ROOTLESS_FIX}")
    container = in_container(root)
    # Root needs CAP_SYS_ADMIN for the namespaces; anyone else is refused by the runtime's
    # seccomp profile, whatever capabilities it holds.
    if container and (euid != 0 or not has_sys_admin(root)):
        lacking = " without CAP_SYS_ADMIN" if euid == 0 else ""
        return Obstacle(
            f"this is a container ({container}){lacking}, and its runtime refuses new "
            f"namespaces ({said})",
            "start the container with --cap-add SYS_ADMIN --security-opt seccomp=unconfined "
            "--security-opt apparmor=unconfined (or --privileged); on GitLab, set the "
            "runner's privileged = true (docs/ci/gitlab-ci.yml)")
    return Obstacle(f"{said} (namespaces are not allowed here)",
                    f"{ROOTLESS_FIX}, or allow user namespaces, {HOST_FALLBACK}")


def _sysctl(root: Path, name: str) -> str | None:
    try:
        return (root / "proc/sys" / name).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def in_container(root: Path = Path("/")) -> str | None:
    """The container runtime this process seems to run in (its own markers), or None."""
    for marker, runtime in ((".dockerenv", "Docker"), ("run/.containerenv", "Podman")):
        if (root / marker).exists():
            return runtime
    try:
        cgroup = (root / "proc/1/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for word, runtime in (("kubepods", "Kubernetes"), ("docker", "Docker"),
                          ("containerd", "containerd"), ("lxc", "LXC"), ("libpod", "Podman")):
        if word in cgroup:
            return runtime
    return None


_CAP_SYS_ADMIN = 21


def has_sys_admin(root: Path = Path("/")) -> bool:
    """Whether this process holds CAP_SYS_ADMIN (``CapEff`` of its status)."""
    try:
        status = (root / "proc/self/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            try:
                return bool(int(line.split(":", 1)[1].strip(), 16) >> _CAP_SYS_ADMIN & 1)
            except ValueError:
                return False
    return False


def real_home() -> Path:
    """The suite user's home from the password database, whatever $HOME says."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def credential_dirs(home: Path) -> list[Path]:
    """The Convox credential places under `home` that exist (links count: they lead somewhere)."""
    return [home / rel for rel in CREDENTIAL_DIRS if os.path.lexists(home / rel)]


@dataclass(frozen=True)
class Network:
    """The network a run has, as the harness sees it."""

    mode: str
    #: Why the host network: the option given, or the obstacle's cause.
    why: str = ""
    #: How to get the sandbox, when the machine stood in the way.
    fix: str = ""
    #: The host network was asked for (``--network host``, plain pytest), not forced.
    chosen: bool = False

    @property
    def sandboxed(self) -> bool:
        return self.mode == SANDBOX

    def explain(self) -> str:
        """``no network sandbox: CAUSE; fix: FIX`` or the choice that made it the host."""
        if self.sandboxed:
            return "the network sandbox"
        if self.chosen:
            return self.why
        return f"no network sandbox: {self.why}" + (f"; fix: {self.fix}" if self.fix else "")


def from_environment() -> Network:
    """The network as ``prepare`` left it in this process's environment."""
    if os.environ.get(ENV_MODE) == SANDBOX:
        return Network(SANDBOX)
    why = os.environ.get(ENV_REASON)
    if not why:
        return Network(HOST, NOT_STARTED, chosen=True)
    return Network(HOST, why, os.environ.get(ENV_FIX, ""),
                   chosen=os.environ.get(ENV_CHOSEN) == "1")




def prepare(requested: str, backend: str, argv: Sequence[str]) -> int | None:
    """Decide the network for a run; an exit code when the run happened (or cannot), else None.

    None means "go on in this process": on the host network (the environment
    says so and why) or because this process already is the sandbox.
    """
    if os.environ.get(ENV_MODE) == SANDBOX:
        return None
    if requested == HOST:
        _set_host(HOST_GIVEN, chosen=True)
        return None
    obstacle = why_not(backend)
    if obstacle is not None:
        if requested == SANDBOX:
            print(f"convox-conformance: --network sandbox: cannot make a sandbox here: "
                  f"{obstacle.cause}; fix: {obstacle.fix}", file=sys.stderr)
            return 2
        print(f"convox-conformance: network: host, no sandbox ({obstacle.cause}); {GIVES_UP}; "
              f"fix: {obstacle.fix}", file=sys.stderr)
        _set_host(obstacle.cause, fix=obstacle.fix)
        return None
    return reexec(list(argv))


def _set_host(reason: str, fix: str = "", chosen: bool = False) -> None:
    os.environ[ENV_MODE] = HOST
    os.environ[ENV_REASON] = reason
    os.environ[ENV_FIX] = fix
    os.environ[ENV_CHOSEN] = "1" if chosen else ""


def reexec(argv: list[str], home: Path | None = None) -> int:
    """Run ``python -m conformance ARGV`` inside a fresh sandbox; its exit code."""
    masks = [arg for path in credential_dirs(home or real_home()) for arg in ("--mask", str(path))]
    command = ["unshare", *unshare_flags(), "--", sys.executable, "-m",
               "conformance.network.sandbox",
               *masks, "--", sys.executable, "-m", "conformance", *argv]
    env = {**os.environ, ENV_MODE: SANDBOX}
    for name in (ENV_REASON, ENV_FIX, ENV_CHOSEN):
        env.pop(name, None)
    process = subprocess.Popen(command, env=env)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue  # the run inside got the same Ctrl-C and reports it itself


# -- inside the namespaces ---------------------------------------------------


def loopback_up() -> None:
    """Bring ``lo`` up with one ioctl, so no ``ip`` tool is needed."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def name_files() -> dict[str, str]:
    """The sandbox's /etc/hosts, resolv.conf and nsswitch.conf.

    Only loopback names are local (the machine's own name too, since some
    runtimes look it up at start); everything else is a DNS question. Each
    CLI invocation gets its world's resolv.conf on top (fakes/sandbox/addresses.py);
    this one serves the harness, which resolves nothing, so nobody answers it.
    """
    hostname = socket.gethostname()
    return {
        "hosts": f"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost\n",
        "resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        "nsswitch.conf": "hosts: files dns\n",
    }


def bind(source: Path, target: Path) -> None:
    done = subprocess.run(["mount", "--bind", str(source), str(target)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SandboxError(f"cannot mount over {target}: {done.stderr.strip()}")


class SandboxError(Exception):
    """The namespaces exist but could not be set up; ``str()`` is one line."""


def enter(masks: Sequence[Path], workdir: Path) -> None:
    """Set up the namespace this process is in: loopback, name files, masked credentials."""
    loopback_up()
    for name, text in name_files().items():
        target = Path("/etc", name)
        if name == "nsswitch.conf" and not target.exists():
            continue  # a libc without NSS (musl) reads hosts and resolv.conf directly
        source = workdir / name
        source.write_text(text, encoding="utf-8")
        bind(source, target)
    empty_dir = workdir / "empty"
    empty_dir.mkdir(mode=0o500)
    empty_file = workdir / "empty-file"
    empty_file.write_bytes(b"")
    for mask in masks:
        bind(empty_dir if mask.is_dir() else empty_file, mask)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.network.sandbox",
        description="Set up the network sandbox this process was started in, then run COMMAND.",
    )
    parser.add_argument("--mask", action="append", default=[], type=Path,
                        help="hide this path behind an empty directory (repeatable)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    workdir = Path(tempfile.mkdtemp(prefix="convox-conformance-sandbox-"))
    try:
        try:
            enter(args.mask, workdir)
        except (SandboxError, OSError) as exc:
            print(f"convox-conformance: network sandbox: {exc}", file=sys.stderr)
            return 3
        process = subprocess.Popen(command)
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                continue
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir)


if __name__ == "__main__":
    sys.exit(main())
