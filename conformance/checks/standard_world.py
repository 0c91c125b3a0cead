"""Names in the standard world (fakes/model/worlds/standard.toml) that checks use.

Its users and racks, each named once with what makes it useful to a check, and
a well-formed key that no server of the world accepts. A check module imports
the names it needs, so a rack's role is written in one place.
"""

from __future__ import annotations

import secrets

#: Owns acme (Pro) and acme-eu (Enterprise).
ALICE = "alice@example.com"
#: A developer-role collaborator in acme.
BOB = "bob@example.com"

#: Installed via Console: only Console holds its key.
PRODUCTION = "acme/production"
#: Installed by CLI, added to Console by hand with its key.
STAGING = "acme/staging"
#: Installed by CLI, never added to Console: reachable only by a direct login.
LEGACY = "acme/legacy"
#: alice's third Console rack, in her other organization (acme-eu, Enterprise): a bare
#: ``staging`` is ambiguous for her, ``production`` is not.
EU_STAGING = "acme-eu/staging"
#: dave's startup, on the Developer plan.
STARTUP_API = "startup/api"
#: carol's personal organization.
SANDBOX = "carol/sandbox"
#: acme's deploy key.
DEPLOY_KEY = "acme/ci"

#: The host a login without one goes to (resolved to the Console fake).
DEFAULT_HOST = "console.convox.com"


def wrong_key() -> str:
    """A well-formed key that no server of the world accepts."""
    return "wrong" + secrets.token_urlsafe(32)
