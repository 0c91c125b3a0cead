"""Which checks can a mutant's change reach? Every mutant, in shadow, in one reference run.

A mutant replaces one function F of the reference CLI with its own R. Up to the
first call where R would behave differently from F, a run against the mutant
*is* a run against the reference: same requests, same files, same output. So a
check can fail against the mutant only if, somewhere in the reference's run of
that check, a call of F meets an R that answers it differently. This module
finds those calls without running the mutants:

- The reference CLI starts with every mutant's R registered beside the F it
  replaces, and F replaced by a dispatcher that runs the real F.
- After each call of F, for each mutant of F, a forked child runs R on the same
  arguments. When R calls the original it gets F's answer again (the call
  already happened in the parent, and is not repeated). The child may read but
  not change anything outside its own memory: an audit hook turns any write,
  connection, lookup, sleep or process start into a deviation, and the child's
  standard streams are its own.
- R is *equivalent on this call* only if it returned or raised the same thing,
  printed the same, called the original exactly once where F had effects (never
  skipping a request, never sending two), left as they were the arguments, F's
  answer, what it keeps between calls (its closure, defaults and attributes, and
  its module's globals) and every reference CLI module's state, and reached for
  nothing else. Anything else, including anything this module cannot compare,
  counts as a deviation: an over-estimate costs a check run, an under-estimate
  would hide a false failure.
- A call where F itself wrote a file or changed its arguments counts as a
  deviation for every mutant of F: R may have read that file or those arguments
  before calling the original, and the child sees them only as F left them (one
  zoo mutant reads auth before it stores a login). What F changed in the CLI's
  memory (a TLS context cached, a secret remembered for redaction) the child also
  sees as F left it. That is assumed harmless (such state is a cache, or the
  secrets to redact), and the mutants each full run audits against every check
  (tests/test_precision.py) test the assumption.

Mutants this cannot shadow (one that replaces a value that is not a function,
adds a name, or replaces nothing a CLI module holds) are reported as such, and
reach every check. A mutant that replaces several functions is judged at each of
them, and its replacement calling another of its own counts as a deviation.

Each CLI process appends one JSON line to the log named on its command line:
its start and end times and the mutants that deviated in it. The precision
matrix maps the lines onto the checks of the run by time, and runs each mutant
against only the checks it reaches (tests/test_precision.py).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import select
import sys
import time
import types
from collections.abc import Callable
from typing import Any

#: Audit events that change something outside the process (or wait on it).
EFFECTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
    "os.symlink", "os.link", "os.utime", "os.putenv", "os.unsetenv", "os.kill", "os.killpg",
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system", "os.chdir",
    "os.chflags", "os.lchflags", "os.mkfifo", "os.mknod", "os.setxattr", "os.removexattr",
    "subprocess.Popen", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
    "socket.gethostbyaddr", "time.sleep", "builtins.input", "fcntl.flock", "fcntl.lockf",
    "fcntl.fcntl", "fcntl.ioctl", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
    "shutil.copytree", "shutil.move", "shutil.rmtree", "shutil.chown", "tempfile.mkstemp",
    "tempfile.mkdtemp", "signal.pthread_kill", "os.setpgid", "os.setsid",
})
#: The ones of those that change the local machine (files, processes, environment):
#: after such an F, R's own reads would not see what they saw in a mutant's run.
NETWORK = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
                     "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                     "socket.gethostbyaddr"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
#: Seconds a child may take to judge one call before it counts as a deviation.
CHILD_SECONDS = 10.0
PACKAGE = "reference_cli"


class Opaque(Exception):
    """A value this module cannot compare by content."""


class Deviation(BaseException):
    """Raised inside a child the moment R reaches outside its memory.

    A BaseException, so that R's own ``except Exception`` cannot swallow it.
    """


def shape(value: Any, depth: int = 0) -> Any:
    """A comparable description of ``value``'s content; Opaque when there is none."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return (type(value).__name__, value)
    if depth > 8:
        raise Opaque("too deep")
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(shape(item, depth + 1) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple((shape(k, depth + 1), shape(v, depth + 1))
                              for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, frozenset(shape(item, depth + 1) for item in value))
    if isinstance(value, BaseException):
        return ("raised", type(value), shape(value.args, depth + 1), str(value))
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
                          type, types.MethodType)):
        return ("same object", id(value))
    if isinstance(value, os.PathLike):
        return ("path", os.fspath(value))
    fields: dict[str, Any] = {}
    for cls in type(value).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in fields and hasattr(value, name):
                fields[name] = getattr(value, name)
    fields.update(getattr(value, "__dict__", {}))
    if not fields:
        raise Opaque(type(value).__qualname__)
    return (type(value), tuple((k, shape(v, depth + 1)) for k, v in sorted(fields.items())))


