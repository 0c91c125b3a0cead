"""Who reached outside the world: guard and DNS entries told per CLI invocation.

The egress guard and the sandbox's DNS server journal what a CLI looked up
and where it connected, but a journal line such as ``cli->guard TLS`` says
nothing a CLI author can act on. This module ties each such entry to the
invocation that was running when it arrived (by wall-clock time: the
journal's clock is the invocations' clock unless a check moved the world's
clock on) and says it the way a user would: "login looked up
api.segment.io and connected to it on 443".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

#: How far outside an invocation's start and end an entry may be and still be its own.
SLACK = 0.05


class _Timed(Protocol):
    operation: str
    started_at: float
    duration: float


def invocation_of(invocations: Sequence[_Timed], when: float) -> int | None:
    """The index of the invocation running at `when`, else the nearest within SLACK."""
    running = [index for index, inv in enumerate(invocations)
               if inv.started_at <= when <= inv.started_at + inv.duration]
    if running:
        return running[-1]  # overlapping invocations: the one started last
    near = [(min(abs(when - inv.started_at), abs(when - inv.started_at - inv.duration)), index)
            for index, inv in enumerate(invocations)]
    best = min(near, default=None)
    return best[1] if best is not None and best[0] <= SLACK else None


def _port(address: str) -> str:
    return address.rsplit(":", 1)[-1] if ":" in address else "?"


def describe(invocations: Sequence[_Timed], entries: Iterable[Any]) -> list[str]:
    """One line per invocation that reached outside the world (plus one for the unplaced)."""
    groups: dict[int | None, list[Any]] = {}
    for entry in entries:
        groups.setdefault(invocation_of(invocations, entry.time), []).append(entry)
    lines = []
    for index, group in sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        who = (f"{invocations[index].operation} (invocation {index + 1})" if index is not None
               else "outside any CLI invocation (a process the CLI left running?)")
        lines.append(f"{who} {_what(group)}")
    return lines


def _what(entries: list[Any]) -> str:
    looked: list[str] = []
    connected: list[tuple[str, str]] = []
    sent: list[str] = []
    for entry in entries:
        if entry.method == "DNS":
            if entry.host_header not in looked:
                looked.append(entry.host_header)
            continue
        name = entry.host_header or f"the guard at {entry.address.rsplit(':', 1)[0]}"
        target = (name, _port(entry.address))
        if target not in connected:
            connected.append(target)
        if entry.method not in ("TLS", "RAW"):
            carrying = f" carrying {entry.key_identity}" if entry.key_identity != "empty" else ""
            sent.append(f"{entry.method} {entry.path or '/'} to {name}{carrying}")
    parts = []
    if looked:
        parts.append(f"looked up {', '.join(looked)}")
    for name, port in connected:
        shown = "it" if looked == [name] else name
        parts.append(f"connected to {shown} on {port}")
    if sent:
        parts.append(f"sent {'; '.join(sent)}")
    return " and ".join(parts) if parts else "reached the egress guard"
