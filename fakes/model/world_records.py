"""A world's records and how they are looked up: the base every world rule builds on.

What a world holds (users, organizations, racks, deploy keys, the key book,
the vault, the clock and Console's sessions), its lock, the finders, and the
two lazy facts every side needs: whether a rack's key update has finished and
which racks Console lists. The rules that change a world are in
:mod:`fakes.model.world`, what Console and the racks ask of it in
:mod:`fakes.model.server_views`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fakes.model.clock import Clock
from fakes.model.entities import DeployKey, Organization, Rack, User, WorldError
from fakes.model.keys import KeyBook
from fakes.model.vault import Vault

P = ParamSpec("P")
R = TypeVar("R")


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` under the world's lock.

    Servers call the model from their own threads while tests change the world.
    """
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


#: The rack API generations the fakes answer as: the 2017 API the classic CLI was
#: built against (convox/rack 20171228145523), and today's (convox/rack's stdapi).
API_2017, CURRENT_API = "2017", "current"
RACK_APIS = (API_2017, CURRENT_API)


class WorldRecords:
    """The records of one world and the look-ups over them (the rules: ``World``)."""

    def __init__(self, clock: Clock | None = None, rack_update_seconds: float = 300.0,
                 console_requires_session: bool = False, rack_api: str = CURRENT_API) -> None:
        if rack_update_seconds < 0:
            raise ValueError("rack_update_seconds must not be negative")
        if rack_api not in RACK_APIS:
            raise ValueError(f"rack_api must be one of {', '.join(RACK_APIS)}, not {rack_api!r}")
        #: Which rack API the racks speak: a CLI meets the racks of its own era.
        self.rack_api = rack_api
        self.clock = clock if clock is not None else Clock()
        self.rack_update_seconds = float(rack_update_seconds)
        #: Console demands a second-factor session of its users (WWW-Authenticate: Session).
        self.console_requires_session = bool(console_requires_session)
        #: Session id -> the id of the user Console opened it for.
        self._sessions: dict[str, str] = {}
        self.vault = Vault()
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Organization] = {}
        self._racks: dict[str, Rack] = {}
        self._deploy_keys: dict[str, DeployKey] = {}
        self._user_by_key: dict[str, str] = {}
        self._deploy_by_key: dict[str, str] = {}
        self.keys = KeyBook()

    # ----------------------------------------------------------------- keys

    @locked
    def key_identity(self, key: str | None) -> str:
        """A name for a key that is safe to print, e.g. ``user:alice@example.com#2``."""
        return self.keys.identity(key)

    @locked
    def secrets(self) -> list[str]:
        """Every key ever issued (and every key typed into Console), oldest first."""
        return self.keys.secrets()

    @locked
    def redact(self, text: str) -> str:
        """Replace every known key, bare or inside basic-auth base64, by ``<identity>``."""
        return self.keys.redact(text)

    # ---------------------------------------------------------------- finders

    @locked
    def users(self) -> list[User]:
        return list(self._users.values())

    @locked
    def organizations(self) -> list[Organization]:
        return list(self._orgs.values())

    @locked
    def racks(self) -> list[Rack]:
        return list(self._racks.values())

    @locked
    def deploy_keys(self) -> list[DeployKey]:
        return list(self._deploy_keys.values())

    @locked
    def user(self, email: str) -> User:
        try:
            return self._users[email]
        except KeyError:
            raise WorldError(404, f"no user {email}") from None

    @locked
    def user_by_id(self, user_id: str) -> User:
        for user in self._users.values():
            if user.id == user_id:
                return user
        raise WorldError(404, f"no user with id {user_id}")

    @locked
    def organization(self, name: str) -> Organization:
        try:
            return self._orgs[name]
        except KeyError:
            raise WorldError(404, f"no organization {name}") from None

    @locked
    def rack(self, ref: str) -> Rack:
        try:
            return self._racks[ref]
        except KeyError:
            raise WorldError(404, f"no rack {ref}") from None

    @locked
    def rack_by_host(self, host: str) -> Rack:
        for rack in self._racks.values():
            if rack.host == host:
                return rack
        raise WorldError(404, f"no rack at host {host}")

    def _settle(self, rack: Rack) -> None:
        # The rack's update finishes lazily, on the first look after its window.
        if (
            rack.pending_key is not None
            and rack.pending_until is not None
            and self.clock.now() >= rack.pending_until
        ):
            rack.key = rack.pending_key
            rack.pending_key = None
            rack.pending_until = None


    @locked
    def rack_status(self, ref: str) -> str:
        rack = self.rack(ref)
        self._settle(rack)
        return "updating" if rack.pending_key is not None else "running"


    def _console_rack(self, ref: str) -> Rack:
        rack = self._racks.get(ref)
        if rack is None or rack.console == "none":
            raise WorldError(404, f"no rack named {ref} in Console")
        return rack

