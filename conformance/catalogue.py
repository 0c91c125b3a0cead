"""The rule catalogue: ``specs/*.toml`` as data, validated by hand.

Users adopt a conformance suite for its rules, so every rule must be traceable
to a documented sentence and linked to a check. This module is the single
place that reads the catalogue; it refuses anything malformed with one-line
messages (``specs/login.toml: rules[3].level: must be MUST or SHOULD, got
'MAY'``) so that an author fixes the data, not the code. It also answers
``convox-conformance rules`` (:func:`format_rules`) and ``rules --check``
(:func:`check_links`), which reads the check modules statically with
:mod:`ast`: a link check must not import checks (and their fixtures) to know
which rules they cover.

The schema is described in ``specs/README.md``; keep the two in step.
"""

from __future__ import annotations

import ast
import functools
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

LEVELS = ("MUST", "SHOULD")

#: What a rule may need from a profile: every operation a check drives, plus
#: ``trust`` (the CLI can be given our CA) and ``resolve`` (the CLI can be told
#: to reach a host name at a loopback address). ``version`` is deliberately
#: absent: no rule is about the version banner.
CAPABILITIES = frozenset(
    {
        "login", "login_env", "login_prompt", "login_default", "switch", "current_rack",
        "racks", "apps", "rack_info", "rack_set_password", "logout", "trust", "resolve",
    }
)

#: The documentation pages facts are cited from (``DOCS-<page>-<n>``): page ->
#: (address, number of facts). Mirrors the reference notes the rules were
#: written from, which the shipped suite cannot read.
DOCS_PAGES: Mapping[str, tuple[str, int]] = {
    "api-keys": ("https://convox.com/docs/api-keys/", 6),
    "api-keyroll": ("https://convox.com/docs/api-keyroll/", 5),
    "cli-config-files": ("https://convox.com/docs/cli-config-files/", 5),
    "access-control": ("https://docsv2.convox.com/console/access-control", 4),
}

#: The sections of the wire-protocol notes a rule may cite (``WIRE-<slug>``).
WIRE_SECTIONS: Mapping[str, str] = {
    "transport": "Transport",
    "authentication": "Authentication",
    "endpoints": "Endpoints the auth flows touch",
    "login": "What each CLI writes and prints: login",
    "switch": "What each CLI writes and prints: switch",
    "selection-precedence": "What each CLI writes and prints: rack selection precedence",
    "not-logged-in": "What each CLI writes and prints: not logged in",
    "logout": "What each CLI writes and prints: there is no logout command",
    "console": "Console behaviour the FAQ and the Convox docs describe",
}

#: The FAQ the product implements, shipped with the catalogue so that quotes
#: can be verified wherever the suite is installed.
FAQ_FILE = "sources/login-and-authentication-faq.txt"
#: FAQ sentences judged not to be CLI rules, each with the reason.
FAQ_NOT_RULES_FILE = "sources/faq-not-rules.toml"

#: Display order of the areas in listings (the order a reader meets them in
#: the FAQ); areas not named here follow alphabetically.
AREA_ORDER = (
    "LOGIN", "SWITCH", "PROXY", "LOGOUT", "SHARING", "KEYROLL", "SECURITY", "RELIABILITY",
)

_AREA_KEYS = ("area", "title", "summary", "checks", "rules")
_RULE_KEYS = ("id", "title", "level", "sources", "needs", "rationale", "check")
_SOURCE_KEYS = {"faq": ("faq",), "docs": ("docs", "url", "says"), "wire": ("wire", "says")}
_ID_RE = re.compile(r"^([A-Z]+)-(\d{3})$")
_DOCS_RE = re.compile(r"^DOCS-([a-z][a-z-]*[a-z])-(\d+)$")
_WIRE_RE = re.compile(r"^WIRE-([a-z][a-z-]*[a-z])$")
_STEM_RE = re.compile(r"^[a-z]+$")
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.?!])|(?<=[.?!]”))\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.")


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

    @property
    def faq_quotes(self) -> tuple[str, ...]:
        """The FAQ sentences this rule quotes (possibly none)."""
        return tuple(s.text for s in self.sources if s.kind == "faq")


@dataclass(frozen=True)
class Area:
    """One ``specs/<area>.toml`` file: an id prefix and the module checking it."""

    name: str
    title: str
    summary: str
    checks: str
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


