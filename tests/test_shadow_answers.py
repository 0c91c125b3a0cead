"""Shadowing mutants (tests/mutants/shadow.py) judged by their answers: reached or not.

A replacement is reached when it answers differently from the reference
function it replaces (another value, a raise, a changed answer in place); calling
the original another way is the same call, a changed constant cannot be
shadowed, and the caller always gets the reference's own answer. Each case runs
a driver in a fresh Python (``tests.shadow_support.drive``).
"""

from __future__ import annotations

from pathlib import Path

from tests.shadow_support import drive


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


# One way a replacement can differ that the first version of shadow.py missed.


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
