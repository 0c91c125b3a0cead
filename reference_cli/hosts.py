"""Hosts: parsing ``name[:port]`` as typed, and the resolve seam.

``$CONVOX_REFERENCE_RESOLVE`` (like curl's ``--resolve``) lets the suite point
``console.convox.com`` at a loopback fake while SNI, certificate checks and
``Host`` still use the real name; this is the only place that decides where a
connection goes.
"""

from __future__ import annotations

import os

from reference_cli import errors

RESOLVE_ENV = "CONVOX_REFERENCE_RESOLVE"


def normalize_host(raw: str) -> str:
    """The host as typed, scheme and trailing slash stripped (``name[:port]``)."""
    host = raw.strip()
    lowered = host.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.rstrip("/")
    if not host or any(ch in host for ch in "/@?# \t\r\n") or host.startswith("-"):
        raise errors.CliError(f"invalid host: {raw!r}")
    split_host(host)  # validates the port
    return host


def split_host(host: str) -> tuple[str, int]:
    """``name[:port]`` -> (name, port); no port means 443.

    A port out of range is left for the connection to refuse. IPv6 literals are
    not taken: no rule, profile or fake uses one, and untested parsing is a guess.
    """
    name, sep, port_text = host.partition(":")
    if not sep:
        return host, 443
    if not name or not port_text.isdigit():
        raise errors.CliError(f"invalid host: {host}")
    return name, int(port_text)


def parse_resolve_map(text: str) -> dict[str, tuple[str, int]]:
    """Parse ``name:port=ip:port;...;*=ip:port`` (the suite's curl-like ``--resolve``)."""
    mapping: dict[str, tuple[str, int]] = {}
    for raw_entry in text.split(";"):
        entry = raw_entry.strip()
        if not entry:
            continue
        left, sep, right = entry.partition("=")
        if not sep:
            raise errors.CliError(f"invalid {RESOLVE_ENV} entry: {entry}")
        left = left.strip()
        if left != "*":
            name, port = split_host(left)
            left = f"{name.lower()}:{port}"
        target_name, target_port = split_host(right.strip())
        mapping[left] = (target_name, target_port)
    return mapping


def resolve_address(name: str, port: int) -> tuple[str, int] | None:
    """The address to connect to instead of (name, port), from ``$CONVOX_REFERENCE_RESOLVE``.

    None means "resolve normally".  The original name is still used for SNI,
    certificate checks and ``Host``, so ``console.convox.com`` can be a loopback fake.
    Like a DNS override, ``*`` only catches names that need resolving: an IP
    literal or ``localhost`` is already an address on this machine (that is how
    the fakes are given to the CLI), so it is reached directly unless listed.
    """
    text = os.environ.get(RESOLVE_ENV, "")
    if not text.strip():
        return None
    mapping = parse_resolve_map(text)
    exact = mapping.get(f"{name.lower()}:{port}")
    if exact is not None:
        return exact
    if is_local_address(name):
        return None
    return mapping.get("*")


def is_local_address(name: str) -> bool:
    """True for IP literals and ``localhost``: nothing there to resolve."""
    if name.lower().rstrip(".") == "localhost":
        return True
    if ":" not in name:
        # An IPv4 literal or a name, told apart without the ipaddress module, whose
        # import costs a twentieth of a command's CPU.
        return is_ipv4_literal(name)
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_ipv4_literal(name: str) -> bool:
    """``ipaddress.IPv4Address``'s rule: four decimal octets, each at most 255, no
    leading zero."""
    octets = name.split(".")
    return len(octets) == 4 and all(
        octet.isascii() and octet.isdigit() and len(octet) <= 3 and int(octet) <= 255
        and (octet == "0" or not octet.startswith("0")) for octet in octets)
