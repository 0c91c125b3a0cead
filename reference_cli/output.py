"""Result lines on stdout: one line at a time, and the real CLI's table layout.

Kept apart from :mod:`errors` because stdout carries results and stderr carries
failures; a check reads each stream on its own.
"""

from __future__ import annotations

import sys


def out(text: str) -> None:
    """Print one result line on stdout (kept separate so tests can see all output)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces, like the real CLI's tables."""
    table = [headers, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def text_of(value: object) -> str:
    """Render a JSON scalar for a table cell (missing values print as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
