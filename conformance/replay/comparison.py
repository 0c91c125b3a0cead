"""How a replayed invocation is compared with the failing run's: the first difference, in words.

Each world draws some values afresh (login ids, release and request ids, key
generations), so those are compared by kind, not by value.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.replay.tokens import as_identities, without_key_shapes

#: Values each world makes afresh (login ids, release and request ids): compared as a kind.
_FRESH = [
    # A key no world issued (one the CLI altered) is named by a hash of itself.
    (re.compile(r"\bunknown:[0-9a-f]{8}\b"), "unknown:<key>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<uuid>"),
    (re.compile(r"\b[0-9a-fA-F]{12,}\b"), "<hex>"),
    (re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,}\b"), "<id>"),
]
#: In stored files only: a key the CLI altered before storing it (encoded, normalised)
#: derives from a key drawn afresh for the replay, so it is compared as an opaque run.
_OPAQUE = re.compile(r"(?<![{\w])(?=[A-Za-z+/_=%-]*\d)[A-Za-z0-9+/_=%-]{16,}(?![}\w])")


def _fresh(value: Any) -> Any:
    """``value`` with what a fresh world draws anew (ids) replaced by its kind."""
    if isinstance(value, str):
        # A typed key's shape number is the recording's business, not an observation.
        value = without_key_shapes(value)
        for pattern, kind in _FRESH:
            value = pattern.sub(kind, value)
        return value.strip()
    if isinstance(value, list | tuple):
        return [_fresh(v) for v in value]
    return value


class Generations:
    """Key generations renumbered by first appearance, per identity: ``user:alice#3``
    becomes ``user:alice#1`` if it is the first of alice's keys this side has shown.

    Keys only Console's proxy hop uses (a rack's own key, rolled in an earlier
    example of a stateful check) are never asked for by the replay, so their
    generation cannot be matched through the key; their order of appearance can."""

    PATTERN = re.compile(r"\b([a-z]+:[^\s#'\",{}]+)#(\d+)")

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, int]] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            order = self.seen.setdefault(match[1], {})
            return f"{match[1]}#{order.setdefault(match[2], len(order) + 1)}"

        return self.PATTERN.sub(one, value)


def difference(expected: dict[str, Any], got: dict[str, Any],
                recorded: Generations | None = None, replayed: Generations | None = None
                ) -> str | None:
    """The first way this invocation differs from the failing run's, in words."""
    recorded = recorded or Generations()
    replayed = replayed or Generations()
    expected = {k: recorded(_fresh(v)) for k, v in expected.items()}
    got = {k: replayed(_fresh(v)) for k, v in got.items()}
    for side in (expected, got):
        side["files"] = [[_OPAQUE.sub("<opaque>", part) if isinstance(part, str) else part
                          for part in change] for change in side.get("files", [])]
    if expected.get("exit") != got["exit"]:
        return f"exit {got['exit']} here, {expected.get('exit')} in the failing run"
    for name in ("stdout", "stderr"):
        if (expected.get(name) or "") != got[name]:
            return (f"{name} differs: here {as_identities(got[name]).strip()[:200]!r}, "
                    f"in the failing run {as_identities(expected.get(name) or '').strip()[:200]!r}")
    if expected.get("files", []) != got["files"]:
        mine = {c[1]: c for c in got["files"]}
        theirs = {c[1]: c for c in expected.get("files", [])}
        if set(mine) != set(theirs):
            return (f"files changed differ: here {[c[:2] for c in got['files']]}, in the "
                    f"failing run {[c[:2] for c in expected.get('files', [])]}")
        path = next(p for p in mine if mine[p] != theirs[p])
        return (f"~/{path} differs: here {as_identities(str(mine[path][2:]))[:300]}, in the "
                f"failing run {as_identities(str(theirs[path][2:]))[:300]}")
    if list(expected.get("requests", [])) != got["requests"]:
        return (f"requests differ: here {[as_identities(r) for r in got['requests']]}, in the "
                f"failing run {[as_identities(r) for r in expected.get('requests', [])]}")
    return None


__all__ = ["Generations", "difference"]