# ---------------------------------------------------------------------------
# FAQ text helpers


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


def _whole_sentences(quote: str, units: Sequence[str]) -> bool:
    """Whether ``quote`` is one or more consecutive FAQ sentences, whole."""
    for start in range(len(units)):
        joined, nxt = units[start], start + 1
        while len(joined) < len(quote) and nxt < len(units):
            joined, nxt = f"{joined} {units[nxt]}", nxt + 1
        if joined == quote:
            return True
    return False


# ---------------------------------------------------------------------------
# Loading


def default_specs_dir() -> Traversable:
    """Where the shipped catalogue lives.

    Installed, it is the package data ``conformance/_specs`` (the wheel
    force-includes ``specs/`` there); in a checkout it is ``specs/`` next to
    the package. Package data first, so an installed suite never picks up a
    stray ``specs/`` directory from the current directory.
    """
    try:
        packaged = resources.files("conformance") / "_specs"
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError, ValueError, OSError):
        pass
    return Path(__file__).resolve().parent.parent / "specs"


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue at ``path`` (default: the shipped one).

    The shipped catalogue is loaded once per process (the pytest plugin asks
    for it for every check); an explicit path is always read afresh. Raises
    :class:`CatalogueError` listing every problem, one line each.
    """
    if path is None:
        return _load_default()
    root = Path(path)
    return _load(root, root.name or str(root))


@functools.lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    root = default_specs_dir()
    display = "conformance/_specs" if root.name == "_specs" else "specs"
    return _load(root, display)


def _load(root: Traversable, display: str) -> Catalogue:
    problems: list[str] = []
    if not root.is_dir():
        raise CatalogueError([f"{display}: not a directory"])

    faq_text = _read_faq(root, display, problems)
    units = faq_sentences(faq_text) if faq_text else []
    faq_norm = normalise(faq_text) if faq_text else ""
    not_rules = _read_not_rules(root, display, units, problems)

    files = sorted(
        (entry for entry in root.iterdir() if entry.name.endswith(".toml") and entry.is_file()),
        key=lambda entry: entry.name,
    )
    if not files:
        problems.append(f"{display}: no area files (*.toml)")

    areas: list[Area] = []
    rules: dict[str, Rule] = {}
    first_seen: dict[str, str] = {}
    for entry in files:
        where = f"{display}/{entry.name}"
        data = _parse_toml(entry, where, problems)
        if data is None:
            continue
        checker = _FileChecker(where, entry.name[: -len(".toml")], faq_norm, units,
                               faq_text is not None, problems)
        area, area_rules = checker.check(data)
        for index, rule in area_rules:
            if rule.id in first_seen:
                problems.append(
                    f"{where}: rules[{index}].id: duplicate {rule.id!r}, "
                    f"first in {first_seen[rule.id]}"
                )
                continue
            first_seen[rule.id] = f"{where} rules[{index}]"
            rules[rule.id] = rule
        if area is not None:
            areas.append(area)

    if problems:
        raise CatalogueError(problems)

    def area_key(area: Area) -> tuple[int, str]:
        rank = AREA_ORDER.index(area.name) if area.name in AREA_ORDER else len(AREA_ORDER)
        return (rank, area.name)

    ordered_areas = sorted(areas, key=area_key)
    ordered_rules: dict[str, Rule] = {}
    for area in ordered_areas:
        for rule_id in sorted(area.rule_ids):
            ordered_rules[rule_id] = rules[rule_id]
    return Catalogue(
        rules=ordered_rules,
        areas={area.name: area for area in ordered_areas},
        faq_text=faq_text or "",
        faq_not_rules=tuple(not_rules),
        root=display,
    )


def _read_faq(root: Traversable, display: str, problems: list[str]) -> str | None:
    entry = root / "sources" / "login-and-authentication-faq.txt"
    if not entry.is_file():
        problems.append(f"{display}/{FAQ_FILE}: missing, so FAQ quotes cannot be verified")
        return None
    try:
        return entry.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(f"{display}/{FAQ_FILE}: not UTF-8")
        return None


def _read_not_rules(
    root: Traversable, display: str, units: Sequence[str], problems: list[str]
) -> list[FaqNotRule]:
    entry = root / "sources" / "faq-not-rules.toml"
    if not entry.is_file():
        return []
    where = f"{display}/{FAQ_NOT_RULES_FILE}"
    data = _parse_toml(entry, where, problems)
    if data is None:
        return []
    for key in data:
        if key != "sentences":
            problems.append(f"{where}: unknown key {key!r}")
    items = data.get("sentences", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(f"{where}: sentences: must be a list of tables")
        return []
    result: list[FaqNotRule] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        here = f"{where}: sentences[{index}]"
        for key in item:
            if key not in ("text", "why"):
                problems.append(f"{here}: unknown key {key!r}")
        text, why = item.get("text"), item.get("why")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{here}.text: must be a non-empty string, got {text!r}")
            continue
        if not isinstance(why, str) or not why.strip():
            problems.append(f"{here}.why: must be a non-empty string, got {why!r}")
            continue
        norm = normalise(text)
        if units and norm not in units:
            problems.append(f"{here}.text: not one sentence of the FAQ: {_short(norm)!r}")
            continue
        if norm in seen:
            problems.append(f"{here}.text: listed twice: {_short(norm)!r}")
            continue
        seen.add(norm)
        result.append(FaqNotRule(norm, normalise(why)))
    return result


def _parse_toml(entry: Traversable, where: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        text = entry.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{where}: not UTF-8")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{where}: invalid TOML: {normalise(str(exc))}")
        return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: object) -> str:
    """``got`` part of a message: short repr, TOML-ish type names for tables."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(_short(value) if isinstance(value, str) else value)


