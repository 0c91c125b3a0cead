"""A stateful model check: random sequences of user actions and world events.

Hypothesis drives a ``RuleBasedStateMachine`` whose rules are what a user does
(log in to Console as alice or bob or to a rack directly, with a good, old or
wrong key; switch to a listed or unlisted rack; run ``apps`` or ``racks``;
delete or restore a key in ``auth`` by hand; ``logout`` where the profile has
it) and what happens in the world (a user key is regenerated, Console rolls a
rack key and the rack update finishes, bob joins or leaves acme, acme changes
plan). A small pure-Python model says what the CLI's files must hold (target,
auth, selection) and what the next request must be (which server, which key
identity, which ``Rack`` header, or no request with a key at all, and whether
it succeeds). After every step the real CLI, read through ``convox.state``
and the fakes' journal, must agree with the model.

The model allows the freedoms the rules allow: after a login the selection may
be kept or cleared; a failed command may print anything; a logout command may
remove the target file or only the key. Actions needing an optional capability
(``logout``) are skipped when the profile lacks it, so the check runs against
every profile. Every sequence begins like a typical user (``begin``: maybe a
direct login to a rack installed by CLI, then a Console login and a switch);
the CLI only notices a world event at its next request, so each event is
followed by the user's next rack command (``apps``).

On failure Hypothesis prints the shortest sequence it found as a script
(``state.login_console(user='bob')``, ``state.world_remove_collaborator()``...);
the lines just above each ``state.<step>(...)`` line are that step's notes: the
CLI command lines run (keys shown as identities such as
``<user:bob@example.com#2>``), their exit codes, and the model's expectation.

Every example gets a fresh CLI home. The world is the check's own and is not
reset between examples: the machine reads the current keys when it starts and
undoes its reversible world changes (plan, membership, pending rack updates)
when it ends.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance.harness.attribution import blame
from conformance.harness.handle import Convox
from conformance.running.invoke import Invocation
from fakes.http.journal import JournalEntry

USERS = {"alice": "alice@example.com", "bob": "bob@example.com"}
OWNERS = {"acme": "alice", "acme-eu": "alice", "carol": "carol", "startup": "dave"}
# Racks Console knows (installed via Console or added by hand); acme/legacy is not one.
IN_CONSOLE = ("acme/production", "acme/staging", "acme-eu/staging", "carol/sandbox", "startup/api")
DIRECT = ("acme/legacy", "acme/staging")  # racks the user has the key of (installed via CLI)
ROLLABLE = ("acme/production", "acme/staging")
SWITCH_TARGETS = ("acme/production", "acme/staging", "acme-eu/staging", "acme/legacy",
                  "carol/sandbox")
RACKS = ("acme/production", "acme/staging", "acme/legacy", "acme-eu/staging", "carol/sandbox")
APPS = {
    "acme/production": ("web", "worker"),
    "acme/staging": ("web",),
    "acme/legacy": ("billing",),
    "acme-eu/staging": ("web",),
    "carol/sandbox": ("hello",),
}
COLLABORATOR_PLANS = ("pro", "enterprise")
CONSOLE = "console"
FILES = ("target", "auth", "selection")
OUTCOMES = {
    "ok": "succeeds with the rack's apps",
    "refused": "Console refuses it: fails, nothing proxied",
    "fails": "fails",
    "free": "fails unless the CLI names a rack itself",
}

Identity = Callable[[str | None], str]

# max_examples comes from the checks' Hypothesis profile (CONFORMANCE_EXAMPLES, default 6).
MODEL_SETTINGS = settings(
    stateful_step_count=15,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
)


@dataclass(frozen=True)
class Next:
    """What the model says the next rack command (``apps``) must do."""

    server: str | None  # "console", a rack ref, or None: no request may carry a key
    key: str | None  # the key every request must carry
    rack: str | None  # the Rack header Console must get (None: no rack selected)
    outcome: str  # "ok", "refused" (nothing proxied), "fails" (may be proxied), "free"
    rule: str  # the rule the expected outcome comes from

    def describe(self, identity: Identity) -> str:
        if self.server is None:
            return "no request carrying a key; the command fails (not logged in)"
        rack = f" Rack: {self.rack}" if self.server == CONSOLE else ""
        if self.server == CONSOLE and self.rack is None:
            rack = " (no rack selected)"
        return (f"request at {self.server} with key {identity(self.key)}{rack}; "
                f"{OUTCOMES[self.outcome]}")


def wrong_key() -> str:
    return "wrong-" + secrets.token_urlsafe(30)


def machine_for(convox: Convox) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to this check's world and profile."""
    world = convox.world
    profile = convox.profile

    class CliAgreesWithModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.cx = convox.another_home()
            # world (read once: keys are random and examples share the world)
            self.user_keys = {u: world.user_key(email) for u, email in USERS.items()}
            self.old_user_keys: dict[str, list[str]] = {u: [] for u in USERS}
            self.rack_keys = {ref: world.rack_key(ref) for ref in RACKS}  # what racks accept
            self.old_rack_keys: dict[str, list[str]] = {ref: [] for ref in RACKS}
            self.updating: set[str] = set()  # rolled racks whose update has not finished
            self.plan = "pro"
            self.bob_member = True
            # the CLI's files
            self.target: str | None = None
            self.auth: dict[str, str] = {}
            self.selection: str | None = None
            self.selection_seen: dict[str, str | None] = {}
            self.removed: dict[str, str] = {}  # keys removed from auth by hand
            self.console_logins: set[str] = set()  # every key a Console login stored
            self.hosts = {self.host(s): s for s in (CONSOLE, *RACKS)}

        # ------------------------------------------------------------ world model
        def host(self, server: str) -> str:
            return self.cx.console if server == CONSOLE else self.cx.rack_host(server)

        def ident(self, key: str | None) -> str:
            return world.key_identity(key)

        def user_of(self, key: str | None) -> str | None:
            return next((u for u, k in self.user_keys.items() if key and k == key), None)

        def may_reach(self, user: str, ref: str) -> bool:
            if ref not in IN_CONSOLE:
                return False
            org = ref.split("/")[0]
            if OWNERS[org] == user:
                return True
            return (user == "bob" and org == "acme" and self.bob_member
                    and self.plan in COLLABORATOR_PLANS)

        def listed(self, user: str) -> list[str]:
            return [ref for ref in IN_CONSOLE if self.may_reach(user, ref)]

        def current_key(self) -> str | None:
            return self.auth.get(self.target) if self.target else None

        def logged_in(self) -> bool:
            return bool(self.current_key())

        def next_request(self) -> Next:
            key = self.current_key()
            if self.target is None:
                return Next(None, None, None, "fails", "LOGOUT-003")
            if not key:
                return Next(None, None, None, "fails", "LOGOUT-002")
            server = self.hosts[self.target]
            if server != CONSOLE:
                if key == self.rack_keys[server]:
                    return Next(server, key, None, "ok", "PROXY-006")
                return Next(server, key, None, "fails", "KEYROLL-007")
            user = self.user_of(key)
            if user is None:
                return Next(CONSOLE, key, self.selection, "refused", "KEYROLL-001")
            if self.selection is None:
                return Next(CONSOLE, key, None, "free", "PROXY-001")
            if not self.may_reach(user, self.selection):
                return Next(CONSOLE, key, self.selection, "refused",
                            self.refusal_rule(user, self.selection))
            if self.selection in self.updating:
                return Next(CONSOLE, key, self.selection, "fails", "KEYROLL-006")
            rolled = bool(self.old_rack_keys.get(self.selection))
            return Next(CONSOLE, key, self.selection, "ok",
                        "KEYROLL-005" if rolled else "PROXY-002")

        def refusal_rule(self, user: str, ref: str) -> str:
            """The rule behind Console refusing ``user`` the rack ``ref``."""
            if ref not in IN_CONSOLE:
                return "PROXY-008"
            if user == "bob" and ref.startswith("acme/") and ref in IN_CONSOLE:
                return "SHARING-009" if not self.bob_member else "SHARING-008"
            return "SHARING-005"

        def sender_rule(self, cli: list[JournalEntry], logged_in_rule: str) -> str:
            """Whose rule a request sent by a command breaks. Logged out, a request with
            the key that was removed (or, with no target, any stored key) breaks what
            logging out means (LOGOUT-002/003); one with any other key, LOGOUT-006."""
            if self.logged_in():
                if self.hosts[self.target or ""] == CONSOLE:
                    # The key of an earlier Console login (another account, or this one
                    # before a new key) still acting is what LOGOUT-009 forbids.
                    earlier = {self.ident(k) for k in self.console_logins
                               if k != self.current_key()}
                    if any(e.key_identity in earlier for e in cli):
                        return "LOGOUT-009"
                return logged_in_rule
            if self.target is None:
                gone = {self.ident(k) for k in self.auth.values()}
            else:
                gone = {self.ident(self.removed.get(self.target))}
            gone.discard("empty")  # an empty key is LOGOUT-006's by name
            if any(e.key_identity in gone for e in cli):
                return self.routing_rule()
            return "LOGOUT-006"

        def routing_rule(self) -> str:
            """The rule saying where the next rack command goes and with which key."""
            if self.target is None:
                return "LOGOUT-003"
            if not self.current_key():
                return "LOGOUT-002"
            return "PROXY-001" if self.hosts[self.target] == CONSOLE else "PROXY-006"

        # ------------------------------------------------------------ observing
        def raw(self) -> tuple[bytes | None, ...]:
            """The target, auth and selection files byte for byte (None: absent)."""
            state = self.cx.state
            paths = (state.target_path, state.auth_path, state.selection_path)
            return tuple(read_bytes(p) for p in paths)

        def unchanged(self, before: tuple[bytes | None, ...], what: str,
                      files: tuple[str, ...] = FILES) -> None:
            """Assert the named files are byte for byte as in ``before`` (names only, no keys)."""
            now = self.raw()
            changed = [name for name, old, new in zip(FILES, before, now, strict=True)
                       if name in files and old != new]
            assert not changed, (
                f"{what} must leave the {' and '.join(files)} files byte for byte as they "
                f"were; changed: {', '.join(changed)} (target now {self.cx.state.target()!r}, "
                f"selection now {self.cx.state.selection()!r})"
            )

        def run(self, operation: str, **values: str) -> Invocation:
            note("$ " + command_line(profile.operations[operation].argv, values, self.ident))
            inv = self.cx.run(operation, **values)
            code = "timed out" if inv.timed_out else f"exit {inv.exit_code}"
            note(f"  -> {code}" + (f"; stderr: {inv.stderr.strip()[:200]}"
                                    if inv.exit_code else ""))
            return inv

        def cli_requests(self, mark: int) -> list[JournalEntry]:
            return convox.journal.since(mark, hop="cli")

        def proxy_requests(self, mark: int) -> list[JournalEntry]:
            return convox.journal.since(mark, hop="proxy")

        def expect_only(self, entries: list[JournalEntry], server: str | None,
                        key: str | None, what: str) -> None:
            """Every CLI request went to ``server`` with ``key`` (None: carried no key)."""
            if server is None:
                wrong = [e for e in entries if e.key_identity != "empty"]
                target = "no request carrying a key"
            else:
                wanted = self.ident(key)
                wrong = [e for e in entries if e.server != server or e.key_identity != wanted]
                target = f"requests only at {server} with key {wanted}"
            if wrong:
                raise AssertionError(f"{what}: expected {target}; got:\n" + show(wrong))

        # ------------------------------------------------------------ user actions: login
        def login(self, server: str, key: str, accepted: bool) -> None:
            host = self.host(server)
            before, selection_before = self.raw(), self.selection
            mark = convox.journal.mark()
            inv = self.run("login", host=host, key=key)
            with blame("LOGIN-010"):
                self.expect_only(self.cli_requests(mark), server, key, f"login to {server}")
            if not accepted:
                with blame("LOGIN-011"):
                    self.cx.failed(inv)
                    self.unchanged(before, f"a refused login to {server}")
                return
            with blame("LOGIN-004" if server == CONSOLE else "LOGIN-005"):
                self.cx.ok(inv)
            with blame("LOGIN-010"):
                assert self.cli_requests(mark), f"login to {server} never tried the key"
            # What the login recorded, each under its own rule, before anything later
            # trips over it under another's.
            with blame("LOGIN-001"):
                target = self.cx.state.target()
                assert target == host, f"after login to {server} the target is {target!r}"
            stored = self.cx.state.keys()
            with blame("LOGIN-002"):
                assert stored.get(host) == key, (
                    f"after login to {server} auth does not hold its key for {host!r}")
            with blame("LOGIN-003"):
                lost = sorted(h for h, k in self.auth.items() if h != host and stored.get(h) != k)
                assert not lost, f"login to {server} lost or changed the keys of {lost}"
            self.target = host
            self.auth = {**self.auth, host: key}
            if server == CONSOLE:
                self.console_logins.add(key)
            self.removed.pop(host, None)
            allowed = {None, selection_before, self.selection_seen.get(host)}
            with blame("PROXY-009"):
                self.adopt_selection(allowed, f"after logging in to {server}")

        @initialize(direct_login=st.sampled_from((None, *DIRECT)),
                    console_user=st.sampled_from(sorted(USERS)),
                    switch_to=st.sampled_from(SWITCH_TARGETS))
        def begin(self, direct_login: str | None, console_user: str, switch_to: str) -> None:
            """Every sequence starts like a typical user: maybe a direct login to a rack
            installed by CLI, then a Console login and a switch (which may be refused)."""
            if direct_login is not None:
                self.login_rack(direct_login)
            self.login_console(console_user)
            self.switch(switch_to)

        @rule(user=st.sampled_from(sorted(USERS)))
        def login_console(self, user: str) -> None:
            """convox login <console> --password <the user's current Console key>"""
            self.login(CONSOLE, self.user_keys[user], accepted=True)

        @rule(rack=st.sampled_from(DIRECT))
        def login_rack(self, rack: str) -> None:
            """convox login <rack host> --password <the key the rack accepts now>"""
            self.login(rack, self.rack_keys[rack], accepted=True)

        @rule(to=st.sampled_from((CONSOLE, *DIRECT)), key=st.sampled_from(("wrong", "old")))
        def login_with_bad_key(self, to: str, key: str) -> None:
            """A login the target refuses: a made-up key, or an old one (a user key
            regenerated since, a rack key rolled since); no old key yet: a made-up one."""
            if to == CONSOLE:
                old = [k for keys in self.old_user_keys.values() for k in keys]
            else:
                old = self.old_rack_keys[to]
            bad = old[-1] if key == "old" and old else wrong_key()
            self.login(to, bad, accepted=False)

        # ------------------------------------------------------------ user actions: commands
        @rule(rack=st.sampled_from(SWITCH_TARGETS))
        def switch(self, rack: str) -> None:
            key = self.current_key()
            server = self.hosts.get(self.target or "") if key else None
            user = self.user_of(key) if server == CONSOLE else None
            allowed = user is not None and rack in self.listed(user)
            note(f"  model: switch {'succeeds' if allowed else 'fails, changing nothing'}")
            before = self.raw()
            mark = convox.journal.mark()
            inv = self.run("switch", rack=rack)
            # Logged out, the files a switch leaves are bound by what logging out means.
            out = None if self.logged_in() else self.routing_rule()
            sent = self.cli_requests(mark)
            # At a rack login, asking any Console at all is what SWITCH-004 forbids.
            with blame(self.sender_rule(sent, "SWITCH-001" if server == CONSOLE
                                        else "SWITCH-004")):
                self.expect_only(sent, server, key, f"switch {rack}")
            if not allowed:
                # A switch that works with no Console login, logged out included, is
                # what SWITCH-004 forbids; the logout rules speak of requests and files.
                refusal = "SWITCH-003" if server == CONSOLE else "SWITCH-004"
                with blame(refusal):
                    self.cx.failed(inv)
                # Logged out, the target and auth must stay for restoring them to log
                # back in (LOGOUT-004); a selection stored without a Console login is
                # what SWITCH-004 forbids, logged out or not.
                with blame("LOGOUT-004" if out else refusal):
                    self.unchanged(before, f"a refused switch to {rack}", FILES[:2])
                with blame(refusal):
                    self.unchanged(before, f"a refused switch to {rack}", FILES[2:])
                return
            with blame("SWITCH-001"):
                self.cx.ok(inv)
            with blame("SWITCH-005"):
                self.unchanged(before, f"switch {rack}", FILES[:2])
            with blame("SWITCH-001"):
                self.adopt_selection({rack}, f"after switch {rack}")

        @rule()
        def apps(self) -> None:
            """Run a rack command and compare the request it makes with the model's."""
            nxt = self.next_request()
            routing = self.routing_rule()
            note("  model: " + nxt.describe(self.ident))
            before = self.raw()
            mark = convox.journal.mark()
            inv = self.run("apps")
            cli, proxied = self.cli_requests(mark), self.proxy_requests(mark)
            with blame(self.sender_rule(cli, routing)):
                self.expect_only(cli, nxt.server, nxt.key, "apps")
            # Logged out, the files must stay as the user left them so that restoring
            # what was removed logs back in (LOGOUT-004).
            kept = {"LOGOUT-002": "LOGOUT-004", "LOGOUT-003": "LOGOUT-004"}.get(routing, routing)
            # A command refused for an old key corrupts no file (KEYROLL-003), nor does one
            # failing inside a rack-key roll's update window (KEYROLL-006 says so itself).
            if nxt.outcome == "refused" or nxt.rule == "KEYROLL-007":
                kept = "KEYROLL-003"
            elif nxt.rule == "KEYROLL-006":
                kept = "KEYROLL-006"
            with blame(kept):
                self.unchanged(before, "apps (a rack command)")
            if nxt.server is None:
                with blame(nxt.rule):
                    self.cx.failed(inv)
                return
            if nxt.server == CONSOLE and nxt.rack is None and not cli:
                # No rack selected: a CLI may refuse by itself, before asking Console,
                # whether Console would have refused the key or had no rack to proxy to.
                with blame(nxt.rule):
                    self.cx.failed(inv)
                return
            if nxt.server == CONSOLE and nxt.rack in self.updating and not cli:
                # The rack's roll is under way, so the command fails whatever happens; a
                # CLI that saw the rack updating in a listing may hold off by itself.
                with blame(nxt.rule):
                    self.cx.failed(inv)
                return
            # Once a rolled rack is updated, a CLI still holding off breaks KEYROLL-005.
            with blame("KEYROLL-005" if nxt.rule == "KEYROLL-005" else routing):
                assert cli, f"apps should send a request to {nxt.server}; it sent none"
            if nxt.server != CONSOLE:
                with blame(routing):
                    assert not proxied, (
                        "logged in to a rack directly, nothing goes through Console"
                    )
                self.expect_outcome(inv, nxt, nxt.server)
                return
            headers = {e.rack_header for e in cli}
            if nxt.rack is not None and nxt.outcome == "refused" and headers <= {None}:
                # Console refuses this key or rack. A CLI that asks Console for its rack
                # list first (SHARING-005 allows it) learns that there and may stop before
                # the command itself: it fails, and nothing is proxied.
                with blame(nxt.rule):
                    self.cx.failed(inv)
                    assert not proxied, "Console refuses this key or rack: nothing may be " \
                        "proxied; got:\n" + show(proxied)
                return
            if nxt.rack is not None:
                with blame("PROXY-001"):
                    assert nxt.rack in headers and headers <= {nxt.rack, None}, (
                        f"apps should reach Console with Rack: {nxt.rack}; got:\n" + show(cli)
                    )
            if nxt.outcome == "refused":
                with blame(nxt.rule):
                    assert not proxied, (
                        "Console refuses this key or rack: nothing may be proxied; got:\n"
                        + show(proxied)
                    )
            if nxt.outcome == "ok":
                wanted = self.ident(self.rack_keys[nxt.rack or ""])
                wrong = [e for e in proxied
                         if e.server != nxt.rack or e.key_identity != wanted]
                with blame("PROXY-001"):
                    assert proxied and not wrong, (
                        f"Console should proxy to {nxt.rack} with its rack key {wanted}; "
                        "got:\n" + show(proxied)
                    )
            if nxt.outcome == "free" and headers <= {None}:
                with blame(nxt.rule):
                    self.cx.failed(inv)  # no rack named anywhere: Console cannot answer
                return
            if nxt.outcome != "free":
                self.expect_outcome(inv, nxt, nxt.rack or "")

        def expect_outcome(self, inv: Invocation, nxt: Next, rack: str) -> None:
            with blame(nxt.rule):
                if nxt.outcome != "ok":
                    self.cx.failed(inv)
                    return
                self.cx.ok(inv)
                missing = [app for app in APPS[rack] if app not in inv.stdout]
                assert not missing, (
                    f"apps should show {rack}'s apps {missing}:\n{inv.describe()}"
                )

        @rule()
        def racks(self) -> None:
            """List Console's racks: at Console with the stored key, or not at all."""
            key = self.current_key()
            server = self.hosts.get(self.target or "") if key else None
            user = self.user_of(key) if server == CONSOLE else None
            routing = self.routing_rule()
            before = self.raw()
            mark = convox.journal.mark()
            inv = self.run("racks")
            cli = self.cli_requests(mark)
            sender = "PROXY-004" if routing == "PROXY-001" else routing
            with blame(self.sender_rule(cli, sender)):
                self.expect_only(cli, server, key, "racks")
            if server != CONSOLE:
                # Logged out (no key was sent, as checked above) or at a rack, which may
                # answer anything: the routing is what matters. How racks reports a
                # refusal is no rule of this catalogue's (only apps' is, LOGOUT-002).
                if not self.logged_in():
                    with blame("LOGOUT-004"):  # what the user left must stay to restore
                        self.unchanged(before, "racks while logged out")
                return
            if user is None:
                # Console refused the key. No rule of this catalogue says how racks
                # must report that (exit code or wording); only the files matter here.
                with blame("KEYROLL-003"):
                    self.unchanged(before, "racks refused by Console")
                return
            with blame("SHARING-001"):
                self.cx.ok(inv)
                assert cli, "racks should ask Console"
                listed = self.listed(user)
                missing = [ref for ref in listed if ref.split("/")[1] not in inv.stdout]
                assert not missing, f"racks should list {missing}:\n{inv.describe()}"
            if "acme/production" not in listed:
                with blame(self.refusal_rule(user, "acme/production")):
                    assert "production" not in inv.stdout, (
                        f"{user} can no longer use acme/production; racks lists it:\n"
                        + inv.describe()
                    )

        @precondition(lambda self: profile.has("logout") and self.logged_in())
        @rule()
        def logout(self) -> None:
            """The profile's logout command (skipped when it has none)."""
            old_target, old_auth, selection_before = self.target, self.auth, self.selection
            assert old_target is not None
            server = self.hosts[old_target]
            mark = convox.journal.mark()
            inv = self.run("logout")
            # The logout rules need the optional logout operation, so they are blamed
            # here without being in the check's spec marker (which would make the whole
            # check not applicable to a CLI without logout).
            with blame("LOGOUT-010"):
                self.cx.ok(inv)
                self.expect_only(self.cli_requests(mark), server, old_auth[old_target],
                                 "logout")
                target, auth = self.cx.state.target(), self.cx.state.keys()
                assert target in (None, old_target), f"logout must not log in to {target!r}"
                assert target is None or old_target not in auth, (
                    "after logout auth must hold no key for the target (or the target must "
                    "be gone)"
                )
            with blame("LOGOUT-011"):
                changed = [h for h, k in auth.items() if old_auth.get(h) != k]
                assert not changed, f"logout must not add or change keys: {changed}"
            self.target, self.auth = target, auth
            with blame("LOGOUT-010"):
                self.adopt_selection({None, selection_before}, "after logout")

        @precondition(lambda self: self.target in self.auth)
        @rule()
        def remove_key_from_auth_by_hand(self) -> None:
            """The FAQ's logout: delete the target host's entry from auth."""
            assert self.target is not None
            note(f"# by hand: delete {self.target!r} from auth")
            self.cx.state.remove_key(self.target)
            self.removed[self.target] = self.auth[self.target]
            self.auth = {h: k for h, k in self.auth.items() if h != self.target}

        @precondition(lambda self: any(h not in self.auth for h in self.removed))
        @rule()
        def restore_key_in_auth_by_hand(self) -> None:
            """Put back the entry deleted by hand: logged in again, no login needed."""
            host, key = next((h, k) for h, k in self.removed.items() if h not in self.auth)
            note(f"# by hand: put {host!r} -> {self.ident(key)} back into auth")
            self.auth = {**self.auth, host: key}
            self.cx.state.write_auth(self.auth)
            del self.removed[host]

        # ------------------------------------------------------------ world events
        # The CLI only notices the world at its next request, so each event is
        # followed by the user's next rack command (apps), checked like the apps rule.
        def event(self, text: str) -> None:
            note(f"# world: {text}; the user's next command:")

        @rule(user=st.sampled_from(sorted(USERS)))
        def world_regenerate_user_key(self, user: str) -> None:
            self.event(f"{user} regenerates the Console API key")
            self.old_user_keys[user].append(self.user_keys[user])
            self.user_keys[user] = world.regenerate_user_key(USERS[user])
            self.apps()

        @precondition(lambda self: any(r not in self.updating for r in ROLLABLE))
        @rule(rack=st.sampled_from(ROLLABLE))
        def world_roll_rack_key(self, rack: str) -> None:
            """Console's Roll API key: Console uses the new key now, the rack after updating."""
            if rack in self.updating:
                rack = next(r for r in ROLLABLE if r not in self.updating)
            self.event(f"Console rolls the key of {rack} (rack update under way)")
            world.roll_rack_key(rack)
            self.updating.add(rack)
            self.apps()

        @precondition(lambda self: bool(self.updating))
        @rule()
        def world_finish_rack_updates(self) -> None:
            self.event(f"the rack update finishes ({', '.join(sorted(self.updating))})")
            world.finish_rack_updates()
            for rack in self.updating:
                self.old_rack_keys[rack].append(self.rack_keys[rack])
                self.rack_keys[rack] = world.rack_key(rack)
            self.updating.clear()
            self.apps()

        @precondition(lambda self: not self.bob_member and self.plan in COLLABORATOR_PLANS)
        @rule()
        def world_add_collaborator(self) -> None:
            self.event("alice adds bob to acme as a developer")
            world.add_member("acme", USERS["bob"], "developer")
            self.bob_member = True
            self.apps()

        @precondition(lambda self: self.bob_member)
        @rule()
        def world_remove_collaborator(self) -> None:
            self.event("alice removes bob from acme")
            world.remove_member("acme", USERS["bob"])
            self.bob_member = False
            self.apps()

        @precondition(lambda self: self.plan == "pro")
        @rule()
        def world_downgrade_acme_to_developer(self) -> None:
            self.event("acme moves from Pro to the Developer plan")
            world.set_plan("acme", "developer")
            self.plan = "developer"
            self.apps()

        @precondition(lambda self: self.plan != "pro")
        @rule()
        def world_upgrade_acme_to_pro(self) -> None:
            self.event("acme moves back to the Pro plan")
            world.set_plan("acme", "pro")
            self.plan = "pro"
            self.apps()

        # ------------------------------------------------------------ agreement
        def adopt_selection(self, allowed: set[str | None], when: str) -> None:
            seen = self.cx.state.selection()
            assert seen in allowed, (
                f"{when} the selection should be one of {sorted(map(str, allowed))}, "
                f"it is {seen!r}"
            )
            self.selection = seen

        @invariant()
        def files_agree_with_the_model(self) -> None:
            state = self.cx.state
            with blame("LOGIN-001"):
                assert state.target() == self.target, (
                    f"target file: expected {self.target!r}, found {state.target()!r}"
                )
            auth = state.keys()
            if auth != self.auth:
                differ = [h for h in sorted(set(auth) | set(self.auth))
                          if auth.get(h) != self.auth.get(h)]
                lines = [f"  {h!r}: expected {self.ident(self.auth.get(h))}, "
                         f"found {self.ident(auth.get(h))}" for h in differ]
                # The target's own entry is what login stores (LOGIN-002); any other
                # entry is one that logins must keep (LOGIN-003).
                with blame("LOGIN-002" if differ == [self.target] else "LOGIN-003"):
                    raise AssertionError("auth differs from the model:\n" + "\n".join(lines))
            with blame("SWITCH-001"):
                assert state.selection() == self.selection, (
                    f"selection: expected {self.selection!r}, found {state.selection()!r}"
                )
            if self.target is not None:
                self.selection_seen[self.target] = self.selection

        def teardown(self) -> None:
            """Undo the reversible world changes for the next example."""
            world.finish_rack_updates()
            if self.plan != "pro":
                world.set_plan("acme", "pro")
            if not self.bob_member:
                world.add_member("acme", USERS["bob"], "developer")

    return CliAgreesWithModel


