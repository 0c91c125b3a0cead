"""What a world holds: users, organizations, racks, deploy keys, and its refusals.

These are the nouns of the FAQ as plain dataclasses, apart from the rules in
:mod:`fakes.model.world` that change them, so the rules read as rules and a reader
(the world file loader, serve's snapshot, the HTTP layers) can see the shape
of the data in one short file. ``WorldError`` is here because every layer
answers it with its HTTP status; ``Refusal``, its base, is every refusal the
fakes answer with a status and ``{"error": message}`` (a malformed request, a
refused admin request too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PLANS: tuple[str, ...] = ("developer", "pro", "enterprise")
# FAQ: "On Pro organizations and above, you can add collaborators".
COLLABORATOR_PLANS: frozenset[str] = frozenset({"pro", "enterprise"})
ROLES: tuple[str, ...] = ("administrator", "operator", "developer")
CONSOLE_MODES: tuple[str, ...] = ("installed_via_console", "added_by_hand", "none")

DEFAULT_PARAMETERS: dict[str, str] = {
    "Autoscale": "Yes",
    "InstanceType": "t3.small",
    "Private": "No",
}


class Refusal(Exception):
    """A refusal with the HTTP status the fakes should answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WorldError(Refusal):
    """A refusal by the world's rules (no such rack, not on this plan, ...)."""

    def __repr__(self) -> str:
        return f"WorldError({self.status}, {self.message!r})"


@dataclass
class User:
    """A Console user; ``key`` is the current Console API key."""

    id: str
    email: str
    personal_org: str
    key: str = field(repr=False)
    generation: int = 1


@dataclass
class Organization:
    """An organization; ``members`` maps collaborator emails to roles (owner excluded)."""

    name: str
    plan: str
    owner: str
    personal: bool = False
    members: dict[str, str] = field(default_factory=dict)


@dataclass
class Rack:
    """A rack as the rack itself sees it; Console's view is ``console`` plus the vault."""

    organization: str
    name: str
    host: str
    console: str
    apps: list[str] = field(default_factory=list)
    key: str = field(default="", repr=False)  # the key the rack accepts (before any update)
    pending_key: str | None = field(default=None, repr=False)  # set by a roll in progress
    pending_until: float | None = None
    generation: int = 1
    version: str = "20240101000000"
    region: str = "us-east-1"
    count: int = 3
    type: str = "t3.small"
    parameters: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))

    @property
    def ref(self) -> str:
        return f"{self.organization}/{self.name}"


@dataclass(frozen=True)
class DeployKey:
    """An organization-scoped CI key."""

    id: str
    organization: str
    name: str
    key: str = field(repr=False)

    @property
    def ref(self) -> str:
        return f"{self.organization}/{self.name}"


@dataclass(frozen=True)
class Principal:
    """Who a Console key belongs to: a user, or a deploy key of one organization."""

    kind: str  # "user" | "deploy"
    id: str
    identity: str
    email: str | None = None
    organization: str | None = None


@dataclass(frozen=True)
class ProxyTarget:
    """Where Console forwards a request and with which (decrypted) rack key."""

    host: str
    key: str = field(repr=False)
    ref: str = ""


def check_choice(value: str, choices: Iterable[str], what: str) -> None:
    """Refuse (400) a ``value`` that is not one of ``choices``, naming them."""
    choices = tuple(choices)
    if value not in choices:
        raise WorldError(400, f"unknown {what} {value!r} (expected one of {', '.join(choices)})")
