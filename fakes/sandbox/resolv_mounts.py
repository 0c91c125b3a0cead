"""How each CLI invocation in the sandbox gets its own world's ``/etc/resolv.conf``.

Every invocation must see the DNS address of its world's slot, and nothing a
CLI mounts may outlive it: each runs in a mount namespace of its own. There
are two ways to give it one, with the same result for the CLI:

* **kept** (util-linux 2.38 or later, whose ``nsenter`` has ``--wdns``): once
  per slot, a small holder process is started in a mount namespace with the
  slot's resolv.conf bound over ``/etc/resolv.conf``. An invocation enters
  that namespace with ``nsenter``, moves to its working directory there, and
  takes a private copy with ``unshare --mount``: two small programs before
  the CLI. The holder reads a pipe from the process that started it and ends
  when the pipe closes, so it cannot outlive the run, even one killed. (A
  namespace kept by a bind mount of its file, ``unshare --mount=FILE``, was
  tried first: making one failed now and then with EINVAL.)
* **per invocation** (older util-linux, or no holder): ``unshare --mount``,
  then a shell that runs ``mount --bind`` and execs the CLI. That is three
  programs and a mount per invocation (``tox -e bench`` measures the way in
  use: ``sandbox_per_invocation_ms_median``).

Either way the CLI keeps the pid, session and terminal the runner gave it
(every step execs the next).
"""

from __future__ import annotations

import select
import shutil
import subprocess
from pathlib import Path

#: Run per CLI invocation on the per-invocation way: a private mount of the world's
#: resolv.conf, into the CLI's directory, then the CLI itself.
LAUNCH_SCRIPT = 'mount --bind "$1" /etc/resolv.conf && cd "$2" && shift 2 && exec "$@"'
#: The holder of a kept namespace: the mount, one line to say it is there, then a wait
#: for the end of its input (the shell stays, so its name stays in the process list).
HOLD_SCRIPT = 'mount --bind "$1" /etc/resolv.conf && echo ready && read -r _'
READY_SECONDS = 10.0
REQUIRED = ("unshare", "sh", "mount")


def nsenter_moves_inside(nsenter: str) -> bool:
    """Whether this ``nsenter`` can set the working directory after entering (``--wdns``).

    Without it a CLI entering a kept namespace would start in ``/``, or (``--wd``)
    in a directory of the namespace it left, where ``getcwd`` fails.
    """
    try:
        done = subprocess.run([nsenter, "--help"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--wdns" in done.stdout


class KeptNamespace:
    """A mount namespace with one resolv.conf mounted, alive while its holder runs."""

    def __init__(self, holder: subprocess.Popen[bytes], nsenter: str) -> None:
        self._holder = holder
        #: The nsenter that can enter it (one with --wdns).
        self.nsenter = nsenter

    @property
    def path(self) -> str:
        return f"/proc/{self._holder.pid}/ns/mnt"

    def alive(self) -> bool:
        return self._holder.poll() is None

    def release(self) -> None:
        """End the holder: it reads its input to the end, then exits."""
        if self._holder.stdin is not None:
            self._holder.stdin.close()
        try:
            self._holder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._holder.kill()
            self._holder.wait()
        if self._holder.stdout is not None:
            self._holder.stdout.close()


class ResolvMounts:
    """Mount namespaces for the slots of one sandbox network, and the argv prefix into them."""

    def __init__(self, keep: bool = True) -> None:
        tools = {name: shutil.which(name) for name in (*REQUIRED, "nsenter")}
        missing = [name for name in REQUIRED if tools[name] is None]
        if missing:
            raise RuntimeError(f"the sandbox needs {', '.join(missing)} on PATH")
        self._unshare, self._sh, self._mount = (str(tools[name]) for name in REQUIRED)
        nsenter = tools["nsenter"]
        #: Set when namespaces can be kept: nsenter exists and has --wdns.
        self._nsenter = nsenter if keep and nsenter and nsenter_moves_inside(nsenter) else None

    def keep(self, resolv: Path) -> KeptNamespace | None:
        """A namespace with `resolv` mounted, kept by a holder process; or None.

        None means the per-invocation way: this machine's nsenter cannot enter
        one, or the holder did not say it was ready.
        """
        if self._nsenter is None:
            return None
        # A session of its own: a Ctrl-C meant for the run does not end the holder first.
        holder = subprocess.Popen(
            [self._unshare, "--mount", "--propagation", "private", "--",
             self._sh, "-c", HOLD_SCRIPT, "convox-sandbox-resolver", str(resolv)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        kept = KeptNamespace(holder, self._nsenter)
        assert holder.stdout is not None
        ready, _, _ = select.select([holder.stdout], [], [], READY_SECONDS)
        if not ready or holder.stdout.readline() != b"ready\n":
            kept.release()
            return None
        return kept

    def prefix(self, resolv: Path, kept: KeptNamespace | None, cwd: Path) -> list[str]:
        """The argv prefix that runs a CLI in `cwd`, seeing `resolv` as /etc/resolv.conf."""
        if kept is not None and kept.alive():
            return [kept.nsenter, f"--mount={kept.path}", f"--wdns={cwd}", "--",
                    self._unshare, "--mount", "--propagation", "private", "--"]
        return [self._unshare, "--mount", "--propagation", "private", "--",
                self._sh, "-c", LAUNCH_SCRIPT, "convox-sandbox", str(resolv), str(cwd)]
