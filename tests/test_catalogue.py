"""The rule catalogue loads, quotes the FAQ verbatim, and refuses bad data in one line.

Schema errors and link problems are exercised on small catalogues and check
directories written to ``tmp_path``; the shipped catalogue must load, map every
FAQ sentence, link every rule to a check and list every check module in its
areas. The request table behind ``rules --where`` is held to the fakes by
sending each of its requests to them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance import catalogue as cat
from conformance.catalogue import (
    CatalogueError,
    check_links,
    faq_coverage,
    faq_sentences,
    format_rules,
    load_catalogue,
    normalise,
    scan_checks,
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
# Small catalogues in tmp_path

DEMO_FAQ = "Demo FAQ\n\nAlpha logs in to a host. Beta switches\nthe rack, e.g. prod.\n"
NOT_RULES = '[[sentences]]\ntext = "Demo FAQ"\nwhy = "Heading."\n'

HEAD = """
area = "DEMO"
title = "Demo area"
summary = "A small area for tests."
checks = ["conformance/checks/test_demo.py"]
"""

RULE_1 = """
[[rules]]
id = "DEMO-001"
title = "Alpha logs in"
level = "MUST"
sources = [{ faq = "Alpha logs in to a host." }]
needs = ["login"]
rationale = "Because users log in."
check = "Login exits 0."
"""

RULE_2 = """
[[rules]]
id = "DEMO-002"
title = "Beta switches"
level = "SHOULD"
sources = [
  { faq = "Beta switches the rack, e.g. prod." },
  { docs = "DOCS-api-keys-3", url = "https://convox.com/docs/api-keys/", says = "Stored." },
  { wire = "WIRE-switch", says = "Switch stores the selection." },
]
needs = ["login", "switch"]
rationale = "Because users switch."
check = "Switch exits 0."
"""


def make_specs(tmp_path: Path, files: dict[str, str] | None = None, *,
               faq: str | None = DEMO_FAQ, not_rules: str | None = NOT_RULES) -> Path:
    specs = tmp_path / "specs"
    (specs / "sources").mkdir(parents=True)
    if faq is not None:
        (specs / "sources" / "login-and-authentication-faq.txt").write_text(faq, "utf-8")
    if not_rules is not None:
        (specs / "sources" / "faq-not-rules.toml").write_text(not_rules, "utf-8")
    for name, text in (files if files is not None else {"demo": HEAD + RULE_1 + RULE_2}).items():
        (specs / f"{name}.toml").write_text(text, "utf-8")
    return specs


def problems_of(specs: Path) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(specs)
    problems = info.value.problems
    assert problems and str(info.value) == "\n".join(problems)
    assert all("\n" not in problem for problem in problems)
    return problems


def test_small_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(make_specs(tmp_path))
    assert list(catalogue.rules) == ["DEMO-001", "DEMO-002"]
    rule = catalogue.rules["DEMO-002"]
    assert rule.level == "SHOULD" and rule.needs == ("login", "switch")
    assert rule.file == "specs/demo.toml"
    assert [s.kind for s in rule.sources] == ["faq", "docs", "wire"]
    assert rule.sources[1].ref == "DOCS-api-keys-3"
    # the FAQ breaks "switches\nthe rack" across lines: whitespace is normalised
    assert rule.faq_quotes == ("Beta switches the rack, e.g. prod.",)
    assert catalogue.areas["DEMO"].rule_ids == ("DEMO-001", "DEMO-002")
    assert faq_coverage(catalogue) == []


def replace(old: str, new: str, rules: str = RULE_1) -> dict[str, str]:
    assert old in HEAD + rules
    return {"demo": (HEAD + rules).replace(old, new, 1)}


SCHEMA_CASES = [
    pytest.param(replace('level = "MUST"', 'level = "MAY"'),
                 "specs/demo.toml: rules[0].level: must be MUST or SHOULD, got 'MAY'",
                 id="level"),
    pytest.param(replace('title = "Alpha logs in"\n', ""),
                 "specs/demo.toml: rules[0].title: missing", id="missing-key"),
    pytest.param(replace('title = "Alpha logs in"', 'title = 42'),
                 "specs/demo.toml: rules[0].title: must be a non-empty string, got 42",
                 id="wrong-type"),
    pytest.param(replace('check = "Login exits 0."', 'check = "x"\ncolour = "red"'),
                 "specs/demo.toml: rules[0]: unknown key 'colour' (allowed: id, title, level, "
                 "sources, needs, rationale, check, demand, route)", id="unknown-key"),
    pytest.param(replace('check = "Login exits 0."', 'check = "x"\nroute = "console"'),
                 "specs/demo.toml: rules[0].route: must be direct, got 'console'",
                 id="route-word"),
    pytest.param(replace('check = "Login exits 0."', 'check = "x"\ndemand = "mine"'),
                 "specs/demo.toml: rules[0].demand: must be documented or suite, got 'mine'",
                 id="demand-word"),
    pytest.param(replace('check = "Login exits 0."', 'check = "x"\ndemand = "suite"'),
                 'specs/demo.toml: rules[0].level: a demand of the suite\'s own (demand = "suite")'
                 " is a SHOULD: only what Convox documents can be a MUST", id="suite-must"),
    pytest.param(replace('id = "DEMO-001"', 'id = "DEMO-1"'),
                 "specs/demo.toml: rules[0].id: must look like DEMO-001, got 'DEMO-1'",
                 id="id-format"),
    pytest.param(replace('id = "DEMO-001"', 'id = "LOGIN-001"'),
                 "specs/demo.toml: rules[0].id: prefix must be the area 'DEMO', got 'LOGIN-001'",
                 id="id-prefix"),
    pytest.param({"demo": HEAD + RULE_1 + RULE_1},
                 "specs/demo.toml: rules[1].id: duplicate 'DEMO-001', "
                 "first in specs/demo.toml rules[0]", id="duplicate-id"),
    pytest.param(replace('needs = ["login"]', 'needs = ["login", "prompt"]'),
                 "specs/demo.toml: rules[0].needs[1]: unknown capability 'prompt' (known: apps, ",
                 id="unknown-capability"),
    pytest.param(replace('needs = ["login"]', 'needs = ["login", "login"]'),
                 "specs/demo.toml: rules[0].needs[1]: duplicate capability 'login'",
                 id="duplicate-capability"),
    pytest.param(replace('needs = ["login"]\n', ""),
                 "specs/demo.toml: rules[0].needs: missing", id="needs-missing"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ faq = "Alpha logs into a host." }'),
                 "specs/demo.toml: rules[0].sources[0].faq: not a verbatim quote of "
                 "sources/login-and-authentication-faq.txt: 'Alpha logs into a host.'",
                 id="faq-not-verbatim"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }', '{ faq = "logs in to a host." }'),
                 "specs/demo.toml: rules[0].sources[0].faq: must quote whole sentences of the "
                 "FAQ: 'logs in to a host.'", id="faq-fragment"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ faq = "Alpha logs in to a host.", says = "x" }'),
                 "specs/demo.toml: rules[0].sources[0]: unknown key 'says' (allowed: faq)",
                 id="faq-extra-key"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ faq = "Alpha logs in to a host.", wire = "WIRE-login" }'),
                 "specs/demo.toml: rules[0].sources[0]: must have exactly one of faq, docs, wire",
                 id="two-kinds"),
    pytest.param(replace('sources = [{ faq = "Alpha logs in to a host." }]', "sources = []"),
                 "specs/demo.toml: rules[0].sources: must be a non-empty list of tables",
                 id="no-sources"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ docs = "DOCS-blog-1", url = "https://x/", says = "x" }'),
                 "specs/demo.toml: rules[0].sources[0].docs: must be DOCS-<page>-<n> with page "
                 "one of access-control, api-keyroll, api-keys, cli-config-files, got "
                 "'DOCS-blog-1'", id="docs-page"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ docs = "DOCS-api-keys-9", url = "https://convox.com/docs/api-keys/",'
                         ' says = "x" }'),
                 "specs/demo.toml: rules[0].sources[0].docs: DOCS-api-keys has facts 1-6, "
                 "got 'DOCS-api-keys-9'", id="docs-fact-number"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ docs = "DOCS-api-keys-3", url = "https://example.com/", says = "x" }'),
                 "specs/demo.toml: rules[0].sources[0].url: must be "
                 "'https://convox.com/docs/api-keys/' for DOCS-api-keys-3, got "
                 "'https://example.com/'", id="docs-url"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ docs = "DOCS-api-keys-3", url = "https://convox.com/docs/api-keys/" }'),
                 "specs/demo.toml: rules[0].sources[0].says: missing", id="docs-says"),
    pytest.param(replace('{ faq = "Alpha logs in to a host." }',
                         '{ wire = "WIRE-nope", says = "x" }'),
                 "specs/demo.toml: rules[0].sources[0].wire: unknown wire section 'WIRE-nope' "
                 "(known: WIRE-transport", id="wire-section"),
    pytest.param(replace('area = "DEMO"', 'area = "DEMOS"'),
                 "specs/demo.toml: area: must be 'DEMO' (the file name in capitals), got 'DEMOS'",
                 id="area-name"),
    pytest.param(replace('checks = ["conformance/checks/test_demo.py"]',
                         'checks = ["conformance/checks/demo.py"]'),
                 "specs/demo.toml: checks[0]: must be 'conformance/checks/test_demo.py' (the "
                 "area's own module), got 'conformance/checks/demo.py'", id="checks-module"),
    pytest.param(replace('checks = ["conformance/checks/test_demo.py"]',
                         'checks = "conformance/checks/test_demo.py"'),
                 "specs/demo.toml: checks: must be a non-empty list of check modules, got "
                 "'conformance/checks/test_demo.py'", id="checks-not-a-list"),
    pytest.param(replace('checks = ["conformance/checks/test_demo.py"]',
                         'checks = ["conformance/checks/test_demo.py", "tests/test_x.py"]'),
                 "specs/demo.toml: checks[1]: must be a check module "
                 "conformance/checks/test_<name>.py, got 'tests/test_x.py'", id="checks-other"),
    pytest.param(replace('checks = ["conformance/checks/test_demo.py"]',
                         'checks = ["conformance/checks/test_demo.py", '
                         '"conformance/checks/test_demo.py"]'),
                 "specs/demo.toml: checks[1]: lists 'conformance/checks/test_demo.py' twice",
                 id="checks-twice"),
    pytest.param(replace('checks = ["conformance/checks/test_demo.py"]\n', ""),
                 "specs/demo.toml: checks: missing", id="checks-missing"),
    pytest.param(replace('summary = "A small area for tests."\n', ""),
                 "specs/demo.toml: summary: missing", id="summary-missing"),
    pytest.param({"demo": HEAD + 'extra = "x"\n' + RULE_1},
                 "specs/demo.toml: unknown key 'extra' (allowed: area, title, summary, checks, "
                 "rules)", id="area-unknown-key"),
    pytest.param({"demo": HEAD}, "specs/demo.toml: rules: missing", id="no-rules"),
    pytest.param({"demo": HEAD + "rules = []\n"},
                 "specs/demo.toml: rules: must be a non-empty list of tables ([[rules]])",
                 id="empty-rules"),
    pytest.param({"demo": HEAD + "[[rules]\n"}, "specs/demo.toml: invalid TOML: ",
                 id="invalid-toml"),
    pytest.param({"demo": HEAD + RULE_1, "other": HEAD.replace("DEMO", "OTHER")
                  .replace("test_demo", "test_other") + RULE_1.replace("DEMO", "OTHER"),
                  "demo2": HEAD.replace("DEMO", "DEMO2")},
                 "specs/demo2.toml: file name must be the area in lower-case letters",
                 id="file-name"),
    pytest.param({}, "specs: no area files (*.toml)", id="no-files"),
]


@pytest.mark.parametrize(("files", "expected"), SCHEMA_CASES)
def test_schema_errors_are_one_line(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    problems = problems_of(make_specs(tmp_path, files))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_id_cannot_repeat_across_files(tmp_path: Path) -> None:
    """Ids carry their area, and areas are file names, so a repeat is a wrong prefix."""
    other = HEAD.replace('"DEMO"', '"OTHER"').replace("test_demo", "test_other")
    problems = problems_of(make_specs(tmp_path, {"demo": HEAD + RULE_1,
                                                 "other": other + RULE_1}))
    assert problems == [
        "specs/other.toml: rules[0].id: prefix must be the area 'OTHER', got 'DEMO-001'",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = (HEAD + RULE_1).replace('level = "MUST"', 'level = "MAY"').replace(
        'needs = ["login"]', 'needs = ["prompt"]')
    problems = problems_of(make_specs(tmp_path, {"demo": broken}))
    assert len(problems) == 2
    assert problems[0].startswith("specs/demo.toml: rules[0].level:")
    assert problems[1].startswith("specs/demo.toml: rules[0].needs[0]:")


def test_missing_faq_copy_is_an_error(tmp_path: Path) -> None:
    problems = problems_of(make_specs(tmp_path, faq=None))
    assert problems == ["specs/sources/login-and-authentication-faq.txt: missing, "
                        "so FAQ quotes cannot be verified"]


def test_faq_quote_may_wrap_lines(tmp_path: Path) -> None:
    wrapped = RULE_1.replace('{ faq = "Alpha logs in to a host." }',
                             '{ faq = """Alpha logs in\n   to a host.""" }')
    catalogue = load_catalogue(make_specs(tmp_path, {"demo": HEAD + wrapped + RULE_2}))
    assert catalogue.rules["DEMO-001"].faq_quotes == ("Alpha logs in to a host.",)


def test_faq_quote_may_span_sentences(tmp_path: Path) -> None:
    two = RULE_1.replace('{ faq = "Alpha logs in to a host." }',
                         '{ faq = "Alpha logs in to a host. Beta switches the rack, e.g. prod." }')
    catalogue = load_catalogue(make_specs(tmp_path, {"demo": HEAD + two}))
    assert faq_coverage(catalogue) == []


@pytest.mark.parametrize(("not_rules", "expected"), [
    ('[[sentences]]\ntext = "Demo"\nwhy = "x"\n',
     "specs/sources/faq-not-rules.toml: sentences[0].text: not one sentence of the FAQ: 'Demo'"),
    ('[[sentences]]\ntext = "Demo FAQ"\n',
     "specs/sources/faq-not-rules.toml: sentences[0].why: must be a non-empty string, got None"),
    ('[[sentences]]\ntext = "Demo FAQ"\nwhy = "x"\n[[sentences]]\ntext = "Demo FAQ"\nwhy = "y"\n',
     "specs/sources/faq-not-rules.toml: sentences[1].text: listed twice: 'Demo FAQ'"),
    ('other = 1\n', "specs/sources/faq-not-rules.toml: unknown key 'other'"),
])
def test_faq_not_rules_is_validated(tmp_path: Path, not_rules: str, expected: str) -> None:
    assert expected in problems_of(make_specs(tmp_path, not_rules=not_rules))


def test_faq_sentences_split_like_a_reader() -> None:
    text = ("Title\n\nconvox login does X. convox switch does Y.\n"
            "Being “logged in” means Z (a “key”). You’re “logged in.” See e.g. this.\n"
            "  • If you did A, B is true.\n")
    assert faq_sentences(text) == [
        "Title", "convox login does X.", "convox switch does Y.",
        "Being “logged in” means Z (a “key”).", "You’re “logged in.”", "See e.g. this.",
        "If you did A, B is true.",
    ]


def test_faq_coverage_reports_unmapped_and_contradictory_sentences(tmp_path: Path) -> None:
    catalogue = load_catalogue(make_specs(tmp_path, {"demo": HEAD + RULE_1}))
    assert faq_coverage(catalogue) == [
        "specs/sources/login-and-authentication-faq.txt: sentence quoted by no rule and not "
        "listed in sources/faq-not-rules.toml: 'Beta switches the rack, e.g. prod.'",
    ]
    listed = NOT_RULES + '[[sentences]]\ntext = "Alpha logs in to a host."\nwhy = "x"\n'
    catalogue = load_catalogue(make_specs(tmp_path / "b", not_rules=listed))
    assert faq_coverage(catalogue) == [
        "specs/sources/login-and-authentication-faq.txt: listed in sources/faq-not-rules.toml "
        "but quoted by DEMO-001: 'Alpha logs in to a host.'",
    ]


# ---------------------------------------------------------------------------
# check_links on synthetic check directories


@pytest.fixture
def demo(tmp_path: Path) -> cat.Catalogue:
    return load_catalogue(make_specs(tmp_path))


def write_checks(tmp_path: Path, files: dict[str, str]) -> Path:
    checks = tmp_path / "conformance" / "checks"
    checks.mkdir(parents=True)
    for name, text in files.items():
        (checks / name).write_text(textwrap.dedent(text), "utf-8")
    return checks


BOTH = """
import pytest

