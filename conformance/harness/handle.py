"""The object every check works with: one world, one CLI home, one profile.

Checks read like the FAQ ("log in to Console as alice, switch to
acme/production, run a rack command") and assert on what a user can observe.
This class holds the vocabulary so checks stay short and layout-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.catalogue.covering import covering_rule
from conformance.harness.attribution import fail
from conformance.report.model.outcomes import CHECK_SKIP_PREFIX
from conformance.running.cli_files import StateError
from conformance.running.invoke import CliSession, Invocation
from fakes.http.journal import EGRESS_SERVERS

if TYPE_CHECKING:
    from fakes.backends.in_process import WorldHandle
    from fakes.http.journal import Journal

NOT_APPLICABLE = "not applicable: "
#: A check whose set-up failed ends with a skip reason starting with this.
BLOCKED_PREFIX = "blocked by "
#: The user property a blocked check's report carries: rule, step and detail.
BLOCKED_PROPERTY = "conformance.blocked"


def not_applicable(reason: str) -> None:
    """End a check as *not applicable* (reported apart from passed)."""
    pytest.skip(NOT_APPLICABLE + reason)


def not_checked(reason: str) -> None:
    """End a check as *not checked*: the run, not the CLI's profile, lacks what it needs."""
    pytest.skip(CHECK_SKIP_PREFIX + reason)


def blocked(
    rule: str, step: str, detail: str = "", properties: list[tuple[str, Any]] | None = None
) -> None:
    """End a check as *blocked*: its scenario could not be set up.

    Blocked is neither a pass nor a failure of the check's own rule: the step
    that broke is covered by ``rule``, whose own checks decide whether the
    CLI breaks it.
    """
    if properties is not None:
        properties.append((BLOCKED_PROPERTY, {"rule": rule, "step": step, "detail": detail}))
    pytest.skip(f"{BLOCKED_PREFIX}{rule}: {step}")


@dataclass(frozen=True)
class Route:
    """A login and a command that works right after it.

    A rule about being logged in in general (the files, the environment, what a
    logged-out CLI says) can be observed at a rack logged in to directly or at
    Console; a check takes whichever the CLI has (:meth:`Convox.route`), so a CLI
    without direct rack commands (PROXY-006) is still judged on the rule.
    """

    #: "rack" (a direct login) or "console".
    via: str
    host: str
    key: str
    #: The journal's name for the server the command reaches.
    server: str
    #: A word apps shows there: an app of the rack.
    shows: str
    #: The rack selected through Console (None at a rack logged in to directly).
    rack: str | None = None
    #: The profile operation the route runs.
    operation: str = "apps"

    def describe(self) -> str:
        where = f"{self.rack} through Console" if self.rack else f"{self.server} directly"
        return f"{self.operation} at {where}"


#: The user a Console route logs in as and the rack it selects; the rack a direct
#: route logs in to; and the app each shows.
ROUTE_USER = "alice@example.com"
ROUTE_CONSOLE_RACK = ("acme/production", "web")
ROUTE_RACK = ("acme/legacy", "billing")


