"""The sandbox's DNS server: answers, the query log, both transports, refusals."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dns.message
import dns.query
import dns.rcode
import pytest

from fakes.sandbox.dns import DnsServer, Query, Zone


@pytest.fixture
def server() -> Iterator[tuple[DnsServer, str, list[Query]]]:
    running = DnsServer().start()
    address = running.bind("127.0.0.1", 0)
    seen: list[Query] = []
    running.set_zone(address, Zone({"console.convox.com": "127.8.0.1"}, "127.8.0.2", seen.append))
    try:
        yield running, address, seen
    finally:
        running.stop()


def ask(address: str, name: str, qtype: str, tcp: bool = False) -> dns.message.Message:
    ip, port = address.split(":")
    query = dns.message.make_query(name, qtype)
    if tcp:
        return dns.query.tcp(query, ip, port=int(port), timeout=5)
    return dns.query.udp(query, ip, port=int(port), timeout=5)


def addresses(reply: dns.message.Message) -> list[str]:
    return [item.address for rrset in reply.answer for item in rrset]


def test_console_and_every_other_name(server) -> None:
    _, address, seen = server
    assert addresses(ask(address, "console.convox.com", "A")) == ["127.8.0.1"]
    assert addresses(ask(address, "CONSOLE.convox.com.", "A")) == ["127.8.0.1"]
    assert addresses(ask(address, "api.segment.io", "A")) == ["127.8.0.2"]
    assert addresses(ask(address, "deep.name.example", "A", tcp=True)) == ["127.8.0.2"]
    assert [(q.name, q.qtype, q.transport, q.answer) for q in seen] == [
        ("console.convox.com", "A", "udp", "127.8.0.1"),
        ("console.convox.com", "A", "udp", "127.8.0.1"),
        ("api.segment.io", "A", "udp", "127.8.0.2"),
        ("deep.name.example", "A", "tcp", "127.8.0.2"),
    ]


@pytest.mark.parametrize("name", ["invalid", "no-such-console.invalid", "A.B.INVALID."])
@pytest.mark.parametrize("qtype", ["A", "AAAA"])
def test_reserved_invalid_names_do_not_exist(server, name: str, qtype: str) -> None:
    # RFC 6761: the one kind of name a check can count on no resolver knowing.
    _, address, seen = server
    reply = ask(address, name, qtype)
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.answer == []
    assert seen[-1].answer is None and seen[-1].name == name.lower().rstrip(".")
    # a name merely containing the word is an ordinary unknown name: the guard's
    assert addresses(ask(address, "invalid.example", "A")) == ["127.8.0.2"]


@pytest.mark.parametrize("qtype", ["AAAA", "HTTPS", "MX", "TXT"])
def test_other_types_get_an_empty_answer_and_are_logged(server, qtype: str) -> None:
    _, address, seen = server
    reply = ask(address, "api.segment.io", qtype)
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []
    assert seen[-1] == Query("api.segment.io", qtype, "udp", address, None)


def test_an_unattached_address_refuses(server) -> None:
    running, address, seen = server
    running.set_zone(address, None)
    assert ask(address, "console.convox.com", "A").rcode() == dns.rcode.REFUSED
    assert seen == []


def test_garbage_gets_no_answer_and_the_server_goes_on(server) -> None:
    _, address, _ = server
    ip, port = address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(b"\x00\x01not dns", (ip, int(port)))
        with pytest.raises(TimeoutError):
            sock.recv(512)
    assert addresses(ask(address, "console.convox.com", "A")) == ["127.8.0.1"]


def test_binds_loopback_only() -> None:
    unbound = DnsServer()
    try:
        with pytest.raises(ValueError, match="loopback only"):
            unbound.bind("0.0.0.0", 0)
    finally:
        unbound.stop()
