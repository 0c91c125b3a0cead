"""Shadowing mutants (tests/mutants/shadow.py): which calls each mutant's change reaches.

``shadow.install()`` changes its process for good (an audit hook, ``gc.freeze``,
dispatchers in the reference CLI's modules), so each case runs a small driver in a
fresh Python: it declares ad-hoc mutants, installs them, calls reference CLI
functions through their module attributes, and prints, as its last line, what
the shadow recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

PRELUDE = """\
import json
import os
import sys

from reference_cli import errors, files, hosts, output, transport
from tests.mutants import Mutant, shadow

HOME = os.environ["HOME"]
RESULTS = {}


def mutant(name, apply):
    return Mutant(name=name, rule="LOGIN-001", description=f"test mutant {name}", apply=apply)


def install(*mutants):
    shadow.install({m.name: m for m in mutants})


def reached():
    return dict(shadow.STATE.reached)
"""

EPILOGUE = """
print(json.dumps({"reached": shadow.STATE.reached,
                  "unshadowable": shadow.STATE.unshadowable,
                  "results": RESULTS}))
"""


class Run:
    """What one driver printed: its own lines, and the shadow's verdicts."""

    def __init__(self, lines: list[str], last: dict[str, Any], stderr: str) -> None:
        self.lines = lines
        self.reached: dict[str, str] = last["reached"]
        self.unshadowable: dict[str, str] = last["unshadowable"]
        self.results: dict[str, Any] = last["results"]
        self.stderr = stderr


def drive(tmp_path: Path, body: str) -> Run:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CONVOX_") and k not in ("XDG_CONFIG_HOME", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    code = PRELUDE + textwrap.dedent(body) + EPILOGUE
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    return Run(lines[:-1], json.loads(lines[-1]), proc.stderr)


def test_a_wrapper_is_reached_only_by_the_input_it_answers_differently(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        def lower_for_one_key():
            original = transport.basic_auth_header

            def header(key):
                answer = original(key)
                return answer.lower() if key == "deviate" else answer

            transport.basic_auth_header = header

        install(mutant("lower-for-one-key", lower_for_one_key))
        for key in ("k", "another key", ""):
            transport.basic_auth_header(key)
        RESULTS["before"] = reached()
        transport.basic_auth_header("deviate")
    """)
    assert run.results["before"] == {}
    assert run.unshadowable == {}
    assert set(run.reached) == {"lower-for-one-key"}
    assert "basic_auth_header" in run.reached["lower-for-one-key"]
    assert "a different answer" in run.reached["lower-for-one-key"]


def test_calling_the_original_by_keyword_or_by_position_is_the_same_call(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        def by_keyword():
            original = transport.basic_auth_header
            transport.basic_auth_header = lambda key: original(key=key)

        def by_position():
            original = hosts.split_host
            hosts.split_host = lambda host: original(host)

        install(mutant("by-keyword", by_keyword), mutant("by-position", by_position))
        transport.basic_auth_header("k")  # positional here, by keyword in the mutant
        hosts.split_host(host="h:1")  # by keyword here, positional in the mutant
        hosts.split_host("h")
        transport.basic_auth_header(key="k2")
    """)
    assert run.reached == {}
    assert run.unshadowable == {}


def test_a_replacement_that_writes_a_file_is_stopped_before_it_writes(tmp_path: Path) -> None:
    mark = tmp_path / "home" / "mark"
    run = drive(tmp_path, """
        MARK = os.path.join(HOME, "mark")

        def writes_first():
            original = hosts.split_host

            def split(host):
                with open(MARK, "w") as handle:
                    handle.write("written by the mutant")
                return original(host)

            hosts.split_host = split

        def reads_first():
            original = hosts.split_host

            def split(host):
                files.read_text(files.config_path("host"))
                files.read_text(os.path.join(HOME, "absent"))
                return original(host)

            hosts.split_host = split

        install(mutant("writes-first", writes_first), mutant("reads-first", reads_first))
        RESULTS["answer"] = hosts.split_host("h:1")
        RESULTS["mark exists"] = os.path.exists(MARK)
    """)
    assert set(run.reached) == {"writes-first"}  # reading is no deviation
    assert "reached outside" in run.reached["writes-first"]
    assert str(mark) in run.reached["writes-first"]
    assert run.results == {"answer": ["h", 1], "mark exists": False}
    assert not mark.exists()


