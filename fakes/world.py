"""The world model behind the fake Console and Racks: state and rules, no HTTP.

Every situation the FAQ talks about (a Pro organization with collaborators, a
personal Developer-plan organization, a rack installed by CLI and added to
Console by hand, a key roll in progress, a password changed behind Console's
back) is a state of one ``World``. The HTTP layers only translate requests
into calls here, so each rule can be tested without sockets. Racks are named
by reference strings ``"org/name"``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets as _secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from fakes.clock import Clock
from fakes.journal import Journal
from fakes.vault import Vault

PLANS: tuple[str, ...] = ("developer", "pro", "enterprise")
# FAQ: "On Pro organizations and above, you can add collaborators".
COLLABORATOR_PLANS: frozenset[str] = frozenset({"pro", "enterprise"})
ROLES: tuple[str, ...] = ("administrator", "operator", "developer")
CONSOLE_MODES: tuple[str, ...] = ("installed_via_console", "added_by_hand", "none")

KEY_ALPHABET = string.ascii_letters + string.digits
# Alphanumeric keys survive basic auth, form encoding and shells unchanged.
KEY_LENGTH = 40

# Deploy keys are for CI: build and deploy style commands only (access-control docs).
# (method, path pattern) pairs; a pattern must match the whole path, query excluded.
DEPLOY_KEY_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", r"/system"),  # the CLI reads the rack version before building
    ("GET", r"/apps/[^/]+"),
    ("POST", r"/apps/[^/]+/objects/.+"),  # source upload
    ("POST", r"/apps/[^/]+/builds"),
    ("GET", r"/apps/[^/]+/builds"),
    ("GET", r"/apps/[^/]+/builds/[^/]+"),
    ("PUT", r"/apps/[^/]+/builds/[^/]+"),
    ("GET", r"/apps/[^/]+/builds/[^/]+/logs"),
    ("GET", r"/apps/[^/]+/releases"),
    ("GET", r"/apps/[^/]+/releases/[^/]+"),
    ("POST", r"/apps/[^/]+/releases/[^/]+/promote"),
    ("GET", r"/apps/[^/]+/processes"),
)

# Routes that change rack parameters (and so the rack's Password); `{rack}` is the rack name.
RACK_PARAMETER_ROUTES: tuple[tuple[str, str], ...] = (
    ("PUT", "/system"),
    ("POST", "/apps/{rack}/parameters"),  # the classic CLI (2017 rack API)
)
# Roles that may not use RACK_PARAMETER_ROUTES.
ROLES_WITHOUT_RACK_PARAMETERS: frozenset[str] = frozenset({"developer"})

DEFAULT_PARAMETERS: dict[str, str] = {
    "Autoscale": "Yes",
    "InstanceType": "t3.small",
    "Private": "No",
}


class WorldError(Exception):
    """A refusal with the HTTP status the fakes should answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

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


P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    # Servers call the model from their own threads while tests change the world.
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