@pytest.mark.spec("DEMO-001")
def test_alpha():
    pass

@pytest.mark.spec("DEMO-002")
def test_beta():
    pass
"""


def test_clean_checks_give_no_problems(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": BOTH})
    assert check_links(demo, checks) == []
    links, problems = scan_checks(checks)
    assert problems == []
    assert [(link.rule_id, link.name, link.skipped) for link in links] == [
        ("DEMO-001", "test_demo.py::test_alpha", False),
        ("DEMO-002", "test_demo.py::test_beta", False),
    ]
    assert links[0].location == "conformance/checks/test_demo.py:5"


def test_rule_without_check(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": BOTH.replace('"DEMO-002"', '"DEMO-001"')})
    assert check_links(demo, checks) == [
        "DEMO-002: no check (mark a test in conformance/checks/test_demo.py "
        "with @pytest.mark.spec('DEMO-002'))",
    ]


def test_check_naming_unknown_rule(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": BOTH + """
@pytest.mark.spec("DEMO-002", "DEMO-999")
def test_gamma():
    pass
"""})
    assert check_links(demo, checks) == [
        "conformance/checks/test_demo.py:13: test_demo.py::test_gamma: "
        "names unknown rule 'DEMO-999'",
    ]


@pytest.mark.parametrize("skip", [
    "@pytest.mark.skip",
    "@pytest.mark.skip(reason='later')",
    "@pytest.mark.skipif(True, reason='later')",
    "@pytest.mark.skipif(condition=True, reason='later')",
])
def test_must_rule_with_only_skipped_checks(tmp_path: Path, demo: cat.Catalogue,
                                            skip: str) -> None:
    text = BOTH.replace('@pytest.mark.spec("DEMO-001")', f'{skip}\n@pytest.mark.spec("DEMO-001")')
    checks = write_checks(tmp_path, {"test_demo.py": text})
    assert check_links(demo, checks) == [
        "DEMO-001: MUST rule has only skipped checks (test_demo.py::test_alpha)",
    ]


def test_skipped_checks_that_do_not_count_as_a_problem(tmp_path: Path,
                                                       demo: cat.Catalogue) -> None:
    text = BOTH + """