class _FileChecker:
    """Validates one area file; appends one-line problems, never raises."""

    def __init__(
        self, where: str, stem: str, faq_norm: str, units: Sequence[str],
        faq_known: bool, problems: list[str],
    ) -> None:
        self.where = where
        self.stem = stem
        self.faq_norm = faq_norm
        self.units = units
        self.faq_known = faq_known
        self.problems = problems

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{self.where}: {path}: {message}" if path else
                             f"{self.where}: {message}")

    def text(self, table: Mapping[str, Any], key: str, path: str,
             *, one_line: bool = False) -> str | None:
        value = table.get(key)
        here = f"{path}.{key}" if path else key
        if key not in table:
            self.problem(here, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(here, f"must be a non-empty string, got {_describe(value)}")
            return None
        if one_line and "\n" in value.strip():
            self.problem(here, "must be one line")
            return None
        return normalise(value)

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(path, f"unknown key {key!r} (allowed: {', '.join(allowed)})")

    def check(self, data: Mapping[str, Any]) -> tuple[Area | None, list[tuple[int, Rule]]]:
        expected_area = self.stem.upper()
        if not _STEM_RE.match(self.stem):
            self.problem("", "file name must be the area in lower-case letters, e.g. login.toml")
        self.unknown_keys(data, _AREA_KEYS, "")
        area = self.text(data, "area", "", one_line=True)
        if area is not None and area != expected_area:
            self.problem("area", f"must be {expected_area!r} (the file name in capitals), "
                                 f"got {area!r}")
            area = None
        title = self.text(data, "title", "", one_line=True)
        summary = self.text(data, "summary", "")
        checks = self.text(data, "checks", "", one_line=True)
        expected_checks = f"conformance/checks/test_{self.stem}.py"
        if checks is not None and checks != expected_checks:
            self.problem("checks", f"must be {expected_checks!r}, got {checks!r}")
        raw_rules = data.get("rules")
        found: list[tuple[int, Rule]] = []
        if "rules" not in data:
            self.problem("rules", "missing")
        elif not isinstance(raw_rules, list) or not raw_rules or not all(
            isinstance(item, dict) for item in raw_rules
        ):
            self.problem("rules", "must be a non-empty list of tables ([[rules]])")
        else:
            for index, item in enumerate(raw_rules):
                rule = self.check_rule(index, item, area or expected_area)
                if rule is not None:
                    found.append((index, rule))
        if area is None or title is None or summary is None or checks is None:
            return None, found
        return (
            Area(area, title, summary, checks, self.where, tuple(r.id for _, r in found)),
            found,
        )

    def check_rule(self, index: int, item: Mapping[str, Any], area: str) -> Rule | None:
        path = f"rules[{index}]"
        self.unknown_keys(item, _RULE_KEYS, path)
        ok = True

        rule_id = self.text(item, "id", path, one_line=True)
        if rule_id is not None:
            match = _ID_RE.match(rule_id)
            if match is None or match.group(2) == "000":
                self.problem(f"{path}.id", f"must look like {area}-001, got {rule_id!r}")
                ok = False
            elif match.group(1) != area:
                self.problem(f"{path}.id", f"prefix must be the area {area!r}, got {rule_id!r}")
                ok = False
        else:
            ok = False

        title = self.text(item, "title", path, one_line=True)
        level = item.get("level")
        if "level" not in item:
            self.problem(f"{path}.level", "missing")
            ok = False
        elif level not in LEVELS:
            self.problem(f"{path}.level", f"must be MUST or SHOULD, got {_describe(level)}")
            ok = False
        sources = self.check_sources(item, path)
        needs = self.check_needs(item, path)
        rationale = self.text(item, "rationale", path)
        check = self.text(item, "check", path)
        if (not ok or title is None or sources is None or needs is None
                or rationale is None or check is None or rule_id is None):
            return None
        return Rule(rule_id, area, title, str(level), sources, needs, rationale, check,
                    self.where)

    def check_needs(self, item: Mapping[str, Any], path: str) -> tuple[str, ...] | None:
        here = f"{path}.needs"
        if "needs" not in item:
            self.problem(here, "missing (use [] when the rule needs nothing optional)")
            return None
        needs = item["needs"]
        if not isinstance(needs, list):
            self.problem(here, f"must be a list of capabilities, got {_describe(needs)}")
            return None
        result: list[str] = []
        ok = True
        for position, need in enumerate(needs):
            if not isinstance(need, str) or need not in CAPABILITIES:
                known = ", ".join(sorted(CAPABILITIES))
                self.problem(f"{here}[{position}]",
                             f"unknown capability {_describe(need)} (known: {known})")
                ok = False
            elif need in result:
                self.problem(f"{here}[{position}]", f"duplicate capability {need!r}")
                ok = False
            else:
                result.append(need)
        return tuple(result) if ok else None

    def check_sources(self, item: Mapping[str, Any], path: str) -> tuple[Source, ...] | None:
        here = f"{path}.sources"
        if "sources" not in item:
            self.problem(here, "missing")
            return None
        raw = item["sources"]
        if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
            self.problem(here, "must be a non-empty list of tables "
                               "({ faq = ... }, { docs = ..., url = ..., says = ... } "
                               "or { wire = ..., says = ... })")
            return None
        result: list[Source] = []
        for position, table in enumerate(raw):
            source = self.check_source(table, f"{here}[{position}]")
            if source is not None:
                result.append(source)
        return tuple(result) if len(result) == len(raw) else None

    def check_source(self, table: Mapping[str, Any], path: str) -> Source | None:
        kinds = [kind for kind in _SOURCE_KEYS if kind in table]
        if len(kinds) != 1:
            self.problem(path, "must have exactly one of faq, docs, wire")
            return None
        kind = kinds[0]
        self.unknown_keys(table, _SOURCE_KEYS[kind], path)
        if any(key not in _SOURCE_KEYS[kind] for key in table):
            return None
        if kind == "faq":
            return self.check_faq(table, path)
        if kind == "docs":
            return self.check_docs(table, path)
        return self.check_wire(table, path)

    def check_faq(self, table: Mapping[str, Any], path: str) -> Source | None:
        quote = self.text(table, "faq", path)
        if quote is None:
            return None
        if not self.faq_known:
            return Source("faq", quote)  # the missing FAQ is reported once, elsewhere
        if quote not in self.faq_norm:
            self.problem(f"{path}.faq", f"not a verbatim quote of {FAQ_FILE}: {_short(quote)!r}")
            return None
        if not _whole_sentences(quote, self.units):
            self.problem(f"{path}.faq", f"must quote whole sentences of the FAQ: "
                                        f"{_short(quote)!r}")
            return None
        return Source("faq", quote)

    def check_docs(self, table: Mapping[str, Any], path: str) -> Source | None:
        ref = self.text(table, "docs", path, one_line=True)
        url = self.text(table, "url", path, one_line=True)
        says = self.text(table, "says", path)
        if ref is None or url is None or says is None:
            return None
        match = _DOCS_RE.match(ref)
        pages = ", ".join(sorted(DOCS_PAGES))
        if match is None or match.group(1) not in DOCS_PAGES:
            self.problem(f"{path}.docs",
                         f"must be DOCS-<page>-<n> with page one of {pages}, got {ref!r}")
            return None
        page, number = match.group(1), int(match.group(2))
        address, count = DOCS_PAGES[page]
        if not 1 <= number <= count:
            self.problem(f"{path}.docs", f"DOCS-{page} has facts 1-{count}, got {ref!r}")
            return None
        if url != address:
            self.problem(f"{path}.url", f"must be {address!r} for {ref}, got {url!r}")
            return None
        return Source("docs", says, ref, url)

    def check_wire(self, table: Mapping[str, Any], path: str) -> Source | None:
        ref = self.text(table, "wire", path, one_line=True)
        says = self.text(table, "says", path)
        if ref is None or says is None:
            return None
        match = _WIRE_RE.match(ref)
        if match is None or match.group(1) not in WIRE_SECTIONS:
            known = ", ".join(f"WIRE-{slug}" for slug in WIRE_SECTIONS)
            self.problem(f"{path}.wire", f"unknown wire section {ref!r} (known: {known})")
            return None
        return Source("wire", says, ref)


# ---------------------------------------------------------------------------
# FAQ coverage and check links (``rules --check``)


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
                            f"{', '.join(quoted_by)}: {_short(sentence)!r}")
        elif sentence not in listed and not any(sentence in quote for quote in quotes):
            problems.append(f"{where}: sentence quoted by no rule and not listed in "
                            f"{FAQ_NOT_RULES_FILE}: {_short(sentence)!r}")
    return problems


