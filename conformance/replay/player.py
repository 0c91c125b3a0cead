"""The player: a check's trail repeated step by step against a fresh world.

It repeats the steps in order: world events, hand edits, CLI invocations with
the same arguments and environment, with every token
(conformance.replay.tokens) given a value of this replay's world
(conformance.replay.values). It prints each step as a user would read it (keys
as identities) and compares what each invocation did (exit code, output, files
changed, requests the fakes saw) with the failing run
(conformance.replay.comparison).
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from conformance.replay.comparison import Generations, difference
from conformance.replay.errors import ReplayError
from conformance.replay.signatures import (
    MAX_OUTPUT,
    change_signature,
    exit_signature,
    request_signature,
)
from conformance.replay.tokens import as_identities, fill
from conformance.replay.values import ReplayValues


class Replay:
    """One trail replayed against one serve world, printing as it goes."""

    def __init__(self, doc: dict[str, Any], world: Any, backend: Any, profile: Any,
                 root: Path, out: TextIO, timeout: float) -> None:
        self.doc = doc
        self.trail = doc["trail"]
        self.world = world
        self.profile = profile
        self.out = out
        self.values = ReplayValues(world, backend, profile, self.trail.get("drawn", []),
                                   root, timeout)
        self.faults: dict[int, Any] = {}
        self.recorded_generations = Generations()
        self.replayed_generations = Generations()

    def fill(self, value: Any) -> Any:
        """``value`` with the trail's tokens as this replay's keys, hosts and homes."""
        return fill(value, self.values)

    def say(self, text: str = "") -> None:
        """One line of the replay's account, flushed (a user watches it as it runs)."""
        print(text, file=self.out, flush=True)

    # steps -------------------------------------------------------------------
    def run(self) -> bool:
        """Every step in order; whether every invocation did what it did in the failing run."""
        steps = self.trail["steps"]
        doc = self.doc
        self.say(f"== replay of {doc.get('check')} ({', '.join(doc.get('rules', []))})")
        self.say(f"   failing run: {doc.get('run_id', '?')}, outcome {doc.get('outcome')}")
        self.say(f"   world {self.trail['world']!r}, profile {self.profile.name}")
        self.say(f"   CLI = {shlex.join(self.profile.command_argv())}")
        if self.trail.get("concurrent"):
            self.say("   note: the check ran some invocations at the same time; "
                     "here they run one after another")
        if self.trail.get("network") == "sandbox":
            self.say("   note: the check ran in the network sandbox; this replay runs on "
                     "the host network")
        if self.trail.get("truncated"):
            self.say("   note: the trail kept only the check's last steps")
        differences: list[str] = []
        for number, step in enumerate(steps, 1):
            kind = step["kind"]
            if kind == "world":
                self.world_step(number, step)
            elif kind == "edit":
                self.edit_step(number, step)
            else:
                if step.get("outside") and step.get("outside_closed"):
                    step = _with_closed_port(step)
                found = self.run_step(number, step)
                if step.get("outside") and not step.get("outside_closed"):
                    found = (f"it talks to {step['outside']}, a server the check started "
                             "itself, outside the world; a replay cannot bring that server "
                             "back, so this check's failure cannot be replayed")
                if found and not differences:
                    differences.append(f"step {number}: {found}")
        self.say()
        self.say(f"observation of the failing run: {doc.get('reason') or '(none recorded)'}")
        if differences:
            self.say(f"NOT REPRODUCED: {differences[0]}")
            return False
        self.say("REPRODUCED: every invocation did what it did in the failing run "
                 "(exit codes, output, files, requests)")
        return True

    def world_step(self, number: int, step: dict[str, Any]) -> None:
        """A world event, done through serve's admin API."""
        call, args = step["call"], step["args"]
        shown = ", ".join(json.dumps(a) if not isinstance(a, str) else as_identities(a)
                          for a in args)
        self.say(f"[{number}] world: {call}({shown})")
        if call == "remove_fault":
            handle = self.faults.pop(step.get("fault", -1), None)
            if handle is not None:
                handle.remove()
            return
        values = self.fill(args)
        if call == "inject":
            from fakes.http.faults import Fault

            spec = values[0].get("fault") if isinstance(values[0], dict) else None
            if not isinstance(spec, dict):
                raise ReplayError(f"step {number}: inject without a fault")
            self.faults[number - 1] = self.world.inject(Fault.from_dict(spec))
            return
        method = getattr(self.world, call, None)
        if method is None:
            raise ReplayError(f"step {number}: unknown world event {call}")
        method(*values)

    def edit_step(self, number: int, step: dict[str, Any]) -> None:
        """A hand edit, done again in the replay's home."""
        session = self.values.session(step["home"])
        path = session.home / step["path"]
        action = step["action"]
        self.say(f"[{number}] edit in home {step['home']}: {action} ~/{step['path']}"
                 + (f" ({step['note']})" if step.get("note") else ""))
        path.parent.mkdir(parents=True, exist_ok=True)
        if action in ("remove", "symlink") and (path.is_symlink() or path.exists()):
            path.unlink()
        if action == "symlink":
            path.symlink_to(step["target"])
        elif action == "write":
            if path.is_symlink():
                path.unlink()
            data = (self.fill(step["text"]).encode("utf-8") if "text" in step
                    else bytes.fromhex(step.get("hex", "")))
            path.write_bytes(data)
            path.chmod(int(step["mode"], 8))
        elif action == "unsupported":
            self.say(f"    (not replayed: {step.get('what')})")

    def run_step(self, number: int, step: dict[str, Any]) -> str | None:
        """One invocation run again; how it differs from the failing run's, or None."""
        session = self.values.session(step["home"])
        args = self.fill(step["args"])
        env = self.fill(step["env"])
        typed = self.fill(step["typed"]) if step.get("typed") is not None else None
        mark = self.world.journal.mark()
        op = step["operation"]
        runner = self._runner(session, op, args, env, typed, step.get("timeout"))
        from conformance.running.invoke import CliTimeout

        where = (session.working_directory(session.home / step["cwd"]) if step.get("cwd")
                 else contextlib.nullcontext())
        try:
            with where:
                invocation = runner()
        except CliTimeout:
            invocation = session.invocations[-1]
        renamed = {self.world.key_identity(k): self.values.keys.recorded_identity(k)
                   for k in self.world.secrets()}
        requests = [request_signature(e, lambda i: renamed.get(i, i))
                    for e in self.world.journal.since(mark)]
        tok = self.values.tokens()
        shown = " ".join(["CLI", *(shlex.quote(as_identities(tok.text(a))) for a in args)])
        env_shown = " ".join(f"{k}={as_identities(tok.text(v))}" for k, v in env.items())
        inside = f" (in ~/{step['cwd']})" if step.get("cwd") else ""
        self.say(f"[{number}] home {step['home']}{inside} $ {env_shown + ' ' if env_shown else ''}"
                 f"{shown}" + ("   (key typed at the prompt)" if typed else ""))
        got: dict[str, Any] = {
            "exit": exit_signature(invocation),
            "stdout": self._as_recorded(tok.text(invocation.stdout), step)[:MAX_OUTPUT],
            "stderr": self._as_recorded(tok.text(invocation.stderr), step)[:MAX_OUTPUT],
            "files": [tok.value(change_signature(c)) for c in invocation.changes],
            "requests": [tok.text(r) for r in requests],
        }
        self.say(f"    exit {got['exit']} in {invocation.duration:.2f}s")
        for name in ("stdout", "stderr"):
            if got[name].strip():
                for line in as_identities(got[name]).strip().splitlines()[:20]:
                    self.say(f"    {name}: {line}")
        for request in got["requests"]:
            self.say(f"    request: {as_identities(request)}")
        for change in got["files"]:
            mode = f" {change[2]}" if change[2] else ""
            self.say(f"    file {change[0]}: ~/{change[1]}{mode}")
        return difference(step["outcome"], got, self.recorded_generations,
                          self.replayed_generations)

    @staticmethod
    def _as_recorded(text: str, step: dict[str, Any]) -> str:
        """Output with a stand-in closed port named as the failing run's was."""
        was = step.get("outside_was")
        return text.replace(step["outside"], was) if was else text

    def _runner(self, session: Any, op: str, args: list[str], env: dict[str, str],
                typed: str | None, timeout: float | None) -> Callable[[], Any]:
        if op == "raw" or op not in self.profile.operations:
            return lambda: session.run_args(args, env=env, timeout=timeout)
        operation = self.profile.operations[op]
        return lambda: session.run_filled(operation, args, env, timeout, typed)


def _with_closed_port(step: dict[str, Any]) -> dict[str, Any]:
    """The step aimed at a loopback port closed now, as the failing run's was then."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    old = step["outside"]
    new = f"{old.rsplit(':', 1)[0]}:{port}"
    return {**step, "args": [a.replace(old, new) for a in step["args"]], "outside": new,
            "outside_closed": True, "outside_was": old}


__all__ = ["Replay"]
