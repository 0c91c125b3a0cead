"""Replacing each known secret in a text by its label: the one implementation on the suite's side.

Each caller keeps its own policy, that is which secrets count and what stands
in for them: a CLI session's argv and leftover lines (:data:`REDACTED`), a
check's evidence (``<key>`` or the key's identity,
:class:`conformance.harness.evidence.Redactor`), and the report writers' last
pass (:data:`REDACTED`, secrets of 8 characters or more,
:class:`conformance.report.writers.redact.Scrubber`).

Two redactions stay apart on purpose: the fakes' key book
(``fakes/model/keys.py``), since ``fakes/`` never imports the suite, and the
reference CLI's (``reference_cli/errors.py``), a standard-library product of
its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

#: What stands in for a secret when no name for it is wanted.
REDACTED = "<redacted>"


def longest_first(secrets: Iterable[str]) -> list[str]:
    """``secrets`` longest first, so that a key containing another is replaced whole."""
    return sorted(secrets, key=len, reverse=True)


def replace_secrets(
    text: str, secrets: Sequence[str], label: Callable[[str], str]
) -> tuple[str, int]:
    """``text`` with each of ``secrets``, in their order, replaced by ``label(secret)``.

    Also returns how many occurrences were replaced. ``label`` is asked only
    for the secrets the text holds: naming a key may mean looking it up.
    """
    hits = 0
    for secret in secrets:
        if secret in text:
            hits += text.count(secret)
            text = text.replace(secret, label(secret))
    return text, hits
