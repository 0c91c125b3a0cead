"""The request journal: recording from threads, filters, and readable failures."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from freezegun import freeze_time

from fakes.http.journal import EGRESS_SERVERS, Journal, JournalEntry, host_name
from fakes.model.clock import Clock


def console_auth(journal: Journal, **overrides: Any) -> JournalEntry:
    fields: dict[str, Any] = {
        "request_id": "r1",
        "server": "console",
        "address": "127.0.0.1:4000",
        "host_header": "127.0.0.1:4000",
        "hop": "cli",
        "method": "GET",
        "path": "/auth",
        "query": "",
        "key_identity": "user:alice@example.com#1",
        "status": 200,
    }
    fields.update(overrides)
    return journal.record(**fields)


@pytest.fixture
def journal() -> Journal:
    j = Journal(Clock(source=lambda: 1000.0))
    console_auth(j)
    console_auth(j, request_id="r2", path="/racks", key_identity="user:bob@example.com#1")
    console_auth(j, request_id="r3", path="/apps", rack_header="acme/production")
    j.record(
        request_id="r3",
        server="acme/production",
        hop="proxy",
        method="GET",
        path="/apps",
        key_identity="rack:acme/production#1",
        rack_header="acme/production",
        status=200,
    )
    return j


def test_record_assigns_seq_and_time(journal: Journal) -> None:
    seqs = [e.seq for e in journal.entries()]
    assert seqs == [1, 2, 3, 4]
    assert all(e.time == 1000.0 for e in journal.entries())
    assert len(journal) == 4


def test_record_accepts_an_entry_and_overrides(journal: Journal) -> None:
    stored = journal.record(JournalEntry(seq=99, server="guard", method="GET", path="/"), status=7)
    assert (stored.seq, stored.server, stored.status) == (5, "guard", 7)


def test_record_time_from_freezegun() -> None:
    with freeze_time("2024-01-01 00:00:00") as frozen:
        j = Journal()
        first = j.record(server="console")
        frozen.tick(3)
        second = j.record(server="console")
    assert second.time - first.time == 3


def test_record_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match="unknown journal fields: colour"):
        Journal().record(server="console", colour="red")


def test_entries_filters(journal: Journal) -> None:
    assert [e.request_id for e in journal.entries(server="console")] == ["r1", "r2", "r3"]
    assert [e.seq for e in journal.entries(key="rack:acme/production#1")] == [4]
    assert [e.seq for e in journal.entries(request_id="r3", hop="proxy")] == [4]
    assert [e.seq for e in journal.entries(rack_header=None)] == [1, 2]
    assert [e.seq for e in journal.entries(path=lambda p: p.startswith("/a"))] == [1, 3, 4]


def test_unknown_filter_fails_loudly(journal: Journal) -> None:
    with pytest.raises(TypeError, match="unknown journal filter 'pth'"):
        journal.expect_none(pth="/auth")


def test_mark_and_since(journal: Journal) -> None:
    mark = journal.mark()
    assert journal.since(mark) == []
    console_auth(journal, request_id="r5")
    assert [e.request_id for e in journal.since(mark)] == ["r5"]
    assert journal.since(mark, path="/racks") == []
    assert journal.expect_one(since=mark, path="/auth").request_id == "r5"


def test_expect_one_returns_the_entry(journal: Journal) -> None:
    assert journal.expect_one(path="/racks").request_id == "r2"


def test_expect_one_lists_near_misses(journal: Journal) -> None:
    with pytest.raises(AssertionError) as err:
        journal.expect_one(server="console", path="/racks", key="user:alice@example.com#1")
    message = str(err.value)
    lines = message.splitlines()
    assert lines[0].startswith(
        "expected exactly one request, found 0 matching server='console', path='/racks', "
        "key_identity='user:alice@example.com#1'; closest: #1 cli->console GET /auth "
        "key=user:alice@example.com#1"
    ), "the one line a report shows says what did happen, and how it differed"
    assert lines[0].endswith("(differs: path='/auth')")
    assert lines[1] == "near misses (best first):"
    # Entries matching two of the three filters, best first, one per line.
    assert lines[2].startswith("  #1 cli->console GET /auth key=user:alice@example.com#1")
    assert "[differs: path='/auth']" in lines[2]
    assert lines[3].startswith("  #2 cli->console GET /racks key=user:bob@example.com#1")
    assert "[differs: key_identity='user:bob@example.com#1']" in lines[3]
    assert len(lines) == 5  # the proxy hop matches nothing and is not a near miss


def test_expect_one_with_too_many(journal: Journal) -> None:
    with pytest.raises(AssertionError) as err:
        journal.expect_one(server="console")
    message = str(err.value)
    assert "found 3" in message
    assert message.count("[matches]") == 3


def test_expect_some(journal: Journal) -> None:
    assert len(journal.expect_some(request_id="r3")) == 2
    with pytest.raises(AssertionError, match="expected a request, found none"):
        journal.expect_some(server="guard")


def test_nothing_close_lists_what_arrived(journal: Journal) -> None:
    with pytest.raises(AssertionError) as err:
        journal.expect_some(server="guard")
    lines = str(err.value).splitlines()
    assert lines[1] == "nothing came close; what did arrive:"
    assert len(lines) == 2 + 4


def test_empty_journal_says_so() -> None:
    with pytest.raises(AssertionError, match="no requests were recorded"):
        Journal().expect_one(server="console")


def test_expect_none(journal: Journal) -> None:
    journal.expect_none(server="guard")
    journal.expect_none(server="acme/production", key="user:alice@example.com#1")
    with pytest.raises(AssertionError) as err:
        journal.expect_none(hop="proxy")
    lines = str(err.value).splitlines()
    assert lines[0] == "expected no request matching hop='proxy', found 1:"
    assert lines[1].startswith("  #4 proxy->acme/production GET /apps key=rack:acme/production#1")
    assert "rack=acme/production" in lines[1]
    assert "id=r3" in lines[1]


def test_predicate_filters_are_named_in_messages(journal: Journal) -> None:
    def under_apps(path: str) -> bool:
        return path.startswith("/apps/")

    with pytest.raises(AssertionError, match="path=under_apps"):
        journal.expect_some(path=under_apps)


def test_near_miss_listing_is_bounded() -> None:
    j = Journal()
    for i in range(50):
        j.record(server="console", method="GET", path=f"/p{i}")
    with pytest.raises(AssertionError) as err:
        j.expect_one(server="console", path="/nope")
    message = str(err.value)
    assert "... and 30 more" in message
    assert len(message.splitlines()) == 2 + 20 + 1


def test_to_dicts(journal: Journal) -> None:
    dicts = journal.to_dicts()
    assert len(dicts) == 4
    assert dicts[3]["hop"] == "proxy"
    assert set(dicts[0]) == {
        "seq",
        "request_id",
        "server",
        "address",
        "host_header",
        "hop",
        "method",
        "path",
        "query",
        "key_identity",
        "rack_header",
        "session_identity",
        "body",
        "status",
        "time",
    }


def test_record_is_thread_safe() -> None:
    j = Journal()

    def hammer(n: int) -> None:
        for i in range(200):
            j.record(server=f"s{n}", method="GET", path=f"/{i}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.seq for e in j.entries()] == list(range(1, 1601))


@pytest.mark.parametrize(("host", "name"), [
    ("127.0.0.1:8443", "127.0.0.1"),
    ("Console.Example:443", "console.example"),
    ("localhost", "localhost"),
    ("[::1]:8443", "[::1]"),
    ("[::1]", "[::1]"),
    ("::1", "::1"),  # a bare v6 literal has no port to drop
])
def test_host_name_drops_the_port_and_the_case(host: str, name: str) -> None:
    assert host_name(host) == name


def test_the_worlds_traffic_leaves_egress_to_those_who_ask_the_guard() -> None:
    """A check's view hides the guard's and DNS entries from every query naming no server:
    a lookup or a report to an outside host is SECURITY-003's finding, not a request to a
    wrong host under another rule. Asking the guard by name still sees them."""
    j = Journal()
    view = j.without(EGRESS_SERVERS)
    mark = view.mark()
    j.record(server="console", method="GET", path="/auth", hop="cli", key_identity="user:a#1")
    j.record(server="dns", method="DNS", host_header="console.convox.com", hop="cli")
    j.record(server="guard", method="DNS", host_header="api.segment.io", hop="cli")
    j.record(server="guard", method="POST", host_header="api.segment.io", hop="cli",
             key_identity="empty")
    assert [e.server for e in view.since(mark, hop="cli")] == ["console"]
    view.expect_none(since=mark, key="empty")
    assert [e.method for e in view.entries(server="guard")] == ["DNS", "POST"]
    assert j.entries(key="empty"), "the journal itself sees the report"
    assert len(view.entries(server="dns")) == 1
    # The journal itself, and what the evidence is written from, keep everything.
    assert len(j.entries()) == 4 and len(view.to_dicts()) == 4
    with pytest.raises(AssertionError, match="near misses") as caught:
        view.expect_some(since=mark, server="console", path="/racks")
    assert "api.segment.io" not in str(caught.value)
    assert not view.entries(server=lambda s: s != "console"), "a predicate is about the world"
