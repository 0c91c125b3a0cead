"""The bundled reference Convox CLI (standard library only), one module per concern.

Run it as ``python -m reference_cli`` or the ``convox-reference`` script
(:func:`reference_cli.main.main`). The modules import each other only as
modules and call ``module.function(...)`` at call time, so replacing one
attribute of the module that defines it (as the mutant zoo does) changes
behaviour everywhere that attribute is used; ``docs/architecture.md`` lists
the modules.
"""
