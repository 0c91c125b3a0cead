"""What names a check, for the harness and the reports alike: its id and its rules.

A check's id (``test_login.py::test_...``) is its node id without the
directory, so it is the same wherever the suite is installed; its rules are
the ids its ``spec`` markers give. Both the harness plugin (selection,
applicability, blame) and the report plugin read them, so they live here,
below both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def check_id(nodeid: str) -> str:
    """A check's id without the directory, stable wherever the suite is installed."""
    path, sep, rest = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


def spec_ids(item: pytest.Item) -> list[str]:
    """The rule ids a check's ``spec`` markers name, in marker order."""
    return [rule for mark in item.iter_markers("spec") for rule in mark.args]
