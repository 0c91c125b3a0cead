"""The reference CLI's commands, one module per command group.

``login``, ``switch`` (with ``racks``), ``rack`` (with ``apps`` and ``rack params``),
``logout``, and ``about`` (``--help``, ``--version``); :mod:`reference_cli.main`
imports a group only when one of its commands runs.
"""
