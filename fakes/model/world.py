"""The world model behind the fake Console and Racks: state and rules, no HTTP.

Every situation the FAQ talks about (a Pro organization with collaborators, a
personal Developer-plan organization, a rack installed by CLI and added to
Console by hand, a key roll in progress, a password changed behind Console's
back) is a state of one ``World``. The HTTP layers only translate requests
into calls here, so each rule can be tested without sockets. Racks are named
by reference strings ``"org/name"``. What a world holds is in
:mod:`fakes.model.entities`, who may reach what in :mod:`fakes.model.access`, and how keys
are issued, named and redacted in :mod:`fakes.model.keys`; their public names are
importable from here too.
"""

from __future__ import annotations

import functools
import hashlib
import secrets as _secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from fakes.http.journal import Journal
from fakes.model import access
from fakes.model.access import (
    DEPLOY_KEY_ROUTES,
    RACK_PARAMETER_ROUTES,
    ROLES_WITHOUT_RACK_PARAMETERS,
)
from fakes.model.clock import Clock
from fakes.model.entities import (
    COLLABORATOR_PLANS,
    CONSOLE_MODES,
    DEFAULT_PARAMETERS,
    PLANS,
    ROLES,
    DeployKey,
    Organization,
    Principal,
    ProxyTarget,
    Rack,
    User,
    WorldError,
    check_choice,
)
from fakes.model.keys import KEY_ALPHABET, KEY_LENGTH, KeyBook, unknown_identity
from fakes.model.vault import Vault

__all__ = [
    "COLLABORATOR_PLANS", "CONSOLE_MODES", "DEFAULT_PARAMETERS", "DEPLOY_KEY_ROUTES",
    "KEY_ALPHABET", "KEY_LENGTH", "PLANS", "RACK_PARAMETER_ROUTES", "ROLES",
    "ROLES_WITHOUT_RACK_PARAMETERS", "DeployKey", "Organization", "Principal", "ProxyTarget",
    "Rack", "User", "World", "WorldError",
]

P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    # Servers call the model from their own threads while tests change the world.
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


#: The rack API generations the fakes answer as: the 2017 API the classic CLI was
#: built against (convox/rack 20171228145523), and today's (convox/rack's stdapi).
API_2017, CURRENT_API = "2017", "current"
RACK_APIS = (API_2017, CURRENT_API)


