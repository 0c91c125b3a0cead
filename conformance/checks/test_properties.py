"""Properties of login over many keys and many hosts (Hypothesis).

The example-based checks log in with the world's own random keys, which are
plain alphanumerics. Here Hypothesis draws the keys: printable text with the
characters that break naive CLIs (``+ / @ : %``, spaces, non-ASCII). The
fakes cannot be told which key to issue, so each drawn key is made a rack's
password (``set_rack_password``, the rack switches to it at once) and the CLI
logs in to that rack directly. Each example runs in a fresh CLI home on the
same world, so nothing leaks between examples.

The properties: a login sends the key byte for byte (the journal's key
identity at the rack is the drawn key's, on every request) and stores it byte
for byte under the host that was typed, keeping every other entry of ``auth``
exactly, whatever its host looks like; and the keys stored earlier are still
sent exactly when their host becomes the target again.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from conformance.checks.observations import described
from conformance.checks.standard_world import ALICE
from conformance.harness.attribution import blame
from conformance.harness.handle import Convox
from conformance.running.cli_files import StateError
from conformance.running.invoke import Invocation
from fakes.http.journal import host_name

CONSOLE = "console"
# Racks a user may log in to directly; Console-held racks lose Console's access
# once their password is changed, which is fine here: these checks never proxy.
RACKS = ("acme/legacy", "acme/staging", "acme/production", "acme-eu/staging", "carol/sandbox")
APPS = {
    "acme/legacy": "billing",
    "acme/staging": "web",
    "acme/production": "worker",
    "acme-eu/staging": "web",
    "carol/sandbox": "hello",
}

# Pieces that broke real CLIs: URL-ish separators, percent escapes, spaces,
# quotes, backslashes and multi-byte characters. Mixed with arbitrary printable
# characters (no control characters, surrogates or line separators: a key is one line).
AWKWARD = ("+", "/", "@", ":", "%", "%20", "%41", " ", "=", "\\", '"', "'", "é", "ß", "日本",
           "🔑", "\u00a0", "Ω", "-")
# Excluding Cs (surrogates) already keeps every character UTF-8 encodable; codec="utf-8"
# would only add a second of set-up per process.
PRINTABLE = st.characters(exclude_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"))
# Keys as generated keys are: base64 (standard and URL-safe, padded: a length that is
# not a multiple of three ends in = or ==) and hex.
KEY_BYTES = st.binary(min_size=6, max_size=30)
GENERATED = st.one_of(
    KEY_BYTES.map(lambda raw: base64.b64encode(raw).decode()),
    KEY_BYTES.map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    KEY_BYTES.map(bytes.hex),
)
# An awkward piece at either end: a CLI that trims, or escapes only the middle, shows there.
ENDS = st.one_of(st.just(""), st.sampled_from(AWKWARD))
keys = st.one_of(
    st.lists(st.one_of(st.sampled_from(AWKWARD), PRINTABLE), min_size=8, max_size=40)
    .map("".join),
    GENERATED,
    st.tuples(ENDS, GENERATED, ENDS).map("".join),
).filter(lambda key: key.strip() != "")

# Hosts of other logins the user made earlier (hand-written into auth before
# the example): names, ports, IPv6, mixed case. Their entries must survive.
labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
                 min_size=1, max_size=12).filter(lambda s: not s.startswith("-"))
ports = st.integers(min_value=1, max_value=65535)
foreign_hosts = st.one_of(
    st.just("console.convox.com"),
    st.just("Console.Convox.COM"),
    labels.map(lambda s: f"{s}.convox.test"),
    st.tuples(labels, ports).map(lambda t: f"{t[0]}.example.com:{t[1]}"),
    ports.map(lambda p: f"[::1]:{p}"),
    st.tuples(labels, ports).map(lambda t: f"rack.{t[0]}.Example.ORG:{t[1]}"),
)


def host_of(convox: Convox, server: str) -> str:
    return convox.console if server == CONSOLE else convox.rack_host(server)


def other_loopback_form(convox: Convox, server: str) -> str:
    """The same server written the other way (localhost vs 127.0.0.1): another host string."""
    host = host_of(convox, server)
    port = host.rsplit(":", 1)[1]
    return f"localhost:{port}" if host.startswith("127.0.0.1:") else f"127.0.0.1:{port}"


def assert_sent_exactly(convox: Convox, mark: int, server: str, key: str, what: str,
                        silent_rule: str, stray_rule: str | None = None) -> None:
    """Every request since ``mark`` went to ``server`` carrying exactly ``key``; sending
    nothing to it, or only to other hosts, is ``silent_rule``'s failure, not the key's;
    requests to other hosts besides those that reached it are ``stray_rule``'s (by
    default the silent rule's too)."""
    wanted = convox.identity(key)
    entries = convox.journal.since(mark)
    name = host_name(host_of(convox, server))
    # A key sent to another host is the silent rule's too ("none at any other host"),
    # not a key altered on the way. So is a request that reached this server under
    # another name (localhost for 127.0.0.1, from an entry written earlier): it went
    # to the host that entry names, with that entry's key.
    elsewhere = [e for e in entries
                 if e.server != server or (e.host_header and host_name(e.host_header) != name)]
    strays = f"{what}: requests reached other hosts than {server}:\n" + described(elsewhere)
    with blame(silent_rule):
        assert entries, f"{what}: the CLI sent no request at all to {server}"
        assert len(elsewhere) < len(entries), strays
    with blame(stray_rule or silent_rule):
        assert not elsewhere, strays
    wrong = [e for e in entries if e.key_identity != wanted]
    # Another key the world issued, or another host's key from auth, is a key sent where
    # it does not belong (SECURITY-002); only any other key can be this one altered.
    try:
        stored = {convox.identity(k) for k in convox.state.keys().values()}
    except StateError:
        stored = set()
    misplaced = [e for e in wrong if e.key_identity != "empty"
                 and (not e.key_identity.startswith("unknown:") or e.key_identity in stored)]
    # Unless some request carried this key intact, a key equal to another host's may be
    # this one altered: a percent-escaped drawn key can spell another drawn key exactly.
    # That is SECURITY-001's finding below, not a key sent where it does not belong.
    if not any(e.key_identity == wanted for e in entries):
        misplaced = []
    with blame("SECURITY-002"):
        assert not misplaced, (f"{what}: requests carried another host's key:\n"
                               + described(misplaced))
    assert not wrong, (
        f"{what}: every request should go to {server} with key {wanted}; these did not:\n"
        + described(wrong)
    )


