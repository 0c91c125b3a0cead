"""``convox-conformance smoke``: is the profile wired right, before a full run?

A wrong ``config_dir`` or ``host_form`` makes every check fail for the same
boring reason, which buries the message. The smoke test runs the handful of
steps everything else builds on (the CLI starts, a good login succeeds, the
key lands where the profile says, a switch is recorded where the profile
says) and explains each mismatch in plain words, naming the profile field to
look at.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.profiles import Profile
from conformance.runner import CliSession, Invocation

WORLD = "minimal"
USER = "alice@example.com"
RACK = "acme/production"


@dataclass
class Finding:
    """One step: whether it worked and, if not, what to fix."""

    step: str
    ok: bool
    message: str


class HarnessFailure(Exception):
    """The fakes could not start; nothing about the CLI can be said."""


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def said(invocation: Invocation) -> str:
    text = first_line(invocation.stderr) or first_line(invocation.stdout)
    return f': "{text}"' if text else " and printed nothing"


def home_path(session: CliSession, path: Path) -> str:
    """A path as the user thinks of it (``~/.convox/auth``), not a temp directory."""
    try:
        return "~/" + path.relative_to(session.home).as_posix()
    except ValueError:
        return str(path)


def explain_version(profile: Profile, invocation: Invocation | None) -> Finding:
    if invocation is None:
        return Finding("start", True, "the profile has no version operation; skipped")
    if invocation.timed_out:
        return Finding("start", False, f"`{' '.join(invocation.argv)}` did not finish in time: "
                       "does the CLI wait for input or a network? check operations.version")
    if invocation.exit_code != 0:
        return Finding("start", False, f"the CLI exited {invocation.exit_code} for its version "
                       f"operation{said(invocation)}: check command and operations.version")
    shown = first_line(invocation.output) or "(no output)"
    return Finding("start", True, f"the CLI starts: {shown}")


def explain_login(profile: Profile, session: CliSession, invocation: Invocation, host: str,
                  key: str, journal: list[Any]) -> list[Finding]:
    """Why a good login did or did not leave the files the profile describes."""
    config_dir = home_path(session, session.config_dir)
    auth_shown = home_path(session, session.state.auth_path)
    reached = [entry for entry in journal if getattr(entry, "server", None) == "console"]
    if invocation.timed_out:
        return [Finding("login", False, f"login to {host} did not finish in time: does it prompt "
                        "for input? check operations.login")]
    if invocation.exit_code != 0:
        if not reached:
            hint = ("the CLI never reached the fake Console at "
                    f"{host}: check host_form ({profile.host_form!r})")
            if not profile.trust.ca_env:
                hint += " and [trust] ca_env (the CLI must trust the suite's CA)"
            return [Finding("login", False,
                            f"login exited {invocation.exit_code}{said(invocation)}; {hint}")]
        statuses = sorted({str(getattr(entry, "status", "")) for entry in reached} - {""})
        return [Finding("login", False, f"login exited {invocation.exit_code}{said(invocation)}; "
                        f"Console answered {statuses}: check how operations.login passes {{key}}")]
    findings = [Finding("login", True, f"login to {host} exited 0")]
    changed = [change.path for change in invocation.changes if change.after is not None]
    if not session.state.auth_path.exists():
        wrote = f"; the CLI wrote {', '.join('~/' + c for c in changed)}" if changed else \
            "; the CLI wrote no file under HOME at all"
        elsewhere = [c for c in changed if Path(c).name == profile.layout.auth_file]
        if elsewhere:
            wrote += f" (try config_dir = {str(Path(elsewhere[0]).parent)!r})"
        findings.append(Finding("auth", False, f"login exited 0 but no auth file appeared in "
                                f"{config_dir}: check layout.config_dir, layout.auth_file and "
                                f"layout.env{wrote}"))
        return findings
    try:
        entries = session.state.auth() or {}
    except Exception as exc:
        findings.append(Finding("auth", False, f"{auth_shown} is not what layout.auth_file "
                                f"expects (a JSON object host -> key): {exc}"))
        return findings
    if entries.get(host) == key:
        findings.append(Finding("auth", True, f"the key landed in {auth_shown} under {host}"))
    elif key in entries.values():
        other = next(h for h, k in entries.items() if k == key)
        findings.append(Finding("auth", False, f"the key is in {auth_shown} but under {other!r}, "
                                f"not {host!r}: check host_form"))
    else:
        findings.append(Finding("auth", False, f"{auth_shown} has no entry for {host} (hosts: "
                                f"{', '.join(entries) or 'none'}): check host_form and "
                                "operations.login"))
    target = session.state.target()
    target_shown = home_path(session, session.state.target_path)
    if target == host:
        findings.append(Finding("target", True, f"{target_shown} names {host}"))
    elif target is None:
        findings.append(Finding("target", False, f"no target file at {target_shown}:"
                                " check layout.target_file"))
    else:
        findings.append(Finding("target", False, f"{target_shown} holds {target!r}, "
                                f"expected {host!r}: check layout.target_file and host_form"))
    return findings


def explain_switch(session: CliSession, invocation: Invocation) -> Finding:
    selection_shown = home_path(session, session.state.selection_path)
    if invocation.exit_code != 0:
        return Finding("switch", False, f"switch to {RACK} exited {invocation.exit_code}"
                       f"{said(invocation)}: check operations.switch")
    try:
        selected = session.state.selection()
    except Exception as exc:
        return Finding("switch", False, f"switch exited 0 but {selection_shown} "
                       f"cannot be read as layout.selection = {session.profile.layout.selection!r}"
                       f": {exc}")
    if selected == RACK:
        return Finding("switch", True, f"the selection {RACK} is in {selection_shown}")
    return Finding("switch", False, f"switch exited 0 but {selection_shown} gives "
                   f"{selected!r}, expected {RACK!r}: check layout.selection "
                   f"({session.profile.layout.selection!r})")


def run_smoke(profile: Profile, *, backend_name: str = "inprocess", timeout: float = 20.0,
              say: Callable[[Finding], None] | None = None) -> list[Finding]:
    """Run the steps, reporting each as it completes; raises HarnessFailure."""
    from fakes.backend import get_backend

    findings: list[Finding] = []

    def note(finding: Finding) -> None:
        findings.append(finding)
        if say:
            say(finding)

    try:
        backend = get_backend(backend_name)
        backend.start()
    except Exception as exc:
        raise HarnessFailure(f"the fakes failed to start: {exc}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="convox-smoke-") as root:
            version = None
            if profile.has("version"):
                version = _safe_run(CliSession(profile, Path(root) / "version", timeout=timeout),
                                    "version")
            note(explain_version(profile, version))
            try:
                world = backend.new_world(WORLD)
            except Exception as exc:
                raise HarnessFailure(f"the fakes could not make a world: {exc}") from None
            try:
                extra = {}
                if profile.trust.ca_env:
                    extra[profile.trust.ca_env] = str(backend.ca_bundle())
                if profile.trust.resolve_env:
                    extra[profile.trust.resolve_env] = world.resolve_map()
                session = CliSession(profile, Path(root) / "cli", extra_env=extra,
                                     timeout=timeout)
                host = world.host("console", profile.host_form)
                key = world.user_key(USER)
                mark = world.journal.mark()
                login = _safe_run(session, "login", host=host, key=key)
                login_findings = explain_login(profile, session, login, host, key,
                                               world.journal.since(mark))
                for finding in login_findings:
                    note(finding)
                if all(f.ok for f in login_findings):
                    note(explain_switch(session, _safe_run(session, "switch", rack=RACK)))
            finally:
                world.close()
    finally:
        backend.stop()
    return findings


def _safe_run(session: CliSession, operation: str, *, host: str | None = None,
              key: str | None = None, rack: str | None = None) -> Invocation:
    """Run an operation; a timeout comes back as a timed-out invocation, not an exception."""
    try:
        return session.run(operation, host=host, key=key, rack=rack)
    except AssertionError:  # CliTimeout: the invocation is recorded with timed_out=True
        return session.invocations[-1]
