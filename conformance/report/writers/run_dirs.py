"""Where a run's reports go: ``<report-dir>/<run-id>/`` and ``<report-dir>/latest``.

``latest`` is a relative symlink so a whole reports tree can be moved or
uploaded as a CI artifact; where symlinks cannot be made (some Windows
setups, some file systems) it is a small text file holding the run
directory's name, and every reader here follows both forms.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

LATEST = "latest"
#: ``<when>-<profile>-<random>``; ids of older suites have whole seconds only.
_RUN_ID = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{6}))?Z-[A-Za-z0-9._-]+-[0-9a-f]{4}$")


def new_run_id(profile: str, now: datetime | None = None) -> str:
    """Sortable and unique: ``20250101T120000.123456Z-reference-1a2b``.

    Microseconds, because runs a script starts one after another share a
    second, and pruning must still know which one is newest.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", profile).strip("-") or "run"
    return f"{stamp}-{name}-{secrets.token_hex(2)}"


def make_run_dir(report_dir: Path, run_id: str) -> Path:
    run_dir = report_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


def point_latest(report_dir: Path, run_dir: Path) -> Path:
    """Point ``latest`` at ``run_dir``: a relative symlink, else a file with its name."""
    latest = report_dir / LATEST
    if latest.is_dir() and not latest.is_symlink():
        raise FileExistsError(f"{latest} is a real directory; not replacing it")
    temp = report_dir / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        os.symlink(run_dir.name, temp, target_is_directory=True)
    except (OSError, NotImplementedError):
        temp.write_text(run_dir.name + "\n", encoding="utf-8")
    os.replace(temp, latest)
    return latest


def prune(report_dir: Path, keep: int, current: Path) -> list[Path]:
    """Delete all but the ``keep`` newest run directories (0 keeps everything).

    A developer iterating on one check makes a run a minute; without a limit
    ``reports/`` grows by megabytes an hour. Only directories named like run
    ids are touched, and never the run just written.
    """
    if keep <= 0:
        return []
    runs = sorted((p for p in report_dir.iterdir()
                   if _RUN_ID.match(p.name) and p.is_dir() and not p.is_symlink()),
                  key=made_at)
    old = [p for p in runs[: max(len(runs) - keep, 0)] if p.resolve() != current.resolve()]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return old


def made_at(run_dir: Path) -> tuple[str, str, int]:
    """When a run directory was made: its id's time, then the time it was written.

    The name alone is not enough: after the time comes the profile name and a
    random suffix, which say nothing about which of two runs is newer.
    """
    found = _RUN_ID.match(run_dir.name)
    seconds, micros = (found.group(1), found.group(2) or "") if found else ("", "")
    try:
        written = run_dir.stat().st_mtime_ns
    except OSError:
        written = 0
    return seconds, micros, written


def resolve_run_dir(path: Path) -> Path:
    """A run directory from itself, a ``latest`` link or a ``latest`` file."""
    if path.is_dir():
        return path.resolve() if path.is_symlink() else path
    if path.is_file():
        name = path.read_text(encoding="utf-8").strip()
        target = Path(name) if Path(name).is_absolute() else path.parent / name
        if target.is_dir():
            return target
        raise FileNotFoundError(f"{path} points at {target}, which does not exist")
    raise FileNotFoundError(f"{path}: no such run directory")
