"""Find, name and kill what a CLI left running after it exited.

Real CLIs start helpers (an update check, a credential helper, a local
proxy); one that inherits the CLI's stdout keeps the harness's pipe open
after the CLI itself has exited. The CLI's exit code stands all the same;
the helpers are killed after a short grace period and their command lines
kept as evidence, so a report shows what was left behind instead of a false
timeout. Linux's ``/proc`` names them; without it the harness still kills
the process group and says it could not name its members.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

#: How long output pipes may stay open after the CLI itself exited.
GRACE_SECONDS = 0.5
#: Leftovers named per invocation, and characters kept of each command line.
MAX_LEFTOVERS = 20
MAX_COMMAND_LINE = 300

PROC = Path("/proc")


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists (a cheap signal-0 probe)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pipe_inodes(fds: list[int]) -> set[str]:
    """``pipe:[N]`` names of our read ends, as other processes' fd links show them."""
    names = set()
    for fd in fds:
        with contextlib.suppress(OSError):
            names.add(f"pipe:[{os.fstat(fd).st_ino}]")
    return names


def find(pgid: int, pipes: set[str]) -> list[int] | None:
    """Processes in the CLI's group or holding its pipes (None: no /proc to look in)."""
    if not PROC.is_dir():
        return None
    me = os.getpid()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        if _pgid(entry) == pgid or (pipes and _holds(entry, pipes)):
            found.append(pid)
    return sorted(found)


def command_line(pid: int) -> str:
    """What a process was started as (``cmdline``), clipped; its name if that is empty."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()[:4096]
        text = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
        if not text:
            text = "[" + (PROC / str(pid) / "comm").read_text(errors="replace").strip() + "]"
    except OSError:
        text = "(exited)"
    if len(text) > MAX_COMMAND_LINE:
        text = text[:MAX_COMMAND_LINE] + "..."
    return f"pid {pid}: {text}"


def collect_and_kill(pgid: int, pipes: set[str]) -> list[str]:
    """Name the leftovers, then kill them all; the names are the evidence."""
    pids = find(pgid, pipes)
    if pids is None:
        names = [f"process group {pgid} still had members (no /proc to name them)"]
    else:
        names = [command_line(pid) for pid in pids[:MAX_LEFTOVERS]]
        if len(pids) > MAX_LEFTOVERS:
            names.append(f"... and {len(pids) - MAX_LEFTOVERS} more")
    kill_group(pgid)
    for pid in pids or ():
        # A helper that left the group (setsid) but still holds our pipe.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return names


def kill_group(pgid: int) -> None:
    """Kill the CLI and everything it started (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _pgid(proc_dir: Path) -> int | None:
    try:
        stat = (proc_dir / "stat").read_text(errors="replace")
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        return int(stat[stat.rindex(")") + 2:].split()[2])
    except (OSError, ValueError, IndexError):
        return None


def _holds(proc_dir: Path, pipes: set[str]) -> bool:
    try:
        for fd in (proc_dir / "fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in pipes:
                    return True
    except OSError:
        return False
    return False
