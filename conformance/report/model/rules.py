"""The catalogue as the reports see it: a list of :class:`RuleInfo`.

The reports depend on a handful of rule fields only, through this adapter,
so a change to the catalogue's classes touches one function here. When the
catalogue cannot be loaded the reports still come out, listing the rules the
checks named, because a broken spec file must not hide a run's results.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.report.model.results import Citation, RuleInfo


def rules_from_catalogue(catalogue: Any) -> list[RuleInfo]:
    """Convert ``conformance.catalogue.Catalogue`` rules, in catalogue order."""
    found = []
    for rule in catalogue.rules.values():
        sources = tuple(
            Citation(kind=str(getattr(s, "kind", "")), text=str(getattr(s, "text", "")),
                     ref=str(getattr(s, "ref", "") or ""), url=str(getattr(s, "url", "") or ""))
            for s in getattr(rule, "sources", ())
        )
        found.append(RuleInfo(id=rule.id, title=rule.title, level=rule.level, area=rule.area,
                              sources=sources, needs=tuple(getattr(rule, "needs", ()))))
    return found


def area_titles(catalogue: Any) -> dict[str, str]:
    areas = getattr(catalogue, "areas", {}) or {}
    return {name: getattr(area, "title", name) for name, area in areas.items()}


def load_rules() -> tuple[list[RuleInfo], dict[str, str], str | None]:
    """(rules, area titles, problem): the shipped catalogue, or nothing and why."""
    try:
        from conformance.catalogue import load_catalogue

        catalogue = load_catalogue()
    except Exception as exc:  # a broken catalogue must not cost the results
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [], {}, f"the rule catalogue could not be loaded: {first}"
    return rules_from_catalogue(catalogue), area_titles(catalogue), None


def complete(rules: list[RuleInfo], named: Iterable[str]) -> list[RuleInfo]:
    """Add rules that checks name but the catalogue lacks, so nothing is dropped."""
    known = {rule.id for rule in rules}
    extra = []
    for rule_id in named:
        if rule_id not in known:
            known.add(rule_id)
            area = rule_id.split("-", 1)[0] if "-" in rule_id else "UNKNOWN"
            extra.append(RuleInfo(id=rule_id, title="(not in the catalogue)", level="UNKNOWN",
                                  area=area, known=False))
    return rules + sorted(extra, key=lambda r: r.id)
