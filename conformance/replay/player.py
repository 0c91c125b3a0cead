"""Replay a check's trail against a fresh `serve`: what a repro script runs.

A repro script (``reports/<run>/repro/<check>.sh``) holds one check's trail
(conformance.replay.record) and hands it to ``convox-conformance replay``. The replay
starts ``convox-conformance serve`` with the check's world, takes keys from its
admin API *now* (the script holds none), makes fresh homes, and repeats the
steps in order: world events, hand edits, CLI invocations with the same
arguments and environment. It prints each step as a user would read it (keys
as identities) and compares what each invocation did (exit code, output,
files changed, requests the fakes saw) with the failing run.

Exit codes: 1 when every step did what it did in the failing run (the
failure reproduced), 0 when a step did something else (the first difference is
shown; a CLI that was fixed ends here), 2 for a bad trail or bad options, 3
when serve could not be started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets as random
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from conformance.replay.record import (
    DIGIT,
    LOWER,
    MAX_OUTPUT,
    TOKEN,
    TRAIL_VERSION,
    UPPER,
    Tokens,
    change_signature,
    encode_b64,
    encode_basic,
    request_signature,
)
from conformance.running.world_session import make_session

EXIT_SAME, EXIT_DIFFERENT, EXIT_USAGE, EXIT_HARNESS = 1, 0, 2, 3
IDENTITY = re.compile(r"^(?P<name>.*)#(?P<gen>\d+)$")


class ReplayError(ValueError):
    """A trail or option that cannot be replayed (one line, for the user)."""


def load(text: str) -> dict[str, Any]:
    """A repro document (check info plus trail) from the script's JSON."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReplayError(f"not a repro document: {exc}") from None
    trail = data.get("trail") if isinstance(data, dict) else None
    if not isinstance(trail, dict) or trail.get("version") != TRAIL_VERSION:
        raise ReplayError(f"not a repro document of version {TRAIL_VERSION}")
    return data


@contextlib.contextmanager
def serve(world: str, *, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> Iterator[str]:
    """`convox-conformance serve --world WORLD` in a subprocess; yields its admin URL.

    What serve prints (the world's keys among it) is read and dropped, never shown.
    No ``CONVOX_*`` variable of the caller's reaches it.
    """
    base = os.environ if env is None else env
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.backends.serve", "--world", world],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={k: v for k, v in base.items() if not k.startswith("CONVOX_")},
    )
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:
        found = re.match(r"^Admin API:\s+(http://\S+)", line)
        url = found[1] if found else url
        if line.strip() == "Ready.":
            break
    try:
        if url is None:
            error = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
            raise ReplayError(f"serve did not start: {error[-1] if error else 'no output'}")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


class Keys:
    """Tokens back to keys of the replay's world, and its keys back to tokens.

    A world key is asked for by identity (``user:alice@example.com#2``). The
    failing run may have started at a later generation than a fresh world (a
    stateful check's last example comes after earlier ones regenerated keys),
    so generations are matched relative to the first one each identity is used
    at. Made-up keys are drawn afresh from their shape, once per replay.
    """

    def __init__(self, world: Any, shapes: list[list[str]]) -> None:
        self.world = world
        self.shapes = shapes
        self.drawn: dict[int, str] = {}
        self.bound: dict[str, str] = {}  # recorded identity -> key (keys made by events)
        self.offset: dict[str, int] = {}

    def _generations(self, name: str) -> dict[int, str]:
        found = {}
        for key in self.world.secrets():
            match = IDENTITY.match(self.world.key_identity(key))
            if match and match["name"] == name:
                found[int(match["gen"])] = key
        return found

    def key(self, ident: str) -> str:
        if ident in self.bound:
            return self.bound[ident]
        match = IDENTITY.match(ident)
        if match is None:
            raise ReplayError(f"the failing run used a key this world cannot give: {ident}")
        name, gen = match["name"], int(match["gen"])
        have = self._generations(name)
        if not have:
            raise ReplayError(f"serve's world has no key for {name}")
        if name not in self.offset:
            self.offset[name] = max(have) - gen
        found = have.get(gen + self.offset[name])
        if found is None:
            raise ReplayError(f"serve's world has no key for {ident} (yet)")
        return found

    def draw(self, number: int) -> str:
        if number not in self.drawn:
            if number >= len(self.shapes):
                raise ReplayError(f"the trail names made-up key {number} but has no shape for it")
            pools = {LOWER: string.ascii_lowercase, UPPER: string.ascii_uppercase,
                     DIGIT: string.digits}
            self.drawn[number] = "".join(
                random.choice(pools[part]) if part in pools else part
                for part in self.shapes[number])
        return self.drawn[number]

    def recorded_identity(self, key: str) -> str:
        """The identity the failing run would have shown for this replay key."""
        for ident, bound in self.bound.items():
            if bound == key:
                return ident
        ident = self.world.key_identity(key)
        match = IDENTITY.match(ident)
        if match and match["name"] in self.offset:
            return f"{match['name']}#{int(match['gen']) - self.offset[match['name']]}"
        return ident


