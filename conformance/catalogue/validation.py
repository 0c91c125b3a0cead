"""Validation of the catalogue's TOML files: one line per problem, never a traceback.

An author who gets a rule wrong must be told where and how in terms of the
data (``specs/login.toml: rules[3].level: must be MUST or SHOULD, got
'MAY'``), so they fix the data, not the code. The checkers here append such
lines and never raise; :mod:`conformance.catalogue.loading` raises them all
at once. The schema is described in ``specs/README.md``; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any

from conformance import toml_file
from conformance.catalogue.faq import (
    FAQ_FILE,
    FAQ_NOT_RULES_FILE,
    normalise,
    shorten,
    whole_sentences,
)
from conformance.catalogue.model import LEVELS, Area, FaqNotRule, Rule, Source

#: What a rule may need from a profile: every operation a check drives, plus
#: ``trust`` (the CLI can be given our CA) and ``resolve`` (the CLI can be told
#: to reach a host name at a loopback address), ``env_credentials`` (the CLI takes
#: the host and key of every command from the environment) and ``env_rack`` (the
#: rack from the environment). ``version`` is deliberately
#: absent: no rule is about the version banner.
CAPABILITIES = frozenset(
    {
        "login", "login_env", "login_prompt", "login_default", "switch", "current_rack",
        "racks", "apps", "apps_rack", "rack_info", "rack_set_password", "logout", "trust",
        "resolve", "env_credentials", "env_rack", "session",
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

_AREA_KEYS = ("area", "title", "summary", "checks", "rules")
_RULE_KEYS = ("id", "title", "level", "sources", "needs", "rationale", "check", "demand",
              "route")
#: ``demand``: where a rule's demand comes from, stated where no official CLI meets it.
DEMANDS = ("documented", "suite")
#: ``route``: "direct" where the rule is observed only through commands at a rack
#: logged in to directly (omitted: a check takes whichever route the CLI has).
ROUTES = ("direct",)
_SOURCE_KEYS = {"faq": ("faq",), "docs": ("docs", "url", "says"), "wire": ("wire", "says")}
_ID_RE = re.compile(r"^([A-Z]+)-(\d{3})$")
_DOCS_RE = re.compile(r"^DOCS-([a-z][a-z-]*[a-z])-(\d+)$")
_WIRE_RE = re.compile(r"^WIRE-([a-z][a-z-]*[a-z])$")
_STEM_RE = re.compile(r"^[a-z]+$")
#: Where the check modules an area file lists live, as the area file writes them.
CHECKS_DIR = "conformance/checks"
_CHECKS_RE = re.compile(r"^conformance/checks/test_[a-z_]+\.py$")


def read_not_rules(
    root: Traversable, display: str, units: Sequence[str], problems: list[str]
) -> list[FaqNotRule]:
    entry = root / "sources" / "faq-not-rules.toml"
    if not entry.is_file():
        return []
    where = f"{display}/{FAQ_NOT_RULES_FILE}"
    data = parse_toml(entry, where, problems)
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
            problems.append(f"{here}.text: not one sentence of the FAQ: {shorten(norm)!r}")
            continue
        if norm in seen:
            problems.append(f"{here}.text: listed twice: {shorten(norm)!r}")
            continue
        seen.add(norm)
        result.append(FaqNotRule(norm, normalise(why)))
    return result


def parse_toml(entry: Traversable, where: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        return toml_file.load(entry, universal_newlines=False)
    except toml_file.NotUtf8:
        problems.append(f"{where}: not UTF-8")
    except toml_file.NotToml as exc:
        problems.append(f"{where}: invalid TOML: {normalise(str(exc))}")
    return None


def _describe(value: object) -> str:
    """``got`` part of a message: short repr, TOML-ish type names for tables."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(shorten(value) if isinstance(value, str) else value)


class AreaFileChecker:
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
        checks = self.check_modules(data)
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

    def check_modules(self, data: Mapping[str, Any]) -> tuple[str, ...] | None:
        """``checks``: the area's own module first, then every other one holding a check
        of its rules (whether they do is ``rules --check``'s, which reads the checks)."""
        if "checks" not in data:
            self.problem("checks", "missing")
            return None
        modules = data["checks"]
        if not isinstance(modules, list) or not modules:
            self.problem("checks", f"must be a non-empty list of check modules, "
                                   f"got {_describe(modules)}")
            return None
        own = f"{CHECKS_DIR}/test_{self.stem}.py"
        ok = True
        for index, module in enumerate(modules):
            here = f"checks[{index}]"
            if index == 0 and module != own:
                self.problem(here, f"must be {own!r} (the area's own module), "
                                   f"got {_describe(module)}")
                ok = False
            elif not isinstance(module, str) or not _CHECKS_RE.match(module):
                self.problem(here, f"must be a check module {CHECKS_DIR}/test_<name>.py, "
                                   f"got {_describe(module)}")
                ok = False
            elif module in modules[:index]:
                self.problem(here, f"lists {module!r} twice")
                ok = False
        return tuple(modules) if ok else None

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
        demand = item.get("demand", "")
        if "demand" in item and demand not in DEMANDS:
            self.problem(f"{path}.demand", f"must be documented or suite, got {_describe(demand)}")
            ok = False
        elif demand == "suite" and level == "MUST":
            self.problem(f"{path}.level", "a demand of the suite's own (demand = \"suite\") is a "
                         "SHOULD: only what Convox documents can be a MUST")
            ok = False
        route = item.get("route", "")
        if "route" in item and route not in ROUTES:
            self.problem(f"{path}.route", f"must be direct, got {_describe(route)}")
            ok = False
        if (not ok or title is None or sources is None or needs is None
                or rationale is None or check is None or rule_id is None):
            return None
        return Rule(rule_id, area, title, str(level), sources, needs, rationale, check,
                    self.where, str(demand), str(route))

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
            self.problem(f"{path}.faq", f"not a verbatim quote of {FAQ_FILE}: {shorten(quote)!r}")
            return None
        if not whole_sentences(quote, self.units):
            self.problem(f"{path}.faq", f"must quote whole sentences of the FAQ: "
                                        f"{shorten(quote)!r}")
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


