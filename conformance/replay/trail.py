"""What a check did, step by step, in a form a replay can repeat without a key.

A CLI author who reads "LOGOUT-006 failed" wants to watch it happen with their
own build. The report's evidence says what happened, but rebuilding the
check's world by hand (keys regenerated, racks rolled, faults injected, files
edited, in the right order) is a day's work. So the harness records, for
every check, the steps it took:

* ``run``: one CLI invocation: the profile operation, its arguments and
  environment, in which home, and what came of it (the *signature*: exit
  code, output, files changed, requests the fakes saw);
* ``edit``: what the check changed by hand in a home between two invocations,
  found by comparing the home after one invocation with the home before the
  next, so no check has to announce its edits;
* ``world``: a world event (key regeneration, rack-key roll, fault, clock
  step, plan or membership change), told by
  :class:`conformance.replay.record.RecordingWorld`.

Keys never leave the recording: :meth:`Trail.export` writes every key, host
string and home path as a token (conformance.replay.tokens): a world key as
its identity, a key the check made up with only its *shape* kept, so a replay
on another machine, with other ports and keys, compares like with like.

Property and stateful checks run many examples; only the last one (the one
Hypothesis replays to report its failure) is kept.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.replay.signatures import (
    MAX_OUTPUT,
    change_signature,
    exit_signature,
    hand_edits,
    request_signature,
)
from conformance.replay.tokens import Tokens
from conformance.running.home_files import FileSnapshot

TRAIL_PROPERTY = "conformance.trail"
TRAIL_VERSION = 1
#: Steps of one check kept at most (a model check runs hundreds of invocations).
MAX_STEPS = 400
RAW_OUTPUT = 2 * MAX_OUTPUT
#: A loopback host left after the world's hosts became tokens: a server the check ran itself.
LOOPBACK = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+")
#: A key the world issued: ``kind:name#generation`` (a replay asks serve for it).
ISSUED = re.compile(r"^[a-z]+:.+#\d+$")

_EXAMPLES = itertools.count(1)


def _project_directory(session: Any) -> dict[str, str]:
    """``{"cwd": path relative to the home}`` when the run was in a project directory."""
    if getattr(session, "workdir", None) is None:
        return {}
    home, workdir = Path(session.home).resolve(), Path(session.workdir).resolve()
    if workdir == home / "work" or not workdir.is_relative_to(home):
        return {}
    return {"cwd": str(workdir.relative_to(home))}


def _example() -> int | None:
    """The number of the Hypothesis example under way, or None outside one.

    Numbered on the example's own build context (ids of dead objects come back).
    """
    try:
        from hypothesis.control import current_build_context

        context = current_build_context()
    except Exception:  # not in a Hypothesis example (InvalidArgument), or no Hypothesis
        return None
    number = getattr(context, "_conformance_example", None)
    if number is None:
        number = next(_EXAMPLES)
        context._conformance_example = number  # type: ignore[attr-defined]
    return int(number)


_SEQ = itertools.count(1)


@dataclass
class _Raw:
    kind: str
    example: int | None
    data: dict[str, Any]
    #: Stable however many steps are dropped (a fault's removal names its injection by it).
    seq: int = field(default_factory=lambda: next(_SEQ))


@dataclass
class Trail:
    """The raw steps of one check (with keys in them: never written as they are)."""

    world: Any
    world_name: str
    profile: Any
    network: str = "host"
    #: Host string -> server, in the forms a CLI is given (they become {{host ...}}).
    hosts: Mapping[str, str] = field(default_factory=dict)
    steps: list[_Raw] = field(default_factory=list)
    homes: dict[int, int] = field(default_factory=dict)
    roots: dict[int, Path] = field(default_factory=dict)
    _after: dict[int, dict[str, FileSnapshot]] = field(default_factory=dict)
    _mark: int | None = None
    _faults: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _current: int | None = None
    _dropped: int = 0
    #: Hypothesis examples that raised, in order.
    failed_examples: list[int] = field(default_factory=list)
    #: Runs that overlapped another (threads): a replay runs them one after another.
    concurrent: bool = False
    _running: int = 0

    # ---------------------------------------------------------------- recording
    def home_of(self, session: Any) -> int:
        with self._lock:
            if id(session) not in self.homes:
                self.homes[id(session)] = len(self.homes) + 1
                self.roots[self.homes[id(session)]] = Path(session.home)
            return self.homes[id(session)]

    def started(self) -> None:
        with self._lock:
            self._running += 1
            if self._running > 1:
                self.concurrent = True
            if self._mark is None:
                self._mark = self.world.journal.mark()

    def ran(self, session: Any, name: str, args: list[str], env: Mapping[str, str],
            timeout: float | None, typed: str | None, before: dict[str, FileSnapshot],
            after: dict[str, FileSnapshot], invocation: Any) -> None:
        """One invocation: the hand edits before it, then the run and its signature."""
        home = self.home_of(session)
        example = _example()
        with self._lock:
            self._running -= 1
            edits = hand_edits(self._after.get(home, {}), before)
            self._after[home] = after
            journal = self.world.journal
            entries = journal.since(self._mark) if self._mark is not None else []
            self._mark = journal.mark() if not self._running else self._mark
            self._entering(example)
            for edit in edits:
                self.steps.append(_Raw("edit", example, {"home": home, **edit}))
            self.steps.append(_Raw("run", example, {
                "closed": _closed_loopback(args, self.hosts),
                "home": home, "operation": name, "args": list(args), "env": dict(env),
                "timeout": timeout, "typed": typed, **_project_directory(session),
                "outcome": {
                    "exit": exit_signature(invocation),
                    # Raw, so with room for keys that become shorter tokens; clipped again
                    # after tokenizing. A CLI printing megabytes costs the trail nothing.
                    "stdout": invocation.stdout[:RAW_OUTPUT],
                    "stderr": invocation.stderr[:RAW_OUTPUT],
                    "files": [change_signature(c) for c in invocation.changes],
                    "requests": [request_signature(e) for e in entries],
                },
            }))

    def _entering(self, example: int | None) -> None:
        """Forget the steps of the example just finished unless it failed: only a failing
        example is replayed, and a long model check would otherwise keep every one."""
        if example is None or example == self._current:
            return
        done = self._current
        self._current = example
        if done is not None and done not in self.failed_examples:
            kept = [raw for raw in self.steps if raw.example != done]
            self._dropped += len(self.steps) - len(kept)
            self.steps = kept

    def event(self, call: str, args: tuple[Any, ...], new: dict[int, bool]) -> int:
        """A world event; returns its step index (a fault's handle refers to it)."""
        with self._lock:
            self._entering(_example())
            raw = _Raw("world", _example(), {
                "call": call, "args": [_plain(a) for a in args], "new": new,
            })
            self.steps.append(raw)
            return raw.seq

    def fault_removed(self, step: int) -> None:
        with self._lock:
            self.steps.append(_Raw("world", _example(), {"call": "remove_fault", "args": [],
                                                         "fault": step, "new": {}}))

    # ---------------------------------------------------------------- exporting
    def export(self, secrets: Iterable[str], typed: Iterable[str],
               identity: Callable[[str], str]) -> dict[str, Any]:
        """The steps as key-free data: keys, hosts and home paths as tokens.

        ``secrets`` are the world's keys, ``typed`` every key the check gave
        the CLI (those the world never issued were made up by the check)."""
        steps = self._last_example()
        # Keys the world only saw typed (a wrong key sent to Console) are made up, too.
        world_keys = {s for s in secrets if s and ISSUED.match(identity(s))}
        # The homes the kept steps used, numbered afresh from 1 in order of use.
        renumber: dict[int, int] = {}
        for _, raw in steps:
            if "home" in raw.data:
                renumber.setdefault(raw.data["home"], len(renumber) + 1)
        tok = Tokens(world_keys, identity, self.hosts,
                     {new: self.roots[old] for old, new in renumber.items()})
        # Keys a world event introduced first (a new rack password), then made-up ones.
        for _, raw in steps:
            if raw.kind == "world":
                for index, is_new in raw.data.get("new", {}).items():
                    if is_new:
                        tok.new(raw.data["args"][index])
        tok.learn(typed)
        out: list[dict[str, Any]] = []
        index_of: dict[int, int] = {}
        for number, raw in steps:
            data = dict(raw.data)
            if "home" in data:
                data["home"] = renumber[data["home"]]
            if raw.kind == "world":
                new = data.pop("new", {})
                data["args"] = [tok.new(a) if new.get(i) else tok.value(a)
                                for i, a in enumerate(data["args"])]
                if "fault" in data:
                    if data["fault"] not in index_of:
                        continue  # a fault of an earlier example
                    data["fault"] = index_of[data["fault"]]
            elif raw.kind == "run":
                data["args"] = [tok.text(a) for a in data["args"]]
                outside = [a for a in data["args"] if LOOPBACK.search(a)]
                if outside:
                    data["outside"] = LOOPBACK.search(outside[0])[0]  # type: ignore[index]
                    data["outside_closed"] = data.pop("closed", {}).get(data["outside"], False)
                data.pop("closed", None)
                data["env"] = {k: tok.text(v) for k, v in data["env"].items()}
                data["typed"] = tok.text(data["typed"]) if data["typed"] is not None else None
                outcome = tok.value(data["outcome"])
                for stream in ("stdout", "stderr"):
                    outcome[stream] = outcome[stream][:MAX_OUTPUT]
                data["outcome"] = outcome
            else:
                data = tok.value(data)
                if "hex" in data and any(k.encode() in bytes.fromhex(data["hex"])
                                         for k in tok.secrets()):
                    # A key inside binary content cannot become a token: leave it out.
                    data = {"home": data["home"], "action": "unsupported", "path": data["path"],
                            "what": "binary content holding a key"}
            index_of[number] = len(out)
            out.append({"kind": raw.kind, **data})
        return {
            "version": TRAIL_VERSION,
            "world": self.world_name,
            "profile": getattr(self.profile, "name", str(self.profile)),
            "network": self.network,
            "concurrent": self.concurrent,
            "homes": len(renumber),
            "drawn": tok.shapes,
            "truncated": len(out) > MAX_STEPS,
            "steps": out[-MAX_STEPS:],
        }

    def example_failed(self) -> None:
        """The example under way raised: it, not a later passing one, is the one to keep."""
        number = _example()
        if number is not None:
            self.failed_examples.append(number)

    def _last_example(self) -> list[tuple[int, _Raw]]:
        """The steps outside any example, and those of the last example that failed (the
        last example, when none is known to have failed)."""
        examples = [raw.example for raw in self.steps if raw.example is not None]
        last = self.failed_examples[-1] if self.failed_examples else (
            examples[-1] if examples else None)
        return [(raw.seq, raw) for raw in self.steps
                if raw.example is None or raw.example == last]


def _closed_loopback(args: Iterable[str], world_hosts: Mapping[str, str]) -> dict[str, bool]:
    """Loopback ``host:port`` arguments outside the world and whether nothing listens
    there now: a check that aims a CLI at a closed port can be replayed at any closed
    port. The world's own hosts are never probed (nearly every login names one)."""
    import socket

    found = {}
    for arg in args:
        for host in LOOPBACK.findall(arg):
            if host in world_hosts:
                continue
            port = int(host.rsplit(":", 1)[1])
            with socket.socket() as probe:
                probe.settimeout(0.5)
                found[host] = probe.connect_ex(("127.0.0.1", port)) != 0
    return found


def _plain(value: Any) -> Any:
    """World-call arguments as JSON data (a Fault as its dict)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {"fault": to_dict()}
    return value


__all__ = ["TRAIL_PROPERTY", "TRAIL_VERSION", "Trail"]
