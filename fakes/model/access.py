"""Who may reach which rack, and which requests a key may send through Console.

The access rules of the FAQ and the access-control docs (owners and
collaborators, plans, deploy keys for CI, roles that may not change rack
parameters), as pure functions of a principal, an organization and a
request. :meth:`fakes.model.world.World.authorize_proxy` and ``racks_for`` ask
here, so the policy reads in one place and can be tested without a world.
"""

from __future__ import annotations

import re

from fakes.model.entities import COLLABORATOR_PLANS, Organization, Principal, Rack

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



def refusal(principal: Principal, org: Organization) -> str | None:
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


def role(principal: Principal, org: Organization) -> str:
    """The principal's role in ``org``: owners and deploy keys act as administrators."""
    if principal.kind == "user" and principal.email != org.owner:
        return org.members.get(principal.email or "", "administrator")
    return "administrator"


def route_refusal(
    principal: Principal, org: Organization, rack: Rack, method: str, path: str
) -> str | None:
    """Why a principal that may reach ``rack`` may still not send this request, or None."""
    method = method.upper()
    path = _strip_query(path)
    if principal.kind == "deploy" and not any(
        method == m and re.fullmatch(p, path) for m, p in DEPLOY_KEY_ROUTES
    ):
        return (
            f"deploy key {principal.identity} may only run build and deploy commands, "
            f"not {method} {path}"
        )
    their_role = role(principal, org)
    if their_role in ROLES_WITHOUT_RACK_PARAMETERS and any(
        method == m and path == p.format(rack=rack.name) for m, p in RACK_PARAMETER_ROUTES
    ):
        return f"the {their_role} role in {org.name} may not change rack parameters of {rack.ref}"
    return None


def _strip_query(path: str) -> str:
    path = path.split("?", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path

