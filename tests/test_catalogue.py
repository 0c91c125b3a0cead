"""The shipped rule catalogue loads and quotes the FAQ verbatim; ``rules --where`` finds the code.

The shipped catalogue must load, map every FAQ sentence, link every rule to a
check and list every check module in its areas. The request table behind
``rules --where`` is held to the fakes by sending each of its requests to them.
Schema errors and link problems on small catalogues are in
``test_catalogue_schema.py`` and ``test_catalogue_check_links.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import catalogue as cat
from conformance.catalogue import (
    check_links,
    faq_coverage,
    faq_sentences,
    format_rules,
    load_catalogue,
    normalise,
)

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"
AREAS = {"LOGIN", "SWITCH", "PROXY", "LOGOUT", "SHARING", "KEYROLL", "SECURITY", "RELIABILITY",
         "CONTEXT"}

# ---------------------------------------------------------------------------
# The shipped catalogue


@pytest.fixture(scope="module")
def shipped() -> cat.Catalogue:
    return load_catalogue(SPECS)


def test_shipped_catalogue_loads_by_default() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 45
    assert load_catalogue() is catalogue  # loaded once per process


def test_shipped_catalogue_has_every_area(shipped: cat.Catalogue) -> None:
    assert set(shipped.areas) == AREAS
    assert len(shipped.rules) >= 45
    for name, area in shipped.areas.items():
        assert area.checks[0] == f"conformance/checks/test_{name.lower()}.py"
        assert area.rule_ids, name
        assert all(shipped.rules[rule_id].area == name for rule_id in area.rule_ids)
    assert {rule.level for rule in shipped} == {"MUST", "SHOULD"}


def test_shipped_ids_ascend_within_each_file(shipped: cat.Catalogue) -> None:
    for area in shipped.areas.values():
        assert list(area.rule_ids) == sorted(area.rule_ids), area.file


def test_every_faq_quote_is_verbatim(shipped: cat.Catalogue) -> None:
    """Independent of the loader: each quote is in the shipped FAQ copy."""
    faq = normalise((SPECS / "sources" / "login-and-authentication-faq.txt").read_text("utf-8"))
    quotes = [(rule.id, quote) for rule in shipped for quote in rule.faq_quotes]
    assert len(quotes) >= 20
    for rule_id, quote in quotes:
        assert normalise(quote) in faq, rule_id


def test_every_faq_sentence_is_mapped(shipped: cat.Catalogue) -> None:
    assert faq_coverage(shipped) == []
    behaviour = [s for s in faq_sentences(shipped.faq_text)
                 if s not in {n.text for n in shipped.faq_not_rules}]
    assert len(behaviour) >= 18


def test_every_rule_cites_a_source_and_says_what_to_observe(shipped: cat.Catalogue) -> None:
    for rule in shipped:
        assert rule.sources, rule.id
        assert rule.check and rule.rationale, rule.id
        assert set(rule.needs) <= cat.CAPABILITIES, rule.id
        for source in rule.sources:
            assert source.cite()


def test_capabilities_are_the_profiles_vocabulary() -> None:
    from conformance.running.profiles import CAPABILITIES as PROFILE_CAPABILITIES

    assert cat.CAPABILITIES <= PROFILE_CAPABILITIES


def test_default_specs_dir_is_the_checkout_or_the_package() -> None:
    found = cat.default_specs_dir()
    assert found.name in ("specs", "_specs")
    assert (found / "login.toml").is_file()


def test_format_rules_lists_and_filters(shipped: cat.Catalogue) -> None:
    table = format_rules(shipped)
    lines = table.splitlines()
    assert lines[0].split() == ["ID", "LEVEL", "TITLE", "NEEDS"]
    assert len(lines) == len(shipped) + 2
    assert lines[-1].startswith(f"{len(shipped)} rules (")
    assert "LOGIN-001" in table and "RELIABILITY-001" in table

    login = format_rules(shipped, area="login").splitlines()[1:-1]
    assert login and all(line.startswith("LOGIN-") for line in login)
    should = format_rules(shipped, level="should").splitlines()[1:-1]
    assert should and all(line.split()[1] == "SHOULD" for line in should)
    both = format_rules(shipped, area="LOGIN", level="MUST").splitlines()[1:-1]
    assert all(line.startswith("LOGIN-") and " MUST " in line for line in both)


@pytest.mark.parametrize(("area", "level", "message"), [
    ("nope", None, "unknown area 'nope' (areas: LOGIN, SWITCH"),
    (None, "MAY", "unknown level 'MAY' (levels: MUST, SHOULD)"),
])
def test_format_rules_refuses_unknown_filters(
    shipped: cat.Catalogue, area: str | None, level: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match="unknown") as info:
        format_rules(shipped, area=area, level=level)
    assert str(info.value).startswith(message)


def test_the_shipped_checks_are_linked_and_listed(shipped: cat.Catalogue) -> None:
    """Every rule has a check, and each area file lists every module holding one."""
    assert check_links(shipped) == []
    multi = {area.name for area in shipped.areas.values() if len(area.checks) > 1}
    assert {"LOGIN", "PROXY", "SECURITY"} <= multi  # test_model.py, test_properties.py


# ---------------------------------------------------------------------------
# The request table and rules --where

REQUESTS = cat.requests.REQUESTS_FILE


def test_the_shipped_request_table_is_whole() -> None:
    table = cat.load_requests()
    assert set(table.operations) == cat.CAPABILITIES
    assert cat.request_problems() == []
    for handler in table.handlers.values():
        found = cat.locate(handler)
        assert found.file.startswith("fakes/servers/") and found.line > 0


def test_requests_of_a_rule_follow_its_needs(shipped: cat.Catalogue) -> None:
    table = cat.load_requests()
    switch = table.requests_of(shipped.rules["SWITCH-003"])  # needs login, switch
    assert switch[:2] == ["console GET /auth", "rack GET /auth"]
    assert "console GET /racks" in switch and "console GET /apps" not in switch
    assert "guard * /*" in table.requests_of(shipped.rules["SECURITY-003"])  # needs resolve


def write_requests(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "specs"
    (root / REQUESTS[0]).mkdir(parents=True)
    (root / REQUESTS[0] / REQUESTS[1]).write_text(text, "utf-8")
    return root


WHOLE = "[operations]\n" + "".join(
    f'{name} = {["console GET /auth"] if name == "login" else []}\n'.replace("'", '"')
    for name in sorted(cat.CAPABILITIES)
) + '[handlers]\n"console GET /auth" = "fakes.servers.console:ConsoleApp._console_route"\n'


@pytest.mark.parametrize(("change", "expected"), [
    (("login = [", "colour = [1]\nlogin = ["),
     "specs/steps/requests.toml: operations.colour: unknown capability (known: apps, "),
    (("logout = []\n", ""),
     "specs/steps/requests.toml: operations: logout missing (use [] when it sends nothing)"),
    (('login = ["console GET /auth"]', 'login = ["console GET /auth", "cache GET /x"]'),
     "specs/steps/requests.toml: operations.login: 'cache GET /x' is not \"SERVER METHOD "
     "PATH\" with SERVER one of console, rack, guard"),
    (('login = ["console GET /auth"]', 'login = ["console GET /auth", "rack GET /auth"]'),
     "specs/steps/requests.toml: handlers: no handler for 'rack GET /auth'"),
    (("[handlers]\n", '[handlers]\n"rack GET /x" = "fakes.servers.rack:RackApp._route"\n'),
     "specs/steps/requests.toml: handlers.'rack GET /x': sent by no operation"),
    (('= "fakes.servers.console:ConsoleApp._console_route"', '= "console.py"'),
     "specs/steps/requests.toml: handlers.'console GET /auth': must be \"module:function\", "
     "got 'console.py'"),
    (("ConsoleApp._console_route", "ConsoleApp._no_such_route"),
     "specs/steps/requests.toml: handlers.'console GET /auth': "
     "fakes.servers.console:ConsoleApp._no_such_route: fakes.servers.console defines no "
     "ConsoleApp._no_such_route"),
    (("fakes.servers.console:", "fakes.servers.nowhere:"),
     "specs/steps/requests.toml: handlers.'console GET /auth': "
     "fakes.servers.nowhere:ConsoleApp._console_route: no module fakes.servers.nowhere"),
    (("[operations]", "[operations"), "specs/steps/requests.toml: cannot read: "),
])
def test_request_table_problems_are_one_line(tmp_path: Path, change: tuple[str, str],
                                             expected: str) -> None:
    assert cat.request_problems(write_requests(tmp_path, WHOLE)) == []
    old, new = change
    assert old in WHOLE
    root = write_requests(tmp_path / "b", WHOLE.replace(old, new, 1))
    problems = cat.request_problems(root)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert "\n" not in problems[0]


def test_a_missing_request_table_is_one_line(tmp_path: Path) -> None:
    assert cat.request_problems(tmp_path) == ["specs/steps/requests.toml: missing"]


def def_line(path: Path, name: str) -> int:
    """The line of ``def name`` in ``path`` (a method or a function, by its last name)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(node.lineno for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == name.rsplit(".", 1)[-1])


