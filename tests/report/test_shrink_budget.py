"""A failing property stops shrinking at our budget and says so plainly.

Hypothesis's message for shrinking that outlives its budget assumes its own
five-minute default ("PLEASE REPORT THIS"); under ``--shrink-seconds`` the
budget is the suite's choice, so users get a plain line instead.
"""

from __future__ import annotations

#: Each call takes a little while, as a check's CLI runs do, so that shrinking always
#: outlives a zero budget (a fast property can finish shrinking before the clock is read).
PROPERTY = '''
import time
import pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.spec("ALPHA-001")
@settings(database=None)  # a saved example would be replayed, not shrunk
@given(st.lists(st.integers(), min_size=3))
def test_prop(xs):
    time.sleep(0.005)
    assert sum(xs) < 10
'''


def test_the_shrink_budget_is_reported_plainly(run_checks) -> None:
    run = run_checks({"test_prop.py": PROPERTY}, "--shrink-seconds", "0")
    assert run.outcomes() == {"test_prop": "failed"}
    text = run.text()
    assert "PLEASE REPORT THIS" not in text and "five minutes" not in text, text
    assert ("Shrinking stopped at the suite's budget (--shrink-seconds 0): the failing example "
            "is the smallest found by then.") in text
