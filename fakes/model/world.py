"""The world model behind the fake Console and Racks: state and rules, no HTTP.

Every situation the FAQ talks about (a Pro organization with collaborators, a
personal Developer-plan organization, a rack installed by CLI and added to
Console by hand, a key roll in progress, a password changed behind Console's
back) is a state of one ``World``. The HTTP layers only translate requests
into calls here, so each rule can be tested without sockets. Racks are named
by reference strings ``"org/name"``. What a world holds is in
:mod:`fakes.model.entities`, who may reach what in :mod:`fakes.model.access`, and how keys
are issued, named and redacted in :mod:`fakes.model.keys`; their public names are
importable from here too. ``World`` is built in three layers: its records and
look-ups (:mod:`fakes.model.world_records`), the questions the servers ask
(:mod:`fakes.model.server_views`), and here the rules that change it. The
world's request journal belongs to the HTTP side: a backend keeps one per world.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from fakes.model.access import (
    DEPLOY_KEY_ROUTES,
    RACK_PARAMETER_ROUTES,
    ROLES_WITHOUT_RACK_PARAMETERS,
)
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
from fakes.model.keys import KEY_ALPHABET, KEY_LENGTH, unknown_identity
from fakes.model.server_views import ServerViews
from fakes.model.world_records import API_2017, CURRENT_API, RACK_APIS, locked

__all__ = [
    "API_2017", "COLLABORATOR_PLANS", "CONSOLE_MODES", "CURRENT_API", "DEFAULT_PARAMETERS",
    "DEPLOY_KEY_ROUTES", "KEY_ALPHABET", "KEY_LENGTH", "PLANS", "RACK_APIS",
    "RACK_PARAMETER_ROUTES", "ROLES", "ROLES_WITHOUT_RACK_PARAMETERS", "DeployKey",
    "Organization", "Principal", "ProxyTarget", "Rack", "User", "World", "WorldError",
]


class World(ServerViews):
    """Users, organizations, racks and keys, and the rules the FAQ states about them.

    ``World(clock=None, rack_update_seconds=300.0, console_requires_session=False,
    rack_api=CURRENT_API)``: the records and look-ups are
    :class:`~fakes.model.world_records.WorldRecords`, the servers' questions
    :class:`~fakes.model.server_views.ServerViews`; the rules that change a world are here.
    """

    # ---------------------------------------------------------- people & orgs

    @locked
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

    @locked
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

    @locked
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

    @locked
    def remove_member(self, org: str, email: str) -> None:
        organization = self.organization(org)
        if email == organization.owner:
            raise WorldError(409, f"{email} owns {org} and cannot be removed from it")
        if email not in organization.members:
            raise WorldError(404, f"{email} is not a collaborator in {org}")
        del organization.members[email]

    @locked
    def set_plan(self, org: str, plan: str) -> None:
        """Change the plan; memberships survive a downgrade so an upgrade restores access."""
        check_choice(plan, PLANS, "plan")
        self.organization(org).plan = plan

    # ------------------------------------------------------------------ racks

    @locked
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

    @locked
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

    @locked
    def remove_rack_from_console(self, ref: str) -> None:
        """Console forgets the rack and its key; the rack itself keeps running."""
        rack = self.rack(ref)
        if rack.console == "none":
            raise WorldError(404, f"no rack named {ref} in Console")
        rack.console = "none"
        self.vault.remove(ref)

    @locked
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

    @locked
    def remove_deploy_key(self, org: str, name: str) -> None:
        ref = f"{org}/{name}"
        deploy = self._deploy_keys.pop(ref, None)
        if deploy is None:
            raise WorldError(404, f"no deploy key {ref}")
        self._deploy_by_key.pop(deploy.key, None)

    # ------------------------------------------------------------- key control

    @locked
    def user_key(self, email: str) -> str:
        return self.user(email).key

    @locked
    def deploy_key(self, ref: str) -> str:
        """The key of the deploy key ``org/name`` (what a CI job is given)."""
        deploy = self._deploy_keys.get(ref)
        if deploy is None:
            raise WorldError(404, f"no deploy key {ref}")
        return deploy.key

    @locked
    def regenerate_user_key(self, email: str) -> str:
        """Console's "Regenerate API key": the old key stops working at once."""
        user = self.user(email)
        self._user_by_key.pop(user.key, None)
        user.key = self.keys.new_key()
        user.generation += 1
        self._user_by_key[user.key] = email
        self.keys.register(user.key, f"user:{email}#{user.generation}")
        return user.key

    @locked
    def rack_key(self, ref: str) -> str:
        """The key the rack accepts right now."""
        rack = self.rack(ref)
        self._settle(rack)
        return rack.key

    @locked
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

    @locked
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

    @locked
    def finish_rack_updates(self) -> None:
        """Advance the clock past every update window still open."""
        deadlines = [r.pending_until for r in self._racks.values() if r.pending_until is not None]
        if deadlines:
            remaining = max(deadlines) - self.clock.now()
            if remaining >= 0:
                self.clock.advance(remaining + 0.001)
        for rack in self._racks.values():
            self._settle(rack)

    @locked
    def console_key_masked(self, ref: str) -> str:
        """What Console's rack page shows for the stored key."""
        return self.vault.masked(self._console_rack(ref).ref)
