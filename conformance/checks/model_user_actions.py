"""What the user does in the model check: logins, switches, rack commands, logout.

The rules Hypothesis draws from for the user (log in to Console as alice or bob
or to a rack directly, with a good, old or wrong key; switch to a listed or
unlisted rack; run ``apps`` or ``racks``; delete or restore a key in auth by
hand; ``logout`` where the profile has it) and the ``begin`` every sequence
starts with. Each runs the real command and checks it, under the rule each
expectation comes from, against the model (``cli_model.py``).
"""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from conformance.checks.cli_model import APPS, CONSOLE, DIRECT, FILES, SWITCH_TARGETS, USERS, Next
from conformance.checks.model_observation import ObservedModel, show
from conformance.checks.standard_world import wrong_key
from conformance.harness.attribution import blame
from conformance.running.invoke import Invocation


class UserActions(ObservedModel):
    """The user's actions, each checked against the model."""

    # ------------------------------------------------------------ user actions: login
    def login(self, server: str, key: str, accepted: bool) -> None:
        host = self.host(server)
        before, selection_before = self.raw(), self.selection
        mark = self.convox.journal.mark()
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
        mark = self.convox.journal.mark()
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
        mark = self.convox.journal.mark()
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
        mark = self.convox.journal.mark()
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

    @precondition(lambda self: self.profile.has("logout") and self.logged_in())
    @rule()
    def logout(self) -> None:
        """The profile's logout command (skipped when it has none)."""
        old_target, old_auth, selection_before = self.target, self.auth, self.selection
        assert old_target is not None
        server = self.hosts[old_target]
        mark = self.convox.journal.mark()
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