def test_a_replacement_that_prints_more_is_reached_and_its_output_never_leaks(
    tmp_path: Path
) -> None:
    run = drive(tmp_path, """
        def prints_more():
            original = hosts.split_host

            def split(host):
                print("EXTRA-FROM-THE-MUTANT")
                print("EXTRA-ON-STDERR", file=sys.stderr)
                return original(host)

            hosts.split_host = split

        def writes_to_the_descriptor():
            original = hosts.split_host

            def split(host):
                os.write(1, b"RAW-FROM-THE-MUTANT\\n")
                os.write(2, b"RAW-ON-STDERR\\n")
                return original(host)

            hosts.split_host = split

        def prints_the_same():
            original = output.out
            output.out = lambda text: original(text)

        install(mutant("prints-more", prints_more),
                mutant("writes-to-the-descriptor", writes_to_the_descriptor),
                mutant("prints-the-same", prints_the_same))
        print("driver line 1")
        hosts.split_host("h:1")
        output.out("printed by the reference")
        print("driver line 2")
    """)
    assert set(run.reached) == {"prints-more", "writes-to-the-descriptor"}
    assert "printed something else on stdout" in run.reached["prints-more"]
    assert "wrote to a standard stream directly" in run.reached["writes-to-the-descriptor"]
    # The reference's own line appears once: a child's replay of it stays in the child.
    assert run.lines == ["driver line 1", "printed by the reference", "driver line 2"]
    assert "EXTRA" not in run.stderr and "RAW" not in run.stderr


def test_every_replacement_of_a_function_that_wrote_files_is_reached(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        def same_write_host():
            original = files.write_host
            files.write_host = lambda host: original(host)

        def same_read_host():
            original = files.read_host
            files.read_host = lambda: original()

        install(mutant("same-write-host", same_write_host),
                mutant("same-read-host", same_read_host))
        RESULTS["before"] = files.read_host()
        files.write_host("h:1")
        RESULTS["after"] = files.read_host()
    """)
    # write_host wrote: a replacement may have read the files before calling the
    # original, and would have seen them as they were, so it counts as reached.
    assert set(run.reached) == {"same-write-host"}
    assert "write_host changed local state" in run.reached["same-write-host"]
    assert run.results == {"before": None, "after": "h:1"}
    assert (tmp_path / "home" / ".convox" / "host").read_text() == "h:1"


def test_a_mutant_that_replaces_a_constant_is_unshadowable(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        def short_timeout():
            transport.DEFAULT_TIMEOUT = 0.5

        def nothing():
            pass

        install(mutant("short-timeout", short_timeout), mutant("nothing", nothing))
        RESULTS["timeout"] = transport.DEFAULT_TIMEOUT
        transport.basic_auth_header("k")
    """)
    assert set(run.unshadowable) == {"short-timeout", "nothing"}
    assert "not a function" in run.unshadowable["short-timeout"]
    assert run.reached == {}
    assert run.results == {"timeout": 10.0}  # install() left the reference's own value


def test_a_replacement_that_keeps_state_between_calls_is_reached_on_its_first_call(
    tmp_path: Path
) -> None:
    run = drive(tmp_path, """
        def third_call_differs():
            original = hosts.split_host
            calls = 0

            def split(host):
                nonlocal calls
                calls += 1
                answer = original(host)
                return ("elsewhere", 1) if calls == 3 else answer

            hosts.split_host = split

        install(mutant("third-call-differs", third_call_differs))
        hosts.split_host("h:1")
    """)
    assert set(run.reached) == {"third-call-differs"}
    assert "changed what it keeps between calls" in run.reached["third-call-differs"]


