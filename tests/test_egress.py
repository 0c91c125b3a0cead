"""Guard and DNS entries told per invocation, the way a CLI author reads them."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.network.egress import describe, invocation_of
from fakes.http.journal import JournalEntry


@dataclass
class Run:
    operation: str
    started_at: float
    duration: float


RUNS = [Run("login", 100.0, 0.5), Run("racks", 101.0, 0.2), Run("apps", 102.0, 0.3)]


def entry(method: str, host: str, when: float, address: str = "127.9.9.2:443",
          **fields: str) -> JournalEntry:
    return JournalEntry(server="guard", method=method, host_header=host, address=address,
                        time=when, **fields)


def test_an_entry_belongs_to_the_invocation_running_then() -> None:
    assert invocation_of(RUNS, 100.2) == 0
    assert invocation_of(RUNS, 101.1) == 1
    assert invocation_of(RUNS, 102.33) == 2  # just after the end: still its own
    assert invocation_of(RUNS, 100.8) is None  # between invocations
    assert invocation_of([Run("a", 1.0, 5.0), Run("b", 2.0, 1.0)], 2.5) == 1  # the later one


def test_lookup_and_connection_read_as_one_sentence() -> None:
    entries = [entry("DNS", "api.segment.io", 100.1, "127.9.9.2:53"),
               entry("DNS", "api.segment.io", 100.1, "127.9.9.2:53"),
               entry("TLS", "api.segment.io", 100.2)]
    assert describe(RUNS, entries) == [
        "login (invocation 1) looked up api.segment.io and connected to it on 443"]


def test_requests_say_what_was_sent_and_with_which_key() -> None:
    entries = [entry("DNS", "stats.example", 102.1, "127.9.9.2:53"),
               entry("POST", "stats.example", 102.2, "127.9.9.2:80", path="/track",
                     key_identity="user:alice@example.com#1"),
               entry("DNS", "cdn.example", 100.1, "127.9.9.2:53")]
    assert describe(RUNS, entries) == [
        "login (invocation 1) looked up cdn.example",
        "apps (invocation 3) looked up stats.example and connected to it on 80 and sent "
        "POST /track to stats.example carrying user:alice@example.com#1",
    ]


def test_what_no_invocation_explains_is_said_too() -> None:
    lines = describe(RUNS, [entry("RAW", "", 150.0, "127.9.9.2:80")])
    assert lines == ["outside any CLI invocation (a process the CLI left running?) connected "
                     "to the guard at 127.9.9.2 on 80"]
