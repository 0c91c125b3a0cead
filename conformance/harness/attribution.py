"""Which rule a failed assertion belongs to, in checks that verify several rules.

A single-rule check's failure is its rule's. The stateful model check and the
property checks verify several rules at once; if any broken expectation
turned all of their rules red, one deviation would look like eleven. Each of
their expectations therefore runs under :func:`blame`, which re-raises a
failure as a :class:`RuleFailure` naming its rule. The plugin reads those
from whatever the check raised (Hypothesis raises an exception group when it
finds several distinct failures) and records the blamed rules on the report.

Every rule gets its own ``RuleFailure`` subclass, so Hypothesis, which tells
distinct bugs apart by exception type and origin, keeps failures of
different rules apart instead of shrinking them into one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager


class RuleFailure(AssertionError):
    """An assertion that failed for one named rule."""

    rule: str = ""


@functools.cache
def failure_class(rule: str) -> type[RuleFailure]:
    """The ``RuleFailure`` subclass of ``rule`` (one class per rule id)."""
    name = "RuleFailure_" + rule.replace("-", "_")
    return type(name, (RuleFailure,), {"rule": rule, "__module__": __name__})


def fail(rule: str, message: str) -> RuleFailure:
    """A failure of ``rule`` to raise: ``raise fail("LOGIN-011", "...")``."""
    return failure_class(rule)(f"{rule}: {message}")


@contextmanager
def blame(rule: str) -> Iterator[None]:
    """Any assertion failing inside the block is ``rule``'s failure."""
    try:
        yield
    except RuleFailure:
        raise
    except AssertionError as exc:
        raise fail(rule, str(exc)) from exc


def blamed_rules(exc: BaseException) -> list[str] | None:
    """The rules an exception blames, or None when some part of it names no rule.

    None means "blame every rule of the check", the safe default for a check
    that raised a plain assertion.
    """
    if isinstance(exc, RuleFailure):
        return [exc.rule]
    if isinstance(exc, BaseExceptionGroup):
        found: list[str] = []
        for inner in exc.exceptions:
            rules = blamed_rules(inner)
            if rules is None:
                return None
            found += [r for r in rules if r not in found]
        return found
    return None
