"""Shadowing mutants (tests/mutants/shadow.py) judged by their effects and the state they keep.

A replacement that writes a file is stopped before it writes; one that prints is
reached and its output never leaks; a function that wrote files counts as
reached for every replacement; state a replacement keeps between calls, in its
closure or outside it, has it reached on its first call. Each case runs a driver
in a fresh Python (``tests.shadow_support.drive``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.shadow_support import drive


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


# Another way a replacement can differ that the first version of shadow.py missed.


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
