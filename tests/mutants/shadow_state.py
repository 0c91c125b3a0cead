"""The process-wide state of a shadowed reference CLI, and what its audit hook counts.

One ``STATE`` per process: the replaced functions (``Point``), the verdicts so
far, and while a child judges a replacement, the call it judges (``Shadow``,
``Call``). The audit hook counts what F reaches outside the process (in the
parent) or stops R the moment it tries (in a child).
"""

from __future__ import annotations

import inspect
import os
import types
from collections.abc import Callable
from typing import Any

from tests.mutants.shadow_values import module_state, shape_or_none

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
#: The network ones of those; the rest change the local machine (files, processes,
#: environment), and after such an F, R's own reads would not see what they saw in a
#: mutant's run.
NETWORK = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
                     "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                     "socket.gethostbyaddr"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Deviation(BaseException):
    """Raised inside a child the moment R reaches outside its memory.

    A BaseException, so that R's own ``except Exception`` cannot swallow it.
    """


class Watch:
    """What the audit hook saw during one call of F in the parent."""

    __slots__ = ("effects", "local")

    def __init__(self) -> None:
        self.effects = 0
        self.local = 0


class Point:
    """One replaced function: the real F, and each mutant's R for it.

    What a call of F does is shadow_dispatch's; this is what it works on.
    """

    def __init__(self, module: types.ModuleType, name: str, real: Callable[..., Any]) -> None:
        self.module = module
        self.name = name
        self.real = real
        try:
            self.signature: inspect.Signature | None = inspect.signature(real)
        except (TypeError, ValueError):
            self.signature = None
        self.variants: list[tuple[str, Callable[..., Any]]] = []

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
