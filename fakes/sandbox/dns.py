"""A DNS server for the network sandbox: every name leads to the fakes.

Inside the sandbox a CLI resolves host names the way it would for a user,
through ``/etc/resolv.conf``, and this server answers. Each world has its own
answering address (a ``Zone`` on its own loopback IP), so queries arriving
there are that world's and its answers point at that world's servers:
``console.convox.com`` at the world's Console, every other name at the
world's egress guard, except names under ``.invalid``, which get NXDOMAIN as
from any resolver (RFC 6761). Every query is handed to the zone's ``on_query``
callback, which journals it: a lookup of an analytics host is evidence
even when the CLI never manages to connect.

Only ``A`` questions get an address: the guard and Console live on their own
``127.x.y.z`` addresses, and loopback offers no such room in IPv6 (``::1``
is one address, shared by everyone). Every other type (``AAAA``, ``HTTPS``,
``MX``, ...) gets an empty NOERROR answer, which every resolver reads as "no
record of that type, try A". UDP and TCP are both served, since resolvers
retry a truncated answer over TCP.

dnspython parses and builds the messages, so odd but valid queries (EDNS,
several questions, unusual classes) are read the way real resolvers write them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

PORT = 53
RESERVED_NONEXISTENT = "invalid"  # RFC 6761, section 6.4
TTL = 5
MAX_UDP = 4096
#: Fresh ports tried when bind() is asked for any port (0) and TCP has the UDP pick.
PICK_ATTEMPTS = 20


@dataclass(frozen=True)
class Query:
    """One question as the server saw it."""

    name: str  # without the trailing dot, lower case
    qtype: str  # "A", "AAAA", "HTTPS", ...
    transport: str  # "udp" or "tcp"
    address: str  # "ip:53" the query was sent to
    answer: str | None  # the address given, or None for an empty answer


@dataclass
class Zone:
    """What one answering address says: ``names`` to addresses, the rest to ``default``.

    ``on_query`` sees every question; a zone with ``default=None`` answers
    only its ``names`` and refuses the rest (NXDOMAIN).
    """

    names: dict[str, str] = field(default_factory=dict)
    default: str | None = None
    on_query: Callable[[Query], None] | None = None

    def address_for(self, name: str) -> str | None:
        # RFC 6761 reserves .invalid for names that never exist, and every resolver
        # answers NXDOMAIN for them: the one way a check can meet an unknown name.
        if name == RESERVED_NONEXISTENT or name.endswith("." + RESERVED_NONEXISTENT):
            return None
        return self.names.get(name, self.default)


class DnsServer:
    """Serves zones on loopback addresses, port 53, from one selector thread.

    Sockets are bound by :meth:`bind` (which fails if another process holds
    that address, so callers can pick a free one) and re-pointed at another
    world with :meth:`set_zone`, like the pooled HTTPS listeners.
    """

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._zones: dict[str, Zone | None] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, ("wake", ""))
        self._sockets: list[socket.socket] = []

    def bind(self, ip: str, port: int = PORT) -> str:
        """Listen on ``ip:port`` (UDP and TCP; port 0 picks one); OSError if it is taken.

        Returns the ``ip:port`` address, the key of :meth:`set_zone`.
        """
        if not ipaddress.ip_address(ip).is_loopback:
            raise ValueError(f"the DNS server binds loopback only, not {ip}")
        # Port 0 lets UDP pick a port that TCP may already have in use: pick again.
        for attempt in range(PICK_ATTEMPTS if port == 0 else 1):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                udp.bind((ip, port))
                tcp.bind((ip, udp.getsockname()[1]))
                tcp.listen(16)
                break
            except OSError:
                udp.close()
                tcp.close()
                if attempt == PICK_ATTEMPTS - 1 or port != 0:
                    raise
        address = f"{ip}:{udp.getsockname()[1]}"
        with self._lock:
            self._zones[address] = None
            self._sockets += [udp, tcp]
        self._selector.register(udp, selectors.EVENT_READ, ("udp", address))
        self._selector.register(tcp, selectors.EVENT_READ, ("tcp", address))
        self._wake()
        return address

    def set_zone(self, address: str, zone: Zone | None) -> None:
        """What ``address`` answers from now on (None: refuse everything)."""
        with self._lock:
            if address not in self._zones:
                raise KeyError(f"the DNS server does not listen on {address}")
            self._zones[address] = zone

    def start(self) -> DnsServer:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="dns", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in (*sockets, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(OSError, ValueError):
            self._selector.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _loop(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=1.0):
                kind, address = key.data
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if kind == "wake":
                    with contextlib.suppress(OSError):
                        sock.recv(512)
                elif kind == "udp":
                    self._udp(sock, address)
                else:
                    self._accept(sock, address)

    def _udp(self, sock: socket.socket, address: str) -> None:
        try:
            data, peer = sock.recvfrom(MAX_UDP)
        except OSError:
            return
        reply = self.answer(data, address, "udp")
        if reply is not None:
            with contextlib.suppress(OSError):
                sock.sendto(reply, peer)

    def _accept(self, sock: socket.socket, address: str) -> None:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=self._tcp, args=(conn, address), name="dns-tcp",
                         daemon=True).start()

    def _tcp(self, conn: socket.socket, address: str) -> None:
        # RFC 7766: two-byte length, then the message; several may follow on one connection.
        with conn:
            conn.settimeout(5.0)
            while True:
                try:
                    head = _recv_exact(conn, 2)
                    if head is None:
                        return
                    body = _recv_exact(conn, struct.unpack("!H", head)[0])
                    if body is None:
                        return
                except OSError:
                    return
                reply = self.answer(body, address, "tcp")
                if reply is None:
                    return
                try:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

    def answer(self, data: bytes, address: str, transport: str) -> bytes | None:
        """The reply to one wire-format query (None: not a query we can read)."""
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR:
            return None  # an answer, not a question: never reply to it
        with self._lock:
            zone = self._zones.get(address)
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        if zone is None:
            reply.set_rcode(dns.rcode.REFUSED)
            return reply.to_wire()
        for question in query.question:
            name = question.name.to_text(omit_final_dot=True).lower()
            qtype = dns.rdatatype.to_text(question.rdtype)
            target = zone.address_for(name)
            given = None
            if target is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A and question.rdclass == dns.rdataclass.IN:
                reply.answer.append(
                    dns.rrset.from_text(question.name, TTL, "IN", "A", target)
                )
                given = target
            if zone.on_query is not None:
                with contextlib.suppress(Exception):  # a journal bug must not stop answers
                    zone.on_query(Query(name, qtype, transport, address, given))
        # Our answers are a few dozen bytes: they always fit what the client can take.
        size = 65535 if transport == "tcp" else max(512, min(query.payload, MAX_UDP))
        return reply.to_wire(max_size=size)


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
