"""`convox-conformance serve` in a subprocess: the fresh world a replay runs against.

A replay holds no key, so it starts serve and asks its admin API for keys;
what serve prints (the world's keys among it) is read and dropped here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from conformance.replay.errors import ReplayError


@contextlib.contextmanager
def serve(world: str, *, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> Iterator[str]:
    """`convox-conformance serve --world WORLD` in a subprocess; yields its admin URL.

    What serve prints (the world's keys among it) is read and dropped, never shown.
    No ``CONVOX_*`` variable of the caller's reaches it.
    """
    base = os.environ if env is None else env
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.backends.serve", "--world", world],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={k: v for k, v in base.items() if not k.startswith("CONVOX_")},
    )
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:
        found = re.match(r"^Admin API:\s+(http://\S+)", line)
        url = found[1] if found else url
        if line.strip() == "Ready.":
            break
    try:
        if url is None:
            error = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
            raise ReplayError(f"serve did not start: {error[-1] if error else 'no output'}")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


__all__ = ["serve"]