def _unknown_identity(key: str) -> str:
    return "unknown:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def _strip_query(path: str) -> str:
    path = path.split("?", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _check_choice(value: str, choices: Iterable[str], what: str) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise WorldError(400, f"unknown {what} {value!r} (expected one of {', '.join(choices)})")


class World:
    """Users, organizations, racks and keys, and the rules the FAQ states about them."""

    def __init__(self, clock: Clock | None = None, rack_update_seconds: float = 300.0) -> None:
        if rack_update_seconds < 0:
            raise ValueError("rack_update_seconds must not be negative")
        self.clock = clock if clock is not None else Clock()
        self.rack_update_seconds = float(rack_update_seconds)
        self.vault = Vault()
        self.journal = Journal(self.clock)
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Organization] = {}
        self._racks: dict[str, Rack] = {}
        self._deploy_keys: dict[str, DeployKey] = {}
        self._user_by_key: dict[str, str] = {}
        self._deploy_by_key: dict[str, str] = {}
        # Every key ever issued or typed -> its identity, in issue order; never shrinks.
        self._identities: dict[str, str] = {}
        # (key count, every needle longest first, basic-auth form -> key): see _needles().
        self._redaction: tuple[int, list[str], dict[str, str]] = (0, [], {})

    # ----------------------------------------------------------------- keys

    def _new_key(self) -> str:
        while True:
            key = "".join(_secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
            if key not in self._identities:
                return key

    def _register(self, key: str, identity: str) -> None:
        # First identity wins so old keys keep theirs; a key only known as "typed by
        # someone" (unknown) is upgraded once it turns out to be a rack's password.
        current = self._identities.get(key)
        if current is None or (current.startswith("unknown:") and identity != current):
            self._identities[key] = identity

    @_locked
    def key_identity(self, key: str | None) -> str:
        """A name for a key that is safe to print, e.g. ``user:alice@example.com#2``."""
        if not key:
            return "empty"
        return self._identities.get(key) or _unknown_identity(key)

    @_locked
    def secrets(self) -> list[str]:
        """Every key ever issued (and every key typed into Console), oldest first."""
        return list(self._identities)

    @_locked
    def redact(self, text: str) -> str:
        """Replace every known key, bare or inside basic-auth base64, by ``<identity>``."""
        # Every request is journaled through here and a key in one is rare, so look for the
        # needles first and build a pattern of only those present (the same matches as one
        # pattern of every key). Compiling every key per world cost a compile per check on
        # the request path, and re's module cache kept each of those patterns alive.
        needles, basic = self._needles()
        present = [needle for needle in needles if needle in text]
        if not present:
            return text
        pattern = re.compile("|".join(re.escape(needle) for needle in present))

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            if found in self._identities:
                return f"<{self._identities[found]}>"
            return f"<basic:{self._identities[basic[found]]}>"

        return pattern.sub(replace, text)

    def _needles(self) -> tuple[list[str], dict[str, str]]:
        """Every key and its basic-auth form, longest first; rebuilt only when a key is added."""
        count, needles, basic = self._redaction
        if count != len(self._identities):
            basic = {
                base64.b64encode(f"convox:{key}".encode()).decode("ascii"): key
                for key in self._identities
            }
            needles = sorted({*self._identities, *basic}, key=len, reverse=True)
            self._redaction = (len(self._identities), needles, basic)
        return needles, basic

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
        key = self._new_key()
        user = User(id=str(uuid.uuid4()), email=email, personal_org=local, key=key)
        self._users[email] = user
        self._orgs[local] = Organization(name=local, plan="developer", owner=email, personal=True)
        self._user_by_key[key] = email
        self._register(key, f"user:{email}#1")
        return user

    @_locked
    def add_organization(self, name: str, plan: str, owner: str) -> Organization:
        if not name or "/" in name or name.strip() != name:
            raise WorldError(400, f"not a valid organization name: {name!r}")
        _check_choice(plan, PLANS, "plan")
        if name in self._orgs:
            raise WorldError(409, f"organization {name} already exists")
        self.user(owner)
        org = Organization(name=name, plan=plan, owner=owner)
        self._orgs[name] = org
        return org

    @_locked
    def add_member(self, org: str, email: str, role: str) -> None:
        """Add a collaborator, or change a collaborator's role."""
        _check_choice(role, ROLES, "role")
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
        _check_choice(plan, PLANS, "plan")
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
        _check_choice(console, CONSOLE_MODES, "console mode")
        self.organization(org)
        if not name or "/" in name or name.strip() != name:
            raise WorldError(400, f"not a valid rack name: {name!r}")
        ref = f"{org}/{name}"
        if ref in self._racks:
            raise WorldError(409, f"rack {ref} already exists")
        key = self._new_key()
        rack = Rack(
            organization=org, name=name, host=host, console=console, apps=list(apps), key=key
        )
        self._racks[ref] = rack
        self._register(key, f"rack:{ref}#1")
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
        self._register(key, _unknown_identity(key))
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
        key = self._new_key()
        self._deploy_keys[ref] = DeployKey(
            id=str(uuid.uuid4()), organization=org, name=name, key=key
        )
        self._deploy_by_key[key] = ref
        self._register(key, f"deploy:{ref}#1")
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
    def regenerate_user_key(self, email: str) -> str:
        """Console's "Regenerate API key": the old key stops working at once."""
        user = self.user(email)
        self._user_by_key.pop(user.key, None)
        user.key = self._new_key()
        user.generation += 1
        self._user_by_key[user.key] = email
        self._register(user.key, f"user:{email}#{user.generation}")
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
        new = self._new_key()
        rack.generation += 1
        self._register(new, f"rack:{ref}#{rack.generation}")
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
        self._register(new, f"rack:{ref}#{rack.generation}")

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
            return Principal(kind="user", id=user.id, identity=self._identities[key], email=email)
        ref = self._deploy_by_key.get(key)
        if ref is not None:
            deploy = self._deploy_keys[ref]
            return Principal(
                kind="deploy",
                id=deploy.id,
                identity=self._identities[key],
                organization=deploy.organization,
            )
        return None

    def _console_rack(self, ref: str) -> Rack:
        rack = self._racks.get(ref)
        if rack is None or rack.console == "none":
            raise WorldError(404, f"no rack named {ref} in Console")
        return rack

    def _refusal(self, principal: Principal, org: Organization) -> str | None:
        """Why ``principal`` may not reach ``org``'s racks, or None when it may."""
        if principal.kind == "deploy":
            if principal.organization == org.name:
                return None
            return (
                f"deploy key {principal.identity} belongs to {principal.organization}, "
                f"not {org.name}"
            )
        email = principal.email
        if email == org.owner:
            return None
        if email in org.members:
            if org.plan in COLLABORATOR_PLANS:
                return None
            return (
                f"{org.name} is on the {org.plan} plan: collaborators reach its racks only on "
                "Pro organizations and above"
            )
        return f"{email} is not a member of {org.name}"

    def _role(self, principal: Principal, org: Organization) -> str:
        if principal.kind == "user" and principal.email != org.owner:
            return org.members.get(principal.email or "", "administrator")
        return "administrator"

    @_locked
    def racks_for(self, principal: Principal) -> list[dict[str, Any]]:
        """The ``GET /racks`` body: exactly the Console racks this principal may use."""
        listed = []
        for rack in sorted(self._racks.values(), key=lambda r: (r.organization, r.name)):
            ref = rack.ref
            if rack.console == "none":
                continue
            if self._refusal(principal, self._orgs[rack.organization]) is not None:
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
    def authorize_proxy(
        self, principal: Principal, ref: str, method: str, path: str
    ) -> ProxyTarget:
        """Decide a proxied request; the target carries the decrypted rack key."""
        rack = self._console_rack(ref)
        org = self._orgs[rack.organization]
        refusal = self._refusal(principal, org)
        if refusal is not None:
            raise WorldError(403, f"no access to rack {ref}: {refusal}")
        method = method.upper()
        path = _strip_query(path)
        if principal.kind == "deploy" and not any(
            method == m and re.fullmatch(p, path) for m, p in DEPLOY_KEY_ROUTES
        ):
            raise WorldError(
                403,
                f"deploy key {principal.identity} may only run build and deploy commands, "
                f"not {method} {path}",
            )
        role = self._role(principal, org)
        if role in ROLES_WITHOUT_RACK_PARAMETERS and any(
            method == m and path == p.format(rack=rack.name) for m, p in RACK_PARAMETER_ROUTES
        ):
            raise WorldError(
                403, f"the {role} role in {org.name} may not change rack parameters of {ref}"
            )
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
