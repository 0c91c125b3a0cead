"""Fixtures shared by the project's own tests across directories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.forked_runs import ForkServer
from tests.forked_runs import fork_server as start_fork_server
from tests.suite_support import ROOT


@pytest.fixture(scope="session")
def fork_server() -> Iterator[ForkServer]:
    """A fork server for tests that start ``convox-conformance run`` many times."""
    with start_fork_server(ROOT) as server:
        yield server


#: The modules that start the suite many times, longest first. Under pytest-xdist's
#: ``--dist loadfile`` each is one worker's task of several minutes; started last (as
#: ``--loadscope-reorder``, xdist's default, would: it puts modules of many tests
#: first) one of them would end the run alone while the other worker sits idle. Tox
#: runs with ``--no-loadscope-reorder``, so this order is the order work is handed out.
LONGEST_FIRST = ("tests/test_precision.py", "tests/test_kill.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
