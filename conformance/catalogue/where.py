"""``rules --where RULE``: one hop from a rule to the code that checks it and answers it.

A reader who wants to change or debug a rule needs three places: the rule in
``specs/``, the checks that verify it (found statically, as ``rules --check``
finds them) and the code of the fakes that answers the requests those checks
make (the rule's ``needs`` through ``specs/steps/requests.toml``). Each is
printed as ``file:line`` so an editor or a terminal opens it directly.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from conformance.catalogue.links import CheckLink, scan_checks
from conformance.catalogue.loading import default_specs_dir
from conformance.catalogue.model import Catalogue, Rule
from conformance.catalogue.requests import Handler, load_requests, locate


def find_rule(catalogue: Catalogue, rule_id: str) -> Rule:
    """The rule with this id (any case); ``LookupError`` naming it when there is none."""
    rule = catalogue.rules.get(rule_id.strip().upper())
    if rule is None:
        raise LookupError(f"unknown rule {rule_id!r} (see convox-conformance rules)")
    return rule


def rule_line(specs_root: Traversable, rule: Rule) -> int:
    """The line of the rule's ``id = ...`` in its area file, or 0 when it is not found."""
    entry = specs_root / rule.file.rsplit("/", 1)[-1]
    try:
        lines = entry.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    wanted = f'"{rule.id}"'
    for number, line in enumerate(lines, 1):
        key, sep, value = line.partition("=")
        if sep and key.strip() == "id" and value.strip() == wanted:
            return number
    return 0


def describe_where(catalogue: Catalogue, rule_id: str, *,
                   specs_root: Traversable | None = None,
                   checks_dir: str | Path | None = None) -> str:
    """The ``rules --where`` text: the rule, its checks and the fake code answering them.

    Raises ``LookupError`` (one line) for an unknown rule, and
    :class:`~conformance.catalogue.model.CatalogueError` for a malformed request table.
    """
    rule = find_rule(catalogue, rule_id)
    root = specs_root if specs_root is not None else default_specs_dir()
    table = load_requests(specs_root, catalogue.root)
    line = rule_line(root, rule)
    place = f"{rule.file}:{line}" if line else rule.file
    out = [f"{rule.id}  {rule.level}  {rule.title}", f"  {place}"]

    # The area's own module first, then the others as the area file lists them.
    order = [module.rsplit("/", 1)[-1] for module in catalogue.areas[rule.area].checks]

    def rank(link: CheckLink) -> tuple[int, str]:
        module = link.location.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        return (order.index(module) if module in order else len(order), module)

    links = sorted((link for link in scan_checks(checks_dir)[0] if link.rule_id == rule.id),
                   key=rank)
    out.append(f"checks ({len(links)}):")
    width = max((len(link.location) for link in links), default=0)
    for link in links:
        skipped = "  (skipped)" if link.skipped else ""
        out.append(f"  {link.location.ljust(width)}  {link.name}{skipped}")

    needs = ", ".join(rule.needs) or "nothing"
    requests = table.requests_of(rule)
    by_handler: dict[tuple[str, str], tuple[Handler | str, list[str]]] = {}
    for request in requests:
        handler = table.handlers[request]
        try:
            found: Handler | str = locate(handler)
        except (LookupError, OSError, SyntaxError) as exc:
            found = str(exc).splitlines()[0]
        key = (handler.module, handler.qualname)
        by_handler.setdefault(key, (found, []))[1].append(request)
    out.append(f"fake code answering its requests (needs {needs}):")
    if not by_handler:
        out.append("  none: its checks send no request")
    rows = []
    for (module, qualname), (found, sent) in by_handler.items():
        if isinstance(found, Handler):
            rows.append((found.location, qualname, ", ".join(sent)))
        else:
            rows.append((f"{module}:{qualname}", f"NOT FOUND ({found})", ", ".join(sent)))
    rows.sort(key=_by_file_and_line)
    width = max((len(row[0]) for row in rows), default=0)
    name_width = max((len(row[1]) for row in rows), default=0)
    for location, name, requests_text in rows:
        out.append(f"  {location.ljust(width)}  {name.ljust(name_width)}  {requests_text}")
    return "\n".join(out)


def _by_file_and_line(row: tuple[str, str, str]) -> tuple[str, int]:
    file, _, line = row[0].rpartition(":")
    return (file, int(line)) if line.isdigit() else (row[0], 0)