@pytest.mark.skip
@pytest.mark.spec("DEMO-001", "DEMO-002")
def test_later():
    pass

@pytest.mark.skipif(sys.platform == "win32", reason="posix only")
@pytest.mark.spec("DEMO-001")
def test_conditional():
    pass
"""
    # DEMO-001 still has an unskipped check; DEMO-002 is SHOULD; a real
    # condition is not a static skip.
    checks = write_checks(tmp_path, {"test_demo.py": "import sys\n" + text})
    assert check_links(demo, checks) == []
    text = BOTH.replace('@pytest.mark.spec("DEMO-002")', '@pytest.mark.skip\n'
                        '@pytest.mark.spec("DEMO-002")')
    assert check_links(demo, write_checks(tmp_path / "b", {"test_demo.py": text})) == []


def test_skip_call_as_first_statement_is_static(tmp_path: Path, demo: cat.Catalogue) -> None:
    text = BOTH.replace("def test_alpha():\n    pass",
                        'def test_alpha():\n    """Doc."""\n    pytest.skip("later")')
    checks = write_checks(tmp_path, {"test_demo.py": text})
    assert check_links(demo, checks) == [
        "DEMO-001: MUST rule has only skipped checks (test_demo.py::test_alpha)",
    ]


def test_module_level_marks(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": """
import pytest

