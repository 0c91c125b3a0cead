"""Issuing keys, naming them, and finding them in text: the world's key book.

Reports and journals must never show a key, yet a reader needs to know which
key a request carried. Every key a world issues (or a user types into
Console) gets a printable identity here (``user:alice@example.com#2``,
``rack:acme/prod#3``), and :meth:`KeyBook.redact` replaces every known key,
bare or inside a basic-auth header, by that identity. Kept apart from the
world's rules because it is one mechanism every rule uses the same way.

Not locked itself: :class:`fakes.model.world.World` owns one and calls it under the
world's lock.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as _secrets
import string

KEY_ALPHABET = string.ascii_letters + string.digits
# Alphanumeric keys survive basic auth, form encoding and shells unchanged.
KEY_LENGTH = 40


def unknown_identity(key: str) -> str:
    """The identity of a key no world issued: stable, and reveals nothing of it."""
    return "unknown:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


class KeyBook:
    """Every key ever issued or typed -> its identity, in issue order; never shrinks."""

    def __init__(self) -> None:
        self._identities: dict[str, str] = {}
        # (key count, every needle longest first, basic-auth form -> key): see _needles().
        self._redaction: tuple[int, list[str], dict[str, str]] = (0, [], {})

    def new_key(self) -> str:
        """A fresh random key, never one issued before."""
        while True:
            key = "".join(_secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
            if key not in self._identities:
                return key

    def register(self, key: str, identity: str) -> None:
        """Remember ``key`` as ``identity``."""
        # First identity wins so old keys keep theirs; a key only known as "typed by
        # someone" (unknown) is upgraded once it turns out to be a rack's password.
        current = self._identities.get(key)
        if current is None or (current.startswith("unknown:") and identity != current):
            self._identities[key] = identity

    def identity(self, key: str | None) -> str:
        """A name for a key that is safe to print, e.g. ``user:alice@example.com#2``."""
        if not key:
            return "empty"
        return self._identities.get(key) or unknown_identity(key)

    def secrets(self) -> list[str]:
        """Every key ever issued (and every key typed into Console), oldest first."""
        return list(self._identities)

    def redact(self, text: str) -> str:
        """Replace every known key, bare or inside basic-auth base64, by ``<identity>``."""
        # Every request is journaled through here and a key in one is rare, so look for the
        # needles first and build a pattern of only those present (the same matches as one
        # pattern of every key). Compiling every key per world cost a compile per check on
        # the request path, and re's module cache kept each of those patterns alive.
        needles, basic = self._needles()
        present = [needle for needle in needles if needle in text]
        if not present:
            return text
        pattern = re.compile("|".join(re.escape(needle) for needle in present))

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            if found in self._identities:
                return f"<{self._identities[found]}>"
            return f"<basic:{self._identities[basic[found]]}>"

        return pattern.sub(replace, text)

    def _needles(self) -> tuple[list[str], dict[str, str]]:
        """Every key and its basic-auth form, longest first; rebuilt only when a key is added."""
        count, needles, basic = self._redaction
        if count != len(self._identities):
            basic = {
                base64.b64encode(f"convox:{key}".encode()).decode("ascii"): key
                for key in self._identities
            }
            needles = sorted({*self._identities, *basic}, key=len, reverse=True)
            self._redaction = (len(self._identities), needles, basic)
        return needles, basic
