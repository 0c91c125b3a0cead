"""LOGIN: what `convox login` records, where the key comes from, and when it is stored.

Every check logs in to the standard world's fakes: the Console (alice's
Console key) or a rack directly (acme/legacy, installed by CLI and never added
to Console; acme/staging). Files are read only through ``convox.state`` so the
same check runs against every profile's layout.
"""

from __future__ import annotations

import re
import secrets

import pytest

from conformance.checks.observations import changed_files, described
from conformance.checks.standard_world import (
    ALICE,
    BOB,
    DEFAULT_HOST,
    LEGACY,
    PRODUCTION,
    STAGING,
    wrong_key,
)
from conformance.harness.handle import Convox
from conformance.harness.skip_outcomes import blocked
from conformance.running.invoke import CliTimeout, Invocation
from fakes.http.faults import Fault
from fakes.http.journal import host_name

#: A host the user logged in to before (never contacted): kept exactly as written.
EARLIER_RACK = "Rack-2019.Example.convox.test"


def same(stored: str | None, key: str) -> bool:
    """Byte-exact key comparison kept out of assert expressions.

    pytest's assertion introspection would print parts of both keys into the
    failure message (and so into the reports); a plain bool shows nothing.
    """
    return stored == key


def shows(text: str, key: str) -> bool:
    """Whether ``text`` contains ``key`` (a bool, for the same reason as :func:`same`)."""
    return key in text


def logs_in_at_all(convox: Convox) -> None:
    """Given: the CLI logs in to Console the plain way (key on the command line),
    in a home of its own, so a failure of another way of logging in is that way's."""
    convox.console_login_works(ALICE)


def is_default_host(header: str) -> bool:
    """The ``Host`` header for console.convox.com, with or without the default port."""
    return header.lower() in (DEFAULT_HOST, f"{DEFAULT_HOST}:443")


@pytest.mark.spec("LOGIN-001")
def test_login_records_the_target_host(convox: Convox) -> None:
    """Log in to the Console fake with alice's key; the target file names that host."""
    convox.login_console(ALICE)
    assert convox.state.target() == convox.console, (
        f"the target file should hold the host given to login ({convox.console!r}), "
        f"it holds {convox.state.target()!r}" + convox.changed_instead(convox.state.target_path)
    )


@pytest.mark.spec("LOGIN-002")
def test_login_stores_the_key_under_the_host(convox: Convox) -> None:
    """Log in to the Console fake with alice's key; auth maps that host to that key."""
    key = convox.user_key(ALICE)
    convox.login_console(ALICE)
    auth = convox.state.auth()
    assert auth is not None, "login wrote no auth file" + convox.changed_instead(
        convox.state.auth_path)
    hosts = sorted(auth)  # hosts only: introspecting `auth` would print keys
    assert convox.console in hosts, f"auth has no entry for {convox.console!r}; its hosts: {hosts}"
    stored = auth[convox.console]
    assert same(stored, key), (
        f"auth stores {convox.identity(stored)} for {convox.console!r}, "
        f"not the key given to login ({convox.identity(key)}), or not byte for byte"
    )


@pytest.mark.spec("LOGIN-003")
def test_login_keeps_the_keys_of_other_hosts(convox: Convox) -> None:
    """With an older rack's entry already in auth, log in to Console, acme/legacy, acme/staging.

    The older entry (a mixed-case host name the world never serves, as left by
    an earlier `convox install`) must come through every rewrite untouched.
    """
    earlier_key = "earlier" + secrets.token_urlsafe(32)
    convox.cli.remember(earlier_key)  # redacted in the reports like any key we hand out
    wanted = {EARLIER_RACK: earlier_key}
    convox.state.write_auth(wanted)
    logins = {
        convox.console: convox.user_key(ALICE),
        convox.rack_host(LEGACY): convox.rack_key(LEGACY),
        convox.rack_host(STAGING): convox.rack_key(STAGING),
    }
    # Each login is a given that also requires its own records (LOGIN-001, LOGIN-002)
    # and, this rule's subject, the other hosts' keys kept.
    convox.login_console(ALICE)
    convox.login_rack(LEGACY)
    convox.login_rack(STAGING)
    wanted.update(logins)
    auth = convox.state.keys()
    wrong = {
        host: convox.identity(auth.get(host)) for host, key in wanted.items()
        if auth.get(host) != key
    }
    assert not wrong, (
        "after three logins auth should still hold the earlier entry and every host "
        f"with its own key; missing or wrong (host -> what is stored): {wrong}; "
        f"hosts in auth: {sorted(auth)}"
    )


