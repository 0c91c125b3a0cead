"""The ground a check stands on: one world, one CLI home, one profile.

The base of the handle checks use (``Convox``, in ``handle.py``): the world's
hosts and keys as this CLI's users would type them, its journal, the profile's
capabilities, and where a command runs and what its environment says. The
layers above add running the CLI (``cli_actions.py``), set-up steps
(``givens.py``) and routes (``handle.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from conformance.harness.skip_outcomes import not_applicable
from conformance.running.invoke import CliSession
from fakes.http.journal import EGRESS_SERVERS

if TYPE_CHECKING:
    from fakes.backends.in_process import WorldHandle
    from fakes.http.journal import Journal


class WorldAndHome:
    """A world plus a CLI session: the names, keys and places a check refers to."""

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
        #: Facts a check established once and reuses across Hypothesis examples.
        self.memo: dict[str, Any] = {}


    def another_home(self) -> Self:
        """The same world seen from a second, fresh CLI home (another user's machine)."""
        if self._new_session is None:
            raise RuntimeError("this harness cannot make another home")
        return type(self)(self.world, self._new_session(), self._new_session,
                          self.properties, self.own_rules)

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
