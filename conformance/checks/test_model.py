"""A stateful model check: random sequences of user actions and world events.

Hypothesis drives a ``RuleBasedStateMachine`` whose rules are what a user does
(log in to Console as alice or bob or to a rack directly, with a good, old or
wrong key; switch to a listed or unlisted rack; run ``apps`` or ``racks``;
delete or restore a key in ``auth`` by hand; ``logout`` where the profile has
it) and what happens in the world (a user key is regenerated, Console rolls a
rack key and the rack update finishes, bob joins or leaves acme, acme changes
plan). A small pure-Python model says what the CLI's files must hold (target,
auth, selection) and what the next request must be (which server, which key
identity, which ``Rack`` header, or no request with a key at all, and whether
it succeeds). After every step the real CLI, read through ``convox.state``
and the fakes' journal, must agree with the model.

The model allows the freedoms the rules allow: after a login the selection may
be kept or cleared; a failed command may print anything; a logout command may
remove the target file or only the key. Actions needing an optional capability
(``logout``) are skipped when the profile lacks it, so the check runs against
every profile. Every sequence begins like a typical user (``begin``: maybe a
direct login to a rack installed by CLI, then a Console login and a switch);
the CLI only notices a world event at its next request, so each event is
followed by the user's next rack command (``apps``).

On failure Hypothesis prints the shortest sequence it found as a script
(``state.login_console(user='bob')``, ``state.world_remove_collaborator()``...);
the lines just above each ``state.<step>(...)`` line are that step's notes: the
CLI command lines run (keys shown as identities such as
``<user:bob@example.com#2>``), their exit codes, and the model's expectation.

Every example gets a fresh CLI home. The world is the check's own and is not
reset between examples: the machine reads the current keys when it starts and
undoes its reversible world changes (plan, membership, pending rack updates)
when it ends.

The machine is built in layers, one module each: the pure model
(``cli_model.py``), observing the CLI (``model_observation.py``), the user's
actions (``model_user_actions.py``) and the world's events
(``model_world_events.py``); this module binds it to the check's handle.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, seed, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from conformance.checks.model_world_events import WorldEvents
from conformance.harness.handle import Convox

# max_examples comes from the checks' Hypothesis profile (CONFORMANCE_EXAMPLES, default 6).
MODEL_SETTINGS = settings(
    stateful_step_count=15,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
)

#: The seed Hypothesis derived (derandomize=True) from the machine's source while the
#: whole machine was one class in this module, with Hypothesis 6.155.2. Derandomized
#: seeds hash the class's own source, so splitting the machine into modules would have
#: drawn other sequences; pinned, the same sequences run as before, and editing the
#: machine no longer changes them by accident.
MODEL_SEED = int(
    "15397500641867917543686432874238732670951388292364558556079297621988790292756658174"
    "217592917209143883600372060436678"
)


def machine_for(convox: Convox) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to this check's world and profile."""

    # The name is the one Hypothesis prints in a failing sequence (state = ...()).
    @seed(MODEL_SEED)
    class CliAgreesWithModel(WorldEvents):
        pass

    CliAgreesWithModel.convox = convox
    return CliAgreesWithModel


# Every expectation of the model runs under blame(RULE): a failure turns red only the
# rule whose expectation broke (several distinct failures, each their own rule).
@pytest.mark.spec("LOGIN-001", "LOGIN-002", "LOGIN-003", "LOGIN-004", "LOGIN-005", "LOGIN-010",
                  "LOGIN-011", "SWITCH-001", "SWITCH-003", "SWITCH-004", "SWITCH-005",
                  "PROXY-001", "PROXY-002", "PROXY-004", "PROXY-006", "PROXY-008", "PROXY-009",
                  "LOGOUT-002", "LOGOUT-003", "LOGOUT-004", "LOGOUT-006", "LOGOUT-009",
                  "KEYROLL-001",
                  "KEYROLL-003", "KEYROLL-005", "KEYROLL-006", "KEYROLL-007", "SHARING-001",
                  "SHARING-005", "SHARING-008", "SHARING-009")
def test_the_cli_agrees_with_the_model_over_random_sequences(convox: Convox) -> None:
    """Random sequences of up to 15 user actions and world events, each in a fresh
    home: logins (Console as alice or bob, racks directly; good, old and wrong
    keys), switches (listed and unlisted racks), apps, racks, logout by hand or
    by command, key regeneration, rack key rolls and their update window,
    collaborator changes and plan changes. After every step the CLI's files and
    the requests the fakes saw must match the model."""
    run_state_machine_as_test(machine_for(convox), settings=MODEL_SETTINGS)
