"""The ``convox-conformance rules`` listing: a plain-text table of rules.

Plain text, so it reads the same in a terminal, a CI log and a diff; kept
apart so a change of layout touches nothing that loads or checks rules.
"""

from __future__ import annotations

from conformance.catalogue.model import Catalogue


def format_rules(catalogue: Catalogue, area: str | None = None,
                 level: str | None = None) -> str:
    """A plain-text table of rules (id, level, title, needs) and a count line.

    Plain text, so it reads the same in a terminal, a CI log and a diff.
    Raises ``ValueError`` for an unknown area or level (see
    :meth:`Catalogue.select`).
    """
    rules = catalogue.select(area=area, level=level)
    header = ("ID", "LEVEL", "TITLE", "NEEDS")
    rows = [(r.id, r.level, r.title, ", ".join(r.needs) or "-") for r in rules]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]

    def line(row: tuple[str, str, str, str]) -> str:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:3])]
        return "  ".join([*cells, row[3]]).rstrip()

    must = sum(1 for r in rules if r.level == "MUST")
    noun = "rule" if len(rules) == 1 else "rules"
    summary = f"{len(rules)} {noun} ({must} MUST, {len(rules) - must} SHOULD)"
    return "\n".join([line(header), *(line(row) for row in rows), summary])
