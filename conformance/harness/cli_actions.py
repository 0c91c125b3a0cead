"""Running the CLI under test for a check, and what a check asserts of one run.

The layer of the handle (``Convox``) above the world and the home: logins,
switches and other operations, each remembered as the step under way (the
operation and whether it ran at Console or at a rack) so that a failing given
can name the rule covering it; success and failure as assertions; the CLI's
files for "nothing changed" comparisons; and what the last command changed
instead of the file a reason expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.harness.world_and_home import WorldAndHome
from conformance.running.cli_files import StateError
from conformance.running.invoke import Invocation


class CliActions(WorldAndHome):
    """The CLI's operations, run in this home, and assertions on their invocations."""

    def _place_of(self, host: str | None) -> str | None:
        if host is None:
            return None
        return "console" if host == self.console else "rack"

    def _target_place(self) -> str | None:
        try:
            return self._place_of(self.state.target())
        except StateError:
            return None

    # actions ---------------------------------------------------------------
    def login(self, host: str, key: str, *, how: str = "login") -> Invocation:
        """Log in by flag (``login``), environment (``login_env``) or prompt."""
        self.require(how)
        if how == "login_default":
            self._step = (how, "console")
            return self.cli.run(how, key=key)
        self._step = (how, self._place_of(host))
        return self.cli.run(how, host=host, key=key)

    def switch(self, rack: str) -> Invocation:
        self._step = ("switch", self._target_place())
        return self.cli.run("switch", rack=rack)

    def current_rack(self) -> Invocation:
        self._step = ("current_rack", self._target_place())
        return self.cli.run("current_rack")

    def run(self, operation: str, **kwargs: Any) -> Invocation:
        self.require(operation)
        self._step = (operation, self._target_place())
        return self.cli.run(operation, **kwargs)

    # assertions ------------------------------------------------------------
    def ok(self, invocation: Invocation) -> Invocation:
        """Assert an invocation succeeded, showing what happened if not."""
        assert invocation.exit_code == 0, "expected success:\n" + invocation.describe()
        return invocation

    def failed(self, invocation: Invocation) -> Invocation:
        assert invocation.exit_code not in (0, None), (
            "expected a non-zero exit:\n" + invocation.describe()
        )
        return invocation

    def files(self) -> dict[str, bytes]:
        """The CLI's config files, for "nothing changed" comparisons.

        Read like the evidence snapshots: no link is followed and no special
        file opened, so a planted symlink shows as one, never as its target.
        """
        from conformance.running.cli_files import snapshot_tree

        tree = snapshot_tree(self.cli.config_dir, within=self.cli.home)
        return {path: snap.observed for path, snap in sorted(tree.items())
                if not path.endswith(".lock")}

    def changed_instead(self, wanted: Path) -> str:
        """What the last command changed other than ``wanted``, for a reason that expected
        that file: "; login changed .convox/host2 (added) instead" ("" when nothing else)."""
        if not self.cli.invocations:
            return ""
        last = self.cli.invocations[-1]
        try:
            expected = str(wanted.relative_to(self.cli.home))
        except ValueError:
            expected = str(wanted)
        others = [f"{change.path} ({change.kind})" for change in last.changes
                  if change.path != expected]
        if not others:
            return "" if last.changes else f"; {last.operation} changed no file"
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        return f"; {last.operation} changed {shown} instead"