def mismatches(auth: dict[str, str], expected: dict[str, str], convox: Convox) -> list[str]:
    """Readable differences between the stored and the expected auth (identities, no keys)."""
    lines = []
    for host in sorted(set(auth) | set(expected)):
        got, want = auth.get(host), expected.get(host)
        if got == want:
            continue
        if want is None:
            lines.append(f"  {host!r}: unexpected entry ({convox.identity(got)})")
        elif got is None:
            lines.append(f"  {host!r}: entry lost (was {convox.identity(want)})")
        else:
            lines.append(f"  {host!r}: holds {convox.identity(got)} "
                         f"instead of {convox.identity(want)} (or not byte for byte)")
    return lines


def traits(key: str) -> str:
    """What is awkward about a key, without showing it (reports redact keys anyway)."""
    found = []
    if key != key.strip():
        found.append("leading or trailing whitespace")
    found += [repr(ch) for ch in dict.fromkeys(key) if ch in "+/@:%= \\\"'-"]
    wide = [f"U+{ord(ch):04X}" for ch in dict.fromkeys(key) if ord(ch) > 127]
    if wide:
        found.append("non-ASCII " + " ".join(wide[:8]))
    return f"{len(key)} characters" + (": " + ", ".join(found) if found else "")


def plain_logins_work(convox: Convox) -> None:
    """Given (once per check): the CLI logs in to Console and to a rack with the world's
    own plain keys, so what fails below is about the drawn keys and hosts. Logins only:
    these properties run no command at a rack."""
    convox.console_login_works(ALICE)
    convox.rack_login_works("acme/legacy")


