"""Which checks cover which rules, read statically from the check modules.

``convox-conformance rules --check`` must know which rules the checks cover
without importing them (and their fixtures, backends and CLIs), so this reads
each check module with :mod:`ast` and applies ``spec`` and skip marks as
pytest would. A rule with no check, a check naming an unknown rule, a MUST
rule whose every check is skipped and an unmapped FAQ sentence are reported.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.catalogue.faq import faq_coverage, normalise
from conformance.catalogue.model import Catalogue
from conformance.catalogue.validation import CHECKS_DIR


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
    """The shipped check modules, ``conformance/checks``."""
    return Path(__file__).resolve().parents[1] / "checks"


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
    if not problems or not problems[0].endswith(": no such directory of checks"):
        problems.extend(listed_modules_problems(catalogue, links))
    by_rule: dict[str, list[CheckLink]] = {}
    for link in links:
        by_rule.setdefault(link.rule_id, []).append(link)
    for link in links:
        if link.rule_id not in catalogue.rules:
            problems.append(f"{link.location}: {link.name}: names unknown rule {link.rule_id!r}")
    for rule in catalogue:
        found = by_rule.get(rule.id, [])
        if not found:
            module = catalogue.areas[rule.area].checks[0]
            problems.append(f"{rule.id}: no check (mark a test in {module} "
                            f"with @pytest.mark.spec({rule.id!r}))")
        elif rule.level == "MUST" and all(link.skipped for link in found):
            names = ", ".join(sorted({link.name for link in found}))
            problems.append(f"{rule.id}: MUST rule has only skipped checks ({names})")
    problems.extend(faq_coverage(catalogue))
    return problems


def listed_modules_problems(catalogue: Catalogue, links: Sequence[CheckLink]) -> list[str]:
    """Each area file's ``checks`` against the modules that hold checks of its rules.

    A reader goes from an area to every check of its rules by that list, so a
    module missing from it (a check of several rules, written elsewhere) hides a
    check, and a module listed without one sends the reader to nothing. The
    first, the area's own module, is where its new checks go, listed even empty.
    """
    holding: dict[str, dict[str, CheckLink]] = {}  # area -> module file name -> first link
    for link in links:
        rule = catalogue.rules.get(link.rule_id)
        if rule is not None:
            module = link.location.rsplit(":", 1)[0].rsplit("/", 1)[-1]
            holding.setdefault(rule.area, {}).setdefault(module, link)
    problems: list[str] = []
    for area in catalogue.areas.values():
        found = holding.get(area.name, {})
        listed = {module.rsplit("/", 1)[-1]: module for module in area.checks}
        for name, link in found.items():
            if name not in listed:
                problems.append(f"{area.file}: checks: misses {CHECKS_DIR}/{name}, which "
                                f"holds a check of {link.rule_id} ({link.name})")
        for name, module in list(listed.items())[1:]:  # the first is where new checks go
            if name not in found:
                problems.append(f"{area.file}: checks: lists {module}, which holds no check "
                                f"of a {area.name} rule")
    return problems
