"""Run one CLI invocation safely: isolated home, scrubbed environment, deadline (import from here).

* ``session.py``: :class:`CliSession`, one isolated home and the invocations made in it;
* ``process.py``: the CLI as a process, piped or on a pseudo-terminal for a prompt;
* ``environment.py``: the few variables a CLI inherits from the caller;
* ``invocation.py``: :class:`Invocation`, what one run did as a user could observe it.
"""

from conformance.running.invoke.environment import (
    NEVER_PASSED,
    PASSED_THROUGH,
    is_forbidden,
    scrubbed_environ,
)
from conformance.running.invoke.invocation import CliTimeout, FileChange, Invocation, file_changes
from conformance.running.invoke.process import CliNotRunnable, check_runnable
from conformance.running.invoke.session import DEFAULT_TIMEOUT, CliSession

__all__ = [
    "DEFAULT_TIMEOUT",
    "NEVER_PASSED",
    "PASSED_THROUGH",
    "CliNotRunnable",
    "CliSession",
    "CliTimeout",
    "FileChange",
    "Invocation",
    "check_runnable",
    "file_changes",
    "is_forbidden",
    "scrubbed_environ",
]