def login_ok(home: Convox, server: str, key: str, how: str = "login",
             rule: str = "SECURITY-001") -> Invocation:
    """Log ``home`` in to ``server`` with ``key``; it must reach only ``server``, intact,
    and succeed (a failure with an intact key is ``rule``'s)."""
    mark = home.journal.mark()
    inv = home.login(host_of(home, server), key, how=how)
    # A login that sends nothing has not taken the key the way it was given (the
    # environment: LOGIN-008), or has not tried it (LOGIN-010).
    silent = "LOGIN-008" if how == "login_env" else "LOGIN-010"
    with blame("SECURITY-001"):
        assert_sent_exactly(home, mark, server, key, f"login to {server} ({how})", silent)
    with blame(rule):
        assert inv.exit_code == 0, (
            f"login to {server} ({how}) with a key of {traits(key)} reached it intact but "
            "did not succeed:\n" + inv.describe()
        )
    return inv


def check_auth(home: Convox, expected: dict[str, str], new_host: str, what: str,
               earlier: str | None = None) -> None:
    """auth is exactly ``expected``: the new entry stored byte for byte (SECURITY-001) under
    its host (LOGIN-002), and every other entry kept exactly (LOGIN-003).

    ``earlier`` is the key auth held for the host before this login: still finding
    it there is a login that stored nothing (LOGIN-002), not a key altered on the way.
    """
    auth = home.state.keys()
    if new_host not in auth:
        with blame("LOGIN-002"):
            raise AssertionError(f"{what}: auth has no entry for {new_host!r}")
    if earlier is not None and earlier != expected[new_host] and auth[new_host] == earlier:
        with blame("LOGIN-002"):
            raise AssertionError(f"{what}: auth still holds the earlier key for {new_host!r}")
    with blame("SECURITY-001"):
        lines = mismatches({new_host: auth[new_host]}, {new_host: expected[new_host]}, home)
        assert not lines, f"{what}: the key is not stored byte for byte:\n" + "\n".join(lines)
    others = {h: k for h, k in auth.items() if h != new_host}
    with blame("LOGIN-003"):
        lines = mismatches(others, {h: k for h, k in expected.items() if h != new_host}, home)
        assert not lines, f"{what}: other entries of auth changed:\n" + "\n".join(lines)


# Each example runs real CLI processes: no "explain" phase re-running failures.
PHASES = settings(phases=(Phase.explicit, Phase.generate, Phase.shrink))


# --------------------------------------------------------------------------- one key


# Each expectation below runs under blame(RULE): a key altered in transit is
# SECURITY-001's failure alone, a lost entry LOGIN-003's, and so on.
@pytest.mark.spec("SECURITY-001", "LOGIN-001", "LOGIN-002", "LOGIN-008", "LOGIN-010",
                  "SECURITY-002")
@PHASES
@given(rack=st.sampled_from(RACKS), key=keys, data=st.data())
@example(rack="acme/legacy", key="  leading and trailing spaces  ", data=None)
@example(rack="acme/staging", key="a+b/c@d:e%f g%20h=i\\j\"k'l", data=None)
@example(rack="acme/legacy", key="ünïcødé-日本語-🔑-Ω\u00a0end", data=None)
@example(rack="acme/legacy", key="-looks-like-a-flag", data=None)
@example(rack="acme/staging", key="q8Zk+3/vN0aB7xYw9Lp2Rg==", data=None)
def test_login_sends_and_stores_a_drawn_key_byte_for_byte(
    convox: Convox, rack: str, key: str, data: st.DataObject | None
) -> None:
    """A rack's password is set to a drawn key; a fresh home logs in to the rack with it.

    Every request of the login reaches that rack with exactly that key, auth
    then maps the typed host to the key byte for byte, and the target file
    names the host. Where the profile can also take the key from the
    environment, Hypothesis picks flag or environment.
    """
    plain_logins_work(convox)
    ways = [how for how in ("login", "login_env") if convox.profile.has(how)]
    how = data.draw(st.sampled_from(ways), label="how") if data is not None else "login"
    home = convox.another_home()
    convox.world.set_rack_password(rack, key)
    login_ok(home, rack, key, how)
    host = home.rack_host(rack)
    check_auth(home, {host: key}, host, "after one login")
    with blame("LOGIN-001"):
        assert home.state.target() == host, (
            f"the target file should name {host!r}, it holds {home.state.target()!r}"
        )