class Replay:
    """One trail replayed against one serve world, printing as it goes."""

    def __init__(self, doc: dict[str, Any], world: Any, backend: Any, profile: Any,
                 root: Path, out: TextIO, timeout: float) -> None:
        self.doc = doc
        self.trail = doc["trail"]
        self.world = world
        self.backend = backend
        self.profile = profile
        self.root = root
        self.out = out
        self.timeout = timeout
        self.keys = Keys(world, self.trail.get("drawn", []))
        self.sessions: dict[int, Any] = {}
        self.faults: dict[int, Any] = {}
        self.recorded_generations = Generations()
        self.replayed_generations = Generations()
        self.hosts = {self.world.host(s, profile.host_form): s for s in world.servers()}

    # tokens ------------------------------------------------------------------
    def fill(self, text: Any) -> Any:
        if isinstance(text, list):
            return [self.fill(t) for t in text]
        if isinstance(text, dict):
            return {k: self.fill(v) for k, v in text.items()}
        if not isinstance(text, str):
            return text

        def one(match: re.Match[str]) -> str:
            kind, arg = match[1], match[2]
            if kind == "key":
                ident, _, number = arg.partition(" ")
                try:
                    return self.keys.key(ident)
                except ReplayError:
                    if not number:
                        raise
                    # Issued by the command itself in the failing run: draw it now.
                    key = self.keys.draw(int(number))
                    self.keys.bound[ident] = key
                    return key
            if kind == "drawn":
                return self.keys.draw(int(arg))
            if kind == "new":
                ident, _, number = arg.rpartition(" ")
                key = self.keys.draw(int(number))
                self.keys.bound[ident] = key
                return key
            if kind in ("basic", "b64"):
                key = one(TOKEN.match("{{" + arg + "}}"))  # type: ignore[arg-type]
                return encode_basic(key) if kind == "basic" else encode_b64(key)
            if kind == "host":
                return self.world.host(arg, self.profile.host_form)
            return str(self.session(int(arg)).home)

        return TOKEN.sub(one, text)

    def tokens(self) -> Tokens:
        """This replay's keys, hosts and homes as the failing run's tokens."""
        world_keys = set(self.world.secrets())
        tok = Tokens(world_keys, self.keys.recorded_identity, self.hosts,
                     {n: s.home for n, s in self.sessions.items()})
        for number, key in self.keys.drawn.items():
            tok.known_drawn(key, number)
        return tok

    def session(self, home: int) -> Any:
        if home not in self.sessions:
            directory = self.root / f"home-{home}"
            directory.mkdir()
            session = make_session(self.profile, self.backend, self.world, directory,
                                   self.timeout)
            session.trail = None
            self.sessions[home] = session
        return self.sessions[home]

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # steps -------------------------------------------------------------------
    def run(self) -> int:
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
            return EXIT_DIFFERENT
        self.say("REPRODUCED: every invocation did what it did in the failing run "
                 "(exit codes, output, files, requests)")
        return EXIT_SAME

    def world_step(self, number: int, step: dict[str, Any]) -> None:
        call, args = step["call"], step["args"]
        shown = ", ".join(json.dumps(a) if not isinstance(a, str) else _show_tokens(a)
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
        session = self.session(step["home"])
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
        session = self.session(step["home"])
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
        renamed = {self.world.key_identity(k): self.keys.recorded_identity(k)
                   for k in self.world.secrets()}
        requests = [request_signature(e, lambda i: renamed.get(i, i))
                    for e in self.world.journal.since(mark)]
        tok = self.tokens()
        shown = " ".join(["CLI", *(shlex.quote(_show_tokens(tok.text(a))) for a in args)])
        env_shown = " ".join(f"{k}={_show_tokens(tok.text(v))}" for k, v in env.items())
        inside = f" (in ~/{step['cwd']})" if step.get("cwd") else ""
        self.say(f"[{number}] home {step['home']}{inside} $ {env_shown + ' ' if env_shown else ''}"
                 f"{shown}" + ("   (key typed at the prompt)" if typed else ""))
        got: dict[str, Any] = {
            "exit": "timeout" if invocation.timed_out else str(invocation.exit_code),
            "stdout": self._as_recorded(tok.text(invocation.stdout), step)[:MAX_OUTPUT],
            "stderr": self._as_recorded(tok.text(invocation.stderr), step)[:MAX_OUTPUT],
            "files": [tok.value(change_signature(c)) for c in invocation.changes],
            "requests": [tok.text(r) for r in requests],
        }
        self.say(f"    exit {got['exit']} in {invocation.duration:.2f}s")
        for name in ("stdout", "stderr"):
            if got[name].strip():
                for line in _show_tokens(got[name]).strip().splitlines()[:20]:
                    self.say(f"    {name}: {line}")
        for request in got["requests"]:
            self.say(f"    request: {_show_tokens(request)}")
        for change in got["files"]:
            mode = f" {change[2]}" if change[2] else ""
            self.say(f"    file {change[0]}: ~/{change[1]}{mode}")
        return _difference(step["outcome"], got, self.recorded_generations,
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
        if operation.prompt is not None:
            return lambda: session._run_prompt(operation, args, env, typed or "", timeout)
        return lambda: session._run(op, args, env, timeout)


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


def _show_tokens(text: str) -> str:
    """Tokens as a reader wants them: ``<user:alice@example.com#1>``, ``<console>``."""
    def one(match: re.Match[str]) -> str:
        kind, arg = match[1], match[2]
        if kind == "new":
            return f"<{arg.rpartition(' ')[0]}>"
        if kind == "key":
            return f"<{arg.partition(' ')[0]}>"
        if kind == "drawn":
            return f"<made-up key {arg}>"
        if kind == "home":
            return "~" if arg == "1" else f"~home{arg}"
        if kind in ("basic", "b64"):
            return f"<{kind} of {_show_tokens('{{' + arg + '}}')[1:-1]}>"
        return f"<{arg}>"

    return TOKEN.sub(one, text)


#: Values each world makes afresh (login ids, release and request ids): compared as a kind.
_FRESH = [
    # A typed key's shape number is the recording's business, not an observation.
    (re.compile(r"\{\{((?:b64 |basic )?key) ([^{} ]+) \d+\}\}"), r"{{\1 \2}}"),
    # A key no world issued (one the CLI altered) is named by a hash of itself.
    (re.compile(r"\bunknown:[0-9a-f]{8}\b"), "unknown:<key>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<uuid>"),
    (re.compile(r"\b[0-9a-fA-F]{12,}\b"), "<hex>"),
    (re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,}\b"), "<id>"),
]
#: In stored files only: a key the CLI altered before storing it (encoded, normalised)
#: derives from a key drawn afresh for the replay, so it is compared as an opaque run.
_OPAQUE = re.compile(r"(?<![{\w])(?=[A-Za-z+/_=%-]*\d)[A-Za-z0-9+/_=%-]{16,}(?![}\w])")


def _fresh(value: Any) -> Any:
    """``value`` with what a fresh world draws anew (ids) replaced by its kind."""
    if isinstance(value, str):
        for pattern, kind in _FRESH:
            value = pattern.sub(kind, value)
        return value.strip()
    if isinstance(value, list | tuple):
        return [_fresh(v) for v in value]
    return value


class Generations:
    """Key generations renumbered by first appearance, per identity: ``user:alice#3``
    becomes ``user:alice#1`` if it is the first of alice's keys this side has shown.

    Keys only Console's proxy hop uses (a rack's own key, rolled in an earlier
    example of a stateful check) are never asked for by the replay, so their
    generation cannot be matched through the key; their order of appearance can."""

    PATTERN = re.compile(r"\b([a-z]+:[^\s#'\",{}]+)#(\d+)")

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, int]] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            order = self.seen.setdefault(match[1], {})
            return f"{match[1]}#{order.setdefault(match[2], len(order) + 1)}"

        return self.PATTERN.sub(one, value)


