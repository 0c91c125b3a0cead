"""Defence in depth against keys in reports.

The plugin already redacts the evidence it records. This module covers what
it cannot: failure messages (pytest's assertion rewriting happily prints a
key it compared), captured output, and any evidence a check recorded by
hand. It works in two places:

* in the process that ran the check, where the keys are known in clear
  (from the check's ``world`` and ``cli`` fixtures): the pytest report itself
  is redacted before it is logged, shown or sent to an xdist controller;
* in the process writing the reports, on every string of the model, using
  the clear keys when it ran the checks itself and SHA-256 digests sent by
  xdist workers otherwise (keys never travel in clear).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from conformance.redaction import REDACTED, longest_first, replace_secrets

SECRETS_PROPERTY = "conformance.secret-digests"
MIN_SECRET = 8  # shorter "secrets" (a test password "x") would shred every text
PLACEHOLDER = REDACTED
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{" + str(MIN_SECRET) + ",}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_of(values: Iterable[Any]) -> set[str]:
    """Every secret the fixtures of a check know (worlds, CLI sessions, harnesses).

    Duck-typed on purpose: anything with ``secrets()`` (a world handle) or a
    ``secrets`` collection (a CLI session), one level into ``world``/``cli``
    attributes (the ``convox`` harness).
    """
    found: set[str] = set()

    def visit(value: Any, depth: int) -> None:
        if value is None or depth > 1:
            return
        attr = getattr(value, "secrets", None)
        try:
            got = attr() if callable(attr) else attr
        except Exception:  # a closed world may refuse; others still count
            got = None
        if isinstance(got, list | set | tuple | frozenset):
            found.update(s for s in got if isinstance(s, str))
        for name in ("world", "cli"):
            inner = getattr(value, name, None)
            if inner is not None and inner is not value:
                visit(inner, depth + 1)

    for value in values:
        visit(value, 0)
    return {s for s in found if len(s) >= MIN_SECRET}


class Scrubber:
    """Replaces known secrets (clear or by digest) in any JSON-like value."""

    def __init__(self, secrets: Iterable[str] = (), digests: Iterable[str] = ()) -> None:
        secrets = list(secrets)
        self.secrets = longest_first({s for s in secrets if len(s) >= MIN_SECRET})
        self.digests = set(digests) - {digest(s) for s in self.secrets}
        self.hits = 0

    def __bool__(self) -> bool:
        return bool(self.secrets or self.digests)

    def text(self, value: str) -> str:
        value, hits = replace_secrets(value, self.secrets, _placeholder)
        self.hits += hits
        if self.digests:
            value = _TOKEN.sub(self._token, value)
        return value

    def _token(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if digest(token) in self.digests:
            self.hits += 1
            return PLACEHOLDER
        return token

    def data(self, value: Any) -> Any:
        """``value`` with every string scrubbed (keys of dicts too): a copy, or ``value``
        itself when nothing in it is a secret (the caller must not change it then).

        The run's scrubber knows every key of every check (about a thousand)
        and the model has tens of thousands of strings; testing each key on
        each string cost most of a second per run. So the keys (and tokens
        matching a digest) are first looked for in all the strings at once,
        and the copy is scrubbed with only those found: the same result. Most
        reports hold no key at all (the evidence is redacted as it is
        recorded), and copying them for nothing cost as much again.
        """
        strings: set[str] = set()
        _strings(value, strings)
        # Each string once: a run's evidence repeats a few thousand strings tens of times.
        blob = "\0".join(strings)  # "\0" is in no token, so no token spans two strings
        narrow = Scrubber([s for s in self.secrets if s in blob])
        if self.digests:
            found = {token for token in _TOKEN.findall(blob) if digest(token) in self.digests}
            narrow.digests = {digest(token) for token in found}
        if not narrow:
            return value
        copy = narrow._copy(value)
        self.hits += narrow.hits
        return copy

    def _copy(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._copy(k): self._copy(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._copy(v) for v in value)
        return value


def _placeholder(_secret: str) -> str:
    return PLACEHOLDER


def _strings(value: Any, into: set[str]) -> None:
    """Every string in a JSON-like value (dict keys too)."""
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings(key, into)
            _strings(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, into)


def redact_report(report: Any, scrub: Scrubber) -> None:
    """Redact a pytest report in place: long representation, sections, properties."""
    if not scrub:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        report.longrepr = tuple(scrub.text(p) if isinstance(p, str) else p for p in longrepr)
    elif longrepr is not None:
        text = str(longrepr)
        cleaned = scrub.text(text)
        if cleaned != text:
            # Loses pytest's coloured traceback, only when a key was in it.
            report.longrepr = cleaned
    report.sections = [(title, scrub.text(content)) for title, content in report.sections]
    report.user_properties = [(name, scrub.data(value)) for name, value in report.user_properties]