def other(user: str) -> str:
    return next(u for u in USERS if u != user)


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def show(entries: list[JournalEntry]) -> str:
    return "\n".join(f"  {e.describe()}" for e in entries) or "  (no request)"


def command_line(argv: tuple[str, ...] | list[str], values: dict[str, str],
                 ident: Identity) -> str:
    """The profile's command with placeholders shown readably (keys as identities)."""
    shown = {name: (f"<{ident(value)}>" if name in ("key", "password") else value)
             for name, value in values.items()}
    parts = []
    for part in argv:
        for name, value in shown.items():
            part = part.replace("{" + name + "}", value)
        parts.append(part)
    return "convox " + " ".join(parts)


# Every expectation of the model runs under blame(RULE): a failure turns red only the
# rule whose expectation broke (several distinct failures, each their own rule).
@pytest.mark.spec("LOGIN-001", "LOGIN-002", "LOGIN-003", "LOGIN-004", "LOGIN-005", "LOGIN-010",
                  "LOGIN-011", "SWITCH-001", "SWITCH-003", "SWITCH-004", "SWITCH-005",
                  "PROXY-001", "PROXY-002", "PROXY-004", "PROXY-006", "PROXY-008", "PROXY-009",
                  "LOGOUT-002", "LOGOUT-003", "LOGOUT-004", "LOGOUT-006", "LOGOUT-009",
                  "KEYROLL-001",
                  "KEYROLL-003", "KEYROLL-005", "KEYROLL-006", "KEYROLL-007", "SHARING-001",
                  "SHARING-005", "SHARING-008", "SHARING-009")
def test_the_cli_agrees_with_the_model_over_random_sequences(convox: Convox) -> None:
    """Random sequences of up to 15 user actions and world events, each in a fresh
    home: logins (Console as alice or bob, racks directly; good, old and wrong
    keys), switches (listed and unlisted racks), apps, racks, logout by hand or
    by command, key regeneration, rack key rolls and their update window,
    collaborator changes and plan changes. After every step the CLI's files and
    the requests the fakes saw must match the model."""
    run_state_machine_as_test(machine_for(convox), settings=MODEL_SETTINGS)
