"""The one error a replay reports to its user: a trail or option it cannot replay."""

from __future__ import annotations


class ReplayError(ValueError):
    """A trail or option that cannot be replayed (one line, for the user)."""


__all__ = ["ReplayError"]
