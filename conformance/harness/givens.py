"""Set-up steps ("givens") of a check, and how a failing one ends the check.

A given is set-up, not observation: when it fails, the check ends *blocked* by
the rule covering the step that broke (``specs/steps/covering-rules.toml``),
not failed for its own rule. This layer of the handle (``Convox``) holds
:meth:`Givens.given` and the givens checks share: logging in to Console or a
rack and having the login record what it should, switching and having the
selection name the rack, and the facts a check establishes once in a home of
its own (a plain login works, commands at a rack are possible).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conformance.catalogue.covering import covering_rule
from conformance.harness.attribution import fail
from conformance.harness.cli_actions import CliActions
from conformance.harness.skip_outcomes import blocked
from conformance.running.cli_files import StateError
from conformance.running.invoke import Invocation


class Givens(CliActions):
    """The check's set-up steps: each blocks the check when it fails."""

    @contextmanager
    def given(self, step: str, *, covered_by: str | None = None) -> Iterator[None]:
        """Set-up, not observation: a failure inside blocks the check.

        ``step`` says in words what the scenario needs ("alice is logged in to
        Console with acme/production selected"). When an assertion fails inside
        (a command exited non-zero, a CLI hung), the check ends *blocked* by the
        rule covering the failing step: ``covered_by`` if given, else the rule
        ``specs/steps/covering-rules.toml`` names for the operation that failed
        and where it ran. A failure no rule covers stays a failure, and so does one
        covered by a rule the check itself verifies.
        """
        try:
            yield
        except AssertionError as exc:
            rule = covered_by
            if rule is None and self._step is not None:
                operation, place = self._step
                rule = covering_rule(operation, place) if place else None
            if rule is None:
                raise
            if rule in self.own_rules:
                raise fail(rule, f"{step}: {exc}") from exc
            detail = str(exc)
            blocked(rule, f"{step}: {detail.splitlines()[0] if detail else 'failed'}",
                    detail, self.properties)

    def login_console(self, email: str, *, records: bool = True, **kwargs: str) -> Invocation:
        """Given: log in to Console with the user's key (set-up; blocks on failure).

        With ``records`` (the default) the given also requires what the login
        records (see :meth:`recorded`); a check whose own rule is about those
        records, or that needs only a working login, passes ``records=False``.
        """
        return self.logged_in(self.console, self.user_key(email), f"log in to Console as {email}",
                              records=records, **kwargs)

    def login_rack(self, ref: str, *, records: bool = True, **kwargs: str) -> Invocation:
        """Given: log in to a rack directly with its key (set-up; blocks on failure).

        ``records`` as for :meth:`login_console`."""
        return self.logged_in(self.rack_host(ref), self.rack_key(ref), f"log in directly to {ref}",
                              records=records, **kwargs)

    def logged_in(self, host: str, key: str, step: str, *, records: bool = True,
                  **kwargs: str) -> Invocation:
        """Given: a login to ``host`` with ``key`` (a key a check made up or a user shared),
        described as ``step``; ``records`` as for :meth:`login_console`."""
        earlier = self._earlier_keys() if records else None
        with self.given(step):
            login = self.ok(self.login(host, key, **kwargs))
        if records:
            self.recorded(host, key, earlier)
        return login

    def _earlier_keys(self) -> dict[str, str] | None:
        """auth before a login, to see that the login kept it; None where it cannot be read
        (a check that damaged it on purpose)."""
        try:
            return dict(self.state.keys())
        except StateError:
            return None

    def recorded(self, host: str, key: str, earlier: dict[str, str] | None = None) -> None:
        """Given: a login that exited 0 also recorded what the FAQ says it records, and
        kept the other hosts' keys (those in ``earlier``, auth as it was before).

        For a check that ran the login itself, because how it logs in is the check's
        subject (a session challenge), and needs what it recorded for what follows.

        A CLI whose login writes the wrong target, no key or loses another host's
        key would otherwise fail every later step under the names of rules it does
        not break; here it is blocked by the rule that covers what the login got
        wrong."""
        with self.given(f"the login to {host} recorded it as the target",
                        covered_by="LOGIN-001"):
            target = self._read(self.state.target)
            assert target == host, (f"the target file holds {target!r}, not {host!r}"
                                    + self.changed_instead(self.state.target_path))
        with self.given(f"the login stored the key for {host} in auth", covered_by="LOGIN-002"):
            stored = self._read(self.state.keys).get(host)
            assert stored == key, (
                f"auth holds {'no key' if stored is None else 'another key'} for {host}"
                + self.changed_instead(self.state.auth_path))
        if earlier:
            with self.given(f"the login to {host} kept the other hosts' keys",
                            covered_by="LOGIN-003"):
                now = self._read(self.state.keys)
                changed = sorted(h for h, k in earlier.items() if h != host and now.get(h) != k)
                assert not changed, f"after the login auth lost or changed the keys of {changed}"

    @staticmethod
    def _read(reader: Callable[[], Any]) -> Any:
        try:
            return reader()
        except StateError as exc:
            raise AssertionError(str(exc)) from None

    def console_login_works(self, email: str) -> None:
        """Given, in a home of its own: the plain login to Console (key on the command
        line) works and records what it should, so a check of another way of logging
        in to a Console (no host, the environment, a prompt, certificates) is blocked by
        LOGIN-004, LOGIN-001 or LOGIN-002 when even that fails, not failed for its own rule.
        """
        if self.memo.get(f"console login works for {email}"):
            return
        self.another_home().login_console(email)
        self.memo[f"console login works for {email}"] = True

    def rack_login_works(self, ref: str = "acme/legacy") -> None:
        """Given, in a home of its own: the plain direct login to ``ref`` works and records
        what it should (LOGIN-005, LOGIN-001, LOGIN-002), for checks of other logins."""
        if self.memo.get(f"rack login works at {ref}"):
            return
        self.another_home().login_rack(ref)
        self.memo[f"rack login works at {ref}"] = True

    def rack_commands_possible(self, ref: str = "acme/legacy") -> bool:
        """Given, in a home of its own: a direct login to ``ref`` works; and whether
        ``apps`` then works there (PROXY-006's subject, not judged here).

        For checks that can observe their rule through the login alone (what a
        login sends and stores) and through commands only where the CLI has
        them: a CLI that cannot run commands at a rack is judged on its login,
        not left undecided.
        """
        key = f"rack commands possible at {ref}"
        if key not in self.memo:
            elsewhere = self.another_home()
            elsewhere.login_rack(ref)
            self.memo[key] = elsewhere.run("apps").exit_code == 0
        return bool(self.memo[key])

    def switched(self, rack: str) -> Invocation:
        """Given: switch to a rack Console lists (set-up; blocks on failure), and the
        selection then names it (SWITCH-001's observation, so a switch that records
        something else blocks what follows under that rule)."""
        with self.given(f"switch to {rack}"):
            switch = self.ok(self.switch(rack))
        self.selected(rack)
        return switch

    def selected(self, rack: str) -> None:
        """Given: the selection names ``rack`` (SWITCH-001's observation), for checks
        that ran the switch themselves because its requests are their subject."""
        with self.given(f"the switch recorded {rack} as the selection", covered_by="SWITCH-001"):
            selected = self._read(self.state.selection)
            assert selected == rack, f"the selection names {selected!r}, not {rack!r}"
