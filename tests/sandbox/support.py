"""What the sandbox tests share: the environment their subprocesses get, and a host left as found.

The tests that make real namespaces start the suite or a probe in a subprocess;
each must see this checkout and no sandbox decision inherited from the test run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.network import sandbox

REPO = Path(__file__).resolve().parents[2]
REAL_FILES = ("/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf")


def env(**extra: str) -> dict[str, str]:
    """This environment without a sandbox decision, on this checkout, plus ``extra``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(sandbox.ENV_MODE)}
    return {**base, "PYTHONPATH": str(REPO), **extra}


@contextmanager
def host_left_untouched() -> Iterator[None]:
    """The real name files and this process's mounts, compared after the block."""
    before = {path: Path(path).read_bytes() for path in REAL_FILES if Path(path).exists()}
    mounts = Path("/proc/self/mountinfo").read_text()
    yield
    after = {path: Path(path).read_bytes() for path in REAL_FILES if Path(path).exists()}
    assert after == before, "a real name file changed"
    assert Path("/proc/self/mountinfo").read_text() == mounts, "a mount was left behind"