def _difference(expected: dict[str, Any], got: dict[str, Any],
                recorded: Generations | None = None, replayed: Generations | None = None
                ) -> str | None:
    """The first way this invocation differs from the failing run's, in words."""
    recorded = recorded or Generations()
    replayed = replayed or Generations()
    expected = {k: recorded(_fresh(v)) for k, v in expected.items()}
    got = {k: replayed(_fresh(v)) for k, v in got.items()}
    for side in (expected, got):
        side["files"] = [[_OPAQUE.sub("<opaque>", part) if isinstance(part, str) else part
                          for part in change] for change in side.get("files", [])]
    if expected.get("exit") != got["exit"]:
        return f"exit {got['exit']} here, {expected.get('exit')} in the failing run"
    for name in ("stdout", "stderr"):
        if (expected.get(name) or "") != got[name]:
            return (f"{name} differs: here {_show_tokens(got[name]).strip()[:200]!r}, "
                    f"in the failing run {_show_tokens(expected.get(name) or '').strip()[:200]!r}")
    if expected.get("files", []) != got["files"]:
        mine = {c[1]: c for c in got["files"]}
        theirs = {c[1]: c for c in expected.get("files", [])}
        if set(mine) != set(theirs):
            return (f"files changed differ: here {[c[:2] for c in got['files']]}, in the "
                    f"failing run {[c[:2] for c in expected.get('files', [])]}")
        path = next(p for p in mine if mine[p] != theirs[p])
        return (f"~/{path} differs: here {_show_tokens(str(mine[path][2:]))[:300]}, in the "
                f"failing run {_show_tokens(str(theirs[path][2:]))[:300]}")
    if list(expected.get("requests", [])) != got["requests"]:
        return (f"requests differ: here {[_show_tokens(r) for r in got['requests']]}, in the "
                f"failing run {[_show_tokens(r) for r in expected.get('requests', [])]}")
    return None