# --------------------------------------------------------------------------- many hosts


@st.composite
def login_plans(draw: st.DrawFn) -> tuple[list[str], list[str], int]:
    """Servers to log in to in order (a rack may come back with a new key), the keys,
    and how many foreign auth entries to hand-write first."""
    servers = draw(st.lists(st.sampled_from((CONSOLE, *RACKS)), min_size=1, max_size=4))
    foreign = draw(st.integers(min_value=0, max_value=3))
    drawn = draw(st.lists(keys, min_size=len(servers) + foreign + 1,
                          max_size=len(servers) + foreign + 1, unique=True))
    return servers, drawn, foreign


@pytest.mark.spec("LOGIN-003", "LOGIN-001", "LOGIN-002", "LOGIN-004", "LOGIN-010",
                  "SECURITY-001", "SECURITY-002", "PROXY-006", "LOGOUT-001")
@PHASES
@given(plan=login_plans(), data=st.data())
def test_logins_to_several_hosts_keep_every_other_entry_exactly(
    convox: Convox, plan: tuple[list[str], list[str], int], data: st.DataObject
) -> None:
    """A fresh home whose auth already holds entries for other hosts (names, IPv6,
    mixed case, the other loopback spelling of a world server) logs in to a drawn
    sequence of the Console (alice's key) and racks (drawn keys set as their
    passwords; a rack may come back with a new key).

    After each login auth is exactly the earlier entries plus host -> key, and
    the target names the host. Finally, where the CLI has commands at a rack, the
    first and the last rack logged in to are made the target again by hand and
    ``apps`` sends exactly their stored keys.
    """
    servers, drawn, foreign = plan
    plain_logins_work(convox)
    home = convox.another_home()
    pool = iter(drawn)
    expected: dict[str, str] = {}
    world_hosts = {host_of(home, s) for s in (CONSOLE, *RACKS)}
    for _ in range(foreign):
        host = data.draw(st.one_of(foreign_hosts,
                                   st.sampled_from(servers).map(
                                       lambda s: other_loopback_form(home, s))),
                         label="foreign host")
        if host not in world_hosts:
            expected[host] = next(pool)
    if expected:
        home.state.write_auth(expected)
    for server in servers:
        if server == CONSOLE:
            key = home.user_key(ALICE)
            login_ok(home, server, key, rule="LOGIN-004")
        else:
            key = next(pool)
            convox.world.set_rack_password(server, key)
            login_ok(home, server, key)
        host = host_of(home, server)
        earlier = expected.get(host)
        expected[host] = key
        check_auth(home, expected, host, f"after logging in to {server}", earlier)
        with blame("LOGIN-001"):
            assert home.state.target() == host, (
                f"the target file should name {host!r}, it holds {home.state.target()!r}"
            )
    racks = [s for s in servers if s != CONSOLE]
    if not convox.rack_commands_possible("acme/legacy"):
        return  # no commands at a rack: the logins and files above are the whole answer
    for rack in dict.fromkeys(racks[:1] + racks[-1:]):
        host = home.rack_host(rack)
        # A target written by hand that the CLI does not go to is LOGOUT-001's ("logged
        # in" is the host plus its key in auth); one the login left is PROXY-006's, and
        # so is any request besides to another host (PROXY-006: "no request at Console").
        routing = "PROXY-006"
        if home.state.target() != host:
            home.state.write_target(host)
            routing = "LOGOUT-001"
        mark = home.journal.mark()
        inv = home.run("apps")
        with blame("SECURITY-001"):
            assert_sent_exactly(home, mark, rack, expected[host],
                                f"apps at {rack} after the logins", routing,
                                stray_rule="PROXY-006")
        with blame(routing):
            home.ok(inv)
            assert APPS[rack] in inv.stdout, (
                f"apps at {rack} should list its app {APPS[rack]!r}:\n{inv.describe()}"
            )
