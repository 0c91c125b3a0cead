"""SECURITY: where keys go and how they are kept.

A key is sent unchanged, only to the host it belongs to, only over TLS, never
to a host outside the world, never printed, and stored in files other local
users can neither read nor replace. The journal of the fakes (key identities
per server), the CLI's output and the modes of its files are the evidence.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from pytest_httpserver import HTTPServer

from conformance.checks.observations import described
from conformance.checks.scenarios import alice_runs_apps_on_production
from conformance.checks.standard_world import (
    ALICE,
    DEFAULT_HOST,
    LEGACY,
    PRODUCTION,
    STAGING,
    wrong_key,
)
from conformance.harness.handle import Convox
from conformance.network.egress import describe as describe_egress
from fakes.http.faults import Fault

if TYPE_CHECKING:
    from fakes.backends.in_process import Backend

#: Rack passwords a user may set by hand: every character that URL, shell,
#: basic-auth or JSON handling tends to mangle, and non-ASCII text.
WEIRD_KEYS = {
    LEGACY: "p+ss/w@rd:100% sure a%2Fb=c",
    STAGING: "clé ünïcødé 日本語 🔑 Ω≈ç",
    # Base64, as generated keys often are: + and / inside, = padding at the very end.
    PRODUCTION: "q8Zk+3/vN0aB7xYw9Lp2Rg==",
    # URL-reserved characters at both ends, around hex.
    "acme-eu/staging": "/?#[]@!$&'()*+,;=9f86d081884c7d659a2feaa0c55ad015=é",
}


def _forms(key: str) -> list[str]:
    """A key as it could leak into text: raw, base64, or a basic-auth header value."""
    raw = key.encode("utf-8")
    return [key, base64.b64encode(raw).decode(), base64.b64encode(b"convox:" + raw).decode()]


def apps_at_rack(convox: Convox, ref: str) -> None:
    """apps at a rack logged in to directly: a given where the CLI has commands at a rack;
    else it runs for what it sends and shows, and its failure is PROXY-006's, not judged."""
    if convox.rack_commands_possible(ref):
        with convox.given(f"apps at {ref}"):
            convox.ok(convox.run("apps"))
    else:
        convox.run("apps")


@pytest.mark.spec("SECURITY-001")
def test_keys_are_sent_and_stored_byte_exact(convox: Convox) -> None:
    """Racks whose passwords were set by hand to keys full of special characters. A CLI
    that has no commands at a rack (PROXY-006) is judged on what its logins send and store."""
    commands = convox.rack_commands_possible(LEGACY)  # given: a plain rack key logs in
    for ref, key in WEIRD_KEYS.items():
        convox.world.set_rack_password(ref, key)
        host = convox.rack_host(ref)
        identity = convox.identity(key)

        mark = convox.journal.mark()
        login = convox.login(host, key)
        at_rack = convox.journal.expect_some(since=mark, hop="cli", server=ref)
        wrong = [e.describe() for e in at_rack if e.key_identity != identity]
        assert not wrong, (
            f"the key reached {ref} altered in transit: the rack expected {identity} and "
            "received:\n" + "\n".join(wrong)
        )
        convox.ok(login)  # the key arrived intact and the rack accepted it
        stored = convox.state.keys().get(host)
        assert stored == key, (
            f"auth holds {stored!r} for {ref}, not the key exactly as given: {key!r}"
        )
        if not commands:
            continue
        mark = convox.journal.mark()
        convox.run("apps")
        at_rack = convox.journal.expect_some(since=mark, hop="cli", server=ref)
        wrong = [e.describe() for e in at_rack if e.key_identity != identity]
        assert not wrong, (
            f"apps sent the stored key to {ref} altered: the rack expected {identity} and "
            "received:\n" + "\n".join(wrong)
        )


@pytest.mark.spec("SECURITY-002")
def test_a_key_goes_only_to_the_host_it_belongs_to(convox: Convox) -> None:
    """Logins to Console and to two racks, each followed by commands there."""
    alice_runs_apps_on_production(convox, "apps through Console")
    for ref in (LEGACY, STAGING):
        convox.login_rack(ref)
        apps_at_rack(convox, ref)
    convox.login_console(ALICE)
    with convox.given("racks at Console"):
        convox.ok(convox.run("racks"))

    owner = {
        "console": convox.identity(convox.user_key(ALICE)),
        LEGACY: convox.identity(convox.rack_key(LEGACY)),
        STAGING: convox.identity(convox.rack_key(STAGING)),
    }
    misplaced = [
        e.describe()
        for e in convox.journal.entries(hop="cli")
        if e.key_identity not in (owner.get(e.server), "empty")
    ]
    assert not misplaced, "requests carrying a key that belongs to another host:\n" + "\n".join(
        misplaced
    )