def replay(doc: dict[str, Any], *, cli: str | None = None, profile: str | None = None,
           timeout: float | None = None, out: TextIO = sys.stdout) -> int:
    """Replay one repro document; the exit code as documented above."""
    root = Path(tempfile.mkdtemp(prefix="convox-conformance-replay-"))
    try:
        return _replay_in(root, doc, cli, profile, timeout, out)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _profile_of(doc: dict[str, Any], root: Path) -> str:
    """The recorded profile: its file where it still is, else its recorded text, else the
    shipped profile of that name."""
    path = doc.get("profile_path")
    if path and Path(path).is_file():
        return str(path)
    text = doc.get("profile_toml")
    if isinstance(text, str) and text.strip():
        copy = root / Path(path or "profile.toml").name
        copy.write_text(text, encoding="utf-8")
        return str(copy)
    return str(doc["trail"]["profile"])


def _replay_in(root: Path, doc: dict[str, Any], cli: str | None, profile: str | None,
               timeout: float | None, out: TextIO) -> int:
    from conformance.running.invoke import DEFAULT_TIMEOUT, CliNotRunnable, check_runnable
    from conformance.running.profiles import ProfileError, load_profile
    from fakes.backends.remote import RemoteBackend

    try:
        chosen = load_profile(profile or _profile_of(doc, root))
    except (ProfileError, OSError) as exc:
        raise ReplayError(f"profile: {exc}") from None
    command = cli or doc.get("cli_command")
    if command:
        chosen = chosen.with_command(command)
    try:
        check_runnable(chosen)
    except CliNotRunnable as exc:
        raise ReplayError(f"{exc} (give --cli PATH)") from None
    with serve(doc["trail"]["world"]) as url:
        backend = RemoteBackend(url)
        try:
            world = backend.new_world(doc["trail"]["world"], chosen.rack_api)
            return Replay(doc, world, backend, chosen, root, out,
                          timeout or doc.get("cli_timeout") or DEFAULT_TIMEOUT).run()
        finally:
            backend.stop()