def test_where_names_the_checks_and_the_fake_code(shipped: cat.Catalogue) -> None:
    text = cat.describe_where(shipped, "switch-003")
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["SWITCH-003", "MUST"]
    spec, _, number = lines[1].strip().partition(":")
    assert spec == "specs/switch.toml"
    assert (SPECS / "switch.toml").read_text().splitlines()[int(number) - 1] == \
        'id = "SWITCH-003"'
    checks = [line.split() for line in lines if line.startswith("  conformance/checks/")]
    assert checks and lines[2] == f"checks ({len(checks)}):"
    for location, name, *_ in checks:
        file, _, line = location.partition(":")
        assert int(line) == def_line(REPO / file, name.rsplit("::", 1)[-1]), location
    assert any(loc.startswith("conformance/checks/test_switch.py:") for loc, *_ in checks)
    handlers = [line.split() for line in lines if line.startswith("  fakes/servers/")]
    assert {h[1] for h in handlers} == {"ConsoleApp._console_route", "RackApp._route"}
    for location, name, *_ in handlers:
        file, _, line = location.partition(":")
        assert int(line) == def_line(REPO / file, name), location


def test_where_refuses_an_unknown_rule(shipped: cat.Catalogue) -> None:
    with pytest.raises(LookupError) as info:
        cat.describe_where(shipped, "SWITCH-999")
    assert str(info.value) == "unknown rule 'SWITCH-999' (see convox-conformance rules)"


