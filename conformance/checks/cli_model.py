"""The model of the model check: what the CLI's files must hold and what it must send.

The check (``test_model.py``) drives a Hypothesis state machine built in layers,
each in a module of its own: this pure model (the world as the model sees it,
the CLI's files as they must be, and which rule says what the next rack command
must do), then observing the real CLI (``model_observation.py``), the user's
actions (``model_user_actions.py``) and the world's events
(``model_world_events.py``). The layers are one class each, subclassing the one
below; the check binds the top one to its handle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from hypothesis.stateful import RuleBasedStateMachine

from conformance.harness.handle import Convox
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



class CliModel(RuleBasedStateMachine):
    """The model's state (the world's keys, plan and members; the CLI's target, auth
    and selection) and what it expects of the CLI's next request."""

    #: The check's handle, set by the check on the class it runs.
    convox: ClassVar[Convox]

    def __init__(self) -> None:
        super().__init__()
        self.world = self.convox.world
        self.profile = self.convox.profile
        self.cx = self.convox.another_home()
        # world (read once: keys are random and examples share the world)
        self.user_keys = {u: self.world.user_key(email) for u, email in USERS.items()}
        self.old_user_keys: dict[str, list[str]] = {u: [] for u in USERS}
        self.rack_keys = {ref: self.world.rack_key(ref) for ref in RACKS}  # what racks accept
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
        return self.world.key_identity(key)

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