class World:
    """Users, organizations, racks and keys, and the rules the FAQ states about them."""

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
        self.journal = Journal(self.clock)
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Organization] = {}
        self._racks: dict[str, Rack] = {}
        self._deploy_keys: dict[str, DeployKey] = {}
        self._user_by_key: dict[str, str] = {}
        self._deploy_by_key: dict[str, str] = {}
        self.keys = KeyBook()

    # ----------------------------------------------------------------- keys

    @_locked
    def key_identity(self, key: str | None) -> str:
        """A name for a key that is safe to print, e.g. ``user:alice@example.com#2``."""
        return self.keys.identity(key)

    @_locked
    def secrets(self) -> list[str]:
        """Every key ever issued (and every key typed into Console), oldest first."""
        return self.keys.secrets()

    @_locked
    def redact(self, text: str) -> str:
        """Replace every known key, bare or inside basic-auth base64, by ``<identity>``."""
        return self.keys.redact(text)

    # ---------------------------------------------------------------- finders

    @_locked
    def users(self) -> list[User]:
        return list(self._users.values())

    @_locked
    def organizations(self) -> list[Organization]:
        return list(self._orgs.values())

    @_locked
    def racks(self) -> list[Rack]:
        return list(self._racks.values())

    @_locked
    def deploy_keys(self) -> list[DeployKey]:
        return list(self._deploy_keys.values())

    @_locked
    def user(self, email: str) -> User:
        try:
            return self._users[email]
        except KeyError:
            raise WorldError(404, f"no user {email}") from None

    @_locked
    def user_by_id(self, user_id: str) -> User:
        for user in self._users.values():
            if user.id == user_id:
                return user
        raise WorldError(404, f"no user with id {user_id}")

    @_locked
    def organization(self, name: str) -> Organization:
        try:
            return self._orgs[name]
        except KeyError:
            raise WorldError(404, f"no organization {name}") from None

    @_locked
    def rack(self, ref: str) -> Rack:
        try:
            return self._racks[ref]
        except KeyError:
            raise WorldError(404, f"no rack {ref}") from None

    @_locked
    def rack_by_host(self, host: str) -> Rack:
        for rack in self._racks.values():
            if rack.host == host:
                return rack
        raise WorldError(404, f"no rack at host {host}")

    # ---------------------------------------------------------- people & orgs

    @_locked
    def add_user(self, email: str) -> User:
        """A Console user, with their personal organization (developer plan)."""
        local, at, domain = email.partition("@")
        if not (local and at and domain) or "/" in email:
            raise WorldError(400, f"not an email address: {email!r}")
        if email in self._users:
            raise WorldError(409, f"user {email} already exists")
        if local in self._orgs:
            raise WorldError(
                409, f"cannot create {email}'s personal organization: {local} already exists"
            )
        key = self.keys.new_key()
        user = User(id=str(uuid.uuid4()), email=email, personal_org=local, key=key)
        self._users[email] = user
        self._orgs[local] = Organization(name=local, plan="developer", owner=email, personal=True)
        self._user_by_key[key] = email
        self.keys.register(key, f"user:{email}#1")
        return user

    @_locked
    def add_organization(self, name: str, plan: str, owner: str) -> Organization:
        if not name or "/" in name or name.strip() != name:
            raise WorldError(400, f"not a valid organization name: {name!r}")
        check_choice(plan, PLANS, "plan")
        if name in self._orgs:
            raise WorldError(409, f"organization {name} already exists")
        self.user(owner)
        org = Organization(name=name, plan=plan, owner=owner)
        self._orgs[name] = org
        return org

    @_locked
    def add_member(self, org: str, email: str, role: str) -> None:
        """Add a collaborator, or change a collaborator's role."""
        check_choice(role, ROLES, "role")
        organization = self.organization(org)
        self.user(email)
        if organization.personal:
            raise WorldError(
                409,
                f"{org} is a personal organization: collaborators cannot be added; "
                "share the rack API key instead, or use a Pro organization",
            )
        if organization.plan not in COLLABORATOR_PLANS:
            raise WorldError(
                409,
                f"{org} is on the {organization.plan} plan: collaborators can only be added "
                "on Pro organizations and above",
            )
        if email == organization.owner:
            raise WorldError(409, f"{email} owns {org} and cannot also be a collaborator")
        organization.members[email] = role

    @_locked
    def remove_member(self, org: str, email: str) -> None:
        organization = self.organization(org)
        if email == organization.owner:
            raise WorldError(409, f"{email} owns {org} and cannot be removed from it")
        if email not in organization.members:
            raise WorldError(404, f"{email} is not a collaborator in {org}")
        del organization.members[email]

    @_locked
    def set_plan(self, org: str, plan: str) -> None:
        """Change the plan; memberships survive a downgrade so an upgrade restores access."""
        check_choice(plan, PLANS, "plan")
        self.organization(org).plan = plan

    # ------------------------------------------------------------------ racks

    @_locked
    def add_rack(
        self,
        org: str,
        name: str,
        host: str,
        console: str = "installed_via_console",
        apps: Iterable[str] = (),
    ) -> Rack:
        """A running rack with a fresh random key; Console holds the key unless ``none``."""
        check_choice(console, CONSOLE_MODES, "console mode")
        self.organization(org)
        if not name or "/" in name or name.strip() != name:
            raise WorldError(400, f"not a valid rack name: {name!r}")
        ref = f"{org}/{name}"
        if ref in self._racks:
            raise WorldError(409, f"rack {ref} already exists")
        key = self.keys.new_key()
        rack = Rack(
            organization=org, name=name, host=host, console=console, apps=list(apps), key=key
        )
        self._racks[ref] = rack
        self.keys.register(key, f"rack:{ref}#1")
        if console != "none":
            self.vault.put(ref, key)
        return rack

    @_locked
    def add_rack_to_console(self, ref: str, key: str) -> None:
        """Add a CLI-installed rack by hand, with whatever key the user typed."""
        rack = self.rack(ref)
        if rack.console != "none":
            raise WorldError(409, f"rack {ref} is already in Console")
        if not key:
            raise WorldError(400, f"a rack API key is needed to add {ref} to Console")
        self.keys.register(key, unknown_identity(key))
        rack.console = "added_by_hand"
        self.vault.put(ref, key)

    @_locked
    def remove_rack_from_console(self, ref: str) -> None:
        """Console forgets the rack and its key; the rack itself keeps running."""
        rack = self.rack(ref)
        if rack.console == "none":
            raise WorldError(404, f"no rack named {ref} in Console")
        rack.console = "none"
        self.vault.remove(ref)

    @_locked
    def add_deploy_key(self, org: str, name: str) -> str:
        self.organization(org)
        if not name or "/" in name:
            raise WorldError(400, f"not a valid deploy key name: {name!r}")
        ref = f"{org}/{name}"
        if ref in self._deploy_keys:
            raise WorldError(409, f"deploy key {ref} already exists")
        key = self.keys.new_key()
        self._deploy_keys[ref] = DeployKey(
            id=str(uuid.uuid4()), organization=org, name=name, key=key
        )
        self._deploy_by_key[key] = ref
        self.keys.register(key, f"deploy:{ref}#1")
        return key

    @_locked
    def remove_deploy_key(self, org: str, name: str) -> None:
        ref = f"{org}/{name}"
        deploy = self._deploy_keys.pop(ref, None)
        if deploy is None:
            raise WorldError(404, f"no deploy key {ref}")
        self._deploy_by_key.pop(deploy.key, None)

    # ------------------------------------------------------------- key control

    @_locked
    def user_key(self, email: str) -> str:
        return self.user(email).key

    @_locked
    def deploy_key(self, ref: str) -> str:
        """The key of the deploy key ``org/name`` (what a CI job is given)."""
        deploy = self._deploy_keys.get(ref)
        if deploy is None:
            raise WorldError(404, f"no deploy key {ref}")
        return deploy.key

    @_locked
    def regenerate_user_key(self, email: str) -> str:
        """Console's "Regenerate API key": the old key stops working at once."""
        user = self.user(email)
        self._user_by_key.pop(user.key, None)
        user.key = self.keys.new_key()
        user.generation += 1
        self._user_by_key[user.key] = email
        self.keys.register(user.key, f"user:{email}#{user.generation}")
        return user.key

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

    @_locked
    def rack_key(self, ref: str) -> str:
        """The key the rack accepts right now."""
        rack = self.rack(ref)
        self._settle(rack)
        return rack.key

    @_locked
    def rack_accepts(self, ref: str, key: str | None) -> bool:
        """Whether the rack's basic auth lets ``key`` in (the update window honoured)."""
        rack = self.rack(ref)
        self._settle(rack)
        return bool(key) and _secrets.compare_digest(
            (key or "").encode("utf-8"), rack.key.encode("utf-8")
        )

    @_locked
    def rack_status(self, ref: str) -> str:
        rack = self.rack(ref)
        self._settle(rack)
        return "updating" if rack.pending_key is not None else "running"

    @_locked
    def roll_rack_key(self, ref: str) -> None:
        """Console's "Roll API key": Console switches now, the rack after its update."""
        rack = self._console_rack(ref)
        self._settle(rack)
        if not self.rack_accepts(ref, self.vault.get(ref)):
            raise WorldError(
                502,
                f"Console cannot roll the key of rack {ref}: the rack refuses the key Console "
                "holds for it (remove the rack from Console and add it again with its key)",
            )
        new = self.keys.new_key()
        rack.generation += 1
        self.keys.register(new, f"rack:{ref}#{rack.generation}")
        self.vault.put(ref, new)
        if self.rack_update_seconds <= 0:
            rack.key = new
            return
        rack.pending_key = new
        rack.pending_until = self.clock.now() + self.rack_update_seconds

    @_locked
    def set_rack_password(self, ref: str, new: str) -> None:
        """``convox rack params set Password=...``: the rack switches now, Console does not."""
        rack = self.rack(ref)
        if not new:
            raise WorldError(400, "the rack Password parameter cannot be empty")
        self._settle(rack)
        rack.pending_key = None
        rack.pending_until = None
        rack.key = new
        rack.generation += 1
        self.keys.register(new, f"rack:{ref}#{rack.generation}")

    @_locked
    def finish_rack_updates(self) -> None:
        """Advance the clock past every update window still open."""
        deadlines = [r.pending_until for r in self._racks.values() if r.pending_until is not None]
        if deadlines:
            remaining = max(deadlines) - self.clock.now()
            if remaining >= 0:
                self.clock.advance(remaining + 0.001)
        for rack in self._racks.values():
            self._settle(rack)

    @_locked
    def console_key_masked(self, ref: str) -> str:
        """What Console's rack page shows for the stored key."""
        return self.vault.masked(self._console_rack(ref).ref)

    # ------------------------------------------------------------ Console side

    @_locked
    def authenticate(self, key: str | None) -> Principal | None:
        """The principal behind a Console key (user or deploy key); rack keys are not one."""
        if not key:
            return None
        email = self._user_by_key.get(key)
        if email is not None:
            user = self._users[email]
            return Principal(kind="user", id=user.id, identity=self.keys.identity(key), email=email)
        ref = self._deploy_by_key.get(key)
        if ref is not None:
            deploy = self._deploy_keys[ref]
            return Principal(
                kind="deploy",
                id=deploy.id,
                identity=self.keys.identity(key),
                organization=deploy.organization,
            )
        return None

    @_locked
    def open_session(self, principal: Principal) -> str:
        """A new second-factor session for ``principal`` (Console's ``POST /session``).

        The id is a secret like a key: it is registered in the key book, so it is
        redacted everywhere and named ``session:<email>#<n>``.
        """
        sid = self.keys.new_key()
        count = sum(1 for owner in self._sessions.values() if owner == principal.id) + 1
        self.keys.register(sid, f"session:{principal.email or principal.id}#{count}")
        self._sessions[sid] = principal.id
        return sid

    @_locked
    def session_missing(self, principal: Principal, session: str | None) -> bool:
        """True when Console must challenge: it requires sessions of its users and
        ``session`` is not one it opened for this user (deploy keys never need one)."""
        if not self.console_requires_session or principal.kind != "user":
            return False
        return self._sessions.get(session or "") != principal.id

    def _console_rack(self, ref: str) -> Rack:
        rack = self._racks.get(ref)
        if rack is None or rack.console == "none":
            raise WorldError(404, f"no rack named {ref} in Console")
        return rack

    @_locked
    def racks_for(self, principal: Principal) -> list[dict[str, Any]]:
        """The ``GET /racks`` body: exactly the Console racks this principal may use."""
        listed = []
        for rack in sorted(self._racks.values(), key=lambda r: (r.organization, r.name)):
            ref = rack.ref
            if rack.console == "none":
                continue
            if access.refusal(principal, self._orgs[rack.organization]) is not None:
                continue
            listed.append(
                {
                    "name": rack.name,
                    "organization": {"name": rack.organization},
                    "status": self.rack_status(ref),
                }
            )
        return listed

    @_locked
    def console_rack(self, principal: Principal, ref: str) -> dict[str, Any]:
        """The ``GET /racks/<org>/<name>`` body: Console's record of one rack the principal
        may use (convox/convox pkg/console ``RackGet``).

        ``state`` is null because Console installed none of the world's racks (they are
        CloudFormation racks added by key): v3 then changes a rack's parameters through
        the proxy (``updateParamsDirect``), as it does against the real Console.
        """
        rack = self._console_rack(ref)
        refusal = access.refusal(principal, self._orgs[rack.organization])
        if refusal is not None:
            raise WorldError(403, f"no access to rack {ref}: {refusal}")
        return {
            "name": rack.name,
            "organization": {"name": rack.organization},
            "status": self.rack_status(ref),
            "provider": "aws",
            "version": rack.version,
            "parameters": None,
            "state": None,
            "deletable": False,
        }

    @_locked
    def authorize_proxy(
        self, principal: Principal, ref: str, method: str, path: str
    ) -> ProxyTarget:
        """Decide a proxied request; the target carries the decrypted rack key."""
        rack = self._console_rack(ref)
        org = self._orgs[rack.organization]
        refusal = access.refusal(principal, org)
        if refusal is not None:
            raise WorldError(403, f"no access to rack {ref}: {refusal}")
        refusal = access.route_refusal(principal, org, rack, method, path)
        if refusal is not None:
            raise WorldError(403, refusal)
        return ProxyTarget(host=rack.host, key=self.vault.get(ref), ref=ref)

    # -------------------------------------------------------------- Rack side

    @_locked
    def rack_system(self, ref: str) -> dict[str, Any]:
        """The ``GET /system`` body; the Password parameter is never part of it."""
        rack = self.rack(ref)
        parameters = {k: v for k, v in rack.parameters.items() if k.lower() != "password"}
        return {
            "name": rack.name,
            "status": self.rack_status(ref),
            "version": rack.version,
            "region": rack.region,
            "count": rack.count,
            "type": rack.type,
            "parameters": parameters,
        }

    @_locked
    def rack_apps(self, ref: str) -> list[dict[str, Any]]:
        """The ``GET /apps`` body, with stable made-up release ids."""
        rack = self.rack(ref)
        apps = []
        for app in rack.apps:
            digest = hashlib.sha256(f"{ref}/{app}".encode()).hexdigest()[:10].upper()
            apps.append(
                {"name": app, "status": "running", "release": f"R{digest}", "generation": "2"}
            )
        return apps
