"""How each CLI invocation in the sandbox gets its own world's ``/etc/resolv.conf``.

Every invocation must see the DNS address of its world's slot, and nothing a
CLI mounts may outlive it: each runs in a mount namespace of its own. There
are two ways to give it one, with the same result for the CLI:

* **kept** (util-linux 2.38 or later, whose ``nsenter`` has ``--wdns``): once
  per slot, a mount namespace with the slot's resolv.conf bound over
  ``/etc/resolv.conf`` is made and kept open by a bind mount of its namespace
  file. An invocation enters it with ``nsenter``, moves to its working
  directory there, and takes a private copy with ``unshare --mount``. That is
  two small programs before the CLI;
* **per invocation** (older util-linux, or a namespace that cannot be kept):
  ``unshare --mount``, then a shell that runs ``mount --bind`` and execs the
  CLI. That is three programs and a mount per invocation (``tox -e bench``
  measures the way in use: ``sandbox_per_invocation_ms_median``).

Either way the CLI keeps the pid, session and terminal the runner gave it
(every step execs the next).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: Run per CLI invocation on the per-invocation way: a private mount of the world's
#: resolv.conf, into the CLI's directory, then the CLI itself.
LAUNCH_SCRIPT = 'mount --bind "$1" /etc/resolv.conf && cd "$2" && shift 2 && exec "$@"'
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


class ResolvMounts:
    """Mount namespaces for the slots of one sandbox network, and the argv prefix into them."""

    def __init__(self, keep: bool = True) -> None:
        tools = {name: shutil.which(name) for name in (*REQUIRED, "nsenter", "umount")}
        missing = [name for name in REQUIRED if tools[name] is None]
        if missing:
            raise RuntimeError(f"the sandbox needs {', '.join(missing)} on PATH")
        self._unshare, self._sh, self._mount = (str(tools[name]) for name in REQUIRED)
        nsenter, umount = tools["nsenter"], tools["umount"]
        #: Set when namespaces can be kept: both tools exist and nsenter has --wdns.
        self._nsenter: str | None = None
        self._umount = umount
        if keep and nsenter is not None and umount is not None and nsenter_moves_inside(nsenter):
            self._nsenter = nsenter

    def keep(self, resolv: Path) -> Path | None:
        """Make a namespace with `resolv` mounted, kept open by a file beside it; or None.

        None means the per-invocation way: this machine's tools cannot keep
        one, or keeping it failed (the file's own mount must not be shared,
        which the sandbox's private propagation sees to).
        """
        if self._nsenter is None:
            return None
        handle = resolv.with_suffix(".mnt")
        handle.touch()
        done = subprocess.run(
            [self._unshare, f"--mount={handle}", "--propagation", "private", "--",
             self._mount, "--bind", str(resolv), "/etc/resolv.conf"],
            capture_output=True, check=False)
        if done.returncode != 0:
            handle.unlink(missing_ok=True)
            return None
        return handle

    def prefix(self, resolv: Path, kept: Path | None, cwd: Path) -> list[str]:
        """The argv prefix that runs a CLI in `cwd`, seeing `resolv` as /etc/resolv.conf."""
        if kept is not None and self._nsenter is not None:
            return [self._nsenter, f"--mount={kept}", f"--wdns={cwd}", "--",
                    self._unshare, "--mount", "--propagation", "private", "--"]
        return [self._unshare, "--mount", "--propagation", "private", "--",
                self._sh, "-c", LAUNCH_SCRIPT, "convox-sandbox", str(resolv), str(cwd)]

    def release(self, kept: Path) -> None:
        """Let a kept namespace go: once its file is unmounted, nothing holds it."""
        if self._umount is not None:
            subprocess.run([self._umount, str(kept)], capture_output=True, check=False)
        kept.unlink(missing_ok=True)
