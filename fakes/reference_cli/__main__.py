"""``python -m fakes.reference_cli``: run the reference CLI."""

from fakes.reference_cli.cli import main

raise SystemExit(main())
