"""The catalogue's data model: rules, areas and their sources, as frozen values.

Everything else in the package produces or reads these types, so they live
apart from the code that validates TOML, matches the FAQ or scans checks: a
report writer or the pytest plugin that only reads rules imports nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

LEVELS = ("MUST", "SHOULD")


class CatalogueError(Exception):
    """The catalogue is malformed; ``problems`` holds one line per problem.

    All problems are collected before raising so an author sees every mistake
    in one run instead of fixing them one at a time.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: a FAQ quote, a documented fact or a wire fact.

    ``kind`` is ``"faq"``, ``"docs"`` or ``"wire"``. For ``faq``, ``text`` is
    the verbatim quote and ``ref`` is empty; otherwise ``ref`` is the citation
    id (``DOCS-api-keyroll-4``, ``WIRE-login``) and ``text`` the paraphrase.
    """

    kind: str
    text: str
    ref: str = ""
    url: str = ""

    def cite(self) -> str:
        """One line for reports: the quote, or the citation id and address."""
        if self.kind == "faq":
            return f"FAQ: “{self.text}”"
        if self.url:
            return f"{self.ref} ({self.url}): {self.text}"
        return f"{self.ref}: {self.text}"


@dataclass(frozen=True)
class Rule:
    """One checkable rule, as the catalogue states it."""

    id: str
    area: str
    title: str
    level: str
    sources: tuple[Source, ...]
    needs: tuple[str, ...]
    rationale: str
    check: str
    file: str
    #: Where the demand comes from, stated where no official CLI meets it: "documented"
    #: (a Convox document says it) or "suite" (the suite's own, so a SHOULD); "" unstated.
    demand: str = ""
    #: "direct" where the rule is observed only through commands at a rack logged in to
    #: directly, so a CLI without them (PROXY-006) leaves it undecided; "" any route.
    route: str = ""

    @property
    def faq_quotes(self) -> tuple[str, ...]:
        """The FAQ sentences this rule quotes (possibly none)."""
        return tuple(s.text for s in self.sources if s.kind == "faq")


@dataclass(frozen=True)
class Area:
    """One ``specs/<area>.toml`` file: an id prefix and the modules checking its rules."""

    name: str
    title: str
    summary: str
    #: Every check module holding a check of the area's rules; the area's own first.
    checks: tuple[str, ...]
    file: str
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class FaqNotRule:
    """A FAQ sentence that is deliberately not a rule, and why."""

    text: str
    why: str


@dataclass(frozen=True)
class Catalogue:
    """Every rule by id and every area by name, in display order."""

    rules: Mapping[str, Rule]
    areas: Mapping[str, Area]
    faq_text: str
    faq_not_rules: tuple[FaqNotRule, ...]
    root: str

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def select(self, area: str | None = None, level: str | None = None) -> list[Rule]:
        """Rules of one area and/or level; names are case-insensitive.

        Raises ``ValueError`` with a one-line message naming the valid choices
        for an unknown area or level, so the CLI can print it as a usage error.
        """
        wanted_area = None
        if area is not None:
            wanted_area = area.strip().upper()
            if wanted_area not in self.areas:
                known = ", ".join(self.areas)
                raise ValueError(f"unknown area {area!r} (areas: {known})")
        wanted_level = None
        if level is not None:
            wanted_level = level.strip().upper()
            if wanted_level not in LEVELS:
                raise ValueError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
        return [
            rule
            for rule in self.rules.values()
            if (wanted_area is None or rule.area == wanted_area)
            and (wanted_level is None or rule.level == wanted_level)
        ]

