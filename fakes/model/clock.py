"""Simulated time for the fakes.

Key rolls take minutes on a real rack; tests must never sleep for them. The
clock reads ``time.time`` at every call (not at import), so freezegun's
``freeze_time`` controls it, and ``advance`` moves it forward on top of that
without touching the process's real clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    """Wall-clock time plus an offset that only tests and the admin API move."""

    def __init__(self, offset: float = 0.0, source: Callable[[], float] | None = None) -> None:
        # `source` lets a property-based test run on a fully frozen timeline
        # without patching the time module under hypothesis.
        self._offset = float(offset)
        self._source = source
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current simulated time in seconds since the epoch."""
        base = self._source() if self._source is not None else time.time()
        with self._lock:
            return base + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. past a rack's update window; time never runs backwards."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, not by {seconds} seconds")
        with self._lock:
            self._offset += float(seconds)

    @property
    def offset(self) -> float:
        """How far the simulated time runs ahead of its source."""
        with self._lock:
            return self._offset
