"""``python -m conformance``: the ``convox-conformance`` command without its script.

For a venv whose scripts are not on PATH, and for the project's tests, which
run the command this way so a subprocess uses the same interpreter and code.
"""

import sys

from conformance.commands.main import main

sys.exit(main())
