"""Observing the real CLI for the model check: its files, its commands, its requests.

The layer above the pure model (``cli_model.py``): it runs the CLI's commands in
the machine's own home (each noted as a command line, keys shown as
identities), reads back the target, auth and selection files, and compares the
requests the fakes saw, and the files, with what the model says, each
expectation under the rule it comes from.
"""

from __future__ import annotations

from hypothesis import note
from hypothesis.stateful import invariant

from conformance.checks.cli_model import FILES, CliModel, Identity
from conformance.checks.observations import described, read_bytes
from conformance.harness.attribution import blame
from conformance.running.invoke import Invocation
from fakes.http.journal import JournalEntry


def show(entries: list[JournalEntry]) -> str:
    """The entries one a line, or a line saying there was none."""
    return described(entries) or "  (no request)"


def command_line(argv: tuple[str, ...] | list[str], values: dict[str, str],
                 ident: Identity) -> str:
    """The profile's command with placeholders shown readably (keys as identities)."""
    shown = {name: (f"<{ident(value)}>" if name in ("key", "password") else value)
             for name, value in values.items()}
    parts = []
    for part in argv:
        for name, value in shown.items():
            part = part.replace("{" + name + "}", value)
        parts.append(part)
    return "convox " + " ".join(parts)


class ObservedModel(CliModel):
    """The model beside the real CLI: its commands run and its files and requests
    compared with what the model expects."""

    # ------------------------------------------------------------ observing
    def raw(self) -> tuple[bytes | None, ...]:
        """The target, auth and selection files byte for byte (None: absent)."""
        state = self.cx.state
        paths = (state.target_path, state.auth_path, state.selection_path)
        return tuple(read_bytes(p) for p in paths)

    def unchanged(self, before: tuple[bytes | None, ...], what: str,
                  files: tuple[str, ...] = FILES) -> None:
        """Assert the named files are byte for byte as in ``before`` (names only, no keys)."""
        now = self.raw()
        changed = [name for name, old, new in zip(FILES, before, now, strict=True)
                   if name in files and old != new]
        assert not changed, (
            f"{what} must leave the {' and '.join(files)} files byte for byte as they "
            f"were; changed: {', '.join(changed)} (target now {self.cx.state.target()!r}, "
            f"selection now {self.cx.state.selection()!r})"
        )

    def run(self, operation: str, **values: str) -> Invocation:
        note("$ " + command_line(self.profile.operations[operation].argv, values, self.ident))
        inv = self.cx.run(operation, **values)
        code = "timed out" if inv.timed_out else f"exit {inv.exit_code}"
        note(f"  -> {code}" + (f"; stderr: {inv.stderr.strip()[:200]}"
                                if inv.exit_code else ""))
        return inv

    def cli_requests(self, mark: int) -> list[JournalEntry]:
        return self.convox.journal.since(mark, hop="cli")

    def proxy_requests(self, mark: int) -> list[JournalEntry]:
        return self.convox.journal.since(mark, hop="proxy")

    def expect_only(self, entries: list[JournalEntry], server: str | None,
                    key: str | None, what: str) -> None:
        """Every CLI request went to ``server`` with ``key`` (None: carried no key)."""
        if server is None:
            wrong = [e for e in entries if e.key_identity != "empty"]
            target = "no request carrying a key"
        else:
            wanted = self.ident(key)
            wrong = [e for e in entries if e.server != server or e.key_identity != wanted]
            target = f"requests only at {server} with key {wanted}"
        if wrong:
            raise AssertionError(f"{what}: expected {target}; got:\n" + show(wrong))


    # ------------------------------------------------------------ agreement
    def adopt_selection(self, allowed: set[str | None], when: str) -> None:
        seen = self.cx.state.selection()
        assert seen in allowed, (
            f"{when} the selection should be one of {sorted(map(str, allowed))}, "
            f"it is {seen!r}"
        )
        self.selection = seen

    @invariant()
    def files_agree_with_the_model(self) -> None:
        state = self.cx.state
        with blame("LOGIN-001"):
            assert state.target() == self.target, (
                f"target file: expected {self.target!r}, found {state.target()!r}"
            )
        auth = state.keys()
        if auth != self.auth:
            differ = [h for h in sorted(set(auth) | set(self.auth))
                      if auth.get(h) != self.auth.get(h)]
            lines = [f"  {h!r}: expected {self.ident(self.auth.get(h))}, "
                     f"found {self.ident(auth.get(h))}" for h in differ]
            # The target's own entry is what login stores (LOGIN-002); any other
            # entry is one that logins must keep (LOGIN-003).
            with blame("LOGIN-002" if differ == [self.target] else "LOGIN-003"):
                raise AssertionError("auth differs from the model:\n" + "\n".join(lines))
        with blame("SWITCH-001"):
            assert state.selection() == self.selection, (
                f"selection: expected {self.selection!r}, found {state.selection()!r}"
            )
        if self.target is not None:
            self.selection_seen[self.target] = self.selection
