"""Set-ups that several check modules begin with, in the FAQ's words.

Each is a given (see ``Convox.given``): a failure blocks the check under the
rule covering the step that broke. The step names are part of a blocked
check's reason, so a check passes its own where it has always said it
differently.
"""

from __future__ import annotations

from conformance.checks.standard_world import ALICE, PRODUCTION
from conformance.harness.handle import Convox


def alice_on_production(convox: Convox) -> str:
    """Given: alice logged in to Console with acme/production selected; her key."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    return convox.user_key(ALICE)


def alice_runs_apps_on_production(convox: Convox,
                                  step: str = "alice runs apps on acme/production", *,
                                  covered_by: str | None = None) -> None:
    """Given: alice logged in to Console with acme/production selected, and apps working
    there (``step`` and ``covered_by`` as for ``Convox.given``)."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    with convox.given(step, covered_by=covered_by):
        convox.ok(convox.run("apps"))