@pytest.mark.spec("LOGIN-004")
def test_login_accepts_a_console(convox: Convox) -> None:
    """Log in to the Console fake with alice's Console key."""
    key = convox.user_key(ALICE)
    mark = convox.journal.mark()
    convox.ok(convox.login(convox.console, key))
    assert convox.state.target() == convox.console, (
        f"target file: {convox.state.target()!r}, expected the Console {convox.console!r}"
    )
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key))


@pytest.mark.spec("LOGIN-005")
def test_login_accepts_a_rack_console_does_not_know(convox: Convox) -> None:
    """Log in directly to acme/legacy (never added to Console) with its rack key."""
    host, key = convox.rack_host(LEGACY), convox.rack_key(LEGACY)
    mark = convox.journal.mark()
    convox.ok(convox.login(host, key))
    assert convox.state.target() == host, (
        f"target file: {convox.state.target()!r}, expected the rack {host!r}"
    )
    convox.journal.expect_some(since=mark, server=LEGACY, hop="cli", key=convox.identity(key))
    convox.journal.expect_none(since=mark, server="console")


@pytest.mark.spec("LOGIN-006")
def test_host_and_key_from_auth_log_in_again(convox: Convox) -> None:
    """Log in directly to acme/legacy, then log in on another machine with what auth holds."""
    # What auth holds is this rule's subject, so the given does not require it.
    convox.login_rack(LEGACY, records=False)
    with convox.given("the target file names the rack's host", covered_by="LOGIN-001"):
        host = convox.state.target()
        assert host == convox.rack_host(LEGACY), f"after login the target is {host!r}"
    with convox.given("auth holds a key for the rack's host", covered_by="LOGIN-002"):
        auth = convox.state.keys()
        hosts = sorted(auth)  # hosts only: introspecting `auth` would print keys
        assert host in hosts, (
            f"after login the target {host!r} should have a key in auth (hosts: {hosts})"
        )
    key = auth[host]
    elsewhere = convox.another_home()
    mark = convox.journal.mark()
    elsewhere.ok(elsewhere.login(host, key))
    convox.journal.expect_some(since=mark, server=LEGACY, hop="cli",
                               key=convox.identity(convox.rack_key(LEGACY)))


@pytest.mark.spec("LOGIN-007")
def test_login_host_defaults_to_console_convox_com(convox: Convox) -> None:
    """Log in without a host, console.convox.com being resolved to the Console fake."""
    key = convox.user_key(ALICE)
    logs_in_at_all(convox)
    mark = convox.journal.mark()
    convox.ok(convox.run("login_default", key=key))
    assert convox.state.target() == DEFAULT_HOST, (
        f"target file: {convox.state.target()!r}, expected {DEFAULT_HOST!r}"
    )
    auth = convox.state.keys()
    assert same(auth.get(DEFAULT_HOST), key), (
        f"auth should map {DEFAULT_HOST} to the key; hosts in auth: {sorted(auth)}"
    )
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               host_header=is_default_host, key=convox.identity(key))


@pytest.mark.spec("LOGIN-008")
def test_login_takes_the_key_from_the_environment(convox: Convox) -> None:
    """Log in to the Console fake with the key only in the profile's environment variable."""
    key = convox.user_key(ALICE)
    logs_in_at_all(convox)
    mark = convox.journal.mark()
    convox.ok(convox.login(convox.console, key, how="login_env"))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key))
    assert same(convox.state.keys().get(convox.console), key), (
        "auth does not store the key taken from the environment for the Console host"
    )


