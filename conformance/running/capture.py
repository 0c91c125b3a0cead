"""Keep a bounded head and tail of what a CLI prints, however much it prints.

The CLI under test is untrusted: one that prints hundreds of megabytes must
not grow the harness's memory or the reports with it. A capture keeps the
first and the last part of a stream and counts what it dropped in between,
so a check still sees how the output starts and how it ends, and says that
it saw only part of it. Known keys are looked for in all of the stream: one
printed only in the dropped middle is named in the marker (and so redacted
like any other and seen by a check that looks for it), so a flood cannot hide
a printed key from the checks.

Keys are redacted later, on the text kept; a key cut in two by the dropped
middle would escape that, so the run of non-blank characters touching each
side of the cut is dropped too (keys are never longer than ``SEAM_MARGIN``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_MAX_OUTPUT = 1 << 20
#: What a session keeps of each stream once the check has its invocation, and
#: what reports show: a check runs hundreds of invocations, each may flood.
RETAINED_OUTPUT = 64 * 1024
#: Smaller limits would leave too little to judge output by.
MIN_MAX_OUTPUT = 1024
#: At most this many bytes next to a cut are dropped to avoid half a key.
SEAM_MARGIN = 512

_SIZE = re.compile(r"\s*(\d+)\s*([kKmM]i?[bB]?|[bB])?\s*")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20}


def parse_size(text: str) -> int:
    """``--max-output`` values: bytes, or with a K/M (KiB/MiB) suffix."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size in bytes: {text!r} (e.g. 1048576, 512K, 4M)")
    value = int(match.group(1)) * _UNITS[(match.group(2) or "")[:1].lower()]
    if value < MIN_MAX_OUTPUT:
        raise ValueError(f"{text!r} is below the minimum of {MIN_MAX_OUTPUT} bytes")
    return value


def marker(dropped: int, hidden: list[str] | None = None) -> str:
    """The line put where bytes were dropped; ``hidden``: known keys they contained."""
    also = f"; they contained {', '.join(hidden)}" if hidden else ""
    return f"\n[... {dropped} bytes of output dropped (--max-output){also} ...]\n"


@dataclass(frozen=True)
class Captured:
    """What was kept of one stream: the text (with a marker where bytes were dropped)."""

    text: str
    dropped: int = 0
    total: int = 0


class BoundedCapture:
    """The first and last ``limit / 2`` bytes of a stream, in memory bounded by ``limit``."""

    def __init__(self, limit: int = DEFAULT_MAX_OUTPUT, watch: Iterable[str] = ()) -> None:
        self.watch = sorted({s.encode() for s in watch if s}, key=len, reverse=True)
        self.seen: set[bytes] = set()
        self._overlap = b""
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.watch:
            window = self._overlap + chunk
            self.seen.update(s for s in self.watch if s in window)
            self._overlap = window[-(len(self.watch[0]) - 1):] if len(self.watch[0]) > 1 else b""
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        # Whole chunks only: memory stays within limit plus one chunk.
        while self.tail and self.tail_size - len(self.tail[0]) >= self.tail_limit:
            self.tail_size -= len(self.tail.popleft())

    def result(self, already_dropped: int = 0) -> Captured:
        """The kept text; ``already_dropped``: bytes cut before this capture saw the stream."""
        tail = b"".join(self.tail)[-self.tail_limit:] if self.tail else b""
        kept = len(self.head) + len(tail)
        if kept == self.total:
            return Captured(bytes(self.head + tail).decode("utf-8", "replace"), 0, self.total)
        head = _trim_end(bytes(self.head))
        tail = _trim_start(tail)
        dropped = self.total - len(head) - len(tail) + already_dropped
        hidden = [s.decode() for s in sorted(self.seen) if s not in head and s not in tail]
        text = (head.decode("utf-8", "replace") + marker(dropped, hidden)
                + tail.decode("utf-8", "replace"))
        return Captured(text, dropped, self.total)


def capture(data: bytes, limit: int = DEFAULT_MAX_OUTPUT, *, already_dropped: int = 0) -> Captured:
    """All of ``data`` through a :class:`BoundedCapture` (for text already in memory)."""
    bounded = BoundedCapture(limit)
    bounded.feed(data)
    return bounded.result(already_dropped)


#: The marker as :func:`marker` writes it, to find it in text clipped again.
MARKER = re.compile(r"\n\[\.\.\. \d+ bytes of output dropped \(--max-output\)[^\n]*\]\n")


def reclip(text: str, dropped: int, limit: int, watch: Iterable[str] = ()) -> Captured:
    """Text a capture kept (``dropped`` bytes were cut from it), clipped again to ``limit``.

    ``dropped`` of the result stays the stream's true count: when this cut
    swallows the earlier marker, the marker's own bytes are not counted as
    output. Keys in ``watch`` that only the newly dropped part held (an
    earlier marker's names included) are named in the new marker.
    """
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return Captured(text, dropped, len(data))
    bounded = BoundedCapture(limit, watch)
    bounded.feed(data)
    kept = bounded.result(dropped)
    old = MARKER.search(text)
    if old and old.group(0) not in kept.text:
        kept = bounded.result(dropped - len(old.group(0).encode()))
    return kept


def trim_end(text: str) -> str:
    """``text`` cut before the non-blank run (at most SEAM_MARGIN long) it ends with."""
    cut = len(text)
    while cut > 0 and len(text) - cut < SEAM_MARGIN and not text[cut - 1].isspace():
        cut -= 1
    return text[:cut]


def _trim_end(data: bytes) -> bytes:
    """Drop the non-blank run (at most SEAM_MARGIN bytes) that ends at the cut."""
    cut = len(data)
    while cut > 0 and len(data) - cut < SEAM_MARGIN and not data[cut - 1:cut].isspace():
        cut -= 1
    return data[:cut]


def _trim_start(data: bytes) -> bytes:
    """Drop the non-blank run (at most SEAM_MARGIN bytes) that starts at the cut."""
    cut = 0
    while cut < len(data) and cut < SEAM_MARGIN and not data[cut:cut + 1].isspace():
        cut += 1
    return data[cut:]
