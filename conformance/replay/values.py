"""What a trail's tokens stand for in one replay: its world's keys, hosts and homes.

The failing run's keys are gone, and a fresh serve has other ports; a replay
gives each token (conformance.replay.tokens) a value of its own world, and
names its own values back as the failing run's tokens so the two runs compare.
"""

from __future__ import annotations

import re
import secrets as random
import string
from pathlib import Path
from typing import Any

from conformance.replay.errors import ReplayError
from conformance.replay.tokens import DIGIT, LOWER, UPPER, Tokens
from conformance.running.world_session import make_session

IDENTITY = re.compile(r"^(?P<name>.*)#(?P<gen>\d+)$")


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
        """The world's key for a recorded identity."""
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
        """The made-up key of shape ``number``, drawn once per replay."""
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


class ReplayValues:
    """The values of one replay's tokens (see conformance.replay.tokens.TokenValues).

    Homes are made on first use, each a fresh CLI session wired to the world.
    """

    def __init__(self, world: Any, backend: Any, profile: Any, shapes: list[list[str]],
                 root: Path, timeout: float) -> None:
        self.world = world
        self.backend = backend
        self.profile = profile
        self.root = root
        self.timeout = timeout
        self.keys = Keys(world, shapes)
        self.sessions: dict[int, Any] = {}
        self.hosts = {world.host(s, profile.host_form): s for s in world.servers()}

    def key(self, identity: str, shape: str) -> str:
        try:
            return self.keys.key(identity)
        except ReplayError:
            if not shape:
                raise
            # Issued by the command itself in the failing run: draw it now.
            key = self.keys.draw(int(shape))
            self.keys.bound[identity] = key
            return key

    def drawn(self, number: int) -> str:
        return self.keys.draw(number)

    def new(self, identity: str, number: int) -> str:
        key = self.keys.draw(number)
        self.keys.bound[identity] = key
        return key

    def host(self, server: str) -> str:
        return str(self.world.host(server, self.profile.host_form))

    def home(self, number: int) -> str:
        return str(self.session(number).home)

    def session(self, home: int) -> Any:
        """The CLI session of home ``home``, made on first use."""
        if home not in self.sessions:
            directory = self.root / f"home-{home}"
            directory.mkdir()
            session = make_session(self.profile, self.backend, self.world, directory,
                                   self.timeout)
            session.trail = None
            self.sessions[home] = session
        return self.sessions[home]

    def tokens(self) -> Tokens:
        """This replay's keys, hosts and homes as the failing run's tokens."""
        world_keys = set(self.world.secrets())
        tok = Tokens(world_keys, self.keys.recorded_identity, self.hosts,
                     {n: s.home for n, s in self.sessions.items()})
        for number, key in self.keys.drawn.items():
            tok.known_drawn(key, number)
        return tok


__all__ = ["IDENTITY", "Keys", "ReplayValues"]
