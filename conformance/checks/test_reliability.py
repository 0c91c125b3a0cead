"""RELIABILITY: parallel logins, damaged files and failing servers.

The auth file may hold the only copy of a rack key, so a conforming CLI never
loses or clobbers it: not when logins race, not when the file is corrupt or
unreadable, and not when a server breaks mid-login. Server faults come from
the fakes' fault plan (``world.inject(Fault(...))``): connection resets, TLS
handshake failures, 5xx answers, malformed bodies and stalled answers.
"""

from __future__ import annotations

import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.checks.damaged_auth import (
    DAMAGE,
    corrupt_auth,
    mentions_auth_file,
    mode_000_is_readable,
)
from conformance.checks.observations import file_changes
from conformance.checks.scenarios import alice_runs_apps_on_production
from conformance.checks.standard_world import ALICE, BOB, LEGACY, PRODUCTION, STAGING
from conformance.harness.handle import Convox
from conformance.running.invoke import CliTimeout, Invocation
from fakes.http.faults import MAX_DELAY, Fault, FaultKind

#: The racks of fakes/model/worlds/many.toml: ten CLI-installed racks, none in Console.
FLEET = tuple(f"fleet/r{i:02d}" for i in range(1, 11))
#: A lost write is a race that one round can miss: the v3 CLI lost entries in about
#: half of its rounds, so three rounds let one run in six pass; ten leave about 1 in 400.
ROUNDS = 10

#: The longest the stalled-server check lets one login run before the suite kills it:
#: Go's default TLS handshake timeout, which the v2 CLI's own client uses too. Every
#: CLI without a timeout costs the run this long, so it is no longer than a stall needs.
STALL_LIMIT = 10.0


def _changed(invocation: Invocation) -> str:
    return ", ".join(file_changes(invocation)) or "(none recorded)"


def _assert_unchanged(convox: Convox, before: dict[str, bytes], invocation: Invocation) -> None:
    assert convox.files() == before, (
        f"{invocation.operation} changed the CLI's files: {_changed(invocation)}\n"
        + invocation.describe()
    )


def _logged_in_twice(convox: Convox) -> None:
    """alice holds a Console login and a direct login to acme/legacy (the target)."""
    convox.login_console(ALICE)
    convox.login_rack(LEGACY)


# -------------------------------------------------------------- concurrency


@pytest.mark.spec("RELIABILITY-001")
@pytest.mark.world("many")
def test_concurrent_logins_lose_no_entry(convox: Convox) -> None:
    """Ten logins to ten different racks run at once in one home, ten rounds; before
    each later round every rack's key is changed, so a lost write shows as a stale key."""
    hosts = {ref: convox.rack_host(ref) for ref in FLEET}
    # Given: one login on its own works, so a failure below is about running them at once.
    convox.another_home().login_rack(FLEET[0])

    def login(ref: str) -> Invocation:
        return convox.cli.run("login", host=hosts[ref], key=convox.rack_key(ref))

    for round_number in range(1, ROUNDS + 1):
        if round_number > 1:
            for ref in FLEET:
                convox.world.set_rack_password(ref, os.urandom(20).hex())
        with ThreadPoolExecutor(max_workers=len(FLEET)) as pool:
            results = list(pool.map(login, FLEET))
        for invocation in results:
            convox.ok(invocation)
        stored = convox.state.keys()
        wrong = [
            f"{ref}: {'missing' if hosts[ref] not in stored else 'a stale or foreign key'}"
            for ref in FLEET
            if stored.get(hosts[ref]) != convox.rack_key(ref)
        ]
        assert not wrong, (
            f"round {round_number}: after {len(FLEET)} parallel logins auth lost entries:\n  "
            + "\n  ".join(wrong)
        )


# -------------------------------------------------------------- damaged auth file