pytestmark = [pytest.mark.spec("DEMO-001"), pytest.mark.skip(reason="later")]

def test_one():
    pass

@pytest.mark.spec("DEMO-002")
def test_two():
    pass

def helper():
    pass
"""})
    links, _ = scan_checks(checks)
    assert sorted((link.rule_id, link.name) for link in links) == [
        ("DEMO-001", "test_demo.py::test_one"),
        ("DEMO-001", "test_demo.py::test_two"),
        ("DEMO-002", "test_demo.py::test_two"),
    ]
    assert all(link.skipped for link in links)
    assert check_links(demo, checks) == [
        "DEMO-001: MUST rule has only skipped checks "
        "(test_demo.py::test_one, test_demo.py::test_two)",
    ]


def test_module_level_skip_call(tmp_path: Path, demo: cat.Catalogue) -> None:
    text = BOTH.replace("import pytest\n",
                        'import pytest\n\npytest.skip("later", allow_module_level=True)\n')
    checks = write_checks(tmp_path, {"test_demo.py": text})
    assert check_links(demo, checks) == [
        "DEMO-001: MUST rule has only skipped checks (test_demo.py::test_alpha)",
    ]


def test_class_level_marks(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": """
from pytest import mark

@mark.spec("DEMO-001")
class TestAlpha:
    pytestmark = mark.spec("DEMO-002")

    def test_a(self):
        pass

    class TestInner:
        async def test_b(self):
            pass

