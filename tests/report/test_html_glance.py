"""report.html read at a glance (issue #30): verdict, chart and the rule table on the
first screen, failures first; every check's evidence once and bounded, so a failing
run's page stays small; the matrix as a grid of coloured squares.

The page is checked in real headless Chromium, like test_browser.py's.
"""

from __future__ import annotations

import pytest

from conformance.report.writers.html_report import anchor
from tests.report.browser import PageReport
from tests.report.conftest import OUTCOMES_MODULE, SYNTHETIC_RULE_COUNT

MB = 1_000_000
FIRST_SCREEN = (1280, 800)
FAILING_RULES = ("ALPHA-001", "ALPHA-002", "BETA-001", "BETA-002", "BETA-003")

#: 30 failing checks with long output (16 invocations of 16 KB each, 100 requests,
#: a long failure) and one passing check of six rules with 200 invocations, like the
#: model check whose evidence the old page repeated under each of its 31 rules.
MANY_FAILURES_MODULE = '''
import pytest

def evidence(invocations, requests, size):
    out = ("x" * 79 + "\\n") * (size // 80)
    snap = {"mode": "0o600", "content": out}
    return {
        "invocations": [{
            "operation": "apps", "argv": ["convox", "apps", f"--n={i}"], "exit_code": 1,
            "timed_out": False, "duration": 0.1, "stdout": out, "stderr": out, "echo_off": None,
            "files": [{"path": ".convox/auth", "change": "modified", "before": snap,
                       "after": snap}]} for i in range(invocations)],
        "journal": [{"seq": i, "request_id": f"r{i}", "server": "console",
                     "address": "127.0.0.1:1", "host_header": "127.0.0.1:1", "hop": "cli",
                     "method": "GET", "path": "/apps", "query": "",
                     "key_identity": "user:alice@example.com#1", "rack_header": None,
                     "status": 401} for i in range(requests)],
    }

@pytest.fixture
def failing_evidence(request):
    yield
    request.node.user_properties.append(("conformance.evidence", evidence(16, 100, 4000)))

@pytest.fixture
def model_evidence(request):
    yield
    request.node.user_properties.append(("conformance.evidence", evidence(200, 250, 1000)))
'''
for _rule in FAILING_RULES:
    MANY_FAILURES_MODULE += f'''
@pytest.mark.parametrize("n", range(6))
@pytest.mark.spec("{_rule}")
def test_fails_{_rule.replace("-", "_")}(failing_evidence, n):
    assert False, "the CLI printed the wrong thing:\\n" + "y" * 20000
'''
MANY_FAILURES_MODULE += '''
@pytest.mark.spec("ALPHA-003", "ALPHA-001", "ALPHA-002", "BETA-001", "BETA-002", "BETA-003")
def test_model(model_evidence):
    pass
'''

FIRST_SCREEN_JS = """(() => {
  const height = window.innerHeight;
  const verdict = document.getElementById('verdict');
  const rows = Array.from(document.querySelectorAll(
      'table.glance tbody tr.rule, table.glance tbody tr.extra-rule'));
  const chart = document.querySelector('svg#chart');
  return {
    height: height,
    verdict_bottom: verdict.getBoundingClientRect().bottom,
    verdict_px: parseFloat(getComputedStyle(verdict).fontSize),
    verdict_colour: getComputedStyle(verdict).backgroundColor,
    rows_on_screen: rows.filter(r => r.getBoundingClientRect().bottom <= height).length,
    failing: rows.map(r => r.classList.contains('failing')),
    first_line: rows[0].querySelector('td.ev summary').textContent,
    chart_bottom: chart.getBoundingClientRect().bottom,
    bars: chart.querySelectorAll('rect').length,
    labels: Array.from(chart.querySelectorAll('text')).map(t => Array.from(t.childNodes)
        .filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('')),
    details: document.querySelectorAll('details').length,
    open: document.querySelectorAll('details[open]').length,
  };
})()"""


def assert_clean(page: PageReport) -> None:
    assert page.console_errors == []
    assert page.exceptions == []
    assert page.requests == [page.url], "no network request but the page itself"


@pytest.fixture
def failing_run(run_checks):
    run = run_checks({"test_many": MANY_FAILURES_MODULE})
    assert run.ret == 1
    return run


def test_a_failing_run_with_long_output_writes_under_1_mb(failing_run):
    html = (failing_run.run_dir / "report.html").read_bytes()
    data = failing_run.data
    assert len((failing_run.run_dir / "results.json").read_bytes()) > 5 * MB, \
        "the run really has megabytes of evidence"
    assert len(html) < MB
    text = html.decode("utf-8")
    for check in data["checks"]:
        assert text.count(f'id="{anchor("check", check["id"])}"') == 1, check["id"]
    assert text.count("CLI invocations (200)") <= 1, "a check of six rules is embedded once"
    assert text.count('href="#check-test_many.py-test_model"') == len(FAILING_RULES), \
        "its other rules link to it"
    assert "more characters in results.json" in text, "long output is clipped"
    assert "more invocations in results.json" in text, "first and last invocations only"
    assert "Evidence left out to keep this page small" in text, "the page's budget holds"