def test_a_replacement_that_raises_where_the_original_returns_is_reached(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        def refuses():
            def split(host):
                raise errors.CliError(f"invalid host: {host}")

            hosts.split_host = split

        def same_error():
            original = hosts.split_host
            hosts.split_host = lambda host: original(host)

        install(mutant("refuses", refuses), mutant("same-error", same_error))
        try:
            hosts.split_host("h:port")
        except errors.CliError:
            pass
        RESULTS["after a raise"] = reached()
        hosts.split_host("h:1")
    """)
    # On the call where split_host raised, both raised the same error.
    assert run.results["after a raise"] == {}
    assert set(run.reached) == {"refuses"}
    assert "raised where F returned" in run.reached["refuses"]


def test_the_caller_gets_the_real_answer_while_mutants_are_judged(tmp_path: Path) -> None:
    run = drive(tmp_path, """
        real_split = hosts.split_host
        real_header = transport.basic_auth_header

        def elsewhere():
            hosts.split_host = lambda host: ("elsewhere", 1)

        def no_header():
            original = transport.basic_auth_header

            def header(key):
                original(key)
                raise errors.CliError("no header")

            transport.basic_auth_header = header

        install(mutant("elsewhere", elsewhere), mutant("no-header", no_header))
        RESULTS["dispatched"] = hosts.split_host is not real_split
        answer = hosts.split_host("h:1")
        RESULTS["first"] = [answer, real_split("h:1")]
        RESULTS["judged"] = "elsewhere" in reached()
        RESULTS["again"] = hosts.split_host("other:2")  # no mutant left to judge
        RESULTS["header"] = [transport.basic_auth_header("k"), real_header("k")]
        try:
            hosts.split_host("h:port")
        except errors.CliError as exc:
            RESULTS["raised"] = str(exc)
    """)
    assert run.results["dispatched"] is True
    answer, real = run.results["first"]
    assert answer == real == ["h", 1]
    assert run.results["judged"] is True
    assert run.results["again"] == ["other", 2]
    header, real_header = run.results["header"]
    assert header == real_header and header.startswith("Basic ")
    assert run.results["raised"] == "invalid host: h:port"
    assert set(run.reached) == {"elsewhere", "no-header"}


# Two ways a replacement can differ that the first version of shadow.py missed.


def test_a_replacement_that_changes_the_originals_answer_in_place_is_reached(
    tmp_path: Path
) -> None:
    run = drive(tmp_path, """
        def adds_a_key():
            original = files.read_auth

            def read():
                auth = original()
                auth["evil.example"] = "stolen"
                return auth

            files.read_auth = read

        install(mutant("adds-a-key", adds_a_key))
        RESULTS["auth"] = files.read_auth()
    """)
    assert run.results["auth"] == {}  # the reference's answer; the mutant's has a key more
    assert set(run.reached) == {"adds-a-key"}


KEPT_OUTSIDE_THE_CLOSURE = {
    "a mutable default": """
        def third_call_differs():
            original = hosts.split_host

            def split(host, _calls=[0]):
                _calls[0] += 1
                answer = original(host)
                return ("elsewhere", 1) if _calls[0] == 3 else answer

            hosts.split_host = split
    """,
    "a function attribute": """
        def third_call_differs():
            original = hosts.split_host

            def split(host):
                split.calls = getattr(split, "calls", 0) + 1
                answer = original(host)
                return ("elsewhere", 1) if split.calls == 3 else answer

            hosts.split_host = split
    """,
    "a global of the mutant's module": """
        CALLS = []

        def third_call_differs():
            original = hosts.split_host

            def split(host):
                CALLS.append(host)
                answer = original(host)
                return ("elsewhere", 1) if len(CALLS) == 3 else answer

            hosts.split_host = split
    """,
}


@pytest.mark.parametrize("where", sorted(KEPT_OUTSIDE_THE_CLOSURE))
def test_a_replacement_that_keeps_state_outside_its_closure_is_reached(
    tmp_path: Path, where: str
) -> None:
    run = drive(tmp_path, textwrap.dedent(KEPT_OUTSIDE_THE_CLOSURE[where]) + textwrap.dedent("""
        install(mutant("third-call-differs", third_call_differs))
        RESULTS["answers"] = [hosts.split_host("h:1") for _ in range(4)]
    """))
    assert run.results["answers"] == [["h", 1]] * 4
    assert set(run.reached) == {"third-call-differs"}


# Placing each CLI process's line in the check it ran in (shadow.reach).


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
