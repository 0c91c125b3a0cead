"""The parent's side of the shadow: what stands in a replaced function's place.

``dispatcher_for(point)`` is put where F was. In the parent, each call runs F,
watched (what it printed, what it reached outside), and then has each mutant
of F still undecided judged on that call (shadow_child). Inside a child judging
R, a call of F with F's arguments gets F's answer again instead of running F.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tests.mutants.shadow_child import judge
from tests.mutants.shadow_state import STATE, Call, Deviation, Point, Watch


class Tee:
    """sys.stdout or sys.stderr in the parent during F: writes through, and keeps a copy."""

    def __init__(self, real: Any, stream: int, log: list[tuple[int, str]]) -> None:
        self.real = real
        self.stream = stream
        self.log = log

    def write(self, text: str) -> int:
        self.log.append((self.stream, text))
        return int(self.real.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def dispatcher_for(point: Point) -> Callable[..., Any]:
    """The function put in F's place: F's name and docstring, the shadow's behaviour."""

    def dispatcher(*args: Any, **kwargs: Any) -> Any:
        if STATE.shadow is not None:
            return call_in_child(point, args, kwargs)
        return call_in_parent(point, args, kwargs)

    dispatcher.__name__ = getattr(point.real, "__name__", point.name)
    dispatcher.__doc__ = getattr(point.real, "__doc__", None)
    return dispatcher


def call_in_child(point: Point, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A call of a replaced function while a child judges R."""
    shadow = STATE.shadow
    assert shadow is not None
    call = shadow.call
    if point is call.point and point.arguments(args, kwargs) == call.pre:
        # R calls the original with F's arguments: F's answer, already given once.
        shadow.originals += 1
        for stream, text in call.written:
            (sys.stdout if stream == 1 else sys.stderr).write(text)
        kind, value = call.outcome
        if kind == "raise":
            raise value
        return value
    if point is not call.point and point.key in shadow.variant_points:
        raise Deviation(f"calls {point.name}, which the mutant also replaces")
    return point.real(*args, **kwargs)


def call_in_parent(point: Point, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A call in the parent: run F, then judge each mutant of F still undecided."""
    live = [(name, r) for name, r in point.variants if name not in STATE.reached]
    if not live:
        return point.real(*args, **kwargs)
    STATE.paused += 1
    pre = point.arguments(args, kwargs)
    why = f"{point.name}: arguments that cannot be compared"
    written: list[tuple[int, str]] = []
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Tee(out, 1, written), Tee(err, 2, written)
    watch = Watch()
    STATE.watches.append(watch)
    STATE.paused -= 1
    try:
        outcome: tuple[str, Any] = ("return", point.real(*args, **kwargs))
    except BaseException as exc:  # R must raise what F raised, whatever it is
        outcome = ("raise", exc)
    finally:
        STATE.paused += 1
        STATE.watches.remove(watch)
        sys.stdout, sys.stderr = out, err
    try:
        if pre is not None:
            if point.arguments(args, kwargs) != pre:
                pre, why = None, f"{point.name} changed its arguments"
            elif watch.local:
                pre, why = None, f"{point.name} changed local state"
        if pre is None:
            STATE.reached.update({name: why for name, _ in live})
        else:
            call = Call(point, args, kwargs, pre, outcome, written, watch.effects > 0)
            for name, verdict in judge(call, live).items():
                if verdict:
                    STATE.reached[name] = verdict
    finally:
        STATE.paused -= 1
    kind, value = outcome
    if kind == "raise":
        raise value
    return value
