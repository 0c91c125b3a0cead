"""Console's store of rack keys.

Console must proxy with a rack's own key yet never reveal it, so keys live
here only as Fernet tokens; ``get`` decrypts for the proxy hop and ``masked``
is the only form ever shown to users.
"""

from __future__ import annotations

import threading

from cryptography.fernet import Fernet

MASK = "********"
# Below this length the last four characters would give away too much of the key.
_MIN_LENGTH_FOR_TAIL = 12


class Vault:
    """Fernet-encrypted rack keys by rack reference ("org/name")."""

    def __init__(self) -> None:
        self._fernet = Fernet(Fernet.generate_key())
        self._tokens: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, ref: str, key: str) -> None:
        """Store (or replace) the key Console will use for ``ref``."""
        token = self._fernet.encrypt(key.encode("utf-8"))
        with self._lock:
            self._tokens[ref] = token

    def get(self, ref: str) -> str:
        """Decrypt the key for ``ref``; only the proxy hop should need this."""
        with self._lock:
            token = self._tokens.get(ref)
        if token is None:
            raise KeyError(f"no key stored for rack {ref}")
        return self._fernet.decrypt(token).decode("utf-8")

    def masked(self, ref: str) -> str:
        """The form Console shows: asterisks and the last four characters."""
        key = self.get(ref)
        if len(key) < _MIN_LENGTH_FOR_TAIL:
            return MASK
        return MASK + key[-4:]

    def remove(self, ref: str) -> None:
        """Forget ``ref``'s key (the rack was removed from Console); absent is fine."""
        with self._lock:
            self._tokens.pop(ref, None)

    def __contains__(self, ref: object) -> bool:
        with self._lock:
            return ref in self._tokens

    def refs(self) -> list[str]:
        """Racks Console holds a key for."""
        with self._lock:
            return sorted(self._tokens)

    def ciphertexts(self) -> dict[str, bytes]:
        """Exactly what is at rest, so tests can prove no plaintext is kept."""
        with self._lock:
            return dict(self._tokens)

    def __repr__(self) -> str:
        return f"Vault(refs={self.refs()!r})"