@dataclass(frozen=True)
class CheckLink:
    """One test function naming one rule, as found statically."""

    rule_id: str
    location: str  # "conformance/checks/test_login.py:12"
    name: str      # "test_login.py::TestLogin::test_records_host"
    skipped: bool


@dataclass(frozen=True)
class _Mark:
    name: str
    node: ast.expr
    args: tuple[ast.expr, ...]
    keywords: tuple[ast.keyword, ...]


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _as_mark(node: ast.expr) -> _Mark | None:
    """``pytest.mark.X(...)`` / ``mark.X`` (called or bare) as a mark, else None."""
    call = node if isinstance(node, ast.Call) else None
    name = _dotted(call.func if call else node)
    if name is None:
        return None
    parts = name.split(".")
    if len(parts) < 2 or parts[-2] != "mark":
        return None
    return _Mark(parts[-1], node, tuple(call.args) if call else (),
                 tuple(call.keywords) if call else ())


def _marks_of(value: ast.expr) -> list[_Mark]:
    items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
    return [mark for item in items if (mark := _as_mark(item)) is not None]


def _pytestmark(body: Sequence[ast.stmt]) -> list[_Mark]:
    marks: list[_Mark] = []
    for stmt in body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        if value is not None and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets
        ):
            marks.extend(_marks_of(value))
    return marks