@pytest.mark.spec("RELIABILITY-002")
@pytest.mark.parametrize("damage", DAMAGE)
def test_corrupt_auth_file_is_not_overwritten(convox: Convox, damage: str) -> None:
    """alice's auth file is damaged (cut in half, of the wrong shape, or UTF-16); she
    logs in to Console and runs apps."""
    _logged_in_twice(convox)
    damaged = corrupt_auth(convox, damage)
    mode = convox.state.mode(convox.state.auth_path)

    for invocation in (
        convox.login(convox.console, convox.user_key(ALICE)),
        convox.run("apps"),
    ):
        convox.failed(invocation)
        assert convox.state.auth_path.read_bytes() == damaged, (
            f"{invocation.operation} rewrote the corrupt auth file: {_changed(invocation)}"
        )
        assert convox.state.mode(convox.state.auth_path) == mode


@pytest.mark.spec("RELIABILITY-003")
@pytest.mark.parametrize("damage", DAMAGE)
def test_corrupt_auth_file_gives_clear_error(convox: Convox, damage: str) -> None:
    """alice's auth file is damaged (cut in half, of the wrong shape, or UTF-16); she
    logs in to Console and runs apps."""
    _logged_in_twice(convox)
    corrupt_auth(convox, damage)

    for invocation in (
        convox.login(convox.console, convox.user_key(ALICE)),
        convox.run("apps"),
    ):
        convox.failed(invocation)
        assert mentions_auth_file(convox, invocation), (
            "the error does not name the damaged auth file:\n" + invocation.describe()
        )


@pytest.mark.spec("RELIABILITY-004")
def test_unreadable_auth_file_is_not_overwritten(convox: Convox) -> None:
    """alice's auth file cannot be read; she logs in to Console and runs apps.

    Where the OS enforces it, the file is made mode 000. A privileged user
    (root) reads such a file anyway, so there the auth path becomes a symlink
    to itself, which nobody can read (ELOOP): the same situation, a file the
    CLI cannot read, reached in a way that holds for every user.
    """
    _logged_in_twice(convox)
    path = convox.state.auth_path
    original = path.read_bytes()
    if mode_000_is_readable(convox.cli.root / "probe"):
        path.unlink()
        path.symlink_to(path.name)

        def intact() -> bool:
            return path.is_symlink() and os.readlink(path) == path.name

        def restore() -> None:
            path.unlink()
            path.write_bytes(original)
    else:
        path.chmod(0)

        def intact() -> bool:
            return convox.state.mode(path) == 0 and not path.is_symlink()

        def restore() -> None:
            path.chmod(0o600)
    try:
        for invocation in (
            convox.login(convox.console, convox.user_key(ALICE)),
            convox.run("apps"),
        ):
            convox.failed(invocation)
            assert intact(), (
                f"{invocation.operation} replaced or changed the unreadable auth file: "
                f"{_changed(invocation)}"
            )
    finally:
        if os.path.lexists(path):
            restore()
    assert path.read_bytes() == original, "the unreadable auth file's bytes changed"


# -------------------------------------------------------------- server faults during login


def _login_during_fault(convox: Convox, fault: Fault) -> None:
    """With alice logged in twice, a login to Console with bob's key meets ``fault``;
    nothing may change.

    Another user's key, so that a login which wrongly kept it would show in auth, and
    a CLI that skips the round trip for a key it already stores (LOGIN-010's
    deviation) still meets the fault."""
    before = convox.files()
    handle = convox.world.inject(fault)
    try:
        login = convox.login(convox.console, convox.user_key(BOB))
    finally:
        handle.remove()
    assert handle.fired, f"the injected {fault.kind} fault never fired"
    convox.failed(login)
    _assert_unchanged(convox, before, login)


@pytest.mark.spec("RELIABILITY-005")
@pytest.mark.parametrize("kind", ["reset", "tls_failure"])
def test_transport_fault_during_login_changes_nothing(convox: Convox, kind: FaultKind) -> None:
    """alice, logged in to Console and to acme/legacy, logs in to Console with bob's key
    while Console resets the connection (or fails the TLS handshake)."""
    _logged_in_twice(convox)
    _login_during_fault(convox, Fault(server="console", kind=kind, hop="cli"))


@pytest.mark.spec("RELIABILITY-006")
@pytest.mark.parametrize("status", [500, 503])
def test_bad_answer_during_login_changes_nothing(convox: Convox, status: int) -> None:
    """alice, logged in to Console and to acme/legacy, logs in to Console with bob's key
    while Console answers the login check with a server error.

    A 200 with an odd body is no bad answer here: real racks answer ``/auth`` with
    plain text (``ok``), so a CLI is right to take any 200 from it as success."""
    _logged_in_twice(convox)
    _login_during_fault(
        convox, Fault(server="console", kind="status", status=status, hop="cli", path="/auth")
    )


