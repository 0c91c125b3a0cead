"""What Console and the racks ask of a world: who a key is, what it may reach, what is served.

The HTTP layers (:mod:`fakes.servers`) only translate requests into these
questions; the answers follow the access policy (:mod:`fakes.model.access`)
and the world's records, and are the JSON bodies the servers send.
"""

from __future__ import annotations

import hashlib
import secrets as _secrets
from typing import Any

from fakes.model import access
from fakes.model.entities import Principal, ProxyTarget, WorldError
from fakes.model.world_records import WorldRecords, locked


class ServerViews(WorldRecords):
    """The questions the fake Console and Racks ask, answered from the records."""

    @locked
    def rack_accepts(self, ref: str, key: str | None) -> bool:
        """Whether the rack's basic auth lets ``key`` in (the update window honoured)."""
        rack = self.rack(ref)
        self._settle(rack)
        return bool(key) and _secrets.compare_digest(
            (key or "").encode("utf-8"), rack.key.encode("utf-8")
        )

    # ------------------------------------------------------------ Console side

    @locked
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

    @locked
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

    @locked
    def session_missing(self, principal: Principal, session: str | None) -> bool:
        """True when Console must challenge: it requires sessions of its users and
        ``session`` is not one it opened for this user (deploy keys never need one)."""
        if not self.console_requires_session or principal.kind != "user":
            return False
        return self._sessions.get(session or "") != principal.id

    @locked
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

    @locked
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

    @locked
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

    @locked
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

    @locked
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
