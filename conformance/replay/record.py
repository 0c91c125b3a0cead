"""The hooks that feed a check's trail: world events as they happen, and failing examples.

The trail (conformance.replay.trail) hears of each CLI invocation from the CLI
session itself. World events and Hypothesis examples happen elsewhere, so the
harness hands the check a :class:`RecordingWorld` instead of the world, and
wraps a Hypothesis test in :func:`watching_examples`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from conformance.replay.trail import Trail
from fakes.backends.actions import changing_actions, made_up_key_arguments

#: World methods that change the world (fakes.backends.actions, the one table of world
#: actions); everything else passes through unrecorded.
EVENTS = changing_actions()
#: Arguments of these calls that are keys the check chose: a new password is always made
#: up by the check (a replay draws one of its shape); a key typed into Console is made up
#: only when the world has never seen it.
NEW_KEY_ARGS = {name: index for name, (index, _) in made_up_key_arguments().items()}
ALWAYS_NEW = frozenset(name for name, (_, how) in made_up_key_arguments().items()
                       if how == "always")


@contextlib.contextmanager
def watching_examples(function: Any, trail: Trail) -> Iterator[None]:
    """While a Hypothesis test runs, tell ``trail`` which of its examples raised.

    Hypothesis goes on after an explicit example fails, so the last example run
    is not always the failing one. ``hypothesis.inner_test`` is the seam
    Hypothesis offers for wrapping each example.
    """
    handle: Any = getattr(function, "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    if handle is None or inner is None:
        yield
        return

    @functools.wraps(inner)
    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except BaseException:
            trail.example_failed()
            raise

    handle.inner_test = watched
    try:
        yield
    finally:
        handle.inner_test = inner


class RecordingWorld:
    """A world handle that tells the trail about every world event, then does it."""

    def __init__(self, world: Any, trail: Trail) -> None:
        self._world = world
        self._trail = trail

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._world, name)
        if name not in EVENTS or not callable(attribute):
            return attribute

        def recorded(*args: Any) -> Any:
            new = {}
            if name in NEW_KEY_ARGS and len(args) > NEW_KEY_ARGS[name]:
                known = set(self._world.secrets())
                new = {NEW_KEY_ARGS[name]: name in ALWAYS_NEW
                       or args[NEW_KEY_ARGS[name]] not in known}
            step = self._trail.event(name, args, new)
            result = attribute(*args)
            if name == "inject":
                return _RecordedFault(result, self._trail, step)
            return result

        return recorded


class _RecordedFault:
    """A fault handle whose removal is a step too."""

    def __init__(self, handle: Any, trail: Trail, step: int) -> None:
        self._handle = handle
        self._trail = trail
        self._step = step

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def remove(self) -> None:
        self._trail.fault_removed(self._step)
        self._handle.remove()



__all__ = ["ALWAYS_NEW", "EVENTS", "NEW_KEY_ARGS", "RecordingWorld", "watching_examples"]
