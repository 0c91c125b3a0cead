"""Published results pages: a page per build and a comparison, rendered from runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.commands.main import main
from conformance.report.writers.publish import PublishError, load_builds, page_verdicts
from tests.report.conftest import OUTCOMES_MODULE, PASSING_MODULE

BUILDS = '''
[[build]]
name = "good-1.0"
title = "the good CLI"
profile = "reference"
source = "https://github.com/example/good"
tag = "1.0"
commit = "0123456789abcdef0123456789abcdef01234567"

[[build]]
name = "mixed-2.0"
title = "the mixed CLI"
profile = "reference"
source = "https://github.com/example/mixed"
tag = "2.0"
commit = "89abcdef0123456789abcdef0123456789abcdef"
[build.lacks]
ALPHA-002 = "a way to log in"
'''


@pytest.fixture
def published(run_checks, pytester) -> Path:
    good = run_checks({"test_a": PASSING_MODULE}, report_dir="good")
    (good.run_dir.parent.parent / "test_a.py").unlink()
    mixed = run_checks({"test_b": OUTCOMES_MODULE}, report_dir="mixed")
    builds = pytester.path / "builds.toml"
    builds.write_text(BUILDS, encoding="utf-8")
    out = pytester.path / "pages"
    code = main(["publish", "--builds", str(builds), "--run", f"good-1.0={good.run_dir}",
                 "--run", f"mixed-2.0={mixed.report_dir / 'latest'}", "--output", str(out)])
    assert code == 0
    return out


def test_a_page_per_build_gives_every_rule_and_the_evidence_of_failures(published: Path):
    page = (published / "mixed-2.0.md").read_text("utf-8")
    assert "# What the suite says about the mixed CLI (2.0)" in page
    assert "[`89abcdef0123456789abcdef0123456789abcdef`]" in page
    verdicts = page_verdicts(page)
    assert verdicts["ALPHA-002"] == "fails"
    failing = page.split("## Failing rules", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in failing.splitlines() if line.startswith("| ALPHA-002 |"))
    assert row.split(" | ")[2].strip(), "a failing rule's row carries the run's evidence"
    good = page_verdicts((published / "good-1.0.md").read_text("utf-8"))
    assert good["ALPHA-001"] == "holds"


def test_the_comparison_page_puts_every_build_side_by_side(published: Path):
    index = (published / "README.md").read_text("utf-8")
    assert "[the good CLI](good-1.0.md)" in index and "[the mixed CLI](mixed-2.0.md)" in index
    assert "| ALPHA-002 | MUST | holds | **fails** |" in index


def test_bad_builds_files_get_one_line(tmp_path: Path, capsys):
    bad = tmp_path / "builds.toml"
    bad.write_text('[[build]]\nname = "x"\ncolour = "red"\n', encoding="utf-8")
    with pytest.raises(PublishError, match=r"unknown field.*colour.*missing or empty title"):
        load_builds(bad)
    assert main(["publish", "--builds", str(bad)]) == 2
    assert main(["publish", "--builds", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "Traceback" not in err
    bad.write_text(BUILDS, encoding="utf-8")
    assert main(["publish", "--builds", str(bad), "--run", "other=x"]) == 2
    assert main(["publish", "--builds", str(bad)]) == 2
    assert "no run for good-1.0, mixed-2.0" in capsys.readouterr().err


def test_evidence_keeps_nothing_that_differs_from_run_to_run():
    from types import SimpleNamespace

    from conformance.report.writers.publish import _plain

    run = SimpleNamespace(run=SimpleNamespace(cli_command=["/tmp/x/convox-9"]))
    text = ("$ /tmp/x/convox-9 apps -> exit 1 in 0.12s; closest: #14 cli->console GET /apps "
            "key=user:a#1 status=200 id=0123456789abcdef and #3 proxy->acme/p GET /apps "
            "id=a7… at 127.0.0.1:40123")
    assert _plain(text, run) == (  # type: ignore[arg-type]
        "$ convox apps -> exit 1 ; closest: cli->console GET /apps key=user:a#1 status=200 "
        "and proxy->acme/p GET /apps at 127.0.0.1:PORT")
