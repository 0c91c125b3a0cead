"""``convox-conformance smoke``: is the profile wired right, before a full run?

A wrong ``config_dir`` or ``host_form`` makes every check fail for the same
boring reason, which buries the message. The smoke test runs the handful of
steps everything else builds on (the CLI starts, a good login succeeds, the
key lands where the profile says, a switch is recorded where the profile
says) and explains each mismatch in plain words, naming the profile field to
look at. Each diagnosis rests on evidence, not on a guess from the step that
failed: what the fakes saw (no request, a request with another key) and what
the CLI printed (all of its stderr, trimmed), and where its files landed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.commands.exit_codes import EXIT_FAILURES, EXIT_HARNESS, EXIT_OK, EXIT_USAGE
from conformance.run_options import OptionError, add_arguments, chosen_profile
from conformance.running import DEFAULT_TIMEOUT
from fakes.backends import DEFAULT_BACKEND

if TYPE_CHECKING:
    from conformance.running.invoke import CliSession, Invocation
    from conformance.running.profiles import Profile

WORLD = "minimal"
USER = "alice@example.com"
RACK = "acme/production"


@dataclass
class Finding:
    """One step: whether it worked and, if not, what to fix."""

    step: str
    ok: bool
    message: str
    #: What the CLI printed, trimmed, for the reader to see the cause themselves.
    output: str = ""
    #: Worth fixing, but not a broken wiring (e.g. a version command that needs a login).
    warn: bool = False


#: What CLIs print when they refuse a server's certificate.
TLS_REFUSAL = re.compile(r"certificate|x509|\btls\b|\bssl\b|handshake|unknown authority|"
                         r"self[- ]signed|verify failed|unable to verify", re.IGNORECASE)
#: What a command that needs a login prints when nobody is logged in.
NEEDS_LOGIN = re.compile(r"\blog ?in\b|no racks? found|not logged|unauthori[sz]ed|"
                         r"authenticat|no (?:host|console|auth)", re.IGNORECASE)
#: Exit codes of a program that never ran (shell conventions: not executable, not found).
NOT_STARTED = (126, 127)
MAX_LINES = 12
MAX_LINE = 200


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


def printed(invocation: Invocation) -> str:
    """All the CLI said (stderr, else stdout), trimmed: a warning printed first must
    not hide the error after it."""
    text = invocation.stderr if invocation.stderr.strip() else invocation.stdout
    lines = [line.rstrip()[:MAX_LINE] for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        head, tail = lines[:4], lines[-(MAX_LINES - 5):]
        lines = [*head, f"… ({len(lines) - len(head) - len(tail)} more lines)", *tail]
    return "\n".join(lines)


def wrote(session: CliSession, invocation: Invocation) -> list[str]:
    """The files an invocation created or changed, as ``~/...`` paths."""
    return ["~/" + change.path for change in invocation.changes if change.after is not None]


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
    command = " ".join(invocation.argv)
    said_text = printed(invocation)
    if invocation.exit_code != 0:
        code = invocation.exit_code
        if code in NOT_STARTED or (code is not None and code < 0) or not said_text:
            return Finding("start", False, f"the CLI does not start: `{command}` exited {code}"
                           f"{said(invocation)}: check command (or --cli)", said_text)
        if NEEDS_LOGIN.search(said_text):
            return Finding("start", True, f"the CLI starts, but its version operation needs a "
                           f"login (`{command}` exited {code}{said(invocation)}): give "
                           "operations.version a form that works before any login, e.g. "
                           '["--version"]', said_text, warn=True)
        return Finding("start", False, f"the CLI starts, but `{command}` exited {code} for its "
                       f"version operation{said(invocation)}: check operations.version",
                       said_text)
    shown = first_line(invocation.output) or "(no output)"
    return Finding("start", True, f"the CLI starts: {shown}")


def explain_failed_login(profile: Profile, invocation: Invocation, host: str, key: str,
                         reached: list[Any], identity: Callable[[str], str] | None) -> Finding:
    """Trust, reachability or the key's encoding: from what the fakes saw and the CLI said."""
    output = printed(invocation)
    exited = f"login exited {invocation.exit_code}"
    if not reached:
        if TLS_REFUSAL.search(output):
            if profile.trust.ca_env:
                hint = (f"check [trust] ca_env: the CLI does not seem to read "
                        f"{profile.trust.ca_env} for its CA bundle")
            else:
                hint = ("set [trust] ca_env to the variable this CLI reads its CA bundle from "
                        "(the CLI must trust the suite's CA)")
            return Finding("login", False, f"{exited}; the CLI reached the fake Console at "
                           f"{host} but refused its certificate: {hint}", output)
        hint = f"check host_form ({profile.host_form!r})"
        hint += (f", [trust] resolve_env ({profile.trust.resolve_env!r})"
                 if profile.trust.resolve_env else "")
        return Finding("login", False, f"{exited}; no request from the CLI reached the fake "
                       f"Console at {host}: {hint} and whether the CLI can connect to loopback "
                       "at all", output)
    expected = identity(key) if identity else None
    keys = sorted({str(getattr(entry, "key_identity", "")) for entry in reached} - {""})
    statuses = sorted({str(getattr(entry, "status", "")) for entry in reached} - {""})
    if expected and expected not in keys:
        return Finding("login", False, f"{exited}; the fake Console got a key, but not the one "
                       f"the profile passed (it saw {', '.join(keys) or 'none'}, expected "
                       f"{expected}): the CLI changes the key on the way (encoding, quoting); "
                       "check how operations.login passes {key}", output)
    return Finding("login", False, f"{exited}; Console answered {statuses} to the right key: "
                   "check operations.login", output)


