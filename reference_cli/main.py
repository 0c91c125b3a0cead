"""The entry point: route argv to a command and turn every failure into one line.

A command's module is imported only when that command runs, so ``--help``
loads nothing but this module, :mod:`errors` and ``commands.about``; each
command is looked up in its module when it runs (``login.cmd_login``), so a
mutant's replacement is what runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from reference_cli import errors


def silence_stdout() -> None:
    """stdout's reader went away: point it at /dev/null so the interpreter's final
    flush cannot print a traceback either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return


#: command words -> (module of ``commands``, function); ``rack params`` and
#: ``rack params set`` are routed by :func:`command_of`.
COMMANDS = {
    "--help": ("about", "cmd_help"),
    "--version": ("about", "cmd_version"),
    "login": ("login", "cmd_login"),
    "switch": ("switch", "cmd_switch"),
    "racks": ("switch", "cmd_racks"),
    "apps": ("rack", "cmd_apps"),
    "rack": ("rack", "cmd_rack"),
    "rack params": ("rack", "cmd_rack_params"),
    "rack params set": ("rack", "cmd_rack_params_set"),
    "logout": ("logout", "cmd_logout"),
}


def command_of(args: list[str]) -> tuple[str, list[str]]:
    """(command words, its arguments): the longest ``COMMANDS`` entry argv starts with."""
    for words in sorted(COMMANDS, key=len, reverse=True):
        split = words.split()
        if args[: len(split)] == split:
            return words, args[len(split) :]
    raise errors.CliError(f"unknown command: {args[0]} (see `convox --help`)")


def dispatch(args: list[str]) -> int:
    """Route argv to a ``cmd_*`` function, imported and looked up when its command runs."""
    import importlib

    words, rest = command_of(args or ["--help"])
    module_name, function = COMMANDS[words]
    module = importlib.import_module(f"reference_cli.commands.{module_name}")
    command: Callable[[list[str]], int] = getattr(module, function)
    return command(rest)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one command; every failure is one ``ERROR:`` line and status 1.

    No traceback ever reaches the user: they leak internals and, worse, could
    show a key.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    errors.forget_secrets()
    try:
        return dispatch(args)
    except errors.CliError as exc:
        errors.report_error(str(exc))
    except KeyboardInterrupt:
        errors.report_error("interrupted")
    except BrokenPipeError:
        silence_stdout()
    except Exception as exc:
        errors.report_error(f"unexpected error: {type(exc).__name__}: {exc}")
    return 1


#: Python's own exit status when it cannot flush stdout at exit (a reader gone).
FLUSH_FAILED = 120


def exit_now(code: int) -> None:
    """End the process with ``code``, skipping the interpreter's teardown.

    By the time a command returns, every file it wrote is closed and in place
    (written under ``with`` and renamed); all that teardown would still do is
    free modules and OpenSSL's state, which costs about a fifth of a networked
    command's CPU and changes nothing a user sees. The output is flushed here,
    and a flush that fails ends with status 120, as the interpreter's would.
    It never returns (``-> None``, not ``NoReturn``: importing ``typing`` would cost
    every command a few milliseconds).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            silence_stdout()
            code = FLUSH_FAILED
    os._exit(code)


def run() -> None:
    """Run the command of ``sys.argv`` and exit with its status (both entry points)."""
    exit_now(main())
