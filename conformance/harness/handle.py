"""The object every check works with: one world, one CLI home, one profile.

Checks read like the FAQ ("log in to Console as alice, switch to
acme/production, run a rack command") and assert on what a user can observe.
The class ``Convox`` holds that vocabulary so checks stay short and
layout-agnostic. It is built in layers, one module each: the world and the
home (``world_and_home.py``), running the CLI (``cli_actions.py``), set-up
steps (``givens.py``), and here the routes a check of logins in general takes.
How a check ends without a verdict (not applicable, not checked, blocked) is in
``skip_outcomes.py``; its names stay importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.harness.givens import Givens
from conformance.harness.skip_outcomes import (
    BLOCKED_PREFIX,
    BLOCKED_PROPERTY,
    NOT_APPLICABLE,
    blocked,
    not_applicable,
    not_checked,
)
from conformance.running.invoke import Invocation

__all__ = ["BLOCKED_PREFIX", "BLOCKED_PROPERTY", "NOT_APPLICABLE", "ROUTE_CONSOLE_RACK",
           "ROUTE_RACK", "ROUTE_USER", "Convox", "Route", "blocked", "not_applicable",
           "not_checked"]


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


class Convox(Givens):
    """A world plus a CLI session, with the FAQ's vocabulary."""

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
