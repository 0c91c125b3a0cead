"""``python -m fakes.reference_cli``: run the reference CLI."""

from fakes.reference_cli import main as entry

raise SystemExit(entry.main())
