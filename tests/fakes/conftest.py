"""Fixtures shared by the fakes' HTTP tests: one backend per module, one world per test.

A module may set ``PROXY_TIMEOUT`` (seconds) to shorten how long Console waits
on a rack, for tests of unreachable or stalled racks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.backends.in_process import InProcessBackend, LocalWorld


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> Iterator[InProcessBackend]:
    timeout = getattr(request.module, "PROXY_TIMEOUT", 3.0)
    with InProcessBackend(proxy_timeout=timeout) as running:
        yield running


@pytest.fixture
def world(backend: InProcessBackend) -> Iterator[LocalWorld]:
    handle = backend.new_world("standard")
    yield handle
    handle.close()
