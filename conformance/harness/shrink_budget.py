"""The budget Hypothesis may spend shrinking a failing example (``--shrink-seconds``).

The property and model checks rerun real CLI processes at every shrinking
step, so a failing CLI's verdict would otherwise cost minutes. The budget is
set in Hypothesis's engine, and its "PLEASE REPORT THIS" message for a budget
outlived is replaced by a plain one: here the budget is by design.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def bound_shrinking(seconds: float) -> None:
    """Stop Hypothesis shrinking a failure after ``seconds`` (0: do not shrink).

    Hypothesis has no public setting for this; its engine reads the module
    constant ``MAX_SHRINKING_SECONDS`` each time it starts shrinking, so the
    budget is set there (and left alone if a Hypothesis release renames it).
    """
    from hypothesis.internal.conjecture import engine

    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = max(seconds, 0)  # type: ignore[assignment]


#: How Hypothesis starts the message it prints when shrinking outlives its budget: meant
#: for its five-minute default, it asks users to report a bug. Ours is a budget by design.
SLOW_SHRINK_WARNING = "WARNING: Hypothesis has spent more than five minutes working to shrink"


@contextlib.contextmanager
def plain_shrink_budget(seconds: float) -> Iterator[None]:
    """Say plainly that shrinking stopped at ``--shrink-seconds``, instead of Hypothesis's
    "PLEASE REPORT THIS" (its reporter is swapped for this check's call only)."""
    try:
        from hypothesis.reporting import current_reporter, with_reporter
    except ImportError:  # a Hypothesis release that moved them: its own words stay
        yield
        return
    outer = current_reporter()

    def reporter(value: object) -> None:
        if str(value).startswith(SLOW_SHRINK_WARNING):
            outer(f"Shrinking stopped at the suite's budget (--shrink-seconds {seconds:g}): "
                  "the failing example is the smallest found by then.")
        else:
            outer(value)

    with with_reporter(reporter):
        yield
