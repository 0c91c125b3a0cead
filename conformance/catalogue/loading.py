"""Finding and loading the catalogue: ``specs/`` (or its packaged copy) -> :class:`Catalogue`.

This is the one place that reads the catalogue from disk. It finds the
shipped copy whether the suite runs from a checkout or an installed wheel,
reads the FAQ and every area file, has them validated, and orders rules and
areas for display. The shipped catalogue is loaded once per process.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from conformance.catalogue.faq import FAQ_FILE, faq_sentences, normalise
from conformance.catalogue.model import Area, Catalogue, CatalogueError, Rule
from conformance.catalogue.validation import AreaFileChecker, parse_toml, read_not_rules

#: Display order of the areas in listings (the order a reader meets them in
#: the FAQ); areas not named here follow alphabetically.
AREA_ORDER = (
    "LOGIN", "SWITCH", "PROXY", "LOGOUT", "SHARING", "KEYROLL", "SECURITY", "RELIABILITY",
)


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
    return Path(__file__).resolve().parents[2] / "specs"


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
    not_rules = read_not_rules(root, display, units, problems)

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
        data = parse_toml(entry, where, problems)
        if data is None:
            continue
        checker = AreaFileChecker(where, entry.name[: -len(".toml")], faq_norm, units,
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