def test_the_outcomes_run_writes_a_small_page(run_checks):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE})
    assert len((run.run_dir / "report.html").read_bytes()) < MB


def test_the_first_screen_shows_the_verdict_the_chart_and_failures_first(failing_run, browser):
    page = browser.open(failing_run.run_dir / "report.html", {"screen": FIRST_SCREEN_JS},
                        viewport=FIRST_SCREEN)
    assert_clean(page)
    screen = page.values["screen"]
    assert screen["height"] == FIRST_SCREEN[1]
    assert screen["verdict_bottom"] <= screen["height"] and screen["verdict_px"] >= 24
    assert screen["verdict_colour"] == "rgb(207, 34, 46)", "NOT CONFORMANT in red"
    assert screen["chart_bottom"] <= screen["height"] and screen["bars"] >= len(FAILING_RULES)
    assert "ALPHA" in screen["labels"] and any("fail" in t for t in screen["labels"])
    assert screen["rows_on_screen"] >= 5, "the table starts on the first screen"
    failing = screen["failing"]
    assert len(failing) == SYNTHETIC_RULE_COUNT
    assert failing == [True] * len(FAILING_RULES) + [False] * 2, "failures first"
    assert screen["first_line"].startswith("the CLI printed the wrong thing")
    assert len(screen["first_line"]) <= 160 + len(" (+99 blocked)")
    assert screen["details"] > SYNTHETIC_RULE_COUNT and screen["open"] == 0, \
        "details are closed until clicked"


def test_a_click_unfolds_a_rule_across_the_table(failing_run, browser):
    page = browser.open(failing_run.run_dir / "report.html", {
        "hidden": "document.querySelector('tr.more-row').offsetParent === null",
        "shown": "document.querySelector('tr.rule td.ev summary').click();"
                 "const more = document.querySelector('tr.more-row');"
                 "[more.offsetParent !== null, more.getBoundingClientRect().width]",
        "table": "document.querySelector('table.glance').getBoundingClientRect().width",
    }, viewport=FIRST_SCREEN)
    assert_clean(page)
    assert page.values["hidden"] is True
    shown, width = page.values["shown"]
    assert shown is True and width > 0.95 * page.values["table"], "full width, not one cell"


def test_the_matrix_is_a_grid_of_coloured_squares(matrix_dir, browser):
    out = matrix_dir
    page = browser.open(out / "matrix.html", {"grid": """(() => {
      const cells = Array.from(document.querySelectorAll('td.cell'));
      const colour = {};
      for (const td of cells) {
        const outcome = Array.from(td.classList).find(c => c.startsWith('o-'));
        colour[outcome] = getComputedStyle(td.querySelector('.sq')).backgroundColor;
      }
      return {
        sizes: cells.map(td => {
          const r = td.querySelector('.sq').getBoundingClientRect();
          return [Math.round(r.width), Math.round(r.height)];
        }),
        colour: colour,
        titles: cells.map(td => td.title),
        text: cells.map(td => td.textContent),
        legend: Array.from(document.querySelectorAll('.legend > span')).map(s => s.textContent),
      };
    })()"""})
    assert_clean(page)
    grid = page.values["grid"]
    assert len(grid["sizes"]) == 2 * SYNTHETIC_RULE_COUNT
    assert all(w == h and w >= 14 for w, h in grid["sizes"]), "squares"
    assert grid["colour"]["o-passed"] == "rgb(26, 127, 55)"
    assert grid["colour"]["o-failed"] == "rgb(207, 34, 46)"
    assert len(set(grid["colour"].values())) == len(grid["colour"]), "one colour per verdict"
    assert "ALPHA-002 · mixed: failed" in grid["titles"]
    assert "FAIL" in grid["text"] and "pass" in grid["text"], "the verdict as text, too"
    assert {"passed", "failed", "error", "not applicable", "not run"} <= set(grid["legend"])


def test_gate_reasons_are_said_once(run_checks, pytester):
    """A failing check's gate line is its rule's row; what no row says is listed once."""
    path = pytester.path / "expectations.toml"
    path.write_text('[[expected-failure]]\nid = "GAMMA-001"\nreason = "never runs"\n',
                    encoding="utf-8")
    run = run_checks({"test_outcomes": OUTCOMES_MODULE}, "--expectations", str(path),
                     "--strict-expectations")
    reasons = run.data["verdict"]["reasons"]
    problem = next(r for r in reasons if r.startswith("expectation GAMMA-001"))
    assert any(r.startswith("ALPHA-002 (test_outcomes.py::test_fail) failed") for r in reasons)
    for name in ("report.html", "summary.md"):
        text = (run.run_dir / name).read_text("utf-8")
        assert "ALPHA-002 (test_outcomes.py::test_fail) failed" not in text, name
        assert "CLI timed out after 1s and was killed: convox racks" in text, name
        assert text.count(problem.split(" in ")[0]) == 1, name
    html = (run.run_dir / "report.html").read_text("utf-8")
    assert html.count(">CLI timed out after 1s and was killed: convox racks</summary>") == 1
    assert html.index('<ul class="reasons">') < html.index('id="rules"'), \
        "a reason no row says stands under the verdict"
