"""``python -m reference_cli``: run the reference CLI.

The bundled CLI needs no script on PATH and runs with the suite's own interpreter.
The reference profile starts it with ``{python} -c "from reference_cli.main import
run; run()"``, the same call without runpy's import.
"""

from reference_cli import main as entry

entry.run()
