"""The entry point: route argv to a command and turn every failure into one line.

A command's module is imported only when that command runs, so ``--help``
loads nothing but this module and :mod:`errors`; each command is called
through its module attribute (``login.cmd_login``) so a mutant's replacement
is what runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from fakes.reference_cli import errors

USAGE = """\
convox-reference: the bundled reference Convox CLI (convox-conformance)

usage: convox <command> [args]

commands:
  login [HOST] [--password KEY | -p KEY]   log in to Console (default console.convox.com)
                                           or to a Rack directly; the key comes from the
                                           flag, CONVOX_PASSWORD, the key already stored
                                           for HOST, or a no-echo prompt
  switch [ORG/NAME | NAME]                 select the Rack Console proxies to; without an
                                           argument print the selected Rack
  racks                                    list the Racks Console gives you
  apps [--rack ORG/NAME]                   list the apps of the current Rack (or of ORG/NAME)
  rack [--rack ORG/NAME]                   show the current Rack (or ORG/NAME)
  rack params                              show the current Rack's parameters
  rack params set KEY=VALUE...             set Rack parameters (Password=NEW rolls its key)
  logout                                   forget the current host's key
  --version                                print the version
  --help                                   print this help

files: $CONVOX_CONFIG or ~/.convox: host, auth (JSON host -> key), rack (org/name), id
project: ./.convox/rack (org/name) pins the Rack for commands run in that directory
rack of a command: --rack, then CONVOX_RACK, then ./.convox/rack, then the rack file
environment: CONVOX_HOST, CONVOX_PASSWORD (host and key of every command, before the
             files), CONVOX_RACK (the Rack of one command), CONVOX_CONFIG,
             CONVOX_TIMEOUT (seconds, default 10),
             SSL_CERT_FILE (CA bundle to verify against), CONVOX_REFERENCE_RESOLVE
             (name:port=ip:port;...;*=ip:port, like curl --resolve)
"""


def silence_stdout() -> None:
    """stdout's reader went away: point it at /dev/null so the interpreter's final
    flush cannot print a traceback either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return


def cmd_help(args: list[str]) -> int:
    """Print the usage text."""
    sys.stdout.write(USAGE)
    sys.stdout.flush()
    return 0


def cmd_version(args: list[str]) -> int:
    """Print the version (the same string sent as the ``Version`` header)."""
    from fakes.reference_cli import output, transport

    output.out(f"convox-reference {transport.VERSION}")
    return 0


#: command words -> (module of ``commands``, function); ``rack params`` and
#: ``rack params set`` are routed by :func:`command_of`.
COMMANDS = {
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

    if not args or args[0] == "--help":
        return cmd_help(args[1:])
    if args[0] == "--version":
        return cmd_version(args[1:])
    words, rest = command_of(args)
    module_name, function = COMMANDS[words]
    module = importlib.import_module(f"fakes.reference_cli.commands.{module_name}")
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
