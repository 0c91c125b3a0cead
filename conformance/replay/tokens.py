"""The trail's token format, both ways: keys, hosts and homes as ``{{...}}`` and back.

A trail holds no key, host string or home path, only tokens standing for them:

* ``{{key IDENTITY}}``: a key the world issued (``{{key IDENTITY N}}`` when the
  check also typed it: made-up shape ``N`` is drawn if serve does not have it);
* ``{{drawn N}}``: a key the check made up, of recorded shape ``N``;
* ``{{new IDENTITY N}}``: a key a world event introduced, of shape ``N``;
* ``{{basic ...}}``, ``{{b64 ...}}``: a key's Basic Authorization or base64 form;
* ``{{host SERVER}}``: a server's host string in the profile's form;
* ``{{home N}}``: the path of the check's Nth home.

A shape keeps which characters of a made-up key were ASCII letters or digits
(:data:`LOWER`, :data:`UPPER`, :data:`DIGIT`) and every other character as it
was, since ``/ % @`` are what such checks are about.

:class:`Tokens` writes tokens (the recorder, and a replay naming its own values
as the failing run's); :func:`fill` reads them back into values a replay
supplies; :func:`as_identities` and :func:`in_words` show them to a reader.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

TOKEN = re.compile(r"\{\{(key|drawn|new|host|home|basic|b64) ([^{}]*)\}\}")
LOWER, UPPER, DIGIT = "[a]", "[A]", "[9]"
#: A key token with its shape number, alone or inside a basic or b64 token.
_KEY_WITH_SHAPE = re.compile(r"\{\{((?:b64 |basic )?key) ([^{} ]+) \d+\}\}")


def encode_basic(secret: str) -> str:
    """``base64("convox:" + key)``, the form in a Basic Authorization header."""
    return base64.b64encode(b"convox:" + secret.encode("utf-8")).decode("ascii")


def encode_b64(secret: str) -> str:
    """The key's UTF-8 bytes in base64, as some CLIs store it."""
    return base64.b64encode(secret.encode("utf-8")).decode("ascii")


def shape_of(secret: str) -> list[str]:
    """Which characters of a made-up key are ASCII letters or digits; others kept."""
    shape = []
    for char in secret:
        if char.isascii() and char.islower():
            shape.append(LOWER)
        elif char.isascii() and char.isupper():
            shape.append(UPPER)
        elif char.isascii() and char.isdigit():
            shape.append(DIGIT)
        else:
            shape.append(char)
    return shape


