"""The request journal: what every fake server saw, for assertions and reports.

Checks assert on traffic ("the rack saw the rack key, never the Console
key"; "no request reached the guard"), so the journal records identities of
keys, never keys, and a failed expectation explains itself by listing the
requests that nearly matched.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fakes.model.clock import Clock

# How many near misses an assertion message shows; more only buries the useful ones.
NEAR_MISS_LIMIT = 20


@dataclass(frozen=True)
class JournalEntry:
    """One request as a server saw it (body already redacted by the recorder)."""

    seq: int = 0
    request_id: str = ""
    server: str = ""  # "console", a rack ref such as "acme/production", or "guard"
    address: str = ""  # "127.0.0.1:port" of the listener
    host_header: str = ""
    hop: str = "cli"  # "cli" (from the CLI) or "proxy" (Console -> Rack)
    method: str = ""
    path: str = ""
    query: str = ""
    key_identity: str = "empty"
    rack_header: str | None = None
    #: The identity of the ``Session`` header's id ("empty" without one).
    session_identity: str = "empty"
    body: str = ""
    status: int = 0
    time: float = 0.0

    def describe(self) -> str:
        """One readable line, used in assertion messages."""
        target = self.path + (f"?{self.query}" if self.query else "")
        rack = f" rack={self.rack_header}" if self.rack_header is not None else ""
        rack += f" session={self.session_identity}" if self.session_identity != "empty" else ""
        rid = f" id={self.request_id}" if self.request_id else ""
        return (
            f"#{self.seq} {self.hop}->{self.server} {self.method} {target} "
            f"key={self.key_identity}{rack} status={self.status}{rid}"
        )


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(JournalEntry))
# `key=` reads better in checks than `key_identity=`.
ALIASES: dict[str, str] = {"key": "key_identity", "session": "session_identity"}

Filter = Any  # a value compared with ==, or a predicate taking the field's value


def host_name(host: str) -> str:
    """The name part of a host or ``Host`` header, as checks compare them: no port, any case.

    Why: a CLI may send ``Host: localhost`` for ``localhost:443`` or change the
    case of a name, and both still address the same host; another *name* of the
    same server does not (it has keys and sessions of its own).
    """
    if host.startswith("["):
        return host.split("]", 1)[0].lower() + "]"
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def _normalise(filters: dict[str, Filter]) -> dict[str, Filter]:
    # A typo in a filter must fail loudly: expect_none(pth=...) would otherwise always pass.
    result: dict[str, Filter] = {}
    for name, value in filters.items():
        field_name = ALIASES.get(name, name)
        if field_name not in FIELDS:
            known = ", ".join((*FIELDS, *ALIASES))
            raise TypeError(f"unknown journal filter {name!r}; known: {known}")
        result[field_name] = value
    return result


def _matches(value: Any, wanted: Filter) -> bool:
    if callable(wanted):
        return bool(wanted(value))
    return bool(value == wanted)


def _matching(entry: JournalEntry, filters: dict[str, Filter]) -> list[str]:
    return [name for name, wanted in filters.items() if _matches(getattr(entry, name), wanted)]


def _show_filters(filters: dict[str, Filter]) -> str:
    if not filters:
        return "(any request)"
    parts = []
    for name, wanted in filters.items():
        shown = getattr(wanted, "__name__", "predicate") if callable(wanted) else repr(wanted)
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


#: Servers whose entries are not requests to the world: the egress guard (a connection
#: or request to a host outside the world) and the sandbox's DNS (a lookup).
EGRESS_SERVERS = ("guard", "dns")


class Journal:
    """Thread-safe, append-only list of requests; servers record from their own threads."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock if clock is not None else Clock()
        self._entries: list[JournalEntry] = []
        self._lock = threading.Lock()
        self._hidden: frozenset[str] = frozenset()

    def without(self, servers: Iterable[str]) -> Journal:
        """The same journal, leaving out the entries of ``servers`` from every query
        but one naming such a server outright (``server="guard"`` sees them).

        Checks see the world's traffic this way: an attempt to reach outside the world
        is SECURITY-003's finding, and must not read as a request to a wrong host, with
        a wrong key, under any other rule.
        """
        view = copy.copy(self)  # shares the entries and their lock; keeps a subclass's sync
        view._hidden = frozenset(servers)
        return view

    def record(self, entry: JournalEntry | None = None, **fields: Any) -> JournalEntry:
        """Append a request; ``seq`` is always assigned here so order is the journal's."""
        if entry is not None:
            fields = {**dataclasses.asdict(entry), **fields}
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown journal fields: {', '.join(sorted(unknown))}")
        if not fields.get("time"):
            fields["time"] = self._clock.now()
        with self._lock:
            fields["seq"] = len(self._entries) + 1
            stored = JournalEntry(**fields)
            self._entries.append(stored)
        return stored

    def _snapshot(self, since: int | None, hide: bool = True) -> list[JournalEntry]:
        # `record` numbers entries 1, 2, 3... under the lock, so entry i has seq i + 1 and
        # "since a mark" is a slice: no scan of what came before the mark.
        with self._lock:
            found = list(self._entries) if since is None else self._entries[max(since, 0):]
        if hide and self._hidden:
            found = [e for e in found if e.server not in self._hidden]
        return found

    def _asks_for_hidden(self, filters: dict[str, Filter]) -> bool:
        """Whether a query names a hidden server outright (``server="guard"``); a predicate
        on the server ("any but the target") is about the world's traffic."""
        server = filters.get("server")
        return isinstance(server, str) and server in self._hidden

    def entries(self, *, since: int | None = None, **filters: Filter) -> list[JournalEntry]:
        """Entries matching every filter (equality, or a predicate on the field)."""
        wanted = _normalise(filters)
        snapshot = self._snapshot(since, hide=not self._asks_for_hidden(filters))
        return [e for e in snapshot if len(_matching(e, wanted)) == len(wanted)]

    def mark(self) -> int:
        """A position to ask ``since`` about, e.g. taken just before running the CLI."""
        with self._lock:
            return len(self._entries)

    def since(self, mark: int, **filters: Filter) -> list[JournalEntry]:
        """Entries recorded after ``mark`` (optionally filtered)."""
        return self.entries(since=mark, **filters)

    def expect_one(self, *, since: int | None = None, **filters: Filter) -> JournalEntry:
        """The single matching entry; AssertionError with near misses otherwise."""
        found = self.entries(since=since, **filters)
        if len(found) != 1:
            raise AssertionError(
                self._explain(f"expected exactly one request, found {len(found)}", since, filters)
            )
        return found[0]

    def expect_some(self, *, since: int | None = None, **filters: Filter) -> list[JournalEntry]:
        """All matching entries; AssertionError with near misses when there are none."""
        found = self.entries(since=since, **filters)
        if not found:
            raise AssertionError(self._explain("expected a request, found none", since, filters))
        return found

    def expect_none(self, *, since: int | None = None, **filters: Filter) -> None:
        """AssertionError listing the offending requests if any matched."""
        found = self.entries(since=since, **filters)
        if found:
            lines = [
                f"expected no request matching {_show_filters(_normalise(filters))}, "
                f"found {len(found)}:"
            ]
            lines += [f"  {e.describe()}" for e in found[:NEAR_MISS_LIMIT]]
            if len(found) > NEAR_MISS_LIMIT:
                lines.append(f"  ... and {len(found) - NEAR_MISS_LIMIT} more")
            raise AssertionError("\n".join(lines))

    def _explain(self, headline: str, since: int | None, filters: dict[str, Filter]) -> str:
        wanted = _normalise(filters)
        entries = self._snapshot(since, hide=not self._asks_for_hidden(filters))
        lines = [f"{headline} matching {_show_filters(wanted)}"]
        if not entries:
            lines.append(
                "no requests were recorded" + (" since the mark" if since is not None else "")
            )
            return "\n".join(lines)
        scored = []
        for entry in entries:
            hits = _matching(entry, wanted)
            if hits and len(hits) < len(wanted):
                scored.append((len(hits), entry, [n for n in wanted if n not in hits]))
            elif len(hits) == len(wanted):
                scored.append((len(hits), entry, []))
        if scored:
            scored.sort(key=lambda item: (-item[0], item[1].seq))
            # The first line is what a report shows: say what did happen, and how it differed.
            _, best, missed = scored[0]
            differs = ", ".join(f"{n}={getattr(best, n)!r}" for n in missed)
            lines[0] += (f"; closest: {best.describe()}" + (f" (differs: {differs})"
                                                             if differs else ""))
            lines.append("near misses (best first):")
            for _, entry, missed in scored[:NEAR_MISS_LIMIT]:
                differs = ", ".join(f"{n}={getattr(entry, n)!r}" for n in missed)
                note = f"  [differs: {differs}]" if missed else "  [matches]"
                lines.append(f"  {entry.describe()}{note}")
            if len(scored) > NEAR_MISS_LIMIT:
                lines.append(f"  ... and {len(scored) - NEAR_MISS_LIMIT} more")
        else:
            lines.append("nothing came close; what did arrive:")
            lines += [f"  {e.describe()}" for e in entries[:NEAR_MISS_LIMIT]]
            if len(entries) > NEAR_MISS_LIMIT:
                lines.append(f"  ... and {len(entries) - NEAR_MISS_LIMIT} more")
        return "\n".join(lines)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts for the report writers."""
        return [dataclasses.asdict(e) for e in self._snapshot(None, hide=False)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


__all__ = ["ALIASES", "FIELDS", "Journal", "JournalEntry"]
