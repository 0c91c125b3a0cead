"""Unit tests of the reference CLI's pure helpers: no server, no files.

Headers and basic auth, rack matching, host parsing and the resolve map,
argument parsing (login's, ``--rack``, the command words), the form body of
``rack params set``, the request timeout and key redaction.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from reference_cli import errors, hosts, transport
from reference_cli.commands import login, rack, switch
from tests.reference_cli.conftest import basic


@pytest.mark.parametrize(
    "key",
    ["plain", "a+b/c=", "user@host:pass", "100%25 sure", " spaced key ", "ключ-ñ-🔑", ":", ""],
)
def test_basic_auth_header_is_byte_exact(key: str) -> None:
    assert transport.basic_auth_header(key) == basic(key)


def test_request_headers_carry_version_agent_and_rack() -> None:
    headers = transport.request_headers("k", "acme/prod")
    assert headers["Authorization"] == basic("k")
    assert headers["Version"] == transport.VERSION
    assert headers["User-Agent"].startswith("convox-reference/")
    assert headers["Rack"] == "acme/prod"
    assert "Rack" not in transport.request_headers("k", None)


REFS = ["acme/prod", "acme/staging", "beta/prod", "beta/dev"]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("acme/prod", "acme/prod"), ("staging", "acme/staging"), ("dev", "beta/dev")],
)
def test_match_rack_finds(wanted: str, expected: str) -> None:
    assert switch.match_rack(REFS, wanted) == expected


def test_match_rack_errors() -> None:
    with pytest.raises(
        errors.CliError, match=r"ambiguous rack name: prod \(matches acme/prod, beta/prod\)"
    ):
        switch.match_rack(REFS, "prod")
    with pytest.raises(errors.CliError, match="rack not found: nope"):
        switch.match_rack(REFS, "nope")
    with pytest.raises(errors.CliError, match="rack not found: acme/dev"):
        switch.match_rack(REFS, "acme/dev")
    with pytest.raises(errors.CliError, match="rack not found: acme"):
        switch.match_rack(REFS, "acme")


def test_rack_refs_from_console_listing() -> None:
    racks: list[dict[str, object]] = [
        {"name": "prod", "organization": {"name": "acme"}, "status": "running"},
        {"name": "solo"},
        {"name": "prod", "organization": {"name": "acme"}},
    ]
    assert switch.rack_refs(racks) == ["acme/prod", "solo"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("console.convox.com", ("console.convox.com", 443)),
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
    ],
)
def test_split_host(raw: str, expected: tuple[str, int]) -> None:
    assert hosts.split_host(raw) == expected


@pytest.mark.parametrize("raw", ["", "host:", ":443", "host:x", "host:1:2", "a/b", "-p"])
def test_normalize_host_rejects(raw: str) -> None:
    with pytest.raises(errors.CliError):
        hosts.normalize_host(raw)


def test_normalize_host_strips_scheme_and_slash() -> None:
    assert hosts.normalize_host("https://Rack.Example.com:8443/") == "Rack.Example.com:8443"
    assert hosts.normalize_host("http://x.convox.test") == "x.convox.test"


def test_resolve_map(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = "console.convox.com:443=127.0.0.1:40001; *=127.0.0.1:40009"
    monkeypatch.setenv(hosts.RESOLVE_ENV, resolve)
    assert hosts.resolve_address("console.convox.com", 443) == ("127.0.0.1", 40001)
    assert hosts.resolve_address("CONSOLE.convox.com", 443) == ("127.0.0.1", 40001)
    assert hosts.resolve_address("console.convox.com", 8443) == ("127.0.0.1", 40009)
    assert hosts.resolve_address("telemetry.example", 443) == ("127.0.0.1", 40009)
    # addresses and localhost need no resolving: the wildcard leaves them alone
    assert hosts.resolve_address("127.0.0.1", 40001) is None
    assert hosts.resolve_address("::1", 40001) is None
    assert hosts.resolve_address("localhost", 40001) is None
    monkeypatch.setenv(hosts.RESOLVE_ENV, "127.0.0.1:5=127.0.0.1:6;*=127.0.0.1:9")
    assert hosts.resolve_address("127.0.0.1", 5) == ("127.0.0.1", 6)
    monkeypatch.setenv(hosts.RESOLVE_ENV, "console.convox.com=127.0.0.1:1")
    assert hosts.resolve_address("console.convox.com", 443) == ("127.0.0.1", 1)
    assert hosts.resolve_address("other", 443) is None
    monkeypatch.setenv(hosts.RESOLVE_ENV, "garbage")
    with pytest.raises(errors.CliError, match="CONVOX_REFERENCE_RESOLVE"):
        hosts.resolve_address("other", 443)
    monkeypatch.delenv(hosts.RESOLVE_ENV)
    assert hosts.resolve_address("console.convox.com", 443) is None


def test_parse_login_args() -> None:
    assert login.parse_login_args([]) == (None, None)
    assert login.parse_login_args(["h", "--password", "-k-"]) == ("h", "-k-")
    assert login.parse_login_args(["-p", "k", "h"]) == ("h", "k")
    assert login.parse_login_args(["h", "-p", "--password"]) == ("h", "--password")
    for bad in (["--password"], ["--bogus"], ["--password=k"], ["a", "b"]):
        with pytest.raises(errors.CliError):
            login.parse_login_args(bad)


def test_encode_params_matches_the_wire_form() -> None:
    from urllib.parse import parse_qs, parse_qsl

    assert rack.encode_params([("Password", "abc")]) == b"parameters=Password%3Dabc"
    odd = "a+b/c&d=e %é"
    body = rack.encode_params([("Password", odd)]).decode()
    inner = parse_qs(body)["parameters"][0]
    assert dict(parse_qsl(inner)) == {"Password": odd}


@pytest.mark.parametrize(
    ("timeout", "ok"), [("", True), ("2.5", True), ("0", False), ("-1", False), ("x", False)]
)
def test_request_timeout(monkeypatch: pytest.MonkeyPatch, timeout: str, ok: bool) -> None:
    monkeypatch.setenv(transport.TIMEOUT_ENV, timeout)
    if ok:
        expected = float(timeout) if timeout else transport.DEFAULT_TIMEOUT
        assert transport.request_timeout() == expected
    else:
        with pytest.raises(errors.CliError):
            transport.request_timeout()


def test_redact_hides_remembered_keys() -> None:
    errors._SECRETS.clear()
    errors.remember_secret("s3cr3t-key")
    assert errors.redact("boom s3cr3t-key boom") == "boom ******** boom"
    errors._SECRETS.clear()


def test_take_rack_flag_removes_the_flag_and_its_value() -> None:
    from reference_cli import login_state

    assert login_state.take_rack_flag(["x", "--rack", " acme/a ", "y"]) == ["x", "y"]
    assert login_state.flag_rack() == "acme/a"
    assert login_state.take_rack_flag(["--rack", "a/b", "--rack", "c/d"]) == ["--rack", "c/d"]
    for bad in (["--rack"], ["--rack", " "]):
        with pytest.raises(errors.CliError, match="--rack needs a rack"):
            login_state.take_rack_flag(bad)


def test_command_of_takes_the_longest_command_words() -> None:
    from reference_cli import main

    assert main.command_of(["rack", "params", "set", "A=1"]) == ("rack params set", ["A=1"])
    assert main.command_of(["rack", "params"]) == ("rack params", [])
    assert main.command_of(["rack", "--rack", "a/b"]) == ("rack", ["--rack", "a/b"])
    with pytest.raises(errors.CliError, match="unknown command: deploy"):
        main.command_of(["deploy"])


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@given(st.one_of(
    st.text(alphabet="0123456789.", max_size=16),
    st.lists(st.integers(0, 300).map(str)
             | st.sampled_from(["00", "01", "007", "", " 1", "\u0661"]),
             min_size=3, max_size=5).map(".".join),
    st.text(max_size=12),
))
@example("127.0.0.1")
@example("1.2.3.04")
@example("256.1.1.1")
@example("\u0661.2.3.4")  # an Arabic-Indic digit: isdigit() but not ASCII
def test_an_ipv4_literal_is_told_as_ipaddress_tells_it(name: str) -> None:
    if ":" not in name and name.lower().rstrip(".") != "localhost":
        assert hosts.is_local_address(name) is is_ip(name)