def loose_shape(value: Any) -> Any:
    """shape(), with what cannot be compared by content compared by identity."""
    try:
        return shape(value)
    except (Opaque, RecursionError, TypeError, ValueError):
        return ("same object", id(value))


def module_state() -> Any:
    """Every reference CLI module's globals, for telling whether a call changed them."""
    state = []
    for name, module in sorted(sys.modules.items()):
        if name.startswith(PACKAGE) and module is not None:
            for key, value in sorted(vars(module).items()):
                if not key.startswith("__"):
                    state.append((name, key, loose_shape(value)))
    return tuple(state)


def closure_state(function: Callable[..., Any], depth: int = 0) -> Any:
    """What a replacement keeps between calls: its closure cells, default values and
    attributes, the globals of its module, and the same of the functions it closes over."""
    state: list[Any] = [loose_shape(getattr(function, "__defaults__", None)),
                        loose_shape(getattr(function, "__kwdefaults__", None)),
                        loose_shape(dict(getattr(function, "__dict__", {})))]
    if depth == 0:
        namespace = getattr(function, "__globals__", {})
        state.append(tuple((key, loose_shape(value)) for key, value in sorted(namespace.items())
                           if not key.startswith("__")))
    for cell in getattr(function, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:
            state.append(None)
            continue
        if isinstance(content, types.FunctionType) and depth < 3:
            state.append(closure_state(content, depth + 1))
        else:
            state.append(loose_shape(content))
    return tuple(state)


class Watch:
    """What the audit hook saw during one call of F in the parent."""

    __slots__ = ("effects", "local")

    def __init__(self) -> None:
        self.effects = 0
        self.local = 0


class Shadow:
    """The evaluation in progress in a child: the call of F it is judging."""

    __slots__ = ("call", "originals", "variant_points")

    def __init__(self, call: Call, variant_points: set[tuple[str, str]]) -> None:
        self.call = call
        self.originals = 0
        #: Every function this mutant replaces: calling another of them is a deviation.
        self.variant_points = variant_points


class State:
    """The process-wide state of a shadowed reference CLI (one per process)."""

    def __init__(self) -> None:
        self.watches: list[Watch] = []
        self.paused = 0
        self.block = False
        self.aborted = ""
        self.shadow: Shadow | None = None
        self.reached: dict[str, str] = {}
        self.unshadowable: dict[str, str] = {}
        self.points: dict[tuple[str, str], Point] = {}
        self.points_of: dict[str, set[tuple[str, str]]] = {}
        self._sink = -1

    def sink(self) -> int:
        """An unnamed temporary file the children's standard streams go to."""
        if self._sink < 0:
            self.paused += 1
            try:
                self._sink = os.open(os.environ.get("TMPDIR") or "/tmp",
                                     os.O_TMPFILE | os.O_RDWR, 0o600)
            finally:
                self.paused -= 1
        return self._sink

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.paused or not (self.block or self.watches):
            return
        effect = event in EFFECTS
        if event == "open":
            mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
            effect = bool((isinstance(flags, int) and flags & WRITE_FLAGS)
                          or (isinstance(mode, str) and any(c in mode for c in "wax+")))
        if not effect:
            return
        if self.block:
            self.aborted = self.aborted or f"{event} {args[:1]!r}"
            raise Deviation(event)
        for watch in self.watches:
            watch.effects += 1
            if event not in NETWORK:
                watch.local += 1


STATE = State()


class Recorder:
    """A child's sys.stdout or sys.stderr: keeps what R prints, to compare with F's."""

    def __init__(self, stream: int, log: list[tuple[int, str]]) -> None:
        self.stream = stream
        self.log = log

    def write(self, text: str) -> int:
        self.log.append((self.stream, text))
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.stream

    def isatty(self) -> bool:
        return False


class Tee:
    """sys.stdout or sys.stderr in the parent during F: writes through, and keeps a copy."""

    def __init__(self, real: Any, stream: int, log: list[tuple[int, str]]) -> None:
        self.real = real
        self.stream = stream
        self.log = log

    def write(self, text: str) -> int:
        self.log.append((self.stream, text))
        return int(self.real.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class NoInput:
    """A child's sys.stdin: reading what the parent reads would take it from the parent."""

    def __getattr__(self, name: str) -> Any:
        raise Deviation(f"stdin.{name}")


class Point:
    """One replaced function: the real F, and each mutant's R for it."""

    def __init__(self, module: types.ModuleType, name: str, real: Callable[..., Any]) -> None:
        self.module = module
        self.name = name
        self.real = real
        try:
            self.signature: inspect.Signature | None = inspect.signature(real)
        except (TypeError, ValueError):
            self.signature = None
        self.variants: list[tuple[str, Callable[..., Any]]] = []
        self.dispatcher = self.make_dispatcher()

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call's arguments as F sees them (positional or by name alike), by content;
        None when they cannot be compared."""
        if self.signature is not None:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError:
                return None
            bound.apply_defaults()
            return shape_or_none(dict(bound.arguments))
        return shape_or_none((args, kwargs))

    @property
    def key(self) -> tuple[str, str]:
        return (self.module.__name__, self.name)

    def make_dispatcher(self) -> Callable[..., Any]:
        point = self

        def dispatcher(*args: Any, **kwargs: Any) -> Any:
            if STATE.shadow is not None:
                return point.inside_child(args, kwargs)
            return point.call(args, kwargs)

        dispatcher.__name__ = getattr(self.real, "__name__", self.name)
        dispatcher.__doc__ = getattr(self.real, "__doc__", None)
        return dispatcher

    def inside_child(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A call of a replaced function while a child judges R."""
        shadow = STATE.shadow
        assert shadow is not None
        call = shadow.call
        if self is call.point and self.arguments(args, kwargs) == call.pre:
            # R calls the original with F's arguments: F's answer, already given once.
            shadow.originals += 1
            for stream, text in call.written:
                (sys.stdout if stream == 1 else sys.stderr).write(text)
            kind, value = call.outcome
            if kind == "raise":
                raise value
            return value
        if self is not call.point and self.key in shadow.variant_points:
            raise Deviation(f"calls {self.name}, which the mutant also replaces")
        return self.real(*args, **kwargs)

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A call in the parent: run F, then judge each mutant of F still undecided."""
        live = [(name, r) for name, r in self.variants if name not in STATE.reached]
        if not live:
            return self.real(*args, **kwargs)
        STATE.paused += 1
        pre = self.arguments(args, kwargs)
        why = f"{self.name}: arguments that cannot be compared"
        written: list[tuple[int, str]] = []
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = Tee(out, 1, written), Tee(err, 2, written)
        watch = Watch()
        STATE.watches.append(watch)
        STATE.paused -= 1
        try:
            outcome: tuple[str, Any] = ("return", self.real(*args, **kwargs))
        except BaseException as exc:  # R must raise what F raised, whatever it is
            outcome = ("raise", exc)
        finally:
            STATE.paused += 1
            STATE.watches.remove(watch)
            sys.stdout, sys.stderr = out, err
        try:
            if pre is not None:
                if self.arguments(args, kwargs) != pre:
                    pre, why = None, f"{self.name} changed its arguments"
                elif watch.local:
                    pre, why = None, f"{self.name} changed local state"
            if pre is None:
                STATE.reached.update({name: why for name, _ in live})
            else:
                call = Call(self, args, kwargs, pre, outcome, written, watch.effects > 0)
                for name, verdict in judge(call, live).items():
                    if verdict:
                        STATE.reached[name] = verdict
        finally:
            STATE.paused -= 1
        kind, value = outcome
        if kind == "raise":
            raise value
        return value


def shape_or_none(value: Any) -> Any:
    try:
        return shape(value)
    except (Opaque, RecursionError, TypeError, ValueError):
        return None


class Call:
    """One call of F in the parent, as every child judging it sees it."""

    __slots__ = ("answer", "args", "effects", "kwargs", "modules", "outcome", "point", "pre",
                 "written")

    def __init__(self, point: Point, args: tuple[Any, ...], kwargs: dict[str, Any], pre: Any,
                 outcome: tuple[str, Any], written: list[tuple[int, str]], effects: bool) -> None:
        self.point = point
        self.args = args
        self.kwargs = kwargs
        self.pre = pre
        self.outcome = outcome
        self.written = written
        self.effects = effects
        #: The CLI's module state after F, which every equivalent R leaves as it is.
        self.modules = module_state()
        #: F's answer by content (None: it has none that can be compared).
        self.answer = shape_or_none(outcome[1])


def judge(call: Call, variants: list[tuple[str, Callable[..., Any]]]) -> dict[str, str]:
    """Each variant's verdict on this call: '' when R answers it as F did, else why not.

    One forked child judges variants in turn while they are equivalent (an equivalent
    R leaves memory as it found it); after a deviation a new child takes the rest.
    """
    verdicts: dict[str, str] = {}
    sink = STATE.sink()
    while len(verdicts) < len(variants):
        left = [(name, r) for name, r in variants if name not in verdicts]
        for name, message in in_child_process(call, left, sink):
            verdicts[name] = "" if message == "=" else f"{call.point.name}: {message}"
        if not any(name in verdicts for name, _ in left):
            for name, _ in left:
                verdicts[name] = f"{call.point.name}: the child judging it gave no answer"
    return verdicts


def in_child_process(call: Call, variants: list[tuple[str, Callable[..., Any]]],
                     sink: int) -> list[tuple[str, str]]:
    """Fork; the child judges variants until the first that deviates; their verdicts."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read)
        os.close(write)
        return [(variants[0][0], f"cannot fork: {exc}")]
    if pid == 0:  # pragma: no cover - the child reports through the pipe, then _exits
        try:
            os.close(read)
            isolate(sink, write)
            for name, replacement in variants:
                try:
                    message = in_child(call, replacement, STATE.points_of.get(name, set()))
                except BaseException as exc:  # any failure is a deviation
                    message = f"{type(exc).__name__}: {exc}"
                os.write(write, json.dumps([name, message]).encode("utf-8", "replace") + b"\n")
                if message != "=":
                    break
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    deadline = time.monotonic() + CHILD_SECONDS * len(variants)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                os.kill(pid, 9)
                break
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    verdicts = []
    for line in b"".join(chunks).splitlines():
        try:
            name, message = json.loads(line)
        except ValueError:
            break
        verdicts.append((name, message))
    return verdicts


def isolate(sink: int, report: int) -> None:
    """Cut the child off from the parent's streams and every descriptor but two."""
    import gc

    # No collection in the child: it would touch, and so copy, every page of the heap.
    gc.disable()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.ftruncate(sink, 0)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.closerange(3, report)
    os.closerange(report + 1, 1 << 20)
    sys.stdin = NoInput()
    STATE.watches.clear()


def in_child(call: Call, replacement: Callable[..., Any],
             variant_points: set[tuple[str, str]]) -> str:
    """Run R on F's call, cut off from everything but memory; '=' when equivalent."""
    printed: list[tuple[int, str]] = []
    sys.stdout = Recorder(1, printed)
    sys.stderr = Recorder(2, printed)
    shadow = Shadow(call, variant_points)
    STATE.shadow = shadow
    STATE.aborted = ""
    modules_before = call.modules
    kept_before = closure_state(replacement)
    STATE.paused = 0
    STATE.block = True
    try:
        mine: tuple[str, Any] = ("return", replacement(*call.args, **call.kwargs))
    except Deviation as exc:
        mine = ("deviated", str(exc))
    except BaseException as exc:  # compared with what F raised
        mine = ("raise", exc)
    finally:
        STATE.block = False
        STATE.paused = 1
    outcome = call.outcome
    if STATE.aborted:
        return f"reached outside: {STATE.aborted}"
    if mine[0] == "deviated":
        return f"deviated: {mine[1]}"
    if mine[0] != outcome[0]:
        return (f"{'raised' if mine[0] == 'raise' else 'returned'} where F "
                f"{'raised' if outcome[0] == 'raise' else 'returned'}")
    # Compared with F's answer as it was when F gave it: R may hand back F's own object
    # after changing it in place.
    try:
        if shape(mine[1]) != call.answer:
            return "a different answer"
    except (Opaque, RecursionError, TypeError, ValueError) as exc:
        return f"an answer that cannot be compared ({exc})"
    for stream, what in ((1, "stdout"), (2, "stderr")):
        if ("".join(t for s, t in printed if s == stream)
                != "".join(t for s, t in call.written if s == stream)):
            return f"printed something else on {what}"
    if os.fstat(1).st_size:
        return "wrote to a standard stream directly"
    if call.effects and shadow.originals != 1:
        return f"called the original {shadow.originals} times where F reached out once"
    if call.point.arguments(call.args, call.kwargs) != call.pre:
        return "changed its arguments"
    if closure_state(replacement) != kept_before:
        return "changed what it keeps between calls"
    if module_state() != modules_before:
        return "changed the CLI's module state"
    return "="


def install(mutants: dict[str, Any]) -> None:
    """Register every mutant's replacement beside the function it replaces.

    Two passes: the first finds what each mutant replaces; the second puts a
    dispatcher there and applies every mutant again, so that a mutant keeping the
    original (``original = calls.send_request``) keeps the dispatcher, and its
    calls of the original reach the answer the parent already has.
    """
    import importlib
    import pkgutil

    import reference_cli as package
    import reference_cli.commands as commands

    for info in [*pkgutil.iter_modules(package.__path__, f"{PACKAGE}."),
                 *pkgutil.iter_modules(commands.__path__, f"{PACKAGE}.commands.")]:
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    modules = {name: module for name, module in sys.modules.items()
               if name.startswith(PACKAGE) and module is not None}

    def replaced_by(mutant: Any) -> dict[tuple[str, str], Any] | str:
        before = {name: dict(vars(module)) for name, module in modules.items()}
        try:
            mutant.apply()
        except BaseException as exc:  # a mutant that cannot be shadowed
            changed: dict[tuple[str, str], Any] | str = f"applying it raised {exc!r}"
        else:
            changed = {}
        for name, module in modules.items():
            now, then = vars(module), before[name]
            if len(now) == len(then) and all(now[k] is v for k, v in then.items() if k in now):
                continue
            for key, value in list(now.items()):
                if key not in then or then[key] is not value:
                    if isinstance(changed, dict):
                        changed[(name, key)] = value
                    if key in then:
                        setattr(module, key, then[key])
                    else:
                        delattr(module, key)
        return changed

    found: dict[str, dict[tuple[str, str], Any]] = {}
    for name, mutant in mutants.items():
        changed = replaced_by(mutant)
        if isinstance(changed, str):
            STATE.unshadowable[name] = changed
        elif not changed:
            STATE.unshadowable[name] = "replaces nothing a module of the CLI holds"
        elif any(not callable(value) for value in changed.values()):
            STATE.unshadowable[name] = "replaces a value that is not a function"
        else:
            if any(not callable(vars(modules[key[0]]).get(key[1])) for key in changed):
                STATE.unshadowable[name] = "adds or replaces something that was not a function"
            else:
                found[name] = changed
    for changed in found.values():
        for key in changed:
            if key not in STATE.points:
                module = modules[key[0]]
                point = Point(module, key[1], getattr(module, key[1]))
                STATE.points[key] = point
                setattr(module, key[1], point.dispatcher)
    for name in found:
        changed = replaced_by(mutants[name])
        if isinstance(changed, str) or set(changed) != set(found[name]):
            STATE.unshadowable[name] = "replaces something else when applied again"
            continue
        STATE.points_of[name] = set(changed)
        for key, replacement in changed.items():
            STATE.points[key].variants.append((name, replacement))
    sys.addaudithook(STATE.hook)
    import gc

    # What exists now lives as long as the process: no collection need scan it, and the
    # forked children then share those pages instead of copying them.
    gc.freeze()


def report(log: str, started: float, argv: list[str]) -> None:
    """Append this process's line to the log (one write, so concurrent CLIs do not mix)."""
    line = json.dumps({
        "started": started,
        "ended": time.time(),
        "pid": os.getpid(),
        "argv": argv,
        "reached": STATE.reached,
        "unshadowable": STATE.unshadowable,
    }) + "\n"
    STATE.paused += 1
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def reach(results: dict[str, Any], log: str, names: list[str]) -> dict[str, frozenset[str] | None]:
    """The checks of a shadowed reference run each mutant reaches; None: every check.

    Each CLI process's line is placed in the check whose invocation it ran in, by
    time: the run must have had one worker. A process that cannot be placed in
    exactly one check, an invocation whose process left no line (killed, timed
    out), and a check that did not pass all count against every mutant they
    could hide: they reach every check, or that check.
    """
    checks = results["checks"]
    windows = [(call["started_at"], call["started_at"] + call["duration"], check["id"])
               for check in checks for call in check["evidence"].get("invocations") or []]
    reached: dict[str, set[str]] = {name: set() for name in names}
    everywhere: set[str] = set()
    lines: dict[str, int] = {}
    for text in log.splitlines():
        if not text.strip():
            continue
        record = json.loads(text)
        everywhere.update(record["unshadowable"])
        owners = {check for start, end, check in windows if start <= record["started"] <= end}
        if len(owners) != 1:
            everywhere.update(record["reached"])
            continue
        (owner,) = owners
        lines[owner] = lines.get(owner, 0) + 1
        for name in record["reached"]:
            reached.setdefault(name, set()).add(owner)
    invocations: dict[str, int] = {}
    for _, _, check in windows:
        invocations[check] = invocations.get(check, 0) + 1
    always = {check for check, count in invocations.items() if lines.get(check, 0) < count}
    always |= {check["id"] for check in checks if check["outcome"] != "passed"}
    return {name: None if name in everywhere else frozenset(found | always)
            for name, found in reached.items()}