def _is_skip_mark(mark: _Mark) -> bool:
    if mark.name == "skip":
        return True
    if mark.name == "skipif":
        condition: ast.expr | None = mark.args[0] if mark.args else None
        for keyword in mark.keywords:
            if keyword.arg == "condition":
                condition = keyword.value
        return isinstance(condition, ast.Constant) and condition.value is True
    return False


def _skips_first(body: Sequence[ast.stmt], *, module: bool = False) -> bool:
    """An unconditional ``pytest.skip(...)`` as the first statement."""
    for stmt in body:
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)):
            continue  # docstring
        if module and isinstance(stmt, ast.Import | ast.ImportFrom):
            continue
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and _dotted(stmt.value.func) in ("pytest.skip", "skip")):
            if not module:
                return True
            return any(k.arg == "allow_module_level" and isinstance(k.value, ast.Constant)
                       and k.value.value is True for k in stmt.value.keywords)
        return False
    return False


class _ModuleScan:
    """Collects the spec links of one check module."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.links: list[CheckLink] = []
        self.problems: list[str] = []

    def scan(self, tree: ast.Module) -> None:
        inherited = _pytestmark(tree.body)
        module_skip = _skips_first(tree.body, module=True)
        self.scan_body(tree.body, inherited, module_skip, self.display.rsplit("/", 1)[-1])

    def scan_body(self, body: Sequence[ast.stmt], inherited: list[_Mark], skipped: bool,
                  prefix: str) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                if not stmt.name.startswith("test"):
                    continue
                marks = inherited + [m for d in stmt.decorator_list
                                     if (m := _as_mark(d)) is not None]
                self.add(stmt, f"{prefix}::{stmt.name}", marks,
                         skipped or _skips_first(stmt.body))
            elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
                marks = inherited + [m for d in stmt.decorator_list
                                     if (m := _as_mark(d)) is not None]
                marks += _pytestmark(stmt.body)
                self.scan_body(stmt.body, marks, skipped, f"{prefix}::{stmt.name}")

    def add(self, node: ast.stmt, name: str, marks: list[_Mark], skipped: bool) -> None:
        skipped = skipped or any(_is_skip_mark(mark) for mark in marks)
        location = f"{self.display}:{node.lineno}"
        for mark in marks:
            if mark.name != "spec":
                continue
            if not mark.args:
                self.problems.append(f"{location}: {name}: spec mark names no rule")
            for arg in mark.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    self.links.append(CheckLink(arg.value, location, name, skipped))
                else:
                    self.problems.append(
                        f"{location}: {name}: spec mark needs literal rule ids, "
                        f"got {ast.unparse(arg)}"
                    )


def default_checks_dir() -> Path:
    """The shipped check modules, next to this file."""
    return Path(__file__).resolve().parent / "checks"


def scan_checks(checks_dir: str | Path | None = None) -> tuple[list[CheckLink], list[str]]:
    """Every ``spec`` mark on a test in the check modules, and scan problems.

    Only files pytest collects by default (``test_*.py``, ``*_test.py``) are
    read: a mark in a file pytest never collects checks nothing, so counting
    it would hide a missing check. Marks apply as pytest applies them: module
    ``pytestmark``, class decorators and class ``pytestmark``, then function
    decorators.
    """
    root = Path(checks_dir) if checks_dir is not None else default_checks_dir()
    prefix = f"{root.parent.name}/{root.name}" if root.parent.name else root.name
    if not root.is_dir():
        return [], [f"{prefix}: no such directory of checks"]
    links: list[CheckLink] = []
    problems: list[str] = []
    files = sorted({*root.glob("test_*.py"), *root.glob("*_test.py")})
    for file in files:
        display = f"{prefix}/{file.name}"
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        except (SyntaxError, UnicodeDecodeError) as exc:
            problems.append(f"{display}: cannot parse: {normalise(str(exc))}")
            continue
        scan = _ModuleScan(display)
        scan.scan(tree)
        links.extend(scan.links)
        problems.extend(scan.problems)
    return links, problems


def check_links(catalogue: Catalogue, checks_dir: str | Path | None = None) -> list[str]:
    """What ``convox-conformance rules --check`` reports; empty means clean.

    Reports a rule with no check, a check naming an unknown rule, a MUST rule
    whose every check is statically skipped (``@pytest.mark.skip``,
    ``skipif(True)``, an unconditional ``pytest.skip`` first), marks that cannot
    be read statically, and FAQ sentences mapped to no rule
    (:func:`faq_coverage`). A promise of "every rule checked" is only worth
    something if a skipped check cannot stand in for a real one.
    """
    links, problems = scan_checks(checks_dir)
    by_rule: dict[str, list[CheckLink]] = {}
    for link in links:
        by_rule.setdefault(link.rule_id, []).append(link)
    for link in links:
        if link.rule_id not in catalogue.rules:
            problems.append(f"{link.location}: {link.name}: names unknown rule {link.rule_id!r}")
    for rule in catalogue:
        found = by_rule.get(rule.id, [])
        if not found:
            module = catalogue.areas[rule.area].checks
            problems.append(f"{rule.id}: no check (mark a test in {module} "
                            f"with @pytest.mark.spec({rule.id!r}))")
        elif rule.level == "MUST" and all(link.skipped for link in found):
            names = ", ".join(sorted({link.name for link in found}))
            problems.append(f"{rule.id}: MUST rule has only skipped checks ({names})")
    problems.extend(faq_coverage(catalogue))
    return problems


# ---------------------------------------------------------------------------
# Listing (``convox-conformance rules``)


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
