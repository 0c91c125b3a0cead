"""What happens in the world during the model check, and undoing it afterwards.

The rules Hypothesis draws from for the world: a user key is regenerated,
Console rolls a rack key and the rack update finishes, bob joins or leaves
acme, acme changes plan. The CLI only notices the world at its next request,
so each event is followed by the user's next rack command (``apps``). The
class here is the whole machine; ``teardown`` undoes the reversible changes,
since examples share the check's world.
"""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance.checks.cli_model import COLLABORATOR_PLANS, ROLLABLE, USERS
from conformance.checks.model_user_actions import UserActions


class WorldEvents(UserActions):
    """The world's events on top of the user's actions: the complete machine."""

    # ------------------------------------------------------------ world events
    # The CLI only notices the world at its next request, so each event is
    # followed by the user's next rack command (apps), checked like the apps rule.
    def event(self, text: str) -> None:
        note(f"# world: {text}; the user's next command:")

    @rule(user=st.sampled_from(sorted(USERS)))
    def world_regenerate_user_key(self, user: str) -> None:
        self.event(f"{user} regenerates the Console API key")
        self.old_user_keys[user].append(self.user_keys[user])
        self.user_keys[user] = self.world.regenerate_user_key(USERS[user])
        self.apps()

    @precondition(lambda self: any(r not in self.updating for r in ROLLABLE))
    @rule(rack=st.sampled_from(ROLLABLE))
    def world_roll_rack_key(self, rack: str) -> None:
        """Console's Roll API key: Console uses the new key now, the rack after updating."""
        if rack in self.updating:
            rack = next(r for r in ROLLABLE if r not in self.updating)
        self.event(f"Console rolls the key of {rack} (rack update under way)")
        self.world.roll_rack_key(rack)
        self.updating.add(rack)
        self.apps()

    @precondition(lambda self: bool(self.updating))
    @rule()
    def world_finish_rack_updates(self) -> None:
        self.event(f"the rack update finishes ({', '.join(sorted(self.updating))})")
        self.world.finish_rack_updates()
        for rack in self.updating:
            self.old_rack_keys[rack].append(self.rack_keys[rack])
            self.rack_keys[rack] = self.world.rack_key(rack)
        self.updating.clear()
        self.apps()

    @precondition(lambda self: not self.bob_member and self.plan in COLLABORATOR_PLANS)
    @rule()
    def world_add_collaborator(self) -> None:
        self.event("alice adds bob to acme as a developer")
        self.world.add_member("acme", USERS["bob"], "developer")
        self.bob_member = True
        self.apps()

    @precondition(lambda self: self.bob_member)
    @rule()
    def world_remove_collaborator(self) -> None:
        self.event("alice removes bob from acme")
        self.world.remove_member("acme", USERS["bob"])
        self.bob_member = False
        self.apps()

    @precondition(lambda self: self.plan == "pro")
    @rule()
    def world_downgrade_acme_to_developer(self) -> None:
        self.event("acme moves from Pro to the Developer plan")
        self.world.set_plan("acme", "developer")
        self.plan = "developer"
        self.apps()

    @precondition(lambda self: self.plan != "pro")
    @rule()
    def world_upgrade_acme_to_pro(self) -> None:
        self.event("acme moves back to the Pro plan")
        self.world.set_plan("acme", "pro")
        self.plan = "pro"
        self.apps()

    def teardown(self) -> None:
        """Undo the reversible world changes for the next example."""
        self.world.finish_rack_updates()
        if self.plan != "pro":
            self.world.set_plan("acme", "pro")
        if not self.bob_member:
            self.world.add_member("acme", USERS["bob"], "developer")
