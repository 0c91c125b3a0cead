"""A pytest plugin for the mutation run's coverage map: names the running check in a file.

The CLI under test gets a scrubbed environment, so the traced CLI
(``traced_cli``) cannot be told which check started it; it reads the name from
``.current-check`` at the tree's root instead. The map's run is sequential, so
the file names exactly one check at a time. CLI runs outside any check (the
report header's version) are put under ``<session>``. Each check is also
appended to ``.check-order`` with the seconds it took (set-up and teardown
included): a mutant's checks then run cheapest first, so a mutant that some
quick check kills is not kept waiting behind the slow ones.

A check is named by its file relative to the tree and its name, a form pytest
takes as an argument from the tree's root whatever rootdir it picked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TREE = Path(__file__).resolve().parent
MARKER = TREE / ".current-check"
ORDER = TREE / ".check-order"
OUTSIDE = "<session>"


def pytest_sessionstart(session: pytest.Session) -> None:
    MARKER.write_text(OUTSIDE, encoding="utf-8")
    ORDER.write_text("", encoding="utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    name = str(item.path.resolve().relative_to(TREE))
    if "::" in item.nodeid:
        name += "::" + item.nodeid.split("::", 1)[1]
    MARKER.write_text(name, encoding="utf-8")
    started = time.monotonic()
    yield
    MARKER.write_text(OUTSIDE, encoding="utf-8")
    with ORDER.open("a", encoding="utf-8") as order:
        order.write(f"{name}\t{time.monotonic() - started:.3f}\n")
