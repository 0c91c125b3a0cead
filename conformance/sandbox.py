"""The network sandbox: a whole run inside a private network and mount namespace.

Why: a CLI can only be caught phoning home, or sending a key to a host it
was not given, if every name it resolves leads to the fakes. Inside
``unshare --net --mount`` only loopback exists, so nothing can leave the
machine, and private bind mounts of generated ``/etc/hosts``,
``/etc/resolv.conf`` and ``/etc/nsswitch.conf`` make every lookup a question
to the run's own DNS server (``fakes/dns.py``), which sends console.convox.com
to the fake Console and every other name to the egress guard. The real files
are never written: a bind mount in a private namespace changes only what the
processes inside see.

``convox-conformance run --network sandbox|host|auto`` decides here
(:func:`prepare`): ``auto`` uses the sandbox where it can be made and
otherwise runs on the host network, saying why in one line; ``sandbox`` that
cannot be made is a usage error. The run then re-executes itself as
``unshare ... python -m conformance.sandbox --mask DIR ... -- python -m
conformance run ...``; :func:`main` sets the namespace up (loopback up, name
files, the user's real credential directories masked by empty ones) and runs
the inner command. The plugin learns the mode from ``CONVOX_CONFORMANCE_NETWORK``,
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
from pathlib import Path

MODES = ("auto", "sandbox", "host")
ENV_MODE = "CONVOX_CONFORMANCE_NETWORK"
ENV_REASON = "CONVOX_CONFORMANCE_NETWORK_REASON"
SANDBOX, HOST = "sandbox", "host"
NOT_STARTED = "the run was not started by `convox-conformance run` (plain pytest)"

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


def why_not(backend: str = "inprocess") -> str | None:
    """Why no sandbox can be made here (one line), or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces need Linux, this is {sys.platform}"
    if backend != "inprocess":
        return f"the sandbox runs the in-process fakes only, not --backend {backend}"
    for tool in ("unshare", "mount", "sh"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not on PATH"
    for name in ("hosts", "resolv.conf"):
        if not Path("/etc", name).exists():
            return f"/etc/{name} does not exist, so it cannot be replaced by a private mount"
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
        return f"unshare {' '.join(flags)} could not run: {exc}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"unshare {' '.join(flags)} is not allowed here ({detail})"
    return None


def real_home() -> Path:
    """The suite user's home from the password database, whatever $HOME says."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def credential_dirs(home: Path) -> list[Path]:
    """The Convox credential places under `home` that exist (links count: they lead somewhere)."""
    return [home / rel for rel in CREDENTIAL_DIRS if os.path.lexists(home / rel)]


def mode_from_environment() -> tuple[str, str]:
    """(mode, why) as the harness sees it: the sandbox, or the host network and why."""
    if os.environ.get(ENV_MODE) == SANDBOX:
        return SANDBOX, ""
    return HOST, os.environ.get(ENV_REASON) or NOT_STARTED


def prepare(requested: str, backend: str, argv: Sequence[str]) -> int | None:
    """Decide the network for a run; an exit code when the run happened (or cannot), else None.

    None means "go on in this process": on the host network (the environment
    says so and why) or because this process already is the sandbox.
    """
    if os.environ.get(ENV_MODE) == SANDBOX:
        return None
    if requested == HOST:
        _set_host("--network host was given")
        return None
    reason = why_not(backend)
    if reason is not None:
        if requested == SANDBOX:
            print(f"convox-conformance: --network sandbox: cannot make a sandbox here: {reason}",
                  file=sys.stderr)
            return 2
        print(f"convox-conformance: network: host, no sandbox ({reason})", file=sys.stderr)
        _set_host(f"no network sandbox: {reason}")
        return None
    return reexec(list(argv))


def _set_host(reason: str) -> None:
    os.environ[ENV_MODE] = HOST
    os.environ[ENV_REASON] = reason


def reexec(argv: list[str], home: Path | None = None) -> int:
    """Run ``python -m conformance ARGV`` inside a fresh sandbox; its exit code."""
    masks = [arg for path in credential_dirs(home or real_home()) for arg in ("--mask", str(path))]
    command = ["unshare", *unshare_flags(), "--", sys.executable, "-m", "conformance.sandbox",
               *masks, "--", sys.executable, "-m", "conformance", *argv]
    env = {**os.environ, ENV_MODE: SANDBOX}
    env.pop(ENV_REASON, None)
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
    CLI invocation gets its world's resolv.conf on top (fakes/sandbox_net.py);
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
        prog="python -m conformance.sandbox",
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