class Helper:
    @mark.spec("DEMO-999")
    def test_not_collected(self):
        pass
"""})
    links, problems = scan_checks(checks)
    assert problems == []
    assert sorted((link.rule_id, link.name) for link in links) == [
        ("DEMO-001", "test_demo.py::TestAlpha::TestInner::test_b"),
        ("DEMO-001", "test_demo.py::TestAlpha::test_a"),
        ("DEMO-002", "test_demo.py::TestAlpha::TestInner::test_b"),
        ("DEMO-002", "test_demo.py::TestAlpha::test_a"),
    ]
    assert check_links(demo, checks) == []


def test_only_collected_files_and_test_functions_count(tmp_path: Path,
                                                       demo: cat.Catalogue) -> None:
    helper = BOTH.replace("def test_alpha", "def alpha").replace("def test_beta", "def beta")
    checks = write_checks(tmp_path, {"helpers.py": BOTH, "test_demo.py": helper,
                                     "conftest.py": BOTH})
    problems = check_links(demo, checks)
    assert [p.split(":")[0] for p in problems] == ["DEMO-001", "DEMO-002"]
    assert all("no check" in p for p in problems)


def test_unreadable_marks_and_files_are_reported(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {
        "test_demo.py": BOTH + """
RULE = "DEMO-001"

