"""Read a CLI's output while it runs, until the CLI itself has exited.

``communicate()`` waits for the output pipes to close, which a helper that
inherited them (an update check, a credential helper) may never do: the
CLI's own clean exit would be reported as a timeout. Here the CLI's exit is
what counts: after it, the pipes get a short grace period, then whatever
still holds them is named and killed (``conformance.running.stray_processes``). Output
goes into bounded captures as it arrives, so memory does not grow with it.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from conformance.running import stray_processes as leftovers
from conformance.running.capture import BoundedCapture

CHUNK = 64 * 1024
#: How often the CLI's exit is looked at while its pipes stay open.
POLL_SECONDS = 0.05


@dataclass
class Ended:
    """How an invocation ended: whether the CLI timed out, and what it left behind."""

    timed_out: bool
    leftovers: list[str] = field(default_factory=list)


def pump(
    process: subprocess.Popen[bytes],
    streams: Mapping[int, BoundedCapture],
    deadline: float,
    *,
    on_chunk: Callable[[int, bytes], None] | None = None,
    terminals: set[str] | None = None,
) -> Ended:
    """Feed ``streams`` (fd -> capture) until the CLI exits and its pipes close.

    The caller closes the fds. ``deadline`` is on the ``time.monotonic()``
    clock and applies to the CLI process only; ``terminals`` names a pty the
    CLI was given, whose holders count as leftovers like a pipe's.
    """
    holders = leftovers.pipe_inodes(list(streams)) | (terminals or set())
    open_fds = list(streams)
    exited_at: float | None = None
    timed_out = False
    while True:
        now = time.monotonic()
        if exited_at is None and process.poll() is not None:
            exited_at = now
        if exited_at is not None and (not open_fds or now >= exited_at + leftovers.GRACE_SECONDS):
            break
        if exited_at is None and now >= deadline:
            timed_out = True
            break
        wake = deadline if exited_at is None else exited_at + leftovers.GRACE_SECONDS
        if not open_fds:  # the CLI closed its output but runs on
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(wake - now, 0))
            continue
        _read(open_fds, streams, min(wake - now, POLL_SECONDS), on_chunk)
    found: list[str] = []
    if timed_out:
        found = [name for name in leftovers.collect_and_kill(process.pid, holders)
                 if not name.startswith(f"pid {process.pid}:")]
        process.wait()
    else:
        assert exited_at is not None
        # A helper that let go of our pipes gets the same grace to finish.
        while not open_fds and leftovers.group_alive(process.pid) and (
                time.monotonic() < exited_at + leftovers.GRACE_SECONDS):
            time.sleep(POLL_SECONDS / 5)
        if open_fds or leftovers.group_alive(process.pid):
            found = leftovers.collect_and_kill(process.pid, holders)
    # What the killed processes wrote before dying is still the CLI's output.
    until = time.monotonic() + leftovers.GRACE_SECONDS
    while open_fds and time.monotonic() < until:
        _read(open_fds, streams, until - time.monotonic(), on_chunk=None)
    return Ended(timed_out, found)


def _read(
    open_fds: list[int],
    streams: Mapping[int, BoundedCapture],
    wait: float,
    on_chunk: Callable[[int, bytes], None] | None,
) -> None:
    ready, _, _ = select.select(open_fds, [], [], max(wait, 0))
    for fd in ready:
        try:
            chunk = os.read(fd, CHUNK)
        except OSError:  # EIO: every holder of the pty closed it
            chunk = b""
        if not chunk:
            open_fds.remove(fd)
            continue
        streams[fd].feed(chunk)
        if on_chunk is not None:
            on_chunk(fd, chunk)
