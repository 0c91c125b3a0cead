"""What each capability sends to the fakes, and which fake code answers it.

``specs/steps/requests.toml`` is the data behind ``rules --where``: a rule's
``needs`` names the operations its checks drive, this table the requests each
one sends, and each request the function of ``fakes/servers/`` that answers it.
The fakes route with plain ``if`` chains rather than a route table, so the
table is data kept beside the rules and held to the servers by a test that
sends every request; here it is read and checked for shape, and each handler
is found by reading its module's source (nothing of the fakes is imported but
their package ``__init__`` files, which ``find_spec`` runs).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from conformance import toml_file
from conformance.catalogue.loading import default_specs_dir
from conformance.catalogue.model import CatalogueError, Rule
from conformance.catalogue.validation import CAPABILITIES

REQUESTS_FILE = ("steps", "requests.toml")
SERVERS = ("console", "rack", "guard")
_REQUEST_RE = re.compile(r"^(console|rack|guard) ([A-Z]+|\*) (/\S*)$")
_HANDLER_RE = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*):"
                         r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$")


@dataclass(frozen=True)
class Handler:
    """The fake code answering a request: ``module:qualname`` and, once found, where."""

    module: str
    qualname: str
    file: str = ""  # "fakes/servers/console.py", relative to the package's parent
    line: int = 0

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class RequestTable:
    """capability -> the requests it sends; request -> its handler."""

    operations: Mapping[str, tuple[str, ...]]
    handlers: Mapping[str, Handler]

    def requests_of(self, rule: Rule) -> list[str]:
        """Every request the rule's checks may send, in the order of its needs."""
        found: dict[str, None] = {}
        for need in rule.needs:
            found.update(dict.fromkeys(self.operations.get(need, ())))
        return list(found)


def _where(display: str) -> str:
    return "/".join((display, *REQUESTS_FILE))


def load_requests(root: Traversable | None = None, display: str = "specs") -> RequestTable:
    """The request table under ``root`` (default: the shipped catalogue), shape-checked.

    Raises :class:`CatalogueError` with one line per problem. Handlers are not
    looked up here (see :func:`locate`), so listing them costs no source reading.
    """
    if root is None:
        return _load_default()
    return _load(root, display)


@functools.lru_cache(maxsize=1)
def _load_default() -> RequestTable:
    root = default_specs_dir()
    return _load(root, "conformance/_specs" if root.name == "_specs" else "specs")


def _load(root: Traversable, display: str) -> RequestTable:
    where = _where(display)
    entry = root
    for part in REQUESTS_FILE:
        entry = entry / part
    try:
        data = toml_file.load(entry, universal_newlines=False)
    except FileNotFoundError:
        raise CatalogueError([f"{where}: missing"]) from None
    except (OSError, toml_file.TomlFileError) as exc:
        raise CatalogueError([f"{where}: cannot read: {exc}"]) from None
    problems: list[str] = []
    for key in data:
        if key not in ("operations", "handlers"):
            problems.append(f"{where}: unknown key {key!r} (allowed: operations, handlers)")
    operations = _operations(data.get("operations"), where, problems)
    raw_handlers = data.get("handlers")
    handlers = _handlers(raw_handlers, where, problems)
    # A handler named wrongly is reported as such, not also as missing.
    named = set(raw_handlers) if isinstance(raw_handlers, dict) else set()
    sent = {request for requests in operations.values() for request in requests}
    for request in sorted(sent - named):
        problems.append(f"{where}: handlers: no handler for {request!r}")
    for request in sorted(named - sent):
        problems.append(f"{where}: handlers.{request!r}: sent by no operation")
    if problems:
        raise CatalogueError(problems)
    return RequestTable(operations, handlers)


def _operations(table: object, where: str,
                problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        problems.append(f"{where}: operations: must be a table of capability -> requests")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for capability, requests in table.items():
        here = f"{where}: operations.{capability}"
        if capability not in CAPABILITIES:
            known = ", ".join(sorted(CAPABILITIES))
            problems.append(f"{here}: unknown capability (known: {known})")
            continue
        if not isinstance(requests, list) or not all(isinstance(r, str) for r in requests):
            problems.append(f"{here}: must be a list of requests (\"SERVER METHOD PATH\")")
            continue
        for request in requests:
            if not _REQUEST_RE.match(request):
                problems.append(f"{here}: {request!r} is not \"SERVER METHOD PATH\" with "
                                f"SERVER one of {', '.join(SERVERS)}")
        found[capability] = tuple(r for r in requests if _REQUEST_RE.match(r))
    for capability in sorted(CAPABILITIES - set(table)):
        problems.append(f"{where}: operations: {capability} missing (use [] when it sends "
                        "nothing)")
    return found


def _handlers(table: object, where: str, problems: list[str]) -> dict[str, Handler]:
    if not isinstance(table, dict):
        problems.append(f"{where}: handlers: must be a table of request -> \"module:function\"")
        return {}
    found: dict[str, Handler] = {}
    for request, target in table.items():
        match = _HANDLER_RE.match(target) if isinstance(target, str) else None
        if match is None:
            problems.append(f"{where}: handlers.{request!r}: must be \"module:function\", "
                            f"got {target!r}")
            continue
        found[request] = Handler(match.group(1), match.group(2))
    return found


def locate(handler: Handler) -> Handler:
    """``handler`` with the file and line of its definition; ``LookupError`` (one line)
    when the module or the function is not there."""
    return _locate(handler.module, handler.qualname)


@functools.cache
def _locate(module: str, qualname: str) -> Handler:
    name = f"{module}:{qualname}"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise LookupError(f"{name}: no module {module}")
    origin = Path(spec.origin)
    tree = ast.parse(origin.read_text(encoding="utf-8"), filename=str(origin))
    body: list[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for part in qualname.split("."):
        node = next((stmt for stmt in body
                     if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                     and stmt.name == part), None)
        if node is None:
            raise LookupError(f"{name}: {module} defines no {qualname}")
        body = node.body if isinstance(node, ast.ClassDef) else []
    assert node is not None
    # The directory holding the top package: a path from there reads the same in a
    # checkout and in site-packages.
    depth = len(module.split(".")) - (0 if origin.name == "__init__.py" else 1)
    top = origin.parents[depth]
    return Handler(module, qualname, origin.relative_to(top).as_posix(), node.lineno)


def request_problems(root: Traversable | None = None, display: str = "specs") -> list[str]:
    """What ``rules --check`` says of the request table: its shape, and every handler found."""
    try:
        table = load_requests(root, display)
    except CatalogueError as exc:
        return list(exc.problems)
    problems: list[str] = []
    for request, handler in table.handlers.items():
        try:
            locate(handler)
        except (LookupError, OSError, SyntaxError) as exc:
            problems.append(f"{_where(display)}: handlers.{request!r}: "
                            f"{str(exc).splitlines()[0]}")
    return problems
