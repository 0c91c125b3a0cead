"""``check_links`` on synthetic check directories: every rule has a check, every mark reads.

Checks are found statically (ast), so marks on functions, classes and modules,
static skips, unreadable marks and files are exercised on check modules written
to ``tmp_path``; an area file must list every module holding a check of its rules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance import catalogue as cat
from conformance.catalogue import check_links, load_catalogue, scan_checks
from tests.catalogue_support import HEAD, RULE_1, RULE_2, make_specs

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