class Convox:
    """A world plus a CLI session, with the FAQ's vocabulary."""

    def __init__(
        self,
        world: WorldHandle,
        cli: CliSession,
        new_session: Callable[[], CliSession] | None = None,
        properties: list[tuple[str, Any]] | None = None,
        own_rules: frozenset[str] = frozenset(),
    ) -> None:
        self.world = world
        #: The rules the check verifies: a given covered by one of them that fails is
        #: evidence against that rule, so it fails the check instead of blocking it.
        self.own_rules = own_rules
        self.cli = cli
        self.profile = cli.profile
        self.state = cli.state
        self._new_session = new_session
        #: The check's report properties (where a blocked step is recorded).
        self.properties = properties
        #: The step under way: (operation, "console" | "rack" | None).
        self._step: tuple[str, str | None] | None = None
        self._givens = 0
        #: Facts a check established once and reuses across Hypothesis examples.
        self.memo: dict[str, Any] = {}

    def another_home(self) -> Convox:
        """The same world seen from a second, fresh CLI home (another user's machine)."""
        if self._new_session is None:
            raise RuntimeError("this harness cannot make another home")
        return Convox(self.world, self._new_session(), self._new_session, self.properties,
                      self.own_rules)

    # givens ------------------------------------------------------------------
    @contextmanager
    def given(self, step: str, *, covered_by: str | None = None) -> Iterator[None]:
        """Set-up, not observation: a failure inside blocks the check.

        ``step`` says in words what the scenario needs ("alice is logged in to
        Console with acme/production selected"). When an assertion fails inside
        (a command exited non-zero, a CLI hung), the check ends *blocked* by the
        rule covering the failing step: ``covered_by`` if given, else the rule
        ``specs/steps/covering-rules.toml`` names for the operation that failed
        and where it ran. A failure no rule covers stays a failure, and so does one
        covered by a rule the check itself verifies.
        """
        self._givens += 1
        try:
            yield
        except AssertionError as exc:
            rule = covered_by
            if rule is None and self._step is not None:
                operation, place = self._step
                rule = covering_rule(operation, place) if place else None
            if rule is None:
                raise
            if rule in self.own_rules:
                raise fail(rule, f"{step}: {exc}") from exc
            detail = str(exc)
            blocked(rule, f"{step}: {detail.splitlines()[0] if detail else 'failed'}",
                    detail, self.properties)
        finally:
            self._givens -= 1

    def _place_of(self, host: str | None) -> str | None:
        if host is None:
            return None
        return "console" if host == self.console else "rack"

    def _target_place(self) -> str | None:
        try:
            return self._place_of(self.state.target())
        except StateError:
            return None

    # hosts and keys --------------------------------------------------------
    @property
    def console(self) -> str:
        """The Console's host string, as this CLI's users would type it."""
        return self.world.host("console", self.profile.host_form)

    def rack_host(self, ref: str) -> str:
        return self.world.host(ref, self.profile.host_form)

    def user_key(self, email: str) -> str:
        return self.world.user_key(email)

    def deploy_key(self, ref: str) -> str:
        """The key of the world's deploy key ``org/name`` (what a CI job is given)."""
        return self.world.deploy_key(ref)

    def rack_key(self, ref: str) -> str:
        return self.world.rack_key(ref)

    def identity(self, key: str | None) -> str:
        return self.world.key_identity(key)

    @property
    def journal(self) -> Journal:
        """The world's traffic: egress attempts and lookups are left out of every query
        that names no server, so only SECURITY-003 (which asks the guard) judges them."""
        return self.world.journal.without(EGRESS_SERVERS)

    # capabilities ----------------------------------------------------------
    def require(self, *capabilities: str) -> None:
        missing = self.profile.missing(list(capabilities))
        if missing:
            not_applicable(f"profile {self.profile.name} has no {', '.join(missing)}")

    # where a command runs and what its environment says -------------------
    def project(self, rack: str) -> Path:
        """A fresh project directory inside the home whose ``.convox/rack`` pins ``rack``.

        The file is the documented ``.convox/rack`` (cli-config-files), relative
        to where a command runs: a CLI that looks for it elsewhere ignores its
        users' project files, so it is not a profile setting.
        """
        number = sum(1 for _ in self.cli.workdir.glob("project-*")) + 1
        directory = self.cli.workdir / f"project-{number}"
        (directory / ".convox").mkdir(parents=True)
        (directory / ".convox" / "rack").write_text(rack + "\n", encoding="utf-8")
        return directory

    def in_project(self, directory: Path) -> AbstractContextManager[None]:
        """Run the commands inside the block in ``directory`` (see :meth:`project`)."""
        return self.cli.working_directory(directory)

    def env_credentials(self, host: str, key: str) -> dict[str, str]:
        """The environment that gives every command ``host`` and ``key`` (a CI job's)."""
        self.require("env_credentials")
        names = self.profile.environment
        assert names.host is not None and names.key is not None
        self.cli.remember(key)
        return {names.host: host, names.key: key}

    def env_rack(self, ref: str) -> dict[str, str]:
        """The environment that selects ``ref`` for one command."""
        self.require("env_rack")
        assert self.profile.environment.rack is not None
        return {self.profile.environment.rack: ref}

    def login_key_variable(self, key: str) -> dict[str, str]:
        """The environment a ``login_env`` login reads ``key`` from, for a login by flag.

        The variable is the one the profile's ``login_env`` sets to ``{key}``;
        a profile whose ``login_env`` passes the key another way has none, and
        what needs it is not applicable.
        """
        self.require("login", "login_env")
        names = [name for name, value in self.profile.operations["login_env"].env.items()
                 if value == "{key}"]
        if not names:
            not_applicable(f"profile {self.profile.name}'s login_env sets no variable "
                           "to the key")
        self.cli.remember(key)
        return {name: key for name in names}

    # actions ---------------------------------------------------------------
    def login(self, host: str, key: str, *, how: str = "login") -> Invocation:
        """Log in by flag (``login``), environment (``login_env``) or prompt."""
        self.require(how)
        if how == "login_default":
            self._step = (how, "console")
            return self.cli.run(how, key=key)
        self._step = (how, self._place_of(host))
        return self.cli.run(how, host=host, key=key)

    def login_console(self, email: str, *, records: bool = True, **kwargs: str) -> Invocation:
        """Given: log in to Console with the user's key (set-up; blocks on failure).

        With ``records`` (the default) the given also requires what the login
        records (see :meth:`recorded`); a check whose own rule is about those
        records, or that needs only a working login, passes ``records=False``.
        """
        return self.logged_in(self.console, self.user_key(email), f"log in to Console as {email}",
                              records=records, **kwargs)

    def login_rack(self, ref: str, *, records: bool = True, **kwargs: str) -> Invocation:
        """Given: log in to a rack directly with its key (set-up; blocks on failure).

        ``records`` as for :meth:`login_console`."""
        return self.logged_in(self.rack_host(ref), self.rack_key(ref), f"log in directly to {ref}",
                              records=records, **kwargs)

    def logged_in(self, host: str, key: str, step: str, *, records: bool = True,
                  **kwargs: str) -> Invocation:
        """Given: a login to ``host`` with ``key`` (a key a check made up or a user shared),
        described as ``step``; ``records`` as for :meth:`login_console`."""
        earlier = self._earlier_keys() if records else None
        with self.given(step):
            login = self.ok(self.login(host, key, **kwargs))
        if records:
            self.recorded(host, key, earlier)
        return login

    def _earlier_keys(self) -> dict[str, str] | None:
        """auth before a login, to see that the login kept it; None where it cannot be read
        (a check that damaged it on purpose)."""
        try:
            return dict(self.state.keys())
        except StateError:
            return None

    def recorded(self, host: str, key: str, earlier: dict[str, str] | None = None) -> None:
        """Given: a login that exited 0 also recorded what the FAQ says it records, and
        kept the other hosts' keys (those in ``earlier``, auth as it was before).

        For a check that ran the login itself, because how it logs in is the check's
        subject (a session challenge), and needs what it recorded for what follows.

        A CLI whose login writes the wrong target, no key or loses another host's
        key would otherwise fail every later step under the names of rules it does
        not break; here it is blocked by the rule that covers what the login got
        wrong."""
        with self.given(f"the login to {host} recorded it as the target",
                        covered_by="LOGIN-001"):
            target = self._read(self.state.target)
            assert target == host, (f"the target file holds {target!r}, not {host!r}"
                                    + self.changed_instead(self.state.target_path))
        with self.given(f"the login stored the key for {host} in auth", covered_by="LOGIN-002"):
            stored = self._read(self.state.keys).get(host)
            assert stored == key, (
                f"auth holds {'no key' if stored is None else 'another key'} for {host}"
                + self.changed_instead(self.state.auth_path))
        if earlier:
            with self.given(f"the login to {host} kept the other hosts' keys",
                            covered_by="LOGIN-003"):
                now = self._read(self.state.keys)
                changed = sorted(h for h, k in earlier.items() if h != host and now.get(h) != k)
                assert not changed, f"after the login auth lost or changed the keys of {changed}"

    def changed_instead(self, wanted: Path) -> str:
        """What the last command changed other than ``wanted``, for a reason that expected
        that file: "; login changed .convox/host2 (added) instead" ("" when nothing else)."""
        if not self.cli.invocations:
            return ""
        last = self.cli.invocations[-1]
        try:
            expected = str(wanted.relative_to(self.cli.home))
        except ValueError:
            expected = str(wanted)
        others = [f"{change.path} ({change.kind})" for change in last.changes
                  if change.path != expected]
        if not others:
            return "" if last.changes else f"; {last.operation} changed no file"
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        return f"; {last.operation} changed {shown} instead"

    @staticmethod
    def _read(reader: Callable[[], Any]) -> Any:
        try:
            return reader()
        except StateError as exc:
            raise AssertionError(str(exc)) from None

    def console_login_works(self, email: str) -> None:
        """Given, in a home of its own: the plain login to Console (key on the command
        line) works and records what it should, so a check of another way of logging
        in to a Console (no host, the environment, a prompt, certificates) is blocked by
        LOGIN-004, LOGIN-001 or LOGIN-002 when even that fails, not failed for its own rule.
        """
        if self.memo.get(f"console login works for {email}"):
            return
        self.another_home().login_console(email)
        self.memo[f"console login works for {email}"] = True

    def rack_login_works(self, ref: str = "acme/legacy") -> None:
        """Given, in a home of its own: the plain direct login to ``ref`` works and records
        what it should (LOGIN-005, LOGIN-001, LOGIN-002), for checks of other logins."""
        if self.memo.get(f"rack login works at {ref}"):
            return
        self.another_home().login_rack(ref)
        self.memo[f"rack login works at {ref}"] = True

    def rack_commands_possible(self, ref: str = "acme/legacy") -> bool:
        """Given, in a home of its own: a direct login to ``ref`` works; and whether
        ``apps`` then works there (PROXY-006's subject, not judged here).

        For checks that can observe their rule through the login alone (what a
        login sends and stores) and through commands only where the CLI has
        them: a CLI that cannot run commands at a rack is judged on its login,
        not left undecided.
        """
        key = f"rack commands possible at {ref}"
        if key not in self.memo:
            elsewhere = self.another_home()
            elsewhere.login_rack(ref)
            self.memo[key] = elsewhere.run("apps").exit_code == 0
        return bool(self.memo[key])

    def route(self) -> Route:
        """The route a check of a rule about logins in general takes: a direct login to
        acme/legacy and apps there where that works (tried in a home of its own), else a
        login to Console as alice, a switch to acme/production and apps there.

        Only when neither works is the check blocked, by the Console route's rules
        (LOGIN-004, SWITCH-001, PROXY-002): a CLI without direct rack commands is
        judged on its Console logins, not left undecided behind PROXY-006.
        """
        if "route" not in self.memo:
            ref, app = ROUTE_RACK
            direct = Route("rack", self.rack_host(ref), self.rack_key(ref), ref, app)
            rack, app = ROUTE_CONSOLE_RACK
            console = Route("console", self.console, self.user_key(ROUTE_USER), "console",
                            app, rack)
            elsewhere = self.another_home()
            if not elsewhere.profile.missing(["login", "apps"]) and elsewhere.try_route(direct):
                self.memo["route"] = direct
            else:
                elsewhere = self.another_home()
                elsewhere.log_in_by(console)
                with elsewhere.given(f"alice runs {console.describe()}"):
                    elsewhere.ok(elsewhere.run(console.operation))
                self.memo["route"] = console
        route: Route = self.memo["route"]
        return route

    def try_route(self, route: Route) -> bool:
        """Whether ``route``'s login and command both exit 0 here (nothing is judged)."""
        if self.login(route.host, route.key).exit_code != 0:
            return False
        if route.rack and (not self.profile.has("switch")
                           or self.switch(route.rack).exit_code != 0):
            return False
        return self.run(route.operation).exit_code == 0

    def log_in_by(self, route: Route, *, records: bool = True) -> Invocation:
        """Given: the route's login, and switch, in this home (``records`` as for
        :meth:`login_console`)."""
        step = ("log in to Console as alice" if route.via == "console"
                else f"log in directly to {route.server}")
        if route.rack:
            self.require("switch")
        login = self.logged_in(route.host, route.key, step, records=records)
        if route.rack:
            self.switched(route.rack)
        return login

    def write_route_files(self, route: Route) -> None:
        """The files a login by ``route`` leaves, written by hand: target, auth, selection."""
        self.state.write_target(route.host)
        self.state.write_auth({route.host: route.key})
        if route.rack:
            self.state.write_selection(route.rack)

    def route_env(self, route: Route) -> dict[str, str]:
        """The environment that gives a command ``route``'s host, key and rack (a CI job's)."""
        env = self.env_credentials(route.host, route.key)
        if route.rack:
            env |= self.env_rack(route.rack)
        return env

    def switched(self, rack: str) -> Invocation:
        """Given: switch to a rack Console lists (set-up; blocks on failure), and the
        selection then names it (SWITCH-001's observation, so a switch that records
        something else blocks what follows under that rule)."""
        with self.given(f"switch to {rack}"):
            switch = self.ok(self.switch(rack))
        self.selected(rack)
        return switch

    def selected(self, rack: str) -> None:
        """Given: the selection names ``rack`` (SWITCH-001's observation), for checks
        that ran the switch themselves because its requests are their subject."""
        with self.given(f"the switch recorded {rack} as the selection", covered_by="SWITCH-001"):
            selected = self._read(self.state.selection)
            assert selected == rack, f"the selection names {selected!r}, not {rack!r}"

    def switch(self, rack: str) -> Invocation:
        self._step = ("switch", self._target_place())
        return self.cli.run("switch", rack=rack)

    def current_rack(self) -> Invocation:
        self._step = ("current_rack", self._target_place())
        return self.cli.run("current_rack")

    def run(self, operation: str, **kwargs: Any) -> Invocation:
        self.require(operation)
        self._step = (operation, self._target_place())
        return self.cli.run(operation, **kwargs)

    # assertions ------------------------------------------------------------
    def ok(self, invocation: Invocation) -> Invocation:
        """Assert an invocation succeeded, showing what happened if not."""
        assert invocation.exit_code == 0, "expected success:\n" + invocation.describe()
        return invocation

    def failed(self, invocation: Invocation) -> Invocation:
        assert invocation.exit_code not in (0, None), (
            "expected a non-zero exit:\n" + invocation.describe()
        )
        return invocation

    def files(self) -> dict[str, bytes]:
        """The CLI's config files, for "nothing changed" comparisons.

        Read like the evidence snapshots: no link is followed and no special
        file opened, so a planted symlink shows as one, never as its target.
        """
        from conformance.running.cli_files import snapshot_tree

        tree = snapshot_tree(self.cli.config_dir, within=self.cli.home)
        return {path: snap.observed for path, snap in sorted(tree.items())
                if not path.endswith(".lock")}