def explain_login(profile: Profile, session: CliSession, invocation: Invocation, host: str,
                  key: str, journal: list[Any],
                  identity: Callable[[str], str] | None = None) -> list[Finding]:
    """Why a good login did or did not leave the files the profile describes."""
    config_dir = home_path(session, session.config_dir)
    auth_shown = home_path(session, session.state.auth_path)
    reached = [entry for entry in journal if getattr(entry, "server", None) == "console"]
    if invocation.timed_out:
        return [Finding("login", False, f"login to {host} did not finish in time: does it prompt "
                        "for input? check operations.login")]
    if invocation.exit_code != 0:
        return [explain_failed_login(profile, invocation, host, key, reached, identity)]
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
                       f"{said(invocation)}: check operations.switch", printed(invocation))
    landed = [path for path in wrote(session, invocation) if path != selection_shown]
    elsewhere = (f"; the switch wrote {', '.join(landed)}" if landed
                 else "; the switch wrote no file under HOME")
    try:
        selected = session.state.selection()
    except Exception as exc:
        return Finding("switch", False, f"switch exited 0 but {selection_shown} "
                       f"cannot be read as layout.selection = {session.profile.layout.selection!r}"
                       f": {exc}")
    if selected == RACK:
        return Finding("switch", True, f"the selection {RACK} is in {selection_shown}")
    if selected is None:
        return Finding("switch", False, f"switch exited 0 but left no selection in "
                       f"{selection_shown}{elsewhere}: check layout.selection "
                       f"({session.profile.layout.selection!r}) and layout.config_dir")
    return Finding("switch", False, f"switch exited 0 but {selection_shown} gives "
                   f"{selected!r}, expected {RACK!r}: check layout.selection "
                   f"({session.profile.layout.selection!r}){elsewhere}")


def run_smoke(profile: Profile, *, backend_name: str = DEFAULT_BACKEND,
              timeout: float = DEFAULT_TIMEOUT,
              say: Callable[[Finding], None] | None = None) -> list[Finding]:
    """Run the steps, reporting each as it completes; raises HarnessFailure."""
    from conformance.running.invoke import CliSession
    from fakes.backends.in_process import get_backend

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
                world = backend.new_world(WORLD, profile.rack_api)
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
                                               world.journal.since(mark), world.key_identity)
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


def add_command(sub: argparse._SubParsersAction) -> None:
    """``smoke``, with the options it shares with ``run``."""
    smoke = sub.add_parser("smoke", help="check that a profile is wired right, in plain words")
    add_arguments(smoke, ["cli", "profile", "backend", "cli_timeout"])
    smoke.set_defaults(func=cmd_smoke)


def cmd_smoke(args: argparse.Namespace) -> int:
    from conformance.running.invoke import CliNotRunnable

    try:
        profile = chosen_profile(args.profile, args.cli)
    except OptionError as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def say(finding: Finding) -> None:
        mark = "FAIL" if not finding.ok else "warn" if finding.warn else "ok  "
        print(f"{mark}  {finding.step:7} {finding.message}", flush=True)
        if finding.output and (not finding.ok or finding.warn):
            print("\n".join(f"              | {line}" for line in finding.output.splitlines()),
                  flush=True)

    print(f"smoke test of {' '.join(profile.command_argv())} with profile {profile.name} "
          f"({profile.source})")
    try:
        findings = run_smoke(profile, backend_name=args.backend, timeout=args.cli_timeout,
                             say=say)
    except HarnessFailure as exc:
        print(f"convox-conformance: harness error: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    except CliNotRunnable as exc:
        print(f"convox-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    bad = [f for f in findings if not f.ok]
    if bad:
        print(f"{len(bad)} problem(s): fix the profile (or the CLI) before a full run")
        return EXIT_FAILURES
    print("the profile is wired right; run the suite with: convox-conformance run "
          f"--profile {args.profile}" + (f" --cli {args.cli}" if args.cli else ""))
    return EXIT_OK
