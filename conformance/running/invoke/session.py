"""One isolated home and the CLI invocations made in it: :class:`CliSession`.

Why so careful: the suite runs somebody else's binary that manages real
credentials. It must never see the caller's ``~/.convox`` (each session has a
home of its own) or its environment (:mod:`.environment`), and a CLI that
hangs must not hang the suite (every invocation has a deadline). Every
invocation of one test shares one home so state carries from ``login`` to
``switch``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from conformance.redaction import REDACTED, longest_first, replace_secrets
from conformance.running import DEFAULT_TIMEOUT
from conformance.running.capture import DEFAULT_MAX_OUTPUT, RETAINED_OUTPUT, reclip
from conformance.running.cli_files import CliState, snapshot_tree
from conformance.running.invoke.environment import scrubbed_environ
from conformance.running.invoke.invocation import CliTimeout, Invocation, file_changes
from conformance.running.invoke.process import Start, run_piped, run_prompted
from conformance.running.profiles import Operation, Profile


class CliSession:
    """One isolated home and the invocations made in it."""

    def __init__(
        self,
        profile: Profile,
        root: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = DEFAULT_MAX_OUTPUT,
        watch: Callable[[], Iterable[str]] | None = None,
        launcher: Callable[[Path], Sequence[str]] | None = None,
    ) -> None:
        self.profile = profile
        #: Given the directory a CLI starts in, what goes before its argv but is never
        #: shown (the network sandbox's way into the world's name resolution).
        self.launcher = launcher
        self.root = root
        self.home = root / "home"
        self.xdg_config_home = self.home / ".config"
        self.config_dir = self.home / profile.layout.config_dir
        self.workdir = self.home / "work"
        for directory in (self.home, self.xdg_config_home, self.workdir):
            directory.mkdir(parents=True, exist_ok=True)
        self.extra_env = dict(extra_env or {})
        self.timeout = timeout
        self.max_output = max_output
        #: More keys to look for in output that is clipped (the world's).
        self.watch = watch
        self.state = CliState(profile.layout, self.config_dir, within=self.home)
        self.invocations: list[Invocation] = []
        #: Every secret this session passed to the CLI, for redaction.
        # Checks run commands from several threads (concurrent logins): each run adds its
        # key while others read every key known, so the set is only touched under a lock.
        self._secrets: set[str] = set()
        self._secrets_lock = threading.Lock()
        #: The check's trail (conformance.replay.trail), told of every invocation.
        self.trail: Any = None

    @contextlib.contextmanager
    def working_directory(self, path: Path) -> Iterator[None]:
        """Run the invocations inside the block in ``path`` (a project directory).

        Only directories inside the isolated home are allowed: a CLI reads
        project files (``.convox/rack``) from where it runs, and must never be
        started among the user's own.
        """
        resolved = path.resolve()
        if not resolved.is_dir() or not resolved.is_relative_to(self.home.resolve()):
            raise ValueError(f"not a directory inside the isolated home: {path}")
        saved, self.workdir = self.workdir, resolved
        try:
            yield
        finally:
            self.workdir = saved

    # environment -----------------------------------------------------------
    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The CLI's whole environment: scrubbed, pointed at the home, then the profile's."""
        env = scrubbed_environ()
        places = {
            "home": str(self.home),
            "config_dir": str(self.config_dir),
            "xdg_config_home": str(self.xdg_config_home),
        }
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.xdg_config_home),
            TMPDIR=str(self.root),
            LANG=env.get("LANG", "C.UTF-8"),
            NO_COLOR="1",
        )
        env.update({k: v.format(**places) for k, v in self.profile.layout.env.items()})
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    # running ---------------------------------------------------------------
    @property
    def secrets(self) -> frozenset[str]:
        """Every key this session was handed so far (a snapshot)."""
        with self._secrets_lock:
            return frozenset(self._secrets)

    def remember(self, secret: str) -> None:
        """Treat ``secret`` as a key: redacted in reports, named if output drops it."""
        with self._secrets_lock:
            self._secrets.add(secret)

    def run(
        self,
        operation: str,
        *,
        host: str | None = None,
        key: str | None = None,
        rack: str | None = None,
        password: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Invocation:
        """Run a profile operation; placeholders come from the keywords."""
        op = self.profile.operations.get(operation)
        if op is None:
            raise KeyError(f"profile {self.profile.name} has no operation {operation!r}")
        values = {"host": host, "key": key, "rack": rack, "password": password}
        for secret in (key, password):
            if secret:
                self.remember(secret)
        args = [self._fill(op, part, values) for part in op.argv]
        op_env = {name: self._fill(op, value, values) for name, value in op.env.items()}
        op_env.update(env or {})
        return self.run_filled(op, args, op_env, timeout, typed=key)

    def run_filled(
        self,
        op: Operation,
        args: list[str],
        env: Mapping[str, str],
        timeout: float | None,
        typed: str | None = None,
    ) -> Invocation:
        """Run ``op`` with its argv and env already filled in (``replay`` re-runs a step so).

        ``typed`` is what a prompt operation gets typed at its prompt.
        """
        if op.prompt is not None:
            return self._run(op.name, args, env, timeout, prompt=op.prompt, key=typed or "")
        return self._run(op.name, args, env, timeout)

    def run_args(
        self,
        args: Iterable[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Invocation:
        """Run the CLI with raw arguments (for checks outside the operations)."""
        return self._run("raw", list(args), dict(env or {}), timeout)

    def _fill(self, op: Operation, template: str, values: Mapping[str, str | None]) -> str:
        def value(name: str) -> str:
            got = values[name]
            if got is None:
                raise ValueError(f"operation {op.name} needs {name}=")
            return got

        names = {name: value(name) for name in ("host", "key", "rack", "password")
                 if "{" + name + "}" in template}
        return template.format(**names)

    def _display(self, args: list[str]) -> list[str]:
        return [self._redact(part) for part in self.profile.command_argv() + args]

    def _retained(self, invocation: Invocation) -> Invocation:
        """The copy kept for evidence: big streams clipped to RETAINED_OUTPUT.

        The check gets the whole capture; keeping that for every invocation
        of a long check would make memory grow with what the CLI prints.
        Known keys (the session's and ``watch``'s) that only the clipped part
        held are named in its marker, so checks that scan ``invocations`` for
        printed keys still find them.
        """
        if (len(invocation.stdout) <= RETAINED_OUTPUT
                and len(invocation.stderr) <= RETAINED_OUTPUT):
            return invocation
        watch = {*self.secrets, *(self.watch() if self.watch else ())}
        out = reclip(invocation.stdout, invocation.stdout_dropped, RETAINED_OUTPUT, watch)
        err = reclip(invocation.stderr, invocation.stderr_dropped, RETAINED_OUTPUT, watch)
        return replace(invocation, stdout=out.text, stderr=err.text,
                       stdout_dropped=out.dropped, stderr_dropped=err.dropped)

    def _redact(self, text: str) -> str:
        return replace_secrets(text, longest_first(self.secrets), _redacted)[0]

    def _run(
        self,
        name: str,
        args: list[str],
        op_env: Mapping[str, str],
        timeout: float | None,
        *,
        prompt: str | None = None,
        key: str | None = None,
    ) -> Invocation:
        """One invocation: piped, or on a terminal that types ``key`` at ``prompt``."""
        argv = self.profile.command_argv() + args
        limit = timeout or self.timeout
        before = snapshot_tree(self.home)
        if self.trail is not None:
            self.trail.started()
        started_at = time.time()
        started = time.monotonic()
        launcher = self.launcher(self.workdir) if self.launcher is not None else ()
        start = Start(argv=argv, launcher=launcher, cwd=self.workdir,
                      env=self.environment(op_env), deadline=started + limit,
                      max_output=self.max_output, known=lambda: self.secrets)
        exited = run_piped(start) if prompt is None else run_prompted(start, prompt, key or "")
        after = snapshot_tree(self.home)
        invocation = Invocation(
            operation=name,
            argv=self._display(args),
            exit_code=exited.exit_code,
            stdout=exited.stdout.text,
            stderr=exited.stderr.text,
            duration=time.monotonic() - started,
            timed_out=exited.timed_out,
            changes=file_changes(before, after),
            echo_off=exited.echo_off,
            started_at=started_at,
            stdout_dropped=exited.stdout.dropped,
            stderr_dropped=exited.stderr.dropped,
            leftovers=[self._redact(line) for line in exited.leftovers],
        )
        if self.trail is not None:
            self.trail.ran(self, name, args, op_env, timeout, key, before, after, invocation)
        self._record(invocation, limit)
        return invocation

    def _record(self, invocation: Invocation, limit: float) -> None:
        self.invocations.append(self._retained(invocation))
        if invocation.timed_out:
            raise CliTimeout(
                f"CLI timed out after {limit:g}s and was killed: {' '.join(invocation.argv)}"
            )


def _redacted(_secret: str) -> str:
    return REDACTED
