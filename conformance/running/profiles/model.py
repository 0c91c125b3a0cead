"""What a CLI profile is, once validated: frozen data and the vocabulary it is checked against.

Everything outside :mod:`conformance.running.profiles` sees only these
classes; the TOML format is known to the parser alone.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Operations every CLI must offer; without them no check can run.
REQUIRED_OPERATIONS = ("login", "switch", "current_rack", "racks", "apps", "rack_info")

#: Each operation and the placeholders its argv (and env) may use.
OPERATION_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "version": frozenset(),
    "login": frozenset({"host", "key"}),
    "login_env": frozenset({"host", "key"}),
    "login_prompt": frozenset({"host"}),
    "login_default": frozenset({"key"}),
    "switch": frozenset({"rack"}),
    "current_rack": frozenset(),
    "racks": frozenset(),
    "apps": frozenset(),
    "apps_rack": frozenset({"rack"}),
    "rack_info": frozenset(),
    "rack_set_password": frozenset({"password"}),
    "logout": frozenset(),
}

#: Capabilities that are not operations but properties of the profile.
EXTRA_CAPABILITIES = frozenset({"trust", "resolve", "env_credentials", "env_rack", "session"})
#: What the run gives, not the CLI: ``resolve`` (every host name the CLI looks up leads
#: to the fakes) only a network sandbox can promise of an untrusted CLI.
MACHINE_CAPABILITIES = frozenset({"resolve"})
CAPABILITIES = frozenset(OPERATION_PLACEHOLDERS) | EXTRA_CAPABILITIES

SELECTION_FORMATS = ("rack", "racks", "current")
#: The rack API generations the fakes serve (fakes.model.world.RACK_APIS; a test holds them equal,
#: so that loading a profile imports none of the fakes).
CURRENT_API = "current"
RACK_APIS = ("2017", CURRENT_API)
LAYOUT_PLACEHOLDERS = frozenset({"home", "config_dir", "xdg_config_home"})
HOST_FORM_PLACEHOLDERS = frozenset({"port"})
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProfileError(Exception):
    """A profile that cannot be used; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Operation:
    """One CLI operation: argv after the command, extra env, optional prompt."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    prompt: str | None = None


@dataclass(frozen=True)
class Layout:
    """Where the CLI keeps its files, relative to the isolated HOME."""

    config_dir: str
    target_file: str
    auth_file: str
    #: The selection file's name (in config_dir).
    selection: str
    env: Mapping[str, str] = field(default_factory=dict)
    #: Where the CLI keeps Console's second-factor sessions (JSON host -> id); None
    #: when it cannot meet Console's session challenge.
    session_file: str | None = None
    #: How the selection file is written (one of SELECTION_FORMATS); "" means the format
    #: its name gives (a file named rack, racks or current).
    selection_format: str = ""

    @property
    def selection_kind(self) -> str:
        """The selection file's format: rack (plain org/name), racks or current (JSON)."""
        return self.selection_format or self.selection


@dataclass(frozen=True)
class Trust:
    """How the suite can give the CLI its CA and its host-name map."""

    ca_env: str | None = None
    resolve_env: str | None = None


@dataclass(frozen=True)
class Environment:
    """The variables the CLI reads on every command instead of its files (CI, deploy keys).

    None means the CLI reads no such variable: the rules about it are then not
    applicable, never passed.
    """

    host: str | None = None
    key: str | None = None
    rack: str | None = None


@dataclass(frozen=True)
class Profile:
    """A validated profile: the command, its files and the operations it offers."""

    name: str
    description: str
    source: str
    command: tuple[str, ...]
    host_form: str
    layout: Layout
    trust: Trust
    operations: Mapping[str, Operation]
    environment: Environment = field(default_factory=Environment)
    #: The rack API generation the CLI was built against, which the fake racks speak.
    rack_api: str = CURRENT_API
    #: Set for runs in the network sandbox, where every host name leads to the fakes.
    sandboxed: bool = False

    def has(self, capability: str) -> bool:
        """True when the profile can do what a rule ``needs``."""
        if capability == "trust":
            return self.trust.ca_env is not None
        if capability == "resolve":
            # Not the resolve seam: it routes only the names the CLI chooses to send through
            # it, so egress past it would go unseen, and leave the machine.
            return self.sandboxed
        if capability == "env_credentials":
            return self.environment.host is not None and self.environment.key is not None
        if capability == "env_rack":
            return self.environment.rack is not None
        if capability == "session":
            return self.layout.session_file is not None
        return capability in self.operations

    def in_sandbox(self) -> Profile:
        """The same profile in the network sandbox: every CLI can then `resolve`."""
        return replace(self, sandboxed=True)

    def missing(self, needs: tuple[str, ...] | list[str]) -> list[str]:
        """The capabilities of ``needs`` this profile lacks, in their order."""
        return [need for need in needs if not self.has(need)]

    def command_argv(self) -> list[str]:
        """The command with ``{python}`` replaced by this interpreter."""
        return [part.replace("{python}", sys.executable) for part in self.command]

    def with_command(self, cli: str) -> Profile:
        """The same profile driving another binary (``--cli``).

        A path that exists is taken whole, so paths with spaces work; anything
        else is split like a shell would, so ``--cli "python -m mycli"`` works.
        """
        command = (cli,) if Path(cli).exists() else tuple(shlex.split(cli))
        if not command:
            raise ProfileError("--cli: empty command")
        return replace(self, command=command)
