"""Small catalogues in ``tmp_path``: the catalogue's schema refuses bad data in one line.

Each problem names the file and the place; every problem is reported at once;
FAQ quotes must be whole, verbatim sentences, and every FAQ sentence is either
quoted by a rule or listed as not a rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalogue import CatalogueError, faq_coverage, faq_sentences, load_catalogue
from tests.catalogue_support import HEAD, NOT_RULES, RULE_1, RULE_2, make_specs


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