@pytest.mark.spec("SECURITY-003")
def test_no_request_leaves_the_world(convox: Convox) -> None:
    """Every unknown host name resolves to the egress guard; a full session is run, with
    the moments a CLI might phone home (its version, a refused login) among them."""
    if convox.profile.has("version"):
        convox.run("version")
    convox.login(convox.console, wrong_key())  # refused: its subject
    convox.login_console(ALICE)
    with convox.given("racks, switch and apps through Console"):
        convox.ok(convox.run("racks"))
        convox.switched(PRODUCTION)
        convox.ok(convox.run("apps"))
    convox.login_rack(LEGACY)
    apps_at_rack(convox, LEGACY)
    # A lookup of a name outside the world is journaled at the guard as well: an attempt
    # is egress, whether or not a connection or a request followed.
    egress = convox.journal.entries(server="guard")
    assert not egress, "the CLI reached hosts outside the world:\n" + "\n".join(
        describe_egress(convox.cli.invocations, egress)
    )


@pytest.mark.spec("SECURITY-004")
def test_keys_never_appear_in_output(convox: Convox) -> None:
    """Successful and failed logins, switches and commands, at Console and at a rack."""
    # Only the output is this rule's subject: refused steps may exit as they like,
    # and the successful ones are the scenario's givens.
    refused = wrong_key()
    convox.login(convox.console, refused)
    convox.login(convox.rack_host(LEGACY), convox.user_key(ALICE))
    convox.login_console(ALICE)
    convox.switch("acme/no-such-rack")
    with convox.given("switch, racks and apps through Console"):
        convox.switched(PRODUCTION)
        convox.ok(convox.run("racks"))
        convox.ok(convox.run("apps"))
    convox.login_rack(LEGACY)
    apps_at_rack(convox, LEGACY)
    convox.login_console(ALICE)
    convox.world.regenerate_user_key(ALICE)  # the stored Console key is now refused
    convox.run("racks")
    convox.run("apps")
    convox.login_console(ALICE)

    keys = {*convox.world.secrets(), *convox.cli.secrets, refused}
    leaks = []
    for invocation in convox.cli.invocations:
        for key in keys:
            if any(form in invocation.output for form in _forms(key)):
                leaks.append(f"{' '.join(invocation.argv)} printed {convox.identity(key)}")
    assert not leaks, "keys in stdout or stderr:\n" + "\n".join(leaks)


@pytest.mark.spec("SECURITY-005")
def test_auth_file_is_private_to_the_user(convox: Convox) -> None:
    """A first login to Console, then logins that rewrite auth (a rack, Console again)."""
    for login in (
        lambda: convox.login_console(ALICE),
        lambda: convox.login_rack(LEGACY),
        lambda: convox.login_console(ALICE),
    ):
        invocation = login()
        mode = convox.state.mode(convox.state.auth_path)
        assert mode is not None, "no auth file after " + invocation.describe()
        assert mode & 0o077 == 0, (
            f"auth has mode {mode:o} after {' '.join(invocation.argv)}: group or others "
            "may use it"
        )


@pytest.mark.spec("SECURITY-006")
def test_config_directory_is_not_writable_by_others(convox: Convox) -> None:
    """A first login to Console creates the config directory."""
    convox.login_console(ALICE)
    mode = convox.state.mode(convox.state.config_dir)
    assert mode is not None, "login created no config directory"
    assert mode & 0o022 == 0, f"the config directory has mode {mode:o}: others may write to it"


@pytest.mark.spec("SECURITY-007")
def test_credentials_travel_only_over_tls(convox: Convox) -> None:
    """Login pointed at a loopback host that answers in plain HTTP."""
    key = convox.user_key(ALICE)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/auth").respond_with_json({"id": "plain"})
    server.start()
    try:
        host = convox.profile.host_form.format(port=server.port)
        before = convox.files()
        login = convox.login(host, key)
        after = convox.files()
        received = [request for request, _response in server.log]
    finally:
        server.clear()
        if server.is_running():
            server.stop()

    carrying = [
        f"{request.method} {request.path}"
        for request in received
        if request.headers.get("Authorization")
        or any(form in request.get_data(as_text=True) for form in _forms(key))
    ]
    assert not carrying, f"a key was sent over plain HTTP: {carrying}"
    convox.failed(login)
    assert after == before, "a login to a plain-HTTP host changed the CLI's files"


@pytest.mark.spec("SECURITY-008")
def test_console_key_goes_only_to_a_verified_console(convox: Convox, backend: Backend) -> None:
    """console.convox.com presents a certificate from a CA the CLI was not given, then the run's."""
    key = convox.user_key(ALICE)
    # A CLI that cannot log in to a Console at all is LOGIN-004's, not this rule's.
    convox.console_login_works(ALICE)
    impostor = convox.world.inject(Fault(server="console", kind="untrusted_certificate", hop="cli"))
    mark = convox.journal.mark()
    refused = convox.login(DEFAULT_HOST, key)
    impostor.remove()
    carrying = convox.journal.entries(since=mark, server="console", key=lambda k: k != "empty")
    assert not carrying, (
        "Console received a key over a connection whose certificate did not verify:\n"
        + described(carrying, indent="")
    )
    assert impostor.fired, f"login never reached {DEFAULT_HOST}:\n" + refused.describe()
    convox.failed(refused)
    assert any(word in refused.output.lower() for word in ("certificate", "x509")), (
        "login failed without saying the certificate did not verify:\n" + refused.describe()
    )
    mark = convox.journal.mark()
    convox.ok(convox.cli.run("login", host=DEFAULT_HOST, key=key,
                             env={"SSL_CERT_FILE": str(backend.ca_bundle())}))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key))
