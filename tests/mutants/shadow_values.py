"""Comparing by content what a call of F and a call of R leave behind (the shadow's values).

``shape`` describes a value by its content, so that F's answer, a call's
arguments, the CLI's module globals and what a replacement keeps between calls
can be compared before and after; what has no content to compare raises
``Opaque``, and the callers decide what that means.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

PACKAGE = "reference_cli"


class Opaque(Exception):
    """A value this module cannot compare by content."""


def shape(value: Any, depth: int = 0) -> Any:
    """A comparable description of ``value``'s content; Opaque when there is none."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return (type(value).__name__, value)
    if depth > 8:
        raise Opaque("too deep")
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(shape(item, depth + 1) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple((shape(k, depth + 1), shape(v, depth + 1))
                              for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, frozenset(shape(item, depth + 1) for item in value))
    if isinstance(value, BaseException):
        return ("raised", type(value), shape(value.args, depth + 1), str(value))
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
                          type, types.MethodType)):
        return ("same object", id(value))
    if isinstance(value, os.PathLike):
        return ("path", os.fspath(value))
    fields: dict[str, Any] = {}
    for cls in type(value).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in fields and hasattr(value, name):
                fields[name] = getattr(value, name)
    fields.update(getattr(value, "__dict__", {}))
    if not fields:
        raise Opaque(type(value).__qualname__)
    return (type(value), tuple((k, shape(v, depth + 1)) for k, v in sorted(fields.items())))


def loose_shape(value: Any) -> Any:
    """shape(), with what cannot be compared by content compared by identity."""
    try:
        return shape(value)
    except (Opaque, RecursionError, TypeError, ValueError):
        return ("same object", id(value))


def shape_or_none(value: Any) -> Any:
    """shape(), or None when the value has no content that can be compared."""
    try:
        return shape(value)
    except (Opaque, RecursionError, TypeError, ValueError):
        return None


def module_state() -> Any:
    """Every reference CLI module's globals, for telling whether a call changed them."""
    state = []
    for name, module in sorted(sys.modules.items()):
        if name.startswith(PACKAGE) and module is not None:
            for key, value in sorted(vars(module).items()):
                if not key.startswith("__"):
                    state.append((name, key, loose_shape(value)))
    return tuple(state)


def closure_state(function: Callable[..., Any], depth: int = 0) -> Any:
    """What a replacement keeps between calls: its closure cells, default values and
    attributes, the globals of its module, and the same of the functions it closes over."""
    state: list[Any] = [loose_shape(getattr(function, "__defaults__", None)),
                        loose_shape(getattr(function, "__kwdefaults__", None)),
                        loose_shape(dict(getattr(function, "__dict__", {})))]
    if depth == 0:
        namespace = getattr(function, "__globals__", {})
        state.append(tuple((key, loose_shape(value)) for key, value in sorted(namespace.items())
                           if not key.startswith("__")))
    for cell in getattr(function, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:
            state.append(None)
            continue
        if isinstance(content, types.FunctionType) and depth < 3:
            state.append(closure_state(content, depth + 1))
        else:
            state.append(loose_shape(content))
    return tuple(state)
