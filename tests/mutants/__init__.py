"""The mutant zoo: deliberately broken reference CLIs, each breaking one rule.

A mutant replaces one attribute of the reference CLI module that defines it
(``calls.send_request = ...`` after ``from reference_cli import
transport``), and that takes effect everywhere because the reference CLI's
modules import each other only as modules and call through the module
attribute (``calls.send_request(...)``), never through a name bound with
``from ... import``. ``run.py`` then runs the CLI's ``main()``; nothing is
copied, so a mutant stays one small function. Each names the rule it breaks,
and the kill test proves the suite fails that very rule against it. Mutants
live in ``zoo_<area>.py`` modules next to this file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from reference_cli import calls, files, responses, transport

# Only light imports here: every run of a variant imports this package, and a
# variant must start about as fast as the reference CLI it is made from.
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")


#: What a variant is: a mutant breaks rules on purpose; a probe satisfies every rule
#: in a way other than the reference's; an emulation behaves like a real CLI.
KINDS = ("mutant", "probe", "emulation")


class Mutant:
    """A variant of the reference CLI (a mutant, a probe or an emulation).

    A plain class, not a NamedTuple or a dataclass: every run of a variant imports
    this module, and ``typing`` alone costs about 9 ms of start-up per invocation.
    """

    __slots__ = (
        "_breaks",
        "apply",
        "build",
        "description",
        "direct_commands",
        "kind",
        "name",
        "precision",
        "profile",
        "rule",
    )

    def __init__(self, name: str, rule: str, description: str, apply: Callable[[], None],
                 kind: str = "mutant", breaks: tuple[str, ...] = (), build: str = "",
                 profile: str = "reference", precision: bool = False,
                 direct_commands: bool = True) -> None:
        self.name = name
        #: The rule whose checks must fail (mutants only; "" for probes and emulations).
        self.rule = rule
        self.description = description
        self.apply = apply
        self.kind = kind
        self._breaks = breaks
        #: Emulations only: the published official build it behaves like, whose page
        #: (docs/official-cli-results/BUILD.md) gives every verdict it must get.
        self.build = build
        #: The profile that drives it.
        self.profile = profile
        #: A mutant the full precision matrix runs against the whole suite, not only its
        #: reach: one per class of past precision bugs (probes and emulations always are).
        self.precision = precision
        #: False for a variant with no commands at a rack logged in to directly: it may
        #: leave undecided only the rules whose route is direct (specs/README.md).
        self.direct_commands = direct_commands

    @property
    def breaks(self) -> tuple[str, ...]:
        """Every rule the whole suite may fail against it (the precision matrix's bound).

        An emulation's are the rules its build's page publishes as failing, read
        only when asked: a variant's own start-up never needs them.
        """
        if self.build:
            from tests.official import published

            return tuple(r for r, verdict in published(self.build).items() if verdict == "fails")
        return self._breaks

    def __repr__(self) -> str:
        return f"Mutant({self.name!r}, kind={self.kind!r}, rule={self.rule!r})"

    def command(self) -> str:
        """The ``--cli`` value that runs this variant (importing only its own zoo module)."""
        import shlex  # here, not at the top: a variant's own start-up never needs it

        module = self.apply.__module__.rpartition(".")[2]
        # -S: no site-packages to set up; the runner finds the checkout itself and a
        # variant needs the standard library only (4 to 5 ms of each invocation's CPU).
        return shlex.join([sys.executable, "-S", RUNNER, f"{module}:{self.name}"])


Register = Callable[[Callable[[], None]], Callable[[], None]]


class Zoo:
    """Collects the variants a zoo module declares with :meth:`mutant`, :meth:`probe`
    or :meth:`emulation`."""

    def __init__(self) -> None:
        self.mutants: dict[str, Mutant] = {}

    def _register(self, **fields: object) -> Register:
        def register(apply: Callable[[], None]) -> Callable[[], None]:
            name = apply.__name__.replace("_", "-")
            if name in self.mutants:
                raise ValueError(f"duplicate mutant {name}")
            self.mutants[name] = Mutant(name=name, apply=apply, **fields)  # type: ignore[arg-type]
            return apply

        return register

    def mutant(self, rule: str, description: str, *, also: tuple[str, ...] = (),
               precision: bool = False, direct_commands: bool = True) -> Register:
        """A mutant breaking ``rule`` (and the rules in ``also`` that the same
        deviation necessarily breaks), killed by a check of ``rule``."""
        return self._register(rule=rule, description=description, kind="mutant",
                              breaks=(rule, *also), precision=precision,
                              direct_commands=direct_commands)

    def probe(self, description: str) -> Register:
        """A variant that satisfies every rule another way: it must fail nothing."""
        return self._register(rule="", description=description, kind="probe", precision=True)

    def emulation(self, description: str, *, build: str, profile: str) -> Register:
        """An official build's observed behaviour: a run against it gets, rule by
        rule, the verdicts the build's published page gives."""
        return self._register(rule="", description=description, kind="emulation",
                              build=build, profile=profile, precision=True)


def all_mutants() -> dict[str, Mutant]:
    """Every variant of every ``zoo_*`` and ``emulation*`` module, by name."""
    import importlib
    import pkgutil

    found: dict[str, Mutant] = {}
    for info in pkgutil.iter_modules([os.path.dirname(os.path.abspath(__file__))]):
        if not info.name.startswith(("zoo_", "emulation")):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, mutant in module.zoo.mutants.items():
            if name in found:
                raise ValueError(f"mutant {name} is declared twice")
            found[name] = mutant
    return dict(sorted(found.items()))


def killable() -> dict[str, Mutant]:
    """The mutants proper: each must be killed by a check of its own rule."""
    return {name: m for name, m in all_mutants().items() if m.kind == "mutant"}


def sealed() -> bool:
    """True inside the network sandbox, where loopback is the only interface.

    A variant that reaches for an outside host does it only here: on the host
    network the attempt would leave the machine, and the sandbox's rules are not
    checked there anyway.
    """
    import socket

    return [name for _, name in socket.if_nameindex()] == ["lo"]


# Building blocks for mutants that differ only in which answer they mishandle.


def swallow_status(status: int,
                   when: Callable[[str, str | None], bool] = lambda path, rack: True) -> None:
    """Answers with ``status`` (where ``when(path, rack)``) read as an empty 200 list."""
    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        resp = original(host, key, method, path, rack, body, content_type)
        if resp.status == status and when(path, rack):
            return transport.Response(200, "OK", {"content-type": "application/json"}, b"[]")
        return resp

    calls.send_request = send


def clear_selection_on(status: int) -> None:
    """An answer with ``status`` drops the rack selection before the error is raised."""
    original = responses.check_response

    def check(resp, host):  # type: ignore[no-untyped-def]
        if resp.status == status:
            files.clear_rack()
        original(resp, host)

    responses.check_response = check
