"""Placing each CLI process's line of the shadowed run in the check it ran in (``shadow.reach``).

Pure data in, reach out: no driver process, so these run in this Python.
"""

from __future__ import annotations

import json
from typing import Any


def invocation(started: float, duration: float = 1.0) -> dict[str, Any]:
    return {"started_at": started, "duration": duration}


def results(*checks: tuple[str, str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"checks": [{"id": ident, "outcome": outcome, "evidence": {"invocations": calls}}
                       for ident, outcome, calls in checks]}


def line(started: float, *reached: str, unshadowable: tuple[str, ...] = ()) -> str:
    return json.dumps({"started": started, "reached": {name: "why" for name in reached},
                       "unshadowable": {name: "why" for name in unshadowable}})


def test_reach_places_each_process_in_the_check_it_ran_in() -> None:
    from tests.mutants import shadow

    run = results(("a", "passed", [invocation(10), invocation(12)]),
                  ("b", "passed", [invocation(20)]),
                  ("c", "passed", []))
    log = "\n".join([line(10.2, "m1"), line(12.5), line(20.1, "m1", "m2")])
    assert shadow.reach(run, log, ["m1", "m2", "m3"]) == {
        "m1": frozenset({"a", "b"}), "m2": frozenset({"b"}), "m3": frozenset()}


def test_reach_counts_what_it_cannot_place_against_every_mutant_it_could_hide() -> None:
    from tests.mutants import shadow

    run = results(("a", "passed", [invocation(10), invocation(12)]),
                  ("b", "failed", [invocation(20)]),
                  ("c", "passed", [invocation(30)]),
                  ("d", "passed", [invocation(40)]))
    log = "\n".join([
        line(10.2, unshadowable=("constant",)),
        # a's second invocation left no line (killed, or timed out): a is everyone's
        line(20.1),
        line(30.1),
        line(50.0, "outside"),  # placed in no check: reaches every check
        line(40.1),
    ])
    reach = shadow.reach(run, log, ["m", "constant", "outside"])
    assert reach["m"] == frozenset({"a", "b"})  # b did not pass in the shadowed run
    assert reach["constant"] is None
    assert reach["outside"] is None
