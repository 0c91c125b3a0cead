"""Write every report file of a run from one (scrubbed) result model."""

from __future__ import annotations

from pathlib import Path

from conformance.report.model.results import RunResult
from conformance.report.writers import html_report, json_report, junit_report, markdown_report
from conformance.report.writers.redact import Scrubber

FILES = ("results.json", "junit.xml", "report.html", "summary.md")


def scrubbed(result: RunResult, scrub: Scrubber) -> RunResult:
    """The model with every string passed through the scrubber, once for all writers."""
    if not scrub:
        return result
    data = result.to_dict()
    clean = scrub.data(data)
    return result if clean is data else RunResult.from_dict(clean)


def write_all(result: RunResult, run_dir: Path, *, area_titles: dict[str, str] | None = None,
              new_checks: str = "fail") -> dict[str, Path]:
    """Render every file into ``run_dir``; returns name -> path."""
    outputs = {
        "results.json": json_report.render(result),
        "junit.xml": junit_report.render(result, new_checks=new_checks),
        "report.html": html_report.render(result, area_titles),
        "summary.md": markdown_report.render(result),
    }
    written = {}
    for name, text in outputs.items():
        path = run_dir / name
        path.write_text(text, encoding="utf-8")
        written[name] = path
    return written
