"""Fixtures of the sandbox tests: a machine that can make namespaces, a host left as found."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.support import host_left_untouched
from tests.suite_support import require_sandbox


@pytest.fixture
def can_sandbox() -> None:
    """Skip (or, under CI=true, fail) where this machine cannot make the namespaces."""
    require_sandbox()


@pytest.fixture
def untouched() -> Iterator[None]:
    """The real name files and this process's mounts, as they were before the test."""
    with host_left_untouched():
        yield
