"""The failures a user sees, and the one key-free ``ERROR:`` line each becomes.

Every command reports a problem by raising :class:`CliError`; :func:`report_error`
is the single place that prints it, after :func:`redact` has hidden every key
this invocation has seen, so no code path can ever show a key on stderr.
"""

from __future__ import annotations

import sys

NOT_LOGGED_IN = "not logged in, try `convox login`"


class CliError(Exception):
    """A failure the user should see as one ``ERROR: ...`` line and exit status 1."""


class NotLoggedIn(CliError):
    """Raised before any request when ``host`` or its key in ``auth`` is missing."""

    def __init__(self, message: str = NOT_LOGGED_IN) -> None:
        super().__init__(message)


class TransportError(CliError):
    """The network, TLS or HTTP framing failed: the server's answer is unknown."""


# The keys seen during this invocation, so no error line can ever show one.
_SECRETS: set[str] = set()


MIN_REDACTED_LENGTH = 6
"""Shorter "keys" are not redacted: hiding every "n" would garble the message and
a key that short is no secret anyway (real keys are 32+ random characters)."""


def remember_secret(key: str | None) -> None:
    """Register a key so :func:`redact` hides it from every error line."""
    if key and len(key) >= MIN_REDACTED_LENGTH:
        _SECRETS.add(key)


def forget_secrets() -> None:
    """Start an invocation with no remembered keys (``main`` may run more than once)."""
    _SECRETS.clear()


def redact(text: str) -> str:
    """Replace every key seen in this invocation by ``********``.

    Error text can come from anywhere (servers, exceptions); the key must never
    be printed, so this is the last filter before stderr.
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):  # a key inside a longer one
        text = text.replace(secret, "********")
    return text


def os_reason(exc: OSError) -> str:
    """What the system said went wrong (``Permission denied``), for an error line."""
    return exc.strerror or str(exc)


def report_error(message: str) -> None:
    """Print ``ERROR: message`` as exactly one line on stderr, keys redacted."""
    line = " ".join(redact(str(message)).split()) or "unknown error"
    try:
        sys.stderr.write(f"ERROR: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