@pytest.mark.spec("RELIABILITY-007")
def test_stalled_server_does_not_hang_login(convox: Convox) -> None:
    """alice, logged in to Console and to acme/legacy, logs in to Console with bob's key
    while Console accepts the request and holds its answer back longer than the suite waits."""
    _logged_in_twice(convox)
    limit = min(STALL_LIMIT, convox.cli.timeout)
    delay = min(MAX_DELAY, limit + 10.0)
    before = convox.files()
    handle = convox.world.inject(Fault(server="console", kind="delay", delay=delay, hop="cli"))
    try:
        # CONVOX_TIMEOUT only speeds up CLIs that read it; the verdict does not rely on it.
        login = convox.cli.run(
            "login",
            host=convox.console,
            key=convox.user_key(BOB),  # as in _login_during_fault
            env={"CONVOX_TIMEOUT": "1"},
            timeout=limit,
        )
    except CliTimeout:
        raise AssertionError(
            f"login to a Console that never answers was still waiting after {limit:g}s and "
            "had to be killed: the CLI has no timeout of its own"
        ) from None
    finally:
        handle.remove()
    convox.failed(login)
    _assert_unchanged(convox, before, login)


# -------------------------------------------------------------- server faults after login


#: Each command that may talk to a server once logged in, how to run it, and the rule
#: covering its plain success (so a command that cannot even ask blocks, not fails).
SERVER_COMMANDS: tuple[tuple[str, dict[str, str], str], ...] = (
    ("apps", {}, "PROXY-001"),
    ("racks", {}, "SHARING-001"),
    ("rack_info", {}, "PROXY-001"),
    ("switch", {"rack": PRODUCTION}, "SWITCH-001"),
)


@pytest.mark.spec("RELIABILITY-008")
def test_server_error_fails_the_command_visibly(convox: Convox) -> None:
    """alice on acme/production through Console runs each command the profile has (apps,
    racks, rack, switch) while Console answers every request with 503 and a JSON error."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    swallowed = []
    for operation, kwargs, covering in SERVER_COMMANDS:
        if not convox.profile.has(operation):
            continue
        handle = convox.world.inject(
            Fault(server="console", kind="status", status=503, hop="cli",
                  body={"error": "service unavailable, try again later"})
        )
        try:
            invocation = convox.run(operation, **kwargs)
        finally:
            handle.remove()
        if operation == "apps":
            with convox.given("apps asked Console for /apps", covered_by=covering):
                assert handle.fired, "the CLI never asked Console for /apps"
        if not handle.fired:
            continue  # it answered from its own files: no server error to show
        if invocation.exit_code in (0, None) or not invocation.stderr.strip():
            swallowed.append(f"{operation}:\n{invocation.describe()}")
    assert not swallowed, (
        "a command Console answered with 503 exited 0 or printed nothing on stderr:\n"
        + "\n".join(swallowed)
    )


@pytest.mark.spec("RELIABILITY-012")
def test_the_servers_error_message_reaches_the_user(convox: Convox) -> None:
    """alice on acme/production through Console runs apps and racks; Console answers
    both with 503, apps with a JSON error and racks with a two-line text error."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    # A word of its own in each message, so that no text the CLI has of itself matches.
    apps_word, racks_word = (f"cause-{secrets.token_hex(4)}" for _ in range(2))
    cases = (
        ("apps", "/apps", {"error": f"rack is updating ({apps_word}), try again later"},
         apps_word, "PROXY-001"),
        ("racks", "/racks", f"maintenance window ({racks_word})\nback in ten minutes",
         racks_word, "SHARING-001"),
    )
    lost = []
    for operation, path, body, word, covering in cases:
        if not convox.profile.has(operation):
            continue
        handle = convox.world.inject(
            Fault(server="console", kind="status", status=503, path=path, hop="cli", body=body)
        )
        try:
            invocation = convox.run(operation)
        finally:
            handle.remove()
        with convox.given(f"{operation} asked Console for {path}", covered_by=covering):
            assert handle.fired, f"the CLI never asked Console for {path}"
        if word not in invocation.output:
            lost.append(f"{operation} (Console said {body!r}):\n{invocation.describe()}")
    assert not lost, "the server's error message did not reach the user:\n" + "\n".join(lost)


