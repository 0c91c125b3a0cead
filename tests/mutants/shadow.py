"""Which checks can a mutant's change reach? Every mutant, in shadow, in one reference run.

A mutant replaces one function F of the reference CLI with its own R. Up to the
first call where R would behave differently from F, a run against the mutant
*is* a run against the reference: same requests, same files, same output. So a
check can fail against the mutant only if, somewhere in the reference's run of
that check, a call of F meets an R that answers it differently. This module
finds those calls without running the mutants:

- The reference CLI starts with every mutant's R registered beside the F it
  replaces, and F replaced by a dispatcher that runs the real F.
- After each call of F, for each mutant of F, a forked child runs R on the same
  arguments. When R calls the original it gets F's answer again (the call
  already happened in the parent, and is not repeated). The child may read but
  not change anything outside its own memory: an audit hook turns any write,
  connection, lookup, sleep or process start into a deviation, and the child's
  standard streams are its own.
- R is *equivalent on this call* only if it returned or raised the same thing,
  printed the same, called the original exactly once where F had effects (never
  skipping a request, never sending two), left as they were the arguments, F's
  answer, what it keeps between calls (its closure, defaults and attributes, and
  its module's globals) and every reference CLI module's state, and reached for
  nothing else. Anything else, including anything this module cannot compare,
  counts as a deviation: an over-estimate costs a check run, an under-estimate
  would hide a false failure.
- A call where F itself wrote a file or changed its arguments counts as a
  deviation for every mutant of F: R may have read that file or those arguments
  before calling the original, and the child sees them only as F left them (one
  zoo mutant reads auth before it stores a login). What F changed in the CLI's
  memory (a TLS context cached, a secret remembered for redaction) the child also
  sees as F left it. That is assumed harmless (such state is a cache, or the
  secrets to redact), and the mutants each full run audits against every check
  (tests/test_precision.py) test the assumption.

Mutants this cannot shadow (one that replaces a value that is not a function,
adds a name, or replaces nothing a CLI module holds) are reported as such, and
reach every check. A mutant that replaces several functions is judged at each of
them, and its replacement calling another of its own counts as a deviation.

Each CLI process appends one JSON line to the log named on its command line:
its start and end times and the mutants that deviated in it. The precision
matrix maps the lines onto the checks of the run by time, and runs each mutant
against only the checks it reaches (tests/test_precision.py).

Here are the entry points (``install``, ``report``, ``reach``) and ``STATE``;
the machinery is beside it: shadow_values (comparing by content), shadow_state
(the process's state and its audit hook), shadow_dispatch (what stands in F's
place) and shadow_child (the forked child judging R).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from tests.mutants.shadow_dispatch import dispatcher_for
from tests.mutants.shadow_state import STATE, Point
from tests.mutants.shadow_values import PACKAGE

__all__ = ["STATE", "install", "reach", "report"]


def install(mutants: dict[str, Any]) -> None:
    """Register every mutant's replacement beside the function it replaces.

    Two passes: the first finds what each mutant replaces; the second puts a
    dispatcher there and applies every mutant again, so that a mutant keeping the
    original (``original = calls.send_request``) keeps the dispatcher, and its
    calls of the original reach the answer the parent already has.
    """
    import importlib
    import pkgutil

    import reference_cli as package
    import reference_cli.commands as commands

    for info in [*pkgutil.iter_modules(package.__path__, f"{PACKAGE}."),
                 *pkgutil.iter_modules(commands.__path__, f"{PACKAGE}.commands.")]:
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    modules = {name: module for name, module in sys.modules.items()
               if name.startswith(PACKAGE) and module is not None}

    def replaced_by(mutant: Any) -> dict[tuple[str, str], Any] | str:
        before = {name: dict(vars(module)) for name, module in modules.items()}
        try:
            mutant.apply()
        except BaseException as exc:  # a mutant that cannot be shadowed
            changed: dict[tuple[str, str], Any] | str = f"applying it raised {exc!r}"
        else:
            changed = {}
        for name, module in modules.items():
            now, then = vars(module), before[name]
            if len(now) == len(then) and all(now[k] is v for k, v in then.items() if k in now):
                continue
            for key, value in list(now.items()):
                if key not in then or then[key] is not value:
                    if isinstance(changed, dict):
                        changed[(name, key)] = value
                    if key in then:
                        setattr(module, key, then[key])
                    else:
                        delattr(module, key)
        return changed

    found: dict[str, dict[tuple[str, str], Any]] = {}
    for name, mutant in mutants.items():
        changed = replaced_by(mutant)
        if isinstance(changed, str):
            STATE.unshadowable[name] = changed
        elif not changed:
            STATE.unshadowable[name] = "replaces nothing a module of the CLI holds"
        elif any(not callable(value) for value in changed.values()):
            STATE.unshadowable[name] = "replaces a value that is not a function"
        else:
            if any(not callable(vars(modules[key[0]]).get(key[1])) for key in changed):
                STATE.unshadowable[name] = "adds or replaces something that was not a function"
            else:
                found[name] = changed
    for changed in found.values():
        for key in changed:
            if key not in STATE.points:
                module = modules[key[0]]
                point = Point(module, key[1], getattr(module, key[1]))
                STATE.points[key] = point
                setattr(module, key[1], dispatcher_for(point))
    for name in found:
        changed = replaced_by(mutants[name])
        if isinstance(changed, str) or set(changed) != set(found[name]):
            STATE.unshadowable[name] = "replaces something else when applied again"
            continue
        STATE.points_of[name] = set(changed)
        for key, replacement in changed.items():
            STATE.points[key].variants.append((name, replacement))
    sys.addaudithook(STATE.hook)
    import gc

    # What exists now lives as long as the process: no collection need scan it, and the
    # forked children then share those pages instead of copying them.
    gc.freeze()


def report(log: str, started: float, argv: list[str]) -> None:
    """Append this process's line to the log (one write, so concurrent CLIs do not mix)."""
    line = json.dumps({
        "started": started,
        "ended": time.time(),
        "pid": os.getpid(),
        "argv": argv,
        "reached": STATE.reached,
        "unshadowable": STATE.unshadowable,
    }) + "\n"
    STATE.paused += 1
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def reach(results: dict[str, Any], log: str, names: list[str]) -> dict[str, frozenset[str] | None]:
    """The checks of a shadowed reference run each mutant reaches; None: every check.

    Each CLI process's line is placed in the check whose invocation it ran in, by
    time: the run must have had one worker. A process that cannot be placed in
    exactly one check, an invocation whose process left no line (killed, timed
    out), and a check that did not pass all count against every mutant they
    could hide: they reach every check, or that check.
    """
    checks = results["checks"]
    windows = [(call["started_at"], call["started_at"] + call["duration"], check["id"])
               for check in checks for call in check["evidence"].get("invocations") or []]
    reached: dict[str, set[str]] = {name: set() for name in names}
    everywhere: set[str] = set()
    lines: dict[str, int] = {}
    for text in log.splitlines():
        if not text.strip():
            continue
        record = json.loads(text)
        everywhere.update(record["unshadowable"])
        owners = {check for start, end, check in windows if start <= record["started"] <= end}
        if len(owners) != 1:
            everywhere.update(record["reached"])
            continue
        (owner,) = owners
        lines[owner] = lines.get(owner, 0) + 1
        for name in record["reached"]:
            reached.setdefault(name, set()).add(owner)
    invocations: dict[str, int] = {}
    for _, _, check in windows:
        invocations[check] = invocations.get(check, 0) + 1
    always = {check for check, count in invocations.items() if lines.get(check, 0) < count}
    always |= {check["id"] for check in checks if check["outcome"] != "passed"}
    return {name: None if name in everywhere else frozenset(found | always)
            for name, found in reached.items()}