def main(args: Any) -> int:
    """``convox-conformance replay FILE|-``: the exit code as documented above."""
    prefix = "convox-conformance replay: "
    try:
        source = args.trail
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        doc = load(_json_of(text))
        return replay(doc, cli=args.cli, profile=args.profile, timeout=args.cli_timeout)
    except OSError as exc:
        print(f"{prefix}cannot read {args.trail}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ReplayError as exc:
        code = EXIT_HARNESS if str(exc).startswith("serve did not start") else EXIT_USAGE
        print(f"{prefix}{exc}", file=sys.stderr)
        return code


def repro_main(args: Any) -> int:
    """``convox-conformance repro CHECK``: run that check alone, then replay what failed."""
    prefix = "convox-conformance repro: "
    check = args.check.strip()
    select = (["--rule", check] if re.fullmatch(r"[A-Z]+-\d{3}", check)
              else ["--", "-k", check.rpartition("::")[2] or check])
    with tempfile.TemporaryDirectory(prefix="convox-conformance-repro-") as reports:
        command = [sys.executable, "-m", "conformance", "run", "--report-dir", reports,
                   "--network", args.network, "--no-color"]
        if args.cli:
            command += ["--cli", args.cli]
        if args.profile:
            command += ["--profile", args.profile]
        if args.cli_timeout:
            command += ["--cli-timeout", str(args.cli_timeout)]
        done = subprocess.run([*command, *select], check=False)
        results = Path(reports) / "latest" / "results.json"
        if done.returncode in (2, 3) or not results.exists():
            print(f"{prefix}the run of {check} ended with exit {done.returncode}; "
                  "nothing to replay", file=sys.stderr)
            return done.returncode if done.returncode in (2, 3) else EXIT_HARNESS
        checks = json.loads(results.read_text(encoding="utf-8"))["checks"]
        scripts = [c["repro"] for c in checks if c.get("repro")]
        if not checks:
            print(f"{prefix}no check matches {check}", file=sys.stderr)
            return EXIT_USAGE
        unchecked = [c for c in checks if c["outcome"] == "not-checked"]
        if unchecked and not scripts:
            print(f"{prefix}{check} was not checked: {unchecked[0].get('reason') or ''}; "
                  "run it with --network sandbox", file=sys.stderr)
            return EXIT_USAGE
        if not scripts:
            print(f"\n{check}: every check passed or was not applicable; nothing to replay")
            return EXIT_DIFFERENT
        code = EXIT_DIFFERENT
        for script in scripts:
            print()
            doc = load(_json_of((Path(reports) / "latest" / script).read_text("utf-8")))
            try:
                got = replay(doc, cli=args.cli, profile=args.profile, timeout=args.cli_timeout)
            except ReplayError as exc:
                print(f"{prefix}{exc}", file=sys.stderr)
                return EXIT_USAGE
            code = EXIT_SAME if got == EXIT_SAME else code
        return code


def _json_of(text: str) -> str:
    """The JSON document of a repro script (or the text itself, if it is JSON)."""
    for line in text.splitlines():
        if line.startswith("{"):
            return line
    return text


__all__ = ["ReplayError", "load", "main", "replay", "repro_main"]