@pytest.mark.spec(RULE)
def test_dynamic():
    pass

@pytest.mark.spec()
def test_empty():
    pass
""",
        "test_broken.py": "def test_(:\n",
    })
    problems = check_links(demo, checks)
    assert problems[0].startswith("conformance/checks/test_broken.py: cannot parse: ")
    assert problems[1:] == [
        "conformance/checks/test_demo.py:15: test_demo.py::test_dynamic: "
        "spec mark needs literal rule ids, got RULE",
        "conformance/checks/test_demo.py:19: test_demo.py::test_empty: spec mark names no rule",
    ]


def test_missing_checks_dir(tmp_path: Path, demo: cat.Catalogue) -> None:
    problems = check_links(demo, tmp_path / "nowhere" / "checks")
    assert problems[0] == "nowhere/checks: no such directory of checks"
    assert problems[1:] == [
        "DEMO-001: no check (mark a test in conformance/checks/test_demo.py "
        "with @pytest.mark.spec('DEMO-001'))",
        "DEMO-002: no check (mark a test in conformance/checks/test_demo.py "
        "with @pytest.mark.spec('DEMO-002'))",
    ]


def test_check_links_includes_faq_coverage(tmp_path: Path) -> None:
    catalogue = load_catalogue(make_specs(tmp_path, {"demo": HEAD + RULE_1}))
    checks = write_checks(tmp_path, {"test_demo.py": BOTH.replace('"DEMO-002"', '"DEMO-001"')})
    problems = check_links(catalogue, checks)
    assert len(problems) == 1 and "sentence quoted by no rule" in problems[0]


# ---------------------------------------------------------------------------
# An area file lists every module holding a check of its rules


def test_a_module_checking_an_area_must_be_listed(tmp_path: Path, demo: cat.Catalogue) -> None:
    checks = write_checks(tmp_path, {"test_demo.py": BOTH.replace('"DEMO-002"', '"DEMO-001"'),
                                     "test_model.py": BOTH.replace('"DEMO-001"', '"DEMO-002"')})
    assert check_links(demo, checks) == [
        "specs/demo.toml: checks: misses conformance/checks/test_model.py, which holds a "
        "check of DEMO-002 (test_model.py::test_alpha)",
    ]


def test_a_listed_module_must_hold_a_check(tmp_path: Path) -> None:
    listed = HEAD.replace('checks = ["conformance/checks/test_demo.py"]',
                          'checks = ["conformance/checks/test_demo.py", '
                          '"conformance/checks/test_model.py"]')
    catalogue = load_catalogue(make_specs(tmp_path, {"demo": listed + RULE_1 + RULE_2}))
    checks = write_checks(tmp_path, {"test_demo.py": BOTH, "test_model.py": "def test_x():\n"
                                                                            "    pass\n"})
    assert check_links(catalogue, checks) == [
        "specs/demo.toml: checks: lists conformance/checks/test_model.py, which holds no "
        "check of a DEMO rule",
    ]


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

    from fakes.backends.in_process import InProcessBackend
    from fakes.http.listener import Headers, HttpRequest
    from tests.fakes.http_support import basic

    table = cat.load_requests()
    servers = REPO / "fakes" / "servers"
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
