"""The object every check works with: one world, one CLI home, one profile.

Checks read like the FAQ ("log in to Console as alice, switch to
acme/production, run a rack command") and assert on what a user can observe.
This class holds the vocabulary so checks stay short and layout-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from conformance.runner import CliSession, Invocation

if TYPE_CHECKING:
    from fakes.backend import WorldHandle
    from fakes.journal import Journal

NOT_APPLICABLE = "not applicable: "


def not_applicable(reason: str) -> None:
    """End a check as *not applicable* (reported apart from passed)."""
    pytest.skip(NOT_APPLICABLE + reason)


class Convox:
    """A world plus a CLI session, with the FAQ's vocabulary."""

    def __init__(
        self,
        world: WorldHandle,
        cli: CliSession,
        new_session: Callable[[], CliSession] | None = None,
    ) -> None:
        self.world = world
        self.cli = cli
        self.profile = cli.profile
        self.state = cli.state
        self._new_session = new_session

    def another_home(self) -> Convox:
        """The same world seen from a second, fresh CLI home (another user's machine)."""
        if self._new_session is None:
            raise RuntimeError("this harness cannot make another home")
        return Convox(self.world, self._new_session(), self._new_session)

    # hosts and keys --------------------------------------------------------
    @property
    def console(self) -> str:
        """The Console's host string, as this CLI's users would type it."""
        return self.world.host("console", self.profile.host_form)

    def rack_host(self, ref: str) -> str:
        return self.world.host(ref, self.profile.host_form)

    def user_key(self, email: str) -> str:
        return self.world.user_key(email)

    def rack_key(self, ref: str) -> str:
        return self.world.rack_key(ref)

    def identity(self, key: str | None) -> str:
        return self.world.key_identity(key)

    @property
    def journal(self) -> Journal:
        return self.world.journal

    # capabilities ----------------------------------------------------------
    def require(self, *capabilities: str) -> None:
        missing = self.profile.missing(list(capabilities))
        if missing:
            not_applicable(f"profile {self.profile.name} has no {', '.join(missing)}")

    # actions ---------------------------------------------------------------
    def login(self, host: str, key: str, *, how: str = "login") -> Invocation:
        """Log in by flag (``login``), environment (``login_env``) or prompt."""
        self.require(how)
        if how == "login_default":
            return self.cli.run(how, key=key)
        return self.cli.run(how, host=host, key=key)

    def login_console(self, email: str, **kwargs: str) -> Invocation:
        return self.ok(self.login(self.console, self.user_key(email), **kwargs))

    def login_rack(self, ref: str, **kwargs: str) -> Invocation:
        return self.ok(self.login(self.rack_host(ref), self.rack_key(ref), **kwargs))

    def switch(self, rack: str) -> Invocation:
        return self.cli.run("switch", rack=rack)

    def current_rack(self) -> Invocation:
        return self.cli.run("current_rack")

    def run(self, operation: str, **kwargs: Any) -> Invocation:
        self.require(operation)
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
        """The CLI's config files, for "nothing changed" comparisons."""
        root = self.cli.config_dir
        if not root.exists():
            return {}
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")
        }