class Tokens:
    """Turns keys, hosts and home paths into ``{{...}}`` tokens (and nothing else)."""

    def __init__(self, world_keys: set[str], identity: Callable[[str], str],
                 hosts: Mapping[str, str], roots: Mapping[int, Path]) -> None:
        self.world_keys = world_keys
        self.identity = identity
        # Longest first, so a host or path that contains another is replaced whole.
        self.hosts = sorted(hosts.items(), key=lambda kv: len(kv[0]), reverse=True)
        self.roots = sorted(((str(p), n) for n, p in roots.items()),
                            key=lambda kv: len(kv[0]), reverse=True)
        self.shapes: list[list[str]] = []
        self._drawn: dict[str, int] = {}
        self._fallback: dict[str, int] = {}
        self._known: list[str] = sorted(world_keys, key=len, reverse=True)

    def learn(self, secrets: Iterable[str]) -> None:
        """Keys the check gave the CLI. One the world never issued was made up by the
        check; one it did may have been issued *by that very command* (a password the
        CLI sets on its rack), so it carries a shape too, for the replay to draw from
        when serve does not have it yet."""
        derived = {form for key in self.world_keys
                   for form in (encode_b64(key), encode_basic(key))}
        for secret in secrets:
            if not secret or secret in self._drawn or secret in derived:
                continue  # a world key's base64 form becomes a {{b64 ...}} token instead
            if secret in self.world_keys:
                if secret not in self._fallback:
                    self._fallback[secret] = len(self.shapes)
                    self.shapes.append(shape_of(secret))
                continue
            self._drawn[secret] = len(self.shapes)
            self.shapes.append(shape_of(secret))
        self._known = sorted({*self.world_keys, *self._drawn}, key=len, reverse=True)

    def secrets(self) -> list[str]:
        """Every key this tokenizer turns into a token."""
        return list(self._known)

    def known_drawn(self, secret: str, number: int) -> None:
        """A made-up key whose number is already fixed (a replay's)."""
        self._drawn[secret] = number
        self._known = sorted({*self._known, secret}, key=len, reverse=True)

    def _key_token(self, secret: str) -> str:
        if secret in self._drawn:
            return f"{{{{drawn {self._drawn[secret]}}}}}"
        if secret in self._fallback:
            return f"{{{{key {self.identity(secret)} {self._fallback[secret]}}}}}"
        return f"{{{{key {self.identity(secret)}}}}}"

    def text(self, text: str) -> str:
        """``text`` with every key, home path and host string as its token."""
        if not text:
            return text
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, self._key_token(secret))
            # A key also travels, and gets stored, as basic-auth base64: never let that by.
            for kind, form in (("basic", encode_basic(secret)), ("b64", encode_b64(secret))):
                if form in text:
                    inner = self._key_token(secret)[2:-2]
                    text = text.replace(form, f"{{{{{kind} {inner}}}}}")
        for root, number in self.roots:
            text = text.replace(root, f"{{{{home {number}}}}}")
        for host, server in self.hosts:
            text = text.replace(host, f"{{{{host {server}}}}}")
        return text

    def new(self, value: Any) -> Any:
        """A key a world event introduces: the replay draws one of the same shape."""
        if not isinstance(value, str) or not value:
            return self.value(value)
        if value not in self._drawn:
            self._drawn[value] = len(self.shapes)
            self.shapes.append(shape_of(value))
            self._known = sorted({*self._known, value}, key=len, reverse=True)
        return f"{{{{new {self.identity(value)} {self._drawn[value]}}}}}"

    def value(self, value: Any) -> Any:
        """:meth:`text` applied to every string inside lists and dicts."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self.value(v) for k, v in value.items()}
        return value


class TokenValues(Protocol):
    """What each token stands for in a replay: its own world's keys, hosts and homes."""

    def key(self, identity: str, shape: str) -> str:
        """A world key; ``shape`` is the made-up shape's number, or ``""`` for none."""

    def drawn(self, number: int) -> str:
        """The made-up key of shape ``number``."""

    def new(self, identity: str, number: int) -> str:
        """The key a world event introduces, of shape ``number``."""

    def host(self, server: str) -> str:
        """The server's host string."""

    def home(self, number: int) -> str:
        """The path of home ``number``."""


def fill(value: Any, values: TokenValues) -> Any:
    """``value`` with every token in its strings (lists and dict values too) replaced."""
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        kind, arg = match[1], match[2]
        if kind == "key":
            ident, _, number = arg.partition(" ")
            return values.key(ident, number)
        if kind == "drawn":
            return values.drawn(int(arg))
        if kind == "new":
            ident, _, number = arg.rpartition(" ")
            return values.new(ident, int(number))
        if kind in ("basic", "b64"):
            key = one(TOKEN.match("{{" + arg + "}}"))  # type: ignore[arg-type]
            return encode_basic(key) if kind == "basic" else encode_b64(key)
        if kind == "host":
            return values.host(arg)
        return values.home(int(arg))

    return TOKEN.sub(one, value)


def without_key_shapes(text: str) -> str:
    """Key tokens without their shape numbers: ``{{key ID N}}`` becomes ``{{key ID}}``."""
    return _KEY_WITH_SHAPE.sub(r"{{\1 \2}}", text)


def as_identities(text: str) -> str:
    """Tokens as a replay prints them: ``<user:alice@example.com#1>``, ``<console>``."""
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
            return f"<{kind} of {as_identities('{{' + arg + '}}')[1:-1]}>"
        return f"<{arg}>"

    return TOKEN.sub(one, text)


def in_words(text: str) -> str:
    """Tokens as a script's header shows them: ``<key of alice@example.com>``,
    ``<host of rack>``; a reader of the header needs no identity syntax."""

    def word(match: re.Match[str]) -> str:
        kind, inner = match[1], match[2].split(" ")[0]
        if kind == "host":
            return "<Console>" if inner == "console" else f"<host of {inner}>"
        if kind == "home":
            return "~"
        if kind in ("key", "basic", "b64"):
            owner = inner.rsplit("#", 1)[0]
            who = owner.split(":", 1)[1] if owner.startswith("user:") else owner.replace(":", " ")
            return f"<key of {who}>" if kind == "key" else f"<encoded key of {who}>"
        return "<a key the check made up>" if kind == "drawn" else "<a new key>"

    return TOKEN.sub(word, text)


__all__ = ["DIGIT", "LOWER", "TOKEN", "UPPER", "TokenValues", "Tokens", "as_identities",
           "encode_b64", "encode_basic", "fill", "in_words", "shape_of", "without_key_shapes"]