def test_rules_where_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.commands.main import main

    assert main(["rules", "--where", "SWITCH-003"]) == 0
    out = capsys.readouterr().out
    assert "conformance/checks/test_switch.py:" in out and "fakes/servers/console.py:" in out
    assert main(["rules", "--where", "NOPE-001"]) == 2
    assert capsys.readouterr().err == ("convox-conformance: unknown rule 'NOPE-001' "
                                       "(see convox-conformance rules)\n")


def fill(pattern: str) -> str:
    """A concrete path for a table path: {org}/{name} is acme/production, any app production."""
    return (pattern.replace("{org}", "acme").replace("{name}", "production")
            .replace("{app}", "production").replace("/*", "/anything"))


def test_every_request_is_answered_by_its_named_handler() -> None:
    """The table against the servers themselves: each request, sent to the in-process
    fakes, is answered (its response returned first) by the function the table names."""
    import sys

    import fakes.servers
    from fakes.backends.in_process import InProcessBackend
    from fakes.http.listener import Headers, HttpRequest
    from tests.fakes.http_support import basic

    table = cat.load_requests()
    # Where the fakes run from: the checkout, or site-packages under tox.
    servers = Path(fakes.servers.__file__).resolve().parent
    with InProcessBackend(proxy_timeout=5.0) as backend:
        world = backend.new_world("standard")
        try:
            for request, handler in table.handlers.items():
                keys = {"console": world.user_key("alice@example.com"),
                        "rack": world.rack_key("acme/production"), "guard": "k" * 40}
                server, method, path = request.split(" ")
                headers = {"Authorization": basic(keys[server]), "Rack": "acme/production"}
                app = world.app("acme/production" if server == "rack" else server)
                message = HttpRequest("GET" if method == "*" else method, fill(path), "",
                                      Headers(headers), b"" if method == "GET" else b"Count=3")
                returned: list[tuple[str, object]] = []

                def watch(frame, event, arg, returned=returned):  # type: ignore[no-untyped-def]
                    if event == "return" and frame.f_code.co_filename.startswith(str(servers)):
                        returned.append((frame.f_code.co_qualname, arg))

                sys.setprofile(watch)
                try:
                    response = app(message)
                finally:
                    sys.setprofile(None)
                answered = next(name for name, value in returned if value is response)
                assert answered == handler.qualname, (request, response.status)
        finally:
            world.close()