@pytest.mark.spec("LOGIN-009")
def test_login_prompts_for_the_key_without_echo(convox: Convox) -> None:
    """Log in to the Console fake typing the key at the profile's prompt on a terminal."""
    key = convox.user_key(ALICE)
    logs_in_at_all(convox)
    invocation = convox.ok(convox.login(convox.console, key, how="login_prompt"))
    assert invocation.echo_off is True, (
        "terminal echo was still on when the key was typed at the prompt"
    )
    assert not shows(invocation.output, key), (
        "the key typed at the prompt appears in the CLI's output"
    )
    assert same(convox.state.keys().get(convox.console), key), (
        "auth does not store the key typed at the prompt for the Console host"
    )


@pytest.mark.spec("LOGIN-010")
def test_login_tries_the_key_at_the_target_first(convox: Convox) -> None:
    """Log in to the Console fake, then directly to acme/legacy; watch who was asked."""
    for server, host, key in (
        ("console", convox.console, convox.user_key(ALICE)),
        (LEGACY, convox.rack_host(LEGACY), convox.rack_key(LEGACY)),
    ):
        mark = convox.journal.mark()
        with convox.given(f"log in to {server}"):
            convox.ok(convox.login(host, key))
        stored = convox.state.keys().get(host)
        if stored is None:
            blocked("LOGIN-002", f"login to {host} stored no key for it", "",
                    convox.properties)
        convox.journal.expect_some(since=mark, server=server, hop="cli",
                                   key=convox.identity(stored))
        convox.journal.expect_none(since=mark, server=lambda name, s=server: name != s)


@pytest.mark.spec("LOGIN-011")
def test_refused_login_changes_no_file(convox: Convox) -> None:
    """Logged in to Console with acme/production selected, log in to acme/legacy with a bad key."""
    convox.login_console(ALICE)
    convox.switched("acme/production")
    before = convox.files()
    convox.failed(convox.login(convox.rack_host(LEGACY), wrong_key()))
    after = convox.files()
    changed = changed_files(before, after)
    assert not changed, f"a refused login changed the CLI's files: {changed}"
    assert convox.state.selection() == "acme/production", "a refused login lost the selection"


# ------------------------------------------------------------ errors say what went wrong