@pytest.mark.spec("RELIABILITY-009")
@pytest.mark.parametrize("kind", ["status", "reset"])
def test_failing_switch_keeps_the_selection(convox: Convox, kind: FaultKind) -> None:
    """alice has acme/production selected; Console's rack list answers 500 (or resets the
    connection) while she switches to acme/staging."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    convox.world.inject(Fault(server="console", kind=kind, path="/racks", hop="cli"))
    convox.failed(convox.switch(STAGING))
    assert convox.state.selection() == PRODUCTION, (
        f"a switch that could not list racks changed the selection to {convox.state.selection()}"
    )


# -------------------------------------------------------------- malformed answers to commands


@pytest.mark.spec("RELIABILITY-010")
@pytest.mark.parametrize("kind", ["malformed_json", "truncated"])
def test_malformed_answer_fails_the_command_and_changes_nothing(
    convox: Convox, kind: FaultKind
) -> None:
    """alice has acme/production selected; Console answers her switch to acme/staging
    (its rack list) and then her apps with a body the CLI cannot parse."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    before = convox.files()
    for operation, path in (("switch", "/racks"), ("apps", "/apps")):
        handle = convox.world.inject(Fault(server="console", kind=kind, path=path, hop="cli"))
        try:
            invocation = (convox.switch(STAGING) if operation == "switch"
                          else convox.run("apps"))
        finally:
            handle.remove()
        with convox.given(f"the {kind} answer to {path} reached the CLI",
                          covered_by="SWITCH-001" if operation == "switch" else "PROXY-001"):
            assert handle.fired, f"the CLI never asked Console for {path}"
        convox.failed(invocation)
        _assert_unchanged(convox, before, invocation)


# -------------------------------------------------------------- refusals are not results


def _refusal_shown_as_result(convox: Convox, operations: tuple[str, ...], where: str
                             ) -> list[str]:
    """Which of ``operations`` (those the profile has) ran as if nothing was refused."""
    shown = []
    for operation in operations:
        if not convox.profile.has(operation):
            continue
        invocation = convox.run(operation)
        if invocation.exit_code in (0, None) or not invocation.stderr.strip():
            shown.append(f"{operation} ({where}):\n{invocation.describe()}")
    return shown


@pytest.mark.spec("RELIABILITY-011")
def test_a_refused_command_is_never_shown_as_a_result(convox: Convox) -> None:
    """alice, on acme/production through Console, runs apps, racks and rack after her
    Console key is regenerated; in a second home, logged in to acme/legacy directly (where
    the CLI has commands at a rack), she runs apps and rack after its password was changed
    behind the CLI's back; in a third,
    bob runs apps and rack on acme/production after alice removed him from acme."""
    alice_runs_apps_on_production(convox)
    convox.world.regenerate_user_key(ALICE)
    shown = _refusal_shown_as_result(convox, ("apps", "racks", "rack_info"),
                                     "Console refused the regenerated key")

    if convox.rack_commands_possible(LEGACY):  # else no command reaches a rack to refuse
        direct = convox.another_home()
        direct.login_rack(LEGACY)
        with direct.given("alice runs apps on acme/legacy"):
            direct.ok(direct.run("apps"))
        convox.world.set_rack_password(LEGACY, secrets.token_hex(20))
        shown += _refusal_shown_as_result(direct, ("apps", "rack_info"),
                                          "acme/legacy refused the old password")

    # A 403: the key is good, but Console no longer lets it use the selected rack.
    member = convox.another_home()
    member.login_console(BOB)
    member.switched(PRODUCTION)
    with member.given("bob runs apps on acme/production"):
        member.ok(member.run("apps"))
    convox.world.remove_member("acme", BOB)
    shown += _refusal_shown_as_result(member, ("apps", "rack_info"),
                                      "Console refused bob the rack (403)")
    assert not shown, ("a refused command exited 0 or said nothing on stderr:\n"
                       + "\n".join(shown))

