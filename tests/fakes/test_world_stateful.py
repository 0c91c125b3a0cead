"""A hypothesis state machine over the world model, checked against a tiny oracle.

The oracle restates the FAQ's rules in the most direct way possible (sets and
dicts, no shared code with fakes.model.world), so a rule the model gets wrong in
some odd sequence of plan changes, key rolls and re-adds shows up as a
disagreement.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fakes.model.clock import Clock
from fakes.model.world import World, WorldError

USERS = ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")
ORGS = ("acme", "beta", "alice", "bob")  # acme: pro, beta: developer, the rest personal
RACKS = ("acme/prod", "acme/stage", "acme/old", "beta/box", "alice/home")
WINDOW = 300.0
EPOCH = 1_700_000_000.0

passwords = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=16,
    max_size=24,
)


class WorldMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(source=lambda: EPOCH)  # frozen; only advance() moves it
        self.world = World(clock=self.clock, rack_update_seconds=WINDOW)
        for email in USERS:
            self.world.add_user(email)
        self.world.add_organization("acme", "pro", "alice@example.com")
        self.world.add_organization("beta", "developer", "carol@example.com")
        self.world.add_member("acme", "bob@example.com", "developer")
        modes = {
            "acme/prod": "installed_via_console",
            "acme/stage": "added_by_hand",
            "acme/old": "none",
            "beta/box": "installed_via_console",
            "alice/home": "installed_via_console",
        }
        for ref, mode in modes.items():
            org, name = ref.split("/")
            self.world.add_rack(org, name, f"{name}.{org}.convox.test", mode)
        self.deploy_key = self.world.add_deploy_key("acme", "ci")

        # ---- the oracle
        self.plan = {"acme": "pro", "beta": "developer", "alice": "developer", "bob": "developer"}
        self.owner = {
            "acme": "alice@example.com",
            "beta": "carol@example.com",
            "alice": "alice@example.com",
            "bob": "bob@example.com",
        }
        self.personal = {"alice", "bob"}
        self.members: dict[str, dict[str, str]] = {o: {} for o in ORGS}
        self.members["acme"]["bob@example.com"] = "developer"
        self.in_console = {ref for ref, mode in modes.items() if mode != "none"}
        self.accepted = {ref: self.world.rack_key(ref) for ref in RACKS}
        self.console_key = {ref: self.accepted[ref] for ref in self.in_console}
        self.pending: dict[str, tuple[str, float]] = {}
        self.user_keys = {email: self.world.user_key(email) for email in USERS}
        self.old_user_keys: set[str] = set()
        self.seen_secrets = self.world.secrets()

    # ------------------------------------------------------------ oracle helpers

    def settle(self) -> None:
        now = self.clock.now()
        for ref, (new, deadline) in list(self.pending.items()):
            if now >= deadline:
                self.accepted[ref] = new
                del self.pending[ref]

    def expected_racks(self, email: str) -> set[str]:
        visible = set()
        for ref in self.in_console:
            org = ref.split("/")[0]
            if self.owner[org] == email or (
                email in self.members[org] and self.plan[org] in ("pro", "enterprise")
            ):
                visible.add(ref)
        return visible

    # ------------------------------------------------------------------ rules

    @rule(
        org=st.sampled_from(ORGS),
        email=st.sampled_from(USERS),
        role=st.sampled_from(("administrator", "operator", "developer")),
    )
    def add_member(self, org: str, email: str, role: str) -> None:
        allowed = (
            org not in self.personal
            and self.plan[org] in ("pro", "enterprise")
            and email != self.owner[org]
        )
        try:
            self.world.add_member(org, email, role)
        except WorldError as exc:
            assert not allowed, exc
            assert exc.status == 409
        else:
            assert allowed
            self.members[org][email] = role

    @rule(org=st.sampled_from(ORGS), email=st.sampled_from(USERS))
    def remove_member(self, org: str, email: str) -> None:
        try:
            self.world.remove_member(org, email)
        except WorldError as exc:
            assert email not in self.members[org], exc
            assert exc.status in (404, 409)
        else:
            del self.members[org][email]

    @rule(org=st.sampled_from(ORGS), plan=st.sampled_from(("developer", "pro", "enterprise")))
    def set_plan(self, org: str, plan: str) -> None:
        self.world.set_plan(org, plan)
        self.plan[org] = plan

    @rule(email=st.sampled_from(USERS))
    def regenerate_user_key(self, email: str) -> None:
        old = self.user_keys[email]
        new = self.world.regenerate_user_key(email)
        assert new != old
        self.old_user_keys.add(old)
        self.user_keys[email] = new
        assert self.world.authenticate(old) is None

    @rule(ref=st.sampled_from(RACKS))
    def roll_rack_key(self, ref: str) -> None:
        self.settle()
        possible = ref in self.in_console and self.console_key[ref] == self.accepted[ref]
        try:
            self.world.roll_rack_key(ref)
        except WorldError as exc:
            assert not possible, exc
            assert exc.status == (502 if ref in self.in_console else 404)
        else:
            assert possible
            new = self.world.vault.get(ref)
            assert new not in self.seen_secrets
            self.console_key[ref] = new
            self.pending[ref] = (new, self.clock.now() + WINDOW)

    @rule(seconds=st.sampled_from((0.0, 1.0, 150.0, WINDOW - 1, WINDOW, WINDOW + 1, 1000.0)))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(ref=st.sampled_from(RACKS), password=passwords)
    def set_rack_password(self, ref: str, password: str) -> None:
        self.world.set_rack_password(ref, password)
        self.pending.pop(ref, None)
        self.accepted[ref] = password

    @rule(ref=st.sampled_from(RACKS))
    def remove_rack_from_console(self, ref: str) -> None:
        try:
            self.world.remove_rack_from_console(ref)
        except WorldError as exc:
            assert ref not in self.in_console, exc
            assert exc.status == 404
        else:
            self.in_console.discard(ref)
            del self.console_key[ref]

    @rule(ref=st.sampled_from(RACKS), which=st.sampled_from(("current", "typo")))
    def add_rack_to_console(self, ref: str, which: str) -> None:
        self.settle()
        key = self.accepted[ref] if which == "current" else "typo-" + ref.replace("/", "-") * 4
        try:
            self.world.add_rack_to_console(ref, key)
        except WorldError as exc:
            assert ref in self.in_console, exc
            assert exc.status == 409
        else:
            self.in_console.add(ref)
            self.console_key[ref] = key

    # -------------------------------------------------------------- invariants

    @invariant()
    def racks_for_matches_oracle(self) -> None:
        self.settle()
        for email in USERS:
            principal = self.world.authenticate(self.user_keys[email])
            assert principal is not None and principal.email == email
            listing = self.world.racks_for(principal)
            got = {f"{r['organization']['name']}/{r['name']}" for r in listing}
            assert got == self.expected_racks(email), email
            for entry in listing:
                ref = f"{entry['organization']['name']}/{entry['name']}"
                assert entry["status"] == ("updating" if ref in self.pending else "running")
                target = self.world.authorize_proxy(principal, ref, "GET", "/apps")
                assert target.key == self.console_key[ref]
        deploy = self.world.authenticate(self.deploy_key)
        assert deploy is not None
        got = {f"{r['organization']['name']}/{r['name']}" for r in self.world.racks_for(deploy)}
        assert got == {ref for ref in self.in_console if ref.startswith("acme/")}

    @invariant()
    def old_user_keys_stay_dead(self) -> None:
        for key in self.old_user_keys:
            assert self.world.authenticate(key) is None
            assert self.world.key_identity(key).startswith("user:")

    @invariant()
    def each_rack_accepts_exactly_one_key(self) -> None:
        self.settle()
        secrets = self.world.secrets()
        for ref in RACKS:
            accepted = [key for key in secrets if self.world.rack_accepts(ref, key)]
            assert accepted == [self.accepted[ref]], ref
            assert self.world.rack_key(ref) == self.accepted[ref]

    @invariant()
    def vault_holds_no_plaintext(self) -> None:
        at_rest = self.world.vault.ciphertexts()
        assert set(at_rest) == self.in_console
        blob = b"\n".join(at_rest.values())
        for key in self.world.secrets():
            assert key.encode() not in blob
        for ref in self.in_console:
            assert self.world.console_key_masked(ref) == "********" + self.console_key[ref][-4:]

    @invariant()
    def secrets_grow_monotonically(self) -> None:
        now = self.world.secrets()
        assert now[: len(self.seen_secrets)] == self.seen_secrets
        assert len(set(now)) == len(now)
        for key in (*self.user_keys.values(), *self.accepted.values(), *self.console_key.values()):
            assert key in now
        self.seen_secrets = now

    @invariant()
    def redaction_hides_every_key(self) -> None:
        secrets = self.world.secrets()
        redacted = self.world.redact(" ".join(secrets))
        assert not any(key in redacted for key in secrets)

    @precondition(lambda self: bool(self.pending))
    @rule()
    def finish_rack_updates(self) -> None:
        self.world.finish_rack_updates()
        self.settle()
        assert not self.pending


TestWorldMachine = WorldMachine.TestCase
TestWorldMachine.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