#: Closed ports are taken from these, each holding "401": a CLI that tells a refused key
#: by finding 401 in an error's text (the classic CLI's login does) reads a refused
#: connection to port 34011 as a refused key. A random port would show that one run in
#: thirty; these show it on every run. Below Linux's ephemeral range, so no connection
#: the suite opens meanwhile takes one.
CLOSED_PORTS = (14010, 14011, 14012, 14013, 14014, 14015, 14016, 14017, 14018, 14019,
                24010, 24011, 24012, 24013, 24014, 24015, 24016, 24017, 24018, 24019)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed), from CLOSED_PORTS where
    one is free, else any."""
    import socket

    for port in (*CLOSED_PORTS, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free loopback port")


def _message(invocation: Invocation, host: str) -> str:
    """What a login said, with the host (and any port) taken out, for comparing."""
    text = invocation.output.replace(host, "HOST").replace(host.split(":")[0], "HOST")
    return re.sub(r"\s+", " ", re.sub(r":\d+", "", text)).strip()


def _names(invocation: Invocation, host: str) -> bool:
    return host in invocation.output or host.rsplit(":", 1)[0] in invocation.output


@pytest.mark.spec("LOGIN-012")
def test_an_unreachable_host_is_not_reported_as_a_refused_key(convox: Convox) -> None:
    """alice logs in to Console with a wrong key, then with her key to a closed port,
    to Console while it fails the TLS handshake, while it holds its answer back, and
    (in the network sandbox) to a name that does not exist."""
    # Only a CLI that can log in at all tells one failure from another (LOGIN-004 first).
    logs_in_at_all(convox)
    refused = convox.login(convox.console, secrets.token_hex(20))
    with convox.given("a login with a wrong key is refused", covered_by="LOGIN-011"):
        convox.failed(refused)
    refusal = _message(refused, convox.console)
    key = convox.user_key(ALICE)
    closed = convox.profile.host_form.format(port=_closed_port())
    attempts = [("a closed port", closed, None),
                ("a TLS handshake Console fails", convox.console,
                 Fault(server="console", kind="tls_failure", hop="cli")),
                ("an answer Console holds back", convox.console,
                 Fault(server="console", kind="delay", delay=30.0, hop="cli"))]
    if convox.profile.sandboxed:
        # Only the sandbox's DNS is ours: outside it the lookup would leave the machine.
        attempts.append(("a name no resolver knows",
                         f"no-such-console.invalid:{_closed_port()}", None))
    wrong = []
    for what, host, fault in attempts:
        handle = convox.world.inject(fault) if fault is not None else None
        try:
            # A CLI without a timeout of its own (or one longer than this) is killed and
            # this case skipped: every such CLI pays the wait, so it is short.
            login = convox.cli.run("login", host=host, key=key, env={"CONVOX_TIMEOUT": "1"},
                                   timeout=3.0 if fault and fault.kind == "delay" else None)
        except CliTimeout:
            continue  # no timeout of its own: RELIABILITY-007 judges that, not this rule
        finally:
            if handle is not None:
                handle.remove()
        if login.exit_code in (0, None):
            wrong.append(f"{what}: the login succeeded\n{login.describe()}")
        elif not _names(login, host):
            wrong.append(f"{what}: the message does not name {host}\n{login.describe()}")
        elif _message(login, host) == refusal:
            wrong.append(f"{what}: the same message as a refused key\n{login.describe()}")
    assert not wrong, "\n".join(wrong)



@pytest.mark.spec("LOGIN-013")
def test_the_key_flag_wins_over_the_key_variable(convox: Convox) -> None:
    """bob's key is in the variable login_env uses; alice logs in to Console with her key
    as the flag."""
    alice, bob = convox.user_key(ALICE), convox.user_key(BOB)
    env = convox.login_key_variable(bob)
    logs_in_at_all(convox)
    mark = convox.journal.mark()
    login = convox.cli.run("login", host=convox.console, key=alice, env=env)
    convox.ok(login)
    convox.journal.expect_none(since=mark, key=convox.identity(bob))
    stored = (convox.state.auth() or {}).get(convox.console)
    # Whether the flag's key is stored as given is LOGIN-002's and LOGIN-006's question.
    assert not same(stored, bob), (
        f"with {convox.identity(alice)} as the flag and {convox.identity(bob)} in "
        f"{', '.join(env)}, auth stores {convox.identity(stored)} for {convox.console!r}"
    )


#: A word saying a key was refused, and a word for what was refused, close together.
_REFUSAL = (r"invalid|refused|rejected|unauthori[sz]ed|\b401\b|incorrect|wrong|denied"
            r"|not (?:valid|accepted|authori[sz]ed)|forbidden|\bbad\b")
_REFUSED_THING = r"key|password|token|log ?in|credential|authenticat|auth\b"
REFUSED_KEY = re.compile(
    rf"(?:{_REFUSAL})[^\n]{{0,60}}?(?:{_REFUSED_THING})|(?:{_REFUSED_THING})[^\n]{{0,60}}?"
    rf"(?:{_REFUSAL})",
    re.IGNORECASE,
)


@pytest.mark.spec("LOGIN-014")
def test_a_refused_key_is_reported_as_a_refused_key(convox: Convox) -> None:
    """alice logs in to Console with a key Console does not know."""
    logs_in_at_all(convox)
    refused = convox.login(convox.console, wrong_key())
    with convox.given("a login with a wrong key is refused", covered_by="LOGIN-011"):
        convox.failed(refused)
    assert REFUSED_KEY.search(refused.output), (
        "a login whose key Console refused (401) does not say the key was refused:\n"
        + refused.describe()
    )


@pytest.mark.world("second-factor")
@pytest.mark.spec("LOGIN-015")
def test_commands_meet_the_session_challenge_for_that_host_only(convox: Convox) -> None:
    """Console demands a second-factor session of commands (a login's key check is never
    challenged: both current official CLIs make it without their session authenticator):
    alice logs in to Console, runs apps on acme/production, then logs in to acme/legacy
    directly and runs apps there, where the CLI has commands at a rack."""
    convox.require("session")
    key = convox.user_key(ALICE)
    convox.login_console(ALICE)

    # The selection by hand, so no switch is needed. Whether a command uses it is
    # SWITCH-010's question; how the CLI meets the challenge and which session each
    # request carries is this rule's.
    convox.state.write_selection(PRODUCTION)
    mark = convox.journal.mark()
    convox.run("apps")
    with convox.given(f"apps with {PRODUCTION} selected by hand reaches Console with it",
                      covered_by="SWITCH-010"):
        convox.journal.expect_some(since=mark, server="console", hop="cli", path="/apps",
                                   rack_header=PRODUCTION)
    convox.journal.expect_some(since=mark, server="console", hop="cli", method="POST",
                               path="/session", key=convox.identity(key), status=200)
    # Under the name it logged in to: another name of the same server (console.convox.com
    # here) is another host, with sessions of its own.
    name = host_name(convox.console)
    retried = convox.journal.expect_some(
        since=mark, server="console", hop="cli", path="/apps", rack_header=PRODUCTION,
        session=lambda value: value != "empty",
        host_header=lambda value: not value or host_name(value) == name)
    accepted = [e for e in retried if e.status == 200]
    assert accepted, "apps resent with the session was never answered 200:\n" + described(retried)
    session = accepted[-1].session_identity
    sessions = convox.state.sessions() or {}
    # Hosts and identities only: introspecting `sessions` would print ids. A session
    # another host issued, kept under that host, is no session of Console's.
    kept = convox.identity(sessions.get(convox.console))
    assert kept == session, (
        f"the session file keeps {kept} for Console, but apps was served with {session}"
    )
    elsewhere = sorted(h for h, value in sessions.items()
                       if h != convox.console and convox.identity(value) == session)
    assert not elsewhere, f"Console's session is also kept for {elsewhere}"

    if not convox.rack_commands_possible(LEGACY):
        return  # no rack to carry a session to: the session file above is the whole answer
    convox.login_rack(LEGACY)
    mark = convox.journal.mark()
    convox.run("apps")
    with convox.given(f"apps after the direct login reaches {LEGACY}", covered_by="PROXY-006"):
        convox.journal.expect_some(since=mark, server=LEGACY, hop="cli", path="/apps")
    convox.journal.expect_none(since=mark, server=LEGACY, hop="cli",
                               session=lambda value: value != "empty")


@pytest.mark.spec("LOGIN-016")
def test_a_host_typed_with_its_scheme_is_the_same_host(convox: Convox) -> None:
    """alice logs in to Console typed as https://HOST, as a browser shows it."""
    logs_in_at_all(convox)
    key = convox.user_key(ALICE)
    convox.ok(convox.login(f"https://{convox.console}", key))
    assert convox.state.target() == convox.console, (
        f"after a login to https://{convox.console} the target file holds "
        f"{convox.state.target()!r}, not the host without its scheme ({convox.console!r})"
    )
    auth = convox.state.keys()
    hosts = sorted(auth)  # hosts only: introspecting `auth` would print keys
    assert convox.console in hosts and same(auth[convox.console], key), (
        f"auth does not store alice's key under {convox.console!r}; its hosts: {hosts}"
    )

