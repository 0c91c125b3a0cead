"""``convox --help`` and ``convox --version``: what the CLI says about itself.

Kept out of :mod:`reference_cli.main` so every command, these two
included, is routed by the same table.
"""

from __future__ import annotations

import sys

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


def cmd_help(args: list[str]) -> int:
    """Print the usage text."""
    sys.stdout.write(USAGE)
    sys.stdout.flush()
    return 0


def cmd_version(args: list[str]) -> int:
    """Print the version (the same string sent as the ``Version`` header)."""
    from reference_cli import output, transport

    output.out(f"convox-reference {transport.VERSION}")
    return 0
