"""``python -m reference_cli``: run the reference CLI.

The form the reference profile uses (``{python} -m reference_cli``), so the
bundled CLI needs no script on PATH and runs with the suite's own interpreter.
"""

from reference_cli import main as entry

entry.run()
