"""The bundled reference Convox CLI (standard library only).

Run it as ``python -m fakes.reference_cli`` or the ``convox-reference`` script.
The implementation lives in :mod:`fakes.reference_cli.cli`; mutants replace one
of its module attributes and call :func:`fakes.reference_cli.cli.main`.
"""
