"""report.html and matrix.html in real headless Chromium.

The page must load with no console error, no uncaught exception and no
network request other than the file itself; it must have one row per rule;
the "failures only" filter must work; a screenshot is kept next to the
reports. Without Chromium these tests skip, except under CI=true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.browser import Browser, PageReport
from tests.report.conftest import OUTCOMES_MODULE, PASSING_MODULE, SYNTHETIC_RULE_COUNT

PNG = b"\x89PNG\r\n\x1a\n"
COUNTS = {
    "rows": "document.querySelectorAll('tr.rule').length",
    "failing": "document.querySelectorAll('tr.rule.failing').length",
    "shown_before": "Array.from(document.querySelectorAll('tr.rule'))"
                    ".filter(r => r.offsetParent !== null).length",
    "shown_after": "document.getElementById('failures-only').click();"
                   "Array.from(document.querySelectorAll('tr.rule'))"
                   ".filter(r => r.offsetParent !== null).length",
    "label": "document.getElementById('shown').textContent",
}


def assert_clean(page: PageReport) -> None:
    assert page.console_errors == []
    assert page.exceptions == []
    assert page.requests == [page.url], "no network request but the page itself"


def test_report_html(run_checks, browser):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE})
    shot = run.run_dir / "screenshot.png"
    page = browser.open(run.run_dir / "report.html", {
        **COUNTS,
        "opened": "location.hash = '#check-test_outcomes.py-test_fail';"
                  "window.dispatchEvent(new HashChangeEvent('hashchange'));"
                  "document.getElementById('check-test_outcomes.py-test_fail')"
                  ".querySelector('details').open",
    }, screenshot=shot)
    assert_clean(page)
    assert page.values["rows"] == SYNTHETIC_RULE_COUNT
    assert page.values["failing"] == 4
    assert page.values["shown_before"] == SYNTHETIC_RULE_COUNT
    assert page.values["shown_after"] == 4, "failures only"
    assert page.values["label"] == f"4 of {SYNTHETIC_RULE_COUNT} rules shown"
    assert page.values["opened"] is True, "a link to a check opens its evidence"
    assert shot.read_bytes().startswith(PNG)


def test_report_html_has_one_row_per_catalogue_rule(run_checks, browser):
    from conformance.catalogue import load_catalogue

    run = run_checks({"test_ok": PASSING_MODULE}, synthetic_rules=False)
    shot = run.run_dir / "screenshot.png"
    page = browser.open(run.run_dir / "report.html", COUNTS, screenshot=shot)
    assert_clean(page)
    assert page.values["rows"] == len(load_catalogue().rules)
    assert shot.read_bytes().startswith(PNG)


def test_matrix_html(matrix_dir, browser):
    out = matrix_dir
    shot = out / "screenshot.png"
    page = browser.open(out / "matrix.html", {
        "rows": "document.querySelectorAll('tr.mrow.rule').length",
        "links": "document.querySelectorAll('td.cell a').length",
        "shown_after": "document.getElementById('failures-only').click();"
                       "Array.from(document.querySelectorAll('tr.mrow'))"
                       ".filter(r => r.offsetParent !== null).length",
    }, screenshot=shot)
    assert_clean(page)
    assert page.values["rows"] == SYNTHETIC_RULE_COUNT
    assert page.values["links"] == 3 + 6, "every cell of a rule that ran links to evidence"
    assert page.values["shown_after"] == 4
    assert shot.read_bytes().startswith(PNG)


def test_browser_helper_sees_network_requests_and_errors(browser, tmp_path: Path):
    """The checks above would be worthless if the helper could not see failures."""
    page_path = tmp_path / "bad.html"
    page_path.write_text("<!DOCTYPE html><img src='http://127.0.0.1:9/x.png'>"
                         "<script>console.error('boom'); undefinedFunction();</script>")
    page = browser.open(page_path)
    assert any("127.0.0.1:9" in url for url in page.requests)
    assert page.console_errors and page.exceptions


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])
def test_missing_chromium_skips_except_in_ci(monkeypatch, ci, outcome):
    from tests.report import browser as browser_module
    from tests.report.conftest import require_chromium

    monkeypatch.setattr(browser_module, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="chromium is not installed"):
        require_chromium()


def test_chromium_leaves_the_real_home_alone(chromium, tmp_path: Path, monkeypatch):
    """Crashpad writes under $XDG_CONFIG_HOME whatever --user-data-dir says; not in ours."""
    canary = tmp_path / "home"
    canary.mkdir()
    monkeypatch.setenv("HOME", str(canary))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(canary / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(canary / ".cache"))
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><title>t</title><p>hello</p>")
    with Browser(chromium) as browser:
        browser.open(page)
    assert list(canary.iterdir()) == []
