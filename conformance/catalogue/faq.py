"""The FAQ as sentences: splitting, verbatim-quote matching and coverage.

Every rule is traceable to documented sentences, and every behaviour sentence
of the FAQ maps to a rule or to a listed reason why it is none. This module
holds the one definition of "a sentence" that both promises rest on, so the
validator (quotes must be whole sentences) and ``rules --check`` (every
sentence is covered) cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from conformance.catalogue.model import Catalogue

#: The FAQ the product implements, shipped with the catalogue so that quotes
#: can be verified wherever the suite is installed.
FAQ_FILE = "sources/login-and-authentication-faq.txt"
#: FAQ sentences judged not to be CLI rules, each with the reason.
FAQ_NOT_RULES_FILE = "sources/faq-not-rules.toml"

_SENTENCE_BREAK = re.compile(r"(?:(?<=[.?!])|(?<=[.?!]”))\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.")


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space.

    Quotes are compared after this so that a line break in the FAQ (or in a
    TOML string) never makes a verbatim quote fail.
    """
    return " ".join(text.split())


def faq_sentences(faq_text: str) -> list[str]:
    """The FAQ split into sentences (headings count as one sentence each).

    The unit of "every behaviour sentence is mapped": each must be quoted by a
    rule or listed in ``sources/faq-not-rules.toml``. A sentence ends at
    ``.``, ``?`` or ``!`` (possibly inside a closing quote) followed by a
    space, except after an abbreviation such as "e.g."; FAQ sentences may
    start in lower case ("convox switch is ..."), so capitals cannot be
    relied on. Paragraphs
    (separated by blank lines or started by a bullet) are joined first, so a
    sentence wrapped over two lines is still one sentence; bullet markers are
    dropped.
    """
    paragraphs: list[list[str]] = [[]]
    for raw in faq_text.splitlines():
        line = normalise(raw)
        if not line or line.startswith("•"):
            paragraphs.append([])  # a blank line or a bullet starts a paragraph
        if line:
            paragraphs[-1].append(line.lstrip("•").strip())
    units: list[str] = []
    for paragraph in paragraphs:
        text = " ".join(part for part in paragraph if part)
        if not text:
            continue
        pending = ""
        for part in _SENTENCE_BREAK.split(text):
            pending = f"{pending} {part}" if pending else part
            if not pending.endswith(_ABBREVIATIONS):
                units.append(pending)
                pending = ""
        if pending:
            units.append(pending)
    return units


def whole_sentences(quote: str, units: Sequence[str]) -> bool:
    """Whether ``quote`` is one or more consecutive FAQ sentences, whole."""
    for start in range(len(units)):
        joined, nxt = units[start], start + 1
        while len(joined) < len(quote) and nxt < len(units):
            joined, nxt = f"{joined} {units[nxt]}", nxt + 1
        if joined == quote:
            return True
    return False


def faq_coverage(catalogue: Catalogue) -> list[str]:
    """FAQ sentences that no rule quotes and that are not listed as non-rules.

    The issue's promise is that every behaviour sentence of the FAQ maps to a
    rule; this makes that promise checkable. A sentence listed as not a rule
    but quoted anyway is also reported, since the two claims contradict.
    """
    quotes = [quote for rule in catalogue for quote in rule.faq_quotes]
    listed = {item.text for item in catalogue.faq_not_rules}
    where = f"{catalogue.root}/{FAQ_FILE}"
    problems: list[str] = []
    for sentence in faq_sentences(catalogue.faq_text):
        quoted_by = [rule.id for rule in catalogue
                     if any(sentence in quote for quote in rule.faq_quotes)]
        if sentence in listed and quoted_by:
            problems.append(f"{where}: listed in {FAQ_NOT_RULES_FILE} but quoted by "
                            f"{', '.join(quoted_by)}: {shorten(sentence)!r}")
        elif sentence not in listed and not any(sentence in quote for quote in quotes):
            problems.append(f"{where}: sentence quoted by no rule and not listed in "
                            f"{FAQ_NOT_RULES_FILE}: {shorten(sentence)!r}")
    return problems


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a one-line message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."

